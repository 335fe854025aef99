#!/usr/bin/env python3
r"""Parse ARM template expressions into the canonical expression shapes of bicep_ast.py.

Usage as a module:
    from arm_expr import arm_value, parse, canonical, BicepResolver
    arm_value("[format('{0}/x', parameters('a'))]")   # {"concat": [{"param": "a"}, "/x"]}
    arm_value("[[not an expression]")                  # "[not an expression]"
    canonical(parse("equals(parameters('a'), 1)"))     # {"op": "==", "args": [{"param": "a"}, 1]}
    canonical(bicep_model["vars"]["v"]["value"], BicepResolver(bicep_model))   # the Bicep side

Usage as a CLI (prints the canonical JSON of one expression, or of every string in a file):
    python arm_expr.py "[resourceId('Microsoft.Compute/galleries', 'g')]"
    python arm_expr.py --file azuredeploy.json

Two layers
----------
1. `parse(text)` reads the ARM expression language (the text between the outer brackets)
   into a RAW tree that already uses bicep_ast's shapes: literals are plain values
   (strings with `''` resolved, integers), `{"call": f, "args": [...]}`,
   `{"prop": [BASE, "p1", ...]}` for `.p` access and `{"index": [X, I]}` for `[i]`.
   `from_json(value)` turns a whole JSON value into a raw tree: strings go through
   `string_value` (ARM's `[...]` / `[[` escaping), and objects whose keys are expressions
   (`"[parameters('id')]": {}`) become `{"object": [[KEY, VALUE], ...]}` like bicep_ast.
2. `canonical(raw, resolver=None)` rewrites a raw tree, from either side, into the shared
   canonical form by bridging the ARM <-> Bicep conventions:
     parameters('p') -> {"param": "p"}          variables('v') -> {"var": "v"}
     format('a{0}b', X) -> {"concat": ["a", X, "b"]}   ({{ and }} are literal braces)
     if(c, a, b) -> {"if": [c, a, b]}
     equals/not/and/or/less/lessOrEquals/greater/greaterOrEquals/coalesce/add/sub/mul/div/mod
       -> {"op": "==" | "!" | "&&" | "||" | "<" | "<=" | ">" | ">=" | "??" | "+" | ...}
       (Bicep's `a != b` becomes `!(a == b)` and `a =~ b` becomes
       `toLower(a) == toLower(b)`, which is how Bicep compiles them)
     true() false() null() -> literals; createArray(...) -> list; createObject(...) -> dict
     resourceId([sub,] [rg,] 'T', n1, n2...) and extensionResourceId(scope, 'T', n...)
       -> RESOURCE_REF (below)
     reference(X, 'api'[, 'full']) -> {"reference": {"to": X, "api": "api"[, "full": True]}}
     reference(<deployments ref>, api).outputs.o.value
       -> {"module_output": {"deployment": RESOURCE_REF, "output": "o"}}
     x['p'] -> x.p (an index that is a string literal is a property access); prop chains merge
     object keys `'${x}'` (an interpolation with one hole and no text) -> x (keys are strings)
     well-known function names get one spelling (ARM is case-insensitive: uniquestring ->
       uniqueString)
   For a bicep_ast EXPR pass `BicepResolver(file_model)`: it handles what only Bicep has,
   symbols (`sym.id`, `sym.name`, `sym.properties.x`, `mod.outputs.o`, `scope: sym`,
   `sym.listKeys()`), turning them into what the ARM spellings give.

Shapes added to bicep_ast's vocabulary
--------------------------------------
  RESOURCE_REF = {"resource_ref": {"type": "Microsoft.X/y/z", "name": [SEGMENT, ...],
                  ["sub": EXPR], ["rg": EXPR], ["scope": RESOURCE_REF]}}
      The full name is split at '/' into one SEGMENT per type level, so
      format('{0}/default/{1}', a, b) and resourceId(T, a, 'default', b) and a Bicep
      parent chain all give [a, "default", b]. A segment is a str, an EXPR, or a concat.
      "scope" is the resource an extension resource (a role assignment) is attached to.
  {"reference": {"to": EXPR, "api": "2025-06-01", ["full": True]}}
  {"module_output": {"deployment": RESOURCE_REF, "output": "name"}}
These tag names never come out of bicep_ast, and a literal object whose only key is one of
them (or of bicep_ast's tags) is written {"object": [[key, value]]}, so literals and
expressions cannot be confused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bicep_ast  # noqa: E402

DEPLOYMENTS_TYPE = "Microsoft.Resources/deployments"
NEW_TAGS = frozenset({"resource_ref", "reference", "module_output"})
ALL_TAGS = bicep_ast.EXPR_TAGS | NEW_TAGS


class ArmExprError(ValueError):
    """A syntax error in an ARM expression; the message shows the column and a caret."""

    def __init__(self, text: str, pos: int, message: str):
        self.text, self.pos = text, pos
        super().__init__(f"column {pos + 1}: {message}\n  [{text}]\n   {' ' * pos}^")


# ----------------------------------------------------------------------------- layer 1: parse

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?[0-9]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),.\[\]])
""", re.X)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise ArmExprError(text, pos, "unterminated string literal")
            raise ArmExprError(text, pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup
        if kind != "space":
            out.append((kind, match.group(), pos))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    """Recursive descent over: expr := primary ('.' ident | '[' expr ']')*;
    primary := string | integer | name '(' [expr (',' expr)*] ')'; name := ident ('.' ident)?"""

    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        kind, text, pos = self.take()
        if text != value or kind not in ("punct",):
            found = "end of expression" if kind == "end" else repr(text)
            raise ArmExprError(self.text, pos, f"expected {value!r}, found {found}")

    def parse(self) -> Any:
        if self.peek()[0] == "end":
            raise ArmExprError(self.text, 0, "empty expression")
        value = self.expression()
        kind, text, pos = self.peek()
        if kind != "end":
            raise ArmExprError(self.text, pos, f"unexpected {text!r} after the expression")
        return value

    def expression(self) -> Any:
        value = self.primary()
        while True:
            kind, text, pos = self.peek()
            if text == "." and kind == "punct":
                self.take()
                kind, name, pos = self.take()
                if kind != "ident":
                    raise ArmExprError(self.text, pos, "expected a property name after '.'")
                value = _access(value, [name])
            elif text == "[" and kind == "punct":
                self.take()
                index = self.expression()
                self.expect("]")
                value = {"index": [value, index]}
            else:
                return value

    def primary(self) -> Any:
        kind, text, pos = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return int(text)
        if kind == "ident":
            name = text
            # user-defined functions are called as namespace.function(...)
            if self.peek()[1] == "." and self.peek(1)[0] == "ident" and self.peek(2)[1] == "(":
                self.take()
                name += "." + self.take()[1]
            if self.peek()[1] != "(":
                raise ArmExprError(self.text, pos, f"{text!r} is not a function call (ARM has no bare names)")
            self.take()
            args: list[Any] = []
            if self.peek()[1] != ")":
                while True:
                    args.append(self.expression())
                    if self.peek()[1] == ",":
                        self.take()
                        continue
                    break
            self.expect(")")
            return {"call": name, "args": args}
        found = "end of expression" if kind == "end" else repr(text)
        raise ArmExprError(self.text, pos, f"expected a string, an integer or a function call, found {found}")


def _access(value: Any, names: list[str]) -> Any:
    if isinstance(value, dict) and list(value) == ["prop"]:
        return {"prop": value["prop"] + names}
    return {"prop": [value] + names}


def parse(text: str) -> Any:
    """The raw tree of one ARM expression (the text inside the outer brackets)."""
    return _Parser(text).parse()


def string_value(value: str, strict: bool = True) -> Any:
    """Raw tree of one ARM JSON string: an expression, or a literal (`[[x]` -> `[x]`).

    A syntax error raises ArmExprError, or with strict=False gives the node
    {"ident": "<ARM syntax error ...>"}, which the comparison then reports."""
    if value.startswith("[") and value.endswith("]"):
        if value.startswith("[["):
            return value[1:]
        try:
            return parse(value[1:-1])
        except ArmExprError as exc:
            if strict:
                raise
            return {"ident": f"<ARM syntax error in {value!r}: {str(exc).splitlines()[0]}>"}
    return value


def from_json(value: Any, strict: bool = False) -> Any:
    """Raw tree of a whole ARM JSON value (see the module doc); `strict` as in string_value."""
    if isinstance(value, str):
        return string_value(value, strict)
    if isinstance(value, list):
        return [from_json(v, strict) for v in value]
    if isinstance(value, dict):
        pairs = [(string_value(k, strict), from_json(v, strict)) for k, v in value.items()]
        if all(isinstance(k, str) for k, _ in pairs) and not _collides([k for k, _ in pairs], bicep_ast.EXPR_TAGS):
            return dict(pairs)
        return {"object": [[k, v] for k, v in pairs]}
    return value


# ----------------------------------------------------------------------------- shared helpers

def _collides(keys: list[str], tags: frozenset[str]) -> bool:
    """Could a dict with these keys be read as an expression node? Calls are
    {"call", "args"[, "on"]} and operators {"op", "args"} (bicep_ast.is_expr misses the
    latter); every other node has one key, its tag."""
    if keys and keys[0] == "call":
        return set(keys) <= {"call", "args", "on"}
    if keys == ["op", "args"]:
        return True
    return len(keys) == 1 and keys[0] in tags


def is_node(value: Any) -> bool:
    """True for a canonical (non-literal) expression node, including the new tags."""
    return isinstance(value, dict) and _collides(list(value), ALL_TAGS)


def make_object(pairs: list[tuple[Any, Any]]) -> Any:
    """A canonical object literal: a dict, or {"object": [[k, v], ...]} when a key is an
    expression or the dict could be mistaken for an expression node."""
    keys = [k for k, _ in pairs]
    if all(isinstance(k, str) for k in keys) and not _collides(keys, ALL_TAGS) and len(set(keys)) == len(keys):
        return dict(pairs)
    return {"object": [[k, v] for k, v in pairs]}


def concat(parts: list[Any]) -> Any:
    """Canonical string concatenation: nested concats flattened, adjacent literals merged,
    empty literals dropped; a concat of literals only is a plain str."""
    flat: list[Any] = []
    for part in parts:
        if isinstance(part, dict) and list(part) == ["concat"]:
            flat.extend(part["concat"])
        else:
            flat.append(part)
    merged: list[Any] = []
    for part in flat:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    if not merged:
        return ""
    if len(merged) == 1 and isinstance(merged[0], str):
        return merged[0]
    return {"concat": merged}


def as_string_value(value: Any) -> Any:
    """`'${x}'` and x are the same string where only a string can stand (names, keys)."""
    if isinstance(value, dict) and list(value) == ["concat"] and len(value["concat"]) == 1:
        return value["concat"][0]
    return value


def name_segments(value: Any) -> list[Any]:
    """Split a canonical string expression at the '/' in its literal parts:
    {"concat": [{"param": "a"}, "/default/", {"param": "b"}]} -> [{"param": "a"}, "default", {"param": "b"}]."""
    parts = value["concat"] if isinstance(value, dict) and list(value) == ["concat"] else [value]
    segments: list[list[Any]] = [[]]
    for part in parts:
        if isinstance(part, str):
            pieces = part.split("/")
            segments[-1].append(pieces[0])
            for piece in pieces[1:]:
                segments.append([piece])
        else:
            segments[-1].append(part)
    return [as_string_value(concat(seg)) for seg in segments]


def resource_ref(rtype: str, names: list[Any], sub: Any = None, rg: Any = None, scope: Any = None) -> dict:
    """A RESOURCE_REF; each of `names` (canonical) is split into segments."""
    segments: list[Any] = []
    for name in names:
        segments.extend(name_segments(name))
    body: dict[str, Any] = {"type": rtype, "name": segments}
    if sub is not None:
        body["sub"] = sub
    if rg is not None:
        body["rg"] = rg
    if scope is not None:
        body["scope"] = scope
    return {"resource_ref": body}


def is_ref(value: Any, rtype: str | None = None) -> bool:
    if not (isinstance(value, dict) and list(value) == ["resource_ref"]):
        return False
    return rtype is None or value["resource_ref"]["type"].lower() == rtype.lower()


def _rg_id(value: Any) -> bool:
    return value == {"prop": [{"call": "resourceGroup", "args": []}, "id"]}


def ref_from_id_text(value: Any) -> Any:
    """Canonical string holding a resource id, full (/subscriptions/s/resourceGroups/r/
    providers/NS/t/n/...) or relative to its scope (NS/t/n/...), as a RESOURCE_REF; other
    values are returned unchanged (so the comparison shows them)."""
    if is_ref(value):
        return value
    segs = name_segments(value)
    sub = rg = None
    if segs and segs[0] == "":
        rest = segs[1:]
        if len(rest) >= 2 and isinstance(rest[0], str) and rest[0].lower() == "subscriptions":
            sub, rest = rest[1], rest[2:]
        if len(rest) >= 2 and isinstance(rest[0], str) and rest[0].lower() == "resourcegroups":
            rg, rest = rest[1], rest[2:]
        if not rest or not isinstance(rest[0], str) or rest[0].lower() != "providers":
            return value
        segs = rest[1:]
    if len(segs) < 3 or len(segs) % 2 == 0:
        return value
    types = [segs[0]] + segs[1::2]
    if not all(isinstance(t, str) and t for t in types) or "." not in segs[0]:
        return value
    return resource_ref("/".join(types), segs[2::2], sub=sub, rg=rg)


def walk(value: Any) -> Iterator[Any]:
    """Every node and literal of a canonical tree, depth first (object keys included)."""
    yield value
    if isinstance(value, list):
        for item in value:
            yield from walk(item)
    elif isinstance(value, dict):
        if list(value) == ["object"]:
            for key, item in value["object"]:
                yield from walk(key)
                yield from walk(item)
        else:
            for item in value.values():
                yield from walk(item)


# ----------------------------------------------------------------------------- layer 2: canonical

_BINARY = {"equals": "==", "less": "<", "lessorequals": "<=", "greater": ">",
           "greaterorequals": ">=", "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
_VARIADIC = {"and": "&&", "or": "||", "coalesce": "??"}

# One spelling for the functions ARM and Bicep share (ARM matches names case-insensitively).
_FUNCTION_NAMES = {n.lower(): n for n in (
    "array", "base64", "base64ToJson", "base64ToString", "bool", "concat", "contains", "dataUri",
    "dataUriToString", "dateTimeAdd", "dateTimeFromEpoch", "dateTimeToEpoch", "deployment",
    "empty", "endsWith", "environment", "extensionResourceId", "filter", "first", "format",
    "guid", "indexOf", "int", "intersection", "items", "join", "json", "last", "lastIndexOf",
    "length", "listKeys", "managementGroup", "map", "max", "min", "newGuid", "padLeft",
    "pickZones", "range", "reduce", "reference", "replace", "resourceGroup", "resourceId",
    "skip", "sort", "split", "startsWith", "string", "subscription", "subscriptionResourceId",
    "substring", "take", "tenant", "tenantResourceId", "toLower", "toObject", "toUpper",
    "trim", "tryGet", "union", "uniqueString", "uri", "uriComponent", "uriComponentToString",
    "utcNow", "readEnvironmentVariable", "managementGroupResourceId",
)}


class Resolver:
    """Hooks for what only a Bicep tree contains; ARM trees need none (the default raises)."""

    def symbol(self, canon: "Canonicaliser", node: dict) -> Any:
        raise ValueError(f"symbol reference {node} outside Bicep")

    def access(self, canon: "Canonicaliser", base: str, names: list[str]) -> Any:
        raise ValueError(f"property chain on a bare name {base!r} outside Bicep")

    def method(self, canon: "Canonicaliser", on: Any, name: str, args: list[Any]) -> Any:
        return {"call": name, "on": canon.expr(on), "args": args}

    def coalesce(self, canon: "Canonicaliser", args: list[Any]) -> Any:
        """A Bicep-only reading of `a ?? b` (see BicepResolver); None keeps the operator."""
        return None


class Canonicaliser:
    """Layer 2 (see the module doc). `deployments_api`, when set, is the only api version of
    reference() that is read as a module output (an ARM template's deployments use one)."""

    def __init__(self, resolver: Resolver | None = None, deployments_api: str | None = None):
        self.resolver = resolver or Resolver()
        self.deployments_api = deployments_api

    # -- entry points -----------------------------------------------------------------

    def expr(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, list):
            return [self.expr(item) for item in node]
        if not isinstance(node, dict):
            raise TypeError(f"not a canonical tree: {node!r}")
        if not _collides(list(node), bicep_ast.EXPR_TAGS):  # a literal object
            return make_object([(key, self.expr(value)) for key, value in node.items()])
        tag = next(iter(node))
        handler: Callable[[dict], Any] = getattr(self, "_" + tag)
        return handler(node)

    def key(self, key: Any) -> Any:
        return key if isinstance(key, str) else as_string_value(self.expr(key))

    # -- node handlers ----------------------------------------------------------------

    def _param(self, node: dict) -> Any:
        return node

    _var = _local = _ident = _param

    def _resource(self, node: dict) -> Any:
        return self.resolver.symbol(self, node)

    _module = _resource

    def _object(self, node: dict) -> Any:
        return make_object([(self.key(k), self.expr(v)) for k, v in node["object"]])

    def _concat(self, node: dict) -> Any:
        return concat([self.expr(part) for part in node["concat"]])

    def _if(self, node: dict) -> Any:
        return {"if": [self.expr(x) for x in node["if"]]}

    def _op(self, node: dict) -> Any:
        op, args = node["op"], [self.expr(a) for a in node["args"]]
        if op == "??":
            guarded = self.resolver.coalesce(self, args)
            if guarded is not None:
                return guarded
        if op == "!=":
            return {"op": "!", "args": [{"op": "==", "args": args}]}
        if op in ("=~", "!~"):
            lowered = {"op": "==", "args": [{"call": "toLower", "args": [a]} for a in args]}
            return lowered if op == "=~" else {"op": "!", "args": [lowered]}
        return {"op": op, "args": args}

    def _safe_prop(self, node: dict) -> Any:
        base, name = node["safe_prop"]
        base = self.resolver.access(self, base, []) if isinstance(base, str) else self.expr(base)
        return {"safe_prop": [base, name]}

    def _safe_index(self, node: dict) -> Any:
        return {"safe_index": [self.expr(x) for x in node["safe_index"]]}

    def _for(self, node: dict) -> Any:
        loop = dict(node["for"])
        for k in ("in", "body", "condition"):
            loop[k] = self.expr(loop.get(k))
        return {"for": loop}

    def _lambda(self, node: dict) -> Any:
        return {"lambda": {"params": node["lambda"]["params"], "body": self.expr(node["lambda"]["body"])}}

    def _prop(self, node: dict) -> Any:
        base, *names = node["prop"]
        if isinstance(base, str):  # a chain that starts at a Bicep identifier
            return self.resolver.access(self, base, names)
        return self.access(self.expr(base), names)

    def _index(self, node: dict) -> Any:
        base, index = node["index"]
        index = self.expr(index)
        if isinstance(index, str):
            if isinstance(base, dict) and list(base) in (["resource"], ["module"]):
                return self.resolver.access(self, next(iter(base.values())), [index])
            return self.access(self.expr(base), [index])
        return {"index": [self.expr(base), index]}

    def access(self, base: Any, names: list[str]) -> Any:
        """`base.n1.n2...` on a canonical base; recognises module outputs."""
        if not names:
            return base
        if isinstance(base, dict) and list(base) == ["prop"]:
            chain = base["prop"] + list(names)
        else:
            chain = [base] + list(names)
        head, rest = chain[0], chain[1:]
        if (isinstance(head, dict) and list(head) == ["reference"] and len(rest) >= 3
                and rest[0] == "outputs" and rest[2] == "value" and is_ref(head["reference"]["to"], DEPLOYMENTS_TYPE)
                and not head["reference"].get("full")
                and (self.deployments_api is None or head["reference"]["api"] == self.deployments_api)):
            out = {"module_output": {"deployment": head["reference"]["to"], "output": rest[1]}}
            return self.access(out, rest[3:]) if rest[3:] else out
        return {"prop": chain}

    def _call(self, node: dict) -> Any:
        name = node["call"]
        if "on" in node:
            return self.resolver.method(self, node["on"], name, [self.expr(a) for a in node["args"]])
        lower = name.lower()
        raw_args = node["args"]
        if lower in ("format",) and raw_args and isinstance(self.expr(raw_args[0]), str):
            return self.format(self.expr(raw_args[0]), [self.expr(a) for a in raw_args[1:]], node)
        args = [self.expr(a) for a in raw_args]
        if lower in ("parameters", "variables") and len(args) == 1 and isinstance(args[0], str):
            return {"param" if lower == "parameters" else "var": args[0]}
        if lower == "if" and len(args) == 3:
            return {"if": args}
        if lower == "not" and len(args) == 1:
            return {"op": "!", "args": args}
        if lower in _BINARY and len(args) == 2:
            return {"op": _BINARY[lower], "args": args}
        if lower in _VARIADIC and len(args) >= 2:
            value = args[0]
            for arg in args[1:]:
                value = {"op": _VARIADIC[lower], "args": [value, arg]}
            return value
        if lower in ("true", "false", "null") and not args:
            return {"true": True, "false": False, "null": None}[lower]
        if lower == "createarray":
            return args
        if lower == "createobject" and len(args) % 2 == 0:
            return make_object([(as_string_value(args[i]), args[i + 1]) for i in range(0, len(args), 2)])
        if lower == "resourceid":
            return self.resource_id(args) or {"call": "resourceId", "args": args}
        if lower == "extensionresourceid" and len(args) >= 3 and isinstance(args[1], str):
            scope = None if _rg_id(args[0]) else ref_from_id_text(args[0])
            return resource_ref(args[1], args[2:], scope=scope)
        if lower == "reference" and 1 <= len(args) <= 3 and all(isinstance(a, str) for a in args[1:]):
            target = args[0]
            if isinstance(target, str):  # reference('name') / reference('/subscriptions/...')
                target = ref_from_id_text(target)
            body: dict[str, Any] = {"to": target, "api": args[1] if len(args) > 1 else None}
            if len(args) == 3:
                if args[2].lower() != "full":
                    return {"call": "reference", "args": args}
                body["full"] = True
            return {"reference": body}
        return {"call": _FUNCTION_NAMES.get(lower, name), "args": args}

    def resource_id(self, args: list[Any]) -> Any:
        """resourceId([subscriptionId], [resourceGroupName], type, name1, name2...) -> RESOURCE_REF."""
        for i, arg in enumerate(args[:3]):
            if isinstance(arg, str) and "/" in arg and "." in arg.split("/", 1)[0]:
                if i + 1 >= len(args):
                    return None
                sub = args[0] if i == 2 else None
                rg = args[i - 1] if i >= 1 else None
                return resource_ref(arg, args[i + 1:], sub=sub, rg=rg)
        return None

    def format(self, fmt: str, args: list[Any], node: dict) -> Any:
        """format('a{0}b{{c}}', X) -> concat; a placeholder with a format specifier or an
        index out of range leaves the call as it is."""
        parts: list[Any] = []
        literal: list[str] = []
        i = 0
        while i < len(fmt):
            ch = fmt[i]
            if ch == "{" and fmt.startswith("{{", i):
                literal.append("{")
                i += 2
            elif ch == "}" and fmt.startswith("}}", i):
                literal.append("}")
                i += 2
            elif ch == "{":
                match = re.match(r"\{(\d+)\}", fmt[i:])
                if not match or int(match.group(1)) >= len(args):
                    return {"call": "format", "args": [fmt] + args}
                parts.append("".join(literal))
                literal = []
                parts.append(args[int(match.group(1))])
                i += match.end()
            elif ch == "}":
                return {"call": "format", "args": [fmt] + args}  # unbalanced: not ours to guess
            else:
                literal.append(ch)
                i += 1
        parts.append("".join(literal))
        return concat(parts)


# ----------------------------------------------------------------------------- Bicep symbols
#
# The Bicep half of the bridge: symbols have no ARM spelling, so a resolver turns them into
# the canonical forms that resourceId()/reference() calls give on the ARM side.

def _rg_scope(scope: Any) -> dict | None:
    """{"sub": X, "rg": Y} (keys present when given) for `resourceGroup([sub,] rg)`;
    {} for `resourceGroup()`; None for anything else."""
    if isinstance(scope, dict) and scope.get("call") == "resourceGroup" and "on" not in scope:
        args = scope["args"]
        if len(args) == 0:
            return {}
        if len(args) == 1:
            return {"rg": args[0]}
        if len(args) == 2:
            return {"sub": args[0], "rg": args[1]}
    return None


class BicepResolver(Resolver):
    """Resolves the symbols of one Bicep file model into canonical forms:
    `sym.id` / `scope: sym` -> RESOURCE_REF (the names of the parent chain),
    `sym.name` -> the declared name, `sym.properties.x` -> reference(ref, api).x,
    `sym.other.x` -> reference(ref, api, 'full').other.x, `sym.f(...)` -> f(ref, api, ...),
    `mod.outputs.o` -> module_output, `mod.name` -> the deployment name,
    params and variables -> {"param"}/{"var"}, anything else -> {"ident"} (reported)."""

    def __init__(self, model: dict):
        self.model = model
        self.kinds: dict[str, str] = {}
        for kind, table in (("param", "params"), ("var", "vars"), ("resource", "resources"), ("module", "modules")):
            for name in model[table]:
                self.kinds[name] = kind

    def symbol(self, canon: Canonicaliser, node: dict) -> Any:
        (kind, name), = node.items()
        if kind == "resource" and name in self.model["resources"]:
            return self.ref(canon, name)
        if kind == "module" and name in self.model["modules"]:
            return self.deployment_ref(canon, name)
        return {"ident": name}

    def access(self, canon: Canonicaliser, base: str, names: list[str]) -> Any:
        kind = self.kinds.get(base)
        if kind in ("param", "var"):
            return canon.access({kind: base}, names)
        if kind == "resource":
            return self.resource_access(canon, base, names)
        if kind == "module":
            return self.module_access(canon, base, names)
        return canon.access({"ident": base}, names)

    def method(self, canon: Canonicaliser, on: Any, name: str, args: list[Any]) -> Any:
        if isinstance(on, dict) and list(on) == ["resource"] and on["resource"] in self.model["resources"]:
            res = self.model["resources"][on["resource"]]
            return {"call": name, "args": [self.ref(canon, on["resource"]), res["api_version"]] + args}
        return super().method(canon, on, name, args)

    def resource_access(self, canon: Canonicaliser, sym: str, names: list[str]) -> Any:
        res = self.model["resources"][sym]
        if not names:
            return self.ref(canon, sym)
        first, rest = names[0], names[1:]
        if first == "id":
            base: Any = self.ref(canon, sym)
        elif first == "name":
            base = canon.expr(res["name"])
        elif first == "type":
            base = res["type"]
        elif first == "apiVersion":
            base = res["api_version"]
        elif first == "properties":
            base = {"reference": {"to": self.ref(canon, sym), "api": res["api_version"]}}
        else:
            base = {"reference": {"to": self.ref(canon, sym), "api": res["api_version"], "full": True}}
            rest = names
        return canon.access(base, rest)

    def ref(self, canon: Canonicaliser, sym: str) -> dict:
        res = self.model["resources"][sym]
        own = canon.expr(res["name"])
        sub = rg = scope = None
        names: list[Any] = [own]
        parent = res["parent"]
        if isinstance(parent, str) and parent in self.model["resources"]:
            up = self.ref(canon, parent)["resource_ref"]
            names = up["name"] + names
            sub, rg, scope = up.get("sub"), up.get("rg"), up.get("scope")
        elif parent is not None:
            names = [{"unresolved_parent": canon.expr(parent)}] + names
        if res["scope"] is not None:
            where = canon.expr(res["scope"])
            rg_scope = _rg_scope(where)
            if rg_scope is not None:
                sub, rg = rg_scope.get("sub"), rg_scope.get("rg")
            elif is_ref(where):
                scope = where
            else:
                scope = {"unresolved_scope": where}
        return resource_ref(res["type"], names, sub=sub, rg=rg, scope=scope)

    def deployment_ref(self, canon: Canonicaliser, sym: str) -> dict:
        mod = self.model["modules"][sym]
        where = canon.expr(mod["scope"]) if mod["scope"] is not None else {"call": "resourceGroup", "args": []}
        rg_scope = _rg_scope(where)
        if rg_scope is None:
            return resource_ref(DEPLOYMENTS_TYPE, [canon.expr(mod["name"])], scope={"unresolved_scope": where})
        return resource_ref(DEPLOYMENTS_TYPE, [canon.expr(mod["name"])], sub=rg_scope.get("sub"), rg=rg_scope.get("rg"))

    def coalesce(self, canon: Canonicaliser, args: list[Any]) -> Any:
        """`mod.?outputs.x ?? d` of a module deployed only `if (c)` is `c ? mod.outputs.x : d`:
        the safe access is null exactly when the module was not deployed. ARM has no `.?`
        on a deployment's outputs, so aibc writes the ternary there."""
        if len(args) != 2:
            return None
        first = args[0]
        if not (isinstance(first, dict) and list(first) == ["prop"] and len(first["prop"]) == 2):
            return None
        head, output = first["prop"]
        if not (isinstance(head, dict) and list(head) == ["safe_prop"] and head["safe_prop"][1] == "outputs"):
            return None
        for sym, mod in self.model["modules"].items():
            if mod["condition"] is not None and self.deployment_ref(canon, sym) == head["safe_prop"][0]:
                module_output = {"module_output": {"deployment": head["safe_prop"][0], "output": output}}
                return {"if": [canon.expr(mod["condition"]), module_output, args[1]]}
        return None

    def module_access(self, canon: Canonicaliser, sym: str, names: list[str]) -> Any:
        if len(names) >= 2 and names[0] == "outputs":
            out = {"module_output": {"deployment": self.deployment_ref(canon, sym), "output": names[1]}}
            return canon.access(out, names[2:])
        if names and names[0] == "name":
            return canon.access(canon.expr(self.model["modules"][sym]["name"]), names[1:])
        if not names:
            return self.deployment_ref(canon, sym)
        return {"prop": [{"module": sym}] + names}


def canonical(raw: Any, resolver: Resolver | None = None, deployments_api: str | None = None) -> Any:
    """Layer 2 over a raw tree (from `parse`/`from_json`, or a bicep_ast EXPR)."""
    return Canonicaliser(resolver, deployments_api).expr(raw)


def arm_value(value: Any, deployments_api: str | None = None, strict: bool = True) -> Any:
    """Canonical form of an ARM JSON value (a string expression, or any JSON)."""
    return canonical(from_json(value, strict), deployments_api=deployments_api)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the canonical form of ARM expressions as JSON.")
    parser.add_argument("expression", nargs="?", help="one ARM JSON string, brackets included")
    parser.add_argument("--file", help="an ARM JSON file: print the canonical form of the whole document")
    args = parser.parse_args(argv)
    try:
        if args.file:
            result = arm_value(json.loads(Path(args.file).read_text(encoding="utf-8")))
        elif args.expression is not None:
            result = arm_value(args.expression)
        else:
            parser.error("give an expression or --file")
    except ArmExprError as exc:
        print(f"arm_expr: {exc}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
