#!/usr/bin/env python3
r"""Parse aibc's Bicep output into a normalised, parser-independent structure.

Usage as a module:
    from bicep_ast import load_bicep_dir, parse_text, parse_file
    model = load_bicep_dir("out/")   # {"main.bicep": FILE, "modules/x.bicep": FILE, ...}

Usage as a CLI (prints JSON; exit 1 with `file:line:col: message` on a parse error):
    python bicep_ast.py DIR_OR_FILE [--indent N]      (FILE: .bicep or .bicepparam)

Parser choice
-------------
The parser is tree-sitter-bicep (via the `tree-sitter` bindings), not pycep-parser:
pycep's grammar has no operator precedence (`a == b ? x : y` parses as
`a == (b ? x : y)`), cannot lex a string ending in an escaped backslash (`'\\'`), drops
the nullable marker of `string?`, and crashes on `@maxValue(-1)`. PYCEP_NOTES.md records
the investigation; pycep_probe.py re-runs it. tree-sitter-bicep has gaps of its own, all
handled here: (1) accessors bind looser than operators (`a && b.c` parses as `(a && b).c`,
`x => x.id` as `(x => x).id`), so operator subtrees are re-associated by
`_OperatorParser`; (2) a call or index as the FIRST item of an array is split in two
(`[\n  f()\n]` gives items `f` and `()`), repaired in `_Converter.array_items`; (3) the
`\$` escape is not a node, so string literals are unescaped from the raw source text,
never from child nodes.

File model (all plain JSON types; dicts keep declaration order)
---------------------------------------------------------------
{
  "path": "main.bicep",                 # relative to the loaded dir (or as given)
  "target_scope": "resourceGroup",      # Bicep's default when not declared
  "metadata": {name: EXPR},
  "params":  {name: {"name", "type", "nullable", "decorators", "line", ["default": EXPR]}},
  "vars":    {name: {"name", "value": EXPR, "decorators", "line"}},
  "resources": {symbol: {"symbol", "type", "api_version", "existing", "name": EXPR,
                "parent": SYMBOL|EXPR|None, "scope": EXPR|None, "depends_on": [EXPR],
                "condition": EXPR|None, "loop": LOOP|None, "body": EXPR, "decorators", "line"}},
  "modules": {symbol: {"symbol", "path", "resolved", "name": EXPR, "scope": EXPR|None,
              "params": EXPR, "depends_on", "condition", "loop", "body", "decorators", "line"}},
  "outputs": {name: {"name", "type", "nullable", "value": EXPR, "decorators", "line"}},
  "types": {name: SOURCE_TEXT}, "functions": {name: SOURCE_TEXT}, "imports": [SOURCE_TEXT],
  "using": None,
}
A `.bicepparam` file (parse_file on one, or parse_bicepparam_text) gives the same shape
with "using" set to the template path and "params" entries {"name", "value": EXPR, "line"}.
A param without a default has no "default" key (a `= null` default is `"default": None`).
"decorators" maps the decorator name (without `sys.`) to its argument: the single
argument as EXPR, True when called with none, a list when called with several.
"body" is the whole declared object (name, location, properties, ...), canonicalised.
For a nested child resource (`resource child 'images' = {...}` inside a parent's body) the
symbol is "parent::child", the type is completed from the parent's, and it is removed from
the parent's body. LOOP is {"item": NAME, "index": NAME|None, "in": EXPR}; a loop filter
(`[for x in xs: if (c) {...}]`) becomes the entry's "condition".

Canonical expressions (EXPR)
----------------------------
Literals are plain JSON values: strings (escapes resolved), ints, booleans, None, lists,
and dicts for object literals. Everything else is a one-key dict whose key is a tag:
  {"param": "x"} {"var": "x"} {"resource": "sym"} {"module": "sym"}
  {"local": "x"}        loop item/index or lambda parameter
  {"ident": "x"}        identifier that names no declaration in the file
  {"prop": [BASE, "p1", "p2", ...]}   property access; BASE is the symbol name as a plain
                        string when the chain starts at an identifier, else an EXPR
                        (e.g. resourceGroup().location -> {"prop": [{"call": ...}, "location"]})
  {"safe_prop": [BASE, "p"]}          `x.?p`
  {"index": [EXPR, EXPR]}             `x[i]`  (`x[?i]` -> "safe_index")
  {"call": "guid", "args": [EXPR...]}          `sys.`/`az.` prefixes dropped
  {"call": "listKeys", "on": EXPR, "args": [...]}   method call on a resource
  {"concat": [part...]} string interpolation; parts are str or EXPR, empty parts dropped
  {"op": "==", "args": [l, r]}        binary operators; unary: {"op": "!"|"-", "args": [x]}
  {"if": [cond, then, else]}          ternary
  {"for": {"item", "index", "in", "body", "condition"}}   loop expression
  {"lambda": {"params": [names], "body": EXPR}}
  {"object": [[KEY, VALUE], ...]}     an object literal that cannot be a plain dict: some key
                        is interpolated (KEY is then an EXPR), or it has exactly one key and
                        that key is one of the tags above (so it cannot be mistaken for one)
The non-null assertion `x!` and parentheses are dropped: they change nothing at deploy time.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import sys
from pathlib import Path
from typing import Any

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

EXPR_TAGS = frozenset({
    "param", "var", "resource", "module", "local", "ident", "prop", "safe_prop", "index",
    "safe_index", "call", "concat", "op", "if", "for", "lambda", "object",
})

_PARSER: Parser | None = None


def _parser() -> Parser:
    global _PARSER
    if _PARSER is None:
        _PARSER = Parser(Language(tree_sitter_bicep.language()))
    return _PARSER


class BicepAstError(Exception):
    """A parse or conversion failure, located as `file:line:col`."""

    def __init__(self, file: str, node: Node | None, message: str, origin: tuple[int, int] = (0, 0)):
        if node is not None:
            line, col = node.start_point
            # `origin` places a re-parsed snippet (see _Converter.reparse) in its file.
            col = col + origin[1] if line == 0 else col
            line += origin[0]
            where = f"{file}:{line + 1}:{col + 1}"
        else:
            where = file
        super().__init__(f"{where}: {message}")


def _looks_like_expr(keys: list[str]) -> bool:
    if keys and keys[0] == "call":
        return set(keys) <= {"call", "args", "on"}
    if keys and keys[0] == "op":  # {"op": "??", "args": [...]}
        return set(keys) == {"op", "args"}
    return len(keys) == 1 and keys[0] in EXPR_TAGS


def is_expr(value: Any) -> bool:
    """True for a canonical non-literal expression node (see module doc)."""
    return isinstance(value, dict) and _looks_like_expr(list(value))


# ----------------------------------------------------------------------------- strings

_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}
_UNICODE_ESCAPE = re.compile(r"u\{([0-9A-Fa-f]{1,6})\}")


def unescape(raw: str) -> str:
    """Resolve Bicep's escapes in the raw text of a single-quoted string segment.

    Raises ValueError on an escape Bicep does not define (Bicep rejects those too)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt in _ESCAPES and nxt:
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        match = _UNICODE_ESCAPE.match(raw, i + 1)
        if match:
            out.append(chr(int(match.group(1), 16)))
            i = match.end()
            continue
        raise ValueError(f"invalid escape sequence '\\{nxt}'")
    return "".join(out)


def _concat(parts: list[Any]) -> Any:
    """Merge adjacent literal parts; a string with no holes stays a plain str."""
    merged: list[Any] = []
    for part in parts:
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


# ----------------------------------------------------------------------------- conversion

_SKIP = {"comment", "diagnostic_comment"}


def _named(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type not in _SKIP]


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return node


def _array_item_spans(src: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """Byte spans of the items of the array literal src[start:end] (brackets included).

    Items end at a comma or a line break that is outside any bracket, string or
    interpolation opened within the item. Spans exclude blanks and comments."""
    spans: list[tuple[int, int]] = []
    item_start: int | None = None  # first byte of the current item
    item_end = 0  # one past its last significant byte
    stack: list[bytes] = []  # contexts open in the item: ( [ { ' (string) ${ (hole)
    i, stop = start + 1, end - 1
    while i < stop:
        ch = src[i:i + 1]
        if stack and stack[-1] == b"'":  # inside a single-quoted string
            if ch == b"\\":
                i += 2
            elif src.startswith(b"${", i):
                stack.append(b"${")
                i += 2
            else:
                if ch == b"'":
                    stack.pop()
                i += 1
            item_end = i
            continue
        if src.startswith(b"'''", i):  # multi-line string: verbatim up to the closing quotes
            close = src.find(b"'''", i + 3)
            item_start = i if item_start is None else item_start
            i = close + 3 if close >= 0 else stop
            item_end = i
            continue
        if src.startswith(b"//", i) or (item_start is None and not stack and ch == b"#"):
            # line comment, or a `#disable-next-line` directive on its own line
            newline = src.find(b"\n", i)
            i = newline if 0 <= newline < stop else stop
            continue
        if src.startswith(b"/*", i):
            close = src.find(b"*/", i + 2)
            i = close + 2 if close >= 0 else stop
            continue
        if not stack and ch in (b",", b"\n"):
            if item_start is not None:
                spans.append((item_start, item_end))
            item_start = None
            i += 1
            continue
        if ch in (b" ", b"\t", b"\r", b"\n"):
            i += 1
            continue
        if item_start is None:
            item_start = i
        if ch in (b"(", b"[", b"{"):
            stack.append(ch)
        elif ch in (b")", b"]", b"}"):
            if stack:
                stack.pop()  # a `}` closing a hole returns to its string
        elif ch == b"'":
            stack.append(b"'")
        i += 1
        item_end = i
    if item_start is not None:
        spans.append((item_start, item_end))
    return spans


class _Converter:
    """Converts one parsed Bicep source (a file, or a re-parsed lambda body)."""

    def __init__(self, file: str, src: bytes, symbols: dict[str, str],
                 origin: tuple[int, int] = (0, 0)):
        self.file = file
        self.src = src
        self.symbols = symbols  # identifier -> "param" | "var" | "resource" | "module" | ...
        self.origin = origin  # (row, col) of src's first byte in the real file

    def text(self, node: Node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8")

    def error(self, node: Node | None, message: str) -> BicepAstError:
        return BicepAstError(self.file, node, message, self.origin)

    _REPARSE_PREFIX = b"var __aibc_snippet__ = "

    def reparse(self, start: int, end: int, local: frozenset[str]) -> Any:
        """Parse the source bytes [start, end) on their own as one expression."""
        src = self._REPARSE_PREFIX + self.src[start:end] + b"\n"
        tree = _parser().parse(src)
        row = self.src.count(b"\n", 0, start)
        col = start - (self.src.rfind(b"\n", 0, start) + 1)
        if row == 0:  # this source is itself a snippet
            col += self.origin[1]
        origin = (row + self.origin[0], col - len(self._REPARSE_PREFIX))
        sub = _Converter(self.file, src, self.symbols, origin)
        bad = _first_error(tree.root_node)
        if bad is not None:
            raise sub.error(bad, "cannot parse expression " + repr(self.src[start:end].decode()[:60]))
        declaration = _named(tree.root_node)[0]
        return sub.expr(_named(declaration)[-1], local)

    def array_items(self, node: Node, local: frozenset[str]) -> list[Any]:
        r"""Items of an array literal.

        tree-sitter-bicep gets item boundaries wrong in both directions, without any
        error node: it splits some first items (`[\n  f()\n]` gives `f` and `()`,
        `[x[0]]` gives `x` and `[0]`) and joins an item with a parenthesised item on the
        next line (`[\n  n\n  (n)\n]` gives the call `n(n)`). Bicep's rule is simple:
        items are separated by commas, or by line breaks outside brackets. So boundaries
        come from `_array_item_spans` over the source text, and an item that tree-sitter
        did not parse as exactly one node is re-parsed on its own."""
        by_span = {(c.start_byte, c.end_byte): c for c in _named(node)}
        items = []
        for start, end in _array_item_spans(self.src, node.start_byte, node.end_byte):
            child = by_span.get((start, end))
            items.append(self.expr(child, local) if child is not None else self.reparse(start, end, local))
        return items

    # -- expressions ------------------------------------------------------------------

    def expr(self, node: Node, local: frozenset[str] = frozenset()) -> Any:
        kind = node.type
        if _is_operator_node(node):
            # Operators, accessors and lambdas are re-associated (see _OperatorParser).
            tokens: list[tuple] = []
            _flatten(node, tokens)
            return _OperatorParser(self, tokens, local).parse()
        if kind == "string":
            return self.string(node, local)
        if kind == "number":
            return int(self.text(node))
        if kind == "boolean":
            return self.text(node) == "true"
        if kind == "null":
            return None
        if kind == "array":
            return self.array_items(node, local)
        if kind == "object":
            return self.object(node, local)
        if kind in ("identifier", "compatible_identifier"):
            return self.identifier(self.text(node), local)
        if kind == "resource_expression":  # parent::child
            return {"resource": "::".join(self.text(c) for c in _named(node))}
        if kind == "parenthesized_expression":
            inner = _named(node)
            if len(inner) != 1:
                raise self.error(node, "unexpected parenthesised list outside a lambda")
            return self.expr(inner[0], local)
        if kind == "call_expression":  # plain `f(...)`; method calls are operator nodes
            function = node.child_by_field_name("function")
            return {"call": self.text(function), "args": self.arguments(node, local)}
        if kind == "for_statement":
            return {"for": self.loop(node, local, as_expression=True)}
        raise self.error(node, f"unsupported expression syntax '{kind}': {self.text(node)[:60]!r}")

    def arguments(self, call: Node, local: frozenset[str]) -> list[Any]:
        arguments = call.child_by_field_name("arguments")
        return [self.expr(a, local) for a in _named(arguments)] if arguments else []

    def identifier(self, name: str, local: frozenset[str]) -> Any:
        if name in local:
            return {"local": name}
        kind = self.symbols.get(name)
        if kind in ("param", "var", "resource", "module"):
            return {kind: name}
        return {"ident": name}

    def string(self, node: Node, local: frozenset[str]) -> Any:
        raw = self.text(node)
        if raw.startswith("'''"):
            # Multi-line strings: no escapes, no interpolation; Bicep drops one line break
            # right after the opening quotes.
            body = raw[3:-3]
            if body.startswith("\r\n"):
                body = body[2:]
            elif body.startswith("\n"):
                body = body[1:]
            return body
        parts: list[Any] = []
        pos = node.start_byte + 1
        for child in node.named_children:
            if child.type != "interpolation":
                continue  # string_content / escape_sequence: taken from the raw gaps below
            parts.append(self._literal(node, pos, child.start_byte))
            inner = _named(child)
            if len(inner) != 1:
                raise self.error(child, "interpolation must hold exactly one expression")
            parts.append(self.expr(inner[0], local))
            pos = child.end_byte
        parts.append(self._literal(node, pos, node.end_byte - 1))
        return _concat(parts)

    def _literal(self, node: Node, start: int, end: int) -> str:
        raw = self.src[start:end].decode("utf-8")
        try:
            return unescape(raw)
        except ValueError as exc:
            raise self.error(node, str(exc)) from None

    def object(self, node: Node, local: frozenset[str], nested: list | None = None) -> Any:
        """Object literal. Nested resource declarations are appended to `nested` (only a
        resource body passes a list); anywhere else they are an error."""
        pairs: list[tuple[Any, Any]] = []
        for prop in _named(node):
            if prop.type != "object_property":
                raise self.error(prop, f"unexpected '{prop.type}' in object")
            children = _named(prop)
            if len(children) == 1 and children[0].type == "resource_declaration":
                if nested is None:
                    raise self.error(children[0], "nested resource outside a resource body")
                nested.append(children[0])
                continue
            if len(children) != 2:
                raise self.error(prop, "object property must be 'key: value'")
            key_node, value_node = children
            if key_node.type == "string":
                key = self.string(key_node, local)
            else:
                key = self.text(key_node)
            pairs.append((key, self.expr(value_node, local)))
        literal_keys = all(isinstance(k, str) for k, _ in pairs)
        if literal_keys and not _looks_like_expr([k for k, _ in pairs]):
            out: dict[str, Any] = {}
            for key, value in pairs:
                if key in out:
                    raise self.error(node, f"duplicate object key {key!r}")
                out[key] = value
            return out
        return {"object": [[k, v] for k, v in pairs]}

    def _lambda_params(self, node: Node) -> list[str]:
        head = _named(node)[0]
        if head.type == "parenthesized_expression":
            return [self.text(c) for c in _named(head)]
        return [self.text(head)]

    def loop(self, node: Node, local: frozenset[str], as_expression: bool,
             nested: list | None = None) -> dict:
        """`[for item in xs: body]`, `[for (item, i) in xs: body]`, optional `if (c)` filter."""
        named = _named(node)
        head = named[0]
        if head.type == "for_loop_parameters":
            names = [self.text(c) for c in _named(head)]
            item, index = names[0], (names[1] if len(names) > 1 else None)
        else:
            item, index = self.text(head), None
        iterable = self.expr(named[1], local)
        inner = local | {n for n in (item, index) if n}
        body = node.child_by_field_name("body") or named[-1]
        condition = None
        if body.type == "if_statement":
            cond_node, body = _named(body)
            condition = self.expr(cond_node, inner)
        value = (self.object(body, inner, nested) if body.type == "object" and nested is not None
                 else self.expr(body, inner))
        out = {"item": item, "index": index, "in": iterable}
        if as_expression:
            out.update(body=value, condition=condition)
            return out
        return {"loop": out, "condition": condition, "body": value}


# ----------------------------------------------------------------------------- operators
#
# tree-sitter-bicep 1.1.0 gets infix precedence right but binds the postfix accessors
# `.p` / `[i]` / `.f()` looser than operators: `a && b.c` comes out as `(a && b).c`, and
# `x => x.id` as `(x => x).id`, which also disturbs the operators around them. The tree
# still lists every operand and operator in source order, so each maximal operator
# subtree is flattened back into that token sequence and re-parsed here with Bicep's
# precedence (highest first): accessors; unary ! -; * / %; + -; < <= > >=; == != =~ !~;
# &&; ||; ??; ?: (right-assoc); lambda bodies extend as far right as possible.
# Parenthesised expressions are single operands, so explicit grouping is kept.

_BINARY_PRECEDENCE = {
    "??": 1, "||": 2, "&&": 3, "==": 4, "!=": 4, "=~": 4, "!~": 4,
    "<": 5, "<=": 5, ">": 5, ">=": 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7,
}
_TERNARY_PRECEDENCE = 0


def _is_operator_node(node: Node) -> bool:
    if node.type in ("binary_expression", "unary_expression", "ternary_expression",
                     "member_expression", "subscript_expression", "lambda_expression"):
        return True
    return node.type == "call_expression" and \
        node.child_by_field_name("function").type == "member_expression"


def _flatten(node: Node, out: list[tuple]) -> None:
    """Append the operands and operators of an operator subtree, in source order."""
    kind = node.type
    if kind == "binary_expression":
        _flatten(node.child_by_field_name("left"), out)
        out.append(("bin", node.child_by_field_name("operator")))
        _flatten(node.child_by_field_name("right"), out)
    elif kind == "unary_expression":
        out.append(("pre", node.child_by_field_name("operator")))
        _flatten(node.child_by_field_name("argument"), out)
    elif kind == "ternary_expression":
        _flatten(node.child_by_field_name("condition"), out)
        out.append(("?",))
        _flatten(node.child_by_field_name("consequence"), out)
        out.append((":",))
        _flatten(node.child_by_field_name("alternative"), out)
    elif kind == "member_expression":
        # A `!` (non-null assertion) child is a compile-time hint only: dropped.
        _flatten(node.child_by_field_name("object"), out)
        safe = any(c.type == ".?" for c in node.children)
        out.append(("member", node.child_by_field_name("property"), safe))
    elif kind == "subscript_expression":
        _flatten(node.child_by_field_name("object"), out)
        safe = any(c.type == "?" for c in node.children)
        out.append(("index", node.child_by_field_name("index"), safe))
    elif kind == "call_expression" and node.child_by_field_name("function").type == "member_expression":
        function = node.child_by_field_name("function")
        _flatten(function.child_by_field_name("object"), out)
        out.append(("method", function.child_by_field_name("property"), node))
    elif kind == "lambda_expression":
        out.append(("lambda", node))
        _flatten(_named(node)[-1], out)
    else:
        out.append(("atom", node))


class _OperatorParser:
    """Precedence climbing over a flattened operator subtree; emits canonical EXPRs."""

    def __init__(self, conv: _Converter, tokens: list[tuple], local: frozenset[str]):
        self.conv = conv
        self.tokens = tokens
        self.pos = 0
        self.local = local

    def peek(self) -> tuple | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.expression(_TERNARY_PRECEDENCE)
        if self.peek() is not None:
            raise self.conv.error(None, f"internal: unconsumed operator token {self.peek()[0]}")
        return value

    def expression(self, min_prec: int) -> Any:
        left = self.unary()
        while True:
            token = self.peek()
            if token is None:
                return left
            if token[0] == "bin":
                op = self.conv.text(token[1])
                prec = _BINARY_PRECEDENCE[op]
                if prec < min_prec or prec == _TERNARY_PRECEDENCE:
                    return left
                self.take()
                right = self.expression(prec + 1)  # left-associative
                left = {"op": op, "args": [left, right]}
            elif token[0] == "?" and min_prec <= _TERNARY_PRECEDENCE:
                self.take()
                then = self.expression(_TERNARY_PRECEDENCE)
                if self.peek() is None or self.peek()[0] != ":":
                    raise self.conv.error(None, "internal: ternary without ':'")
                self.take()
                other = self.expression(_TERNARY_PRECEDENCE)  # right-associative
                left = {"if": [left, then, other]}
            else:
                return left

    def unary(self) -> Any:
        token = self.take()
        if token[0] == "pre":
            op = self.conv.text(token[1])
            arg = self.unary()
            if op == "-" and isinstance(arg, int) and not isinstance(arg, bool):
                return -arg
            return {"op": op, "args": [arg]}
        if token[0] == "lambda":
            params = self.conv._lambda_params(token[1])
            saved, self.local = self.local, self.local | set(params)
            body = self.expression(_TERNARY_PRECEDENCE)  # the body takes everything after =>
            self.local = saved
            return {"lambda": {"params": params, "body": body}}
        if token[0] != "atom":
            raise self.conv.error(None, f"internal: operand expected, got {token[0]}")
        return self.postfix(token[1])

    def postfix(self, atom: Node) -> Any:
        conv, local = self.conv, self.local
        # A chain that starts at a declared symbol keeps the plain name as its base:
        # {"prop": ["identity", "properties", "principalId"]}.
        bare_name: str | None = None
        if atom.type in ("identifier", "compatible_identifier") and conv.text(atom) not in local:
            bare_name = conv.text(atom)
        elif atom.type == "resource_expression":
            bare_name = "::".join(conv.text(c) for c in _named(atom))
        value = conv.expr(atom, local)
        bare = True
        while self.peek() is not None and self.peek()[0] in ("member", "index", "method"):
            kind, *rest = self.take()
            if kind == "member":
                prop, safe = conv.text(rest[0]), rest[1]
                base = bare_name if bare and bare_name is not None else value
                if safe:
                    value = {"safe_prop": [base, prop]}
                elif not bare and isinstance(value, dict) and list(value) == ["prop"]:
                    value = {"prop": value["prop"] + [prop]}
                else:
                    value = {"prop": [base, prop]}
            elif kind == "index":
                index, safe = conv.expr(rest[0], local), rest[1]
                value = {"safe_index" if safe else "index": [value, index]}
            else:  # method call: `sys.f()` / `az.f()` namespaces, or a resource function
                name, call = conv.text(rest[0]), rest[1]
                args = conv.arguments(call, local)
                if bare and bare_name in ("sys", "az") and bare_name not in conv.symbols:
                    value = {"call": name, "args": args}
                else:
                    value = {"call": name, "on": value, "args": args}
            bare = False
        return value


# ----------------------------------------------------------------------------- declarations

_BICEPPARAM_PARAM = re.compile(rb"^([ \t]*)param(?=[ \t])", re.M)


def _bicepparam_as_bicep(src: bytes) -> tuple[bytes, set[int]]:
    """tree-sitter-bicep cannot parse `.bicepparam` assignments (`param x = 1`, no type).
    Rewrite each top-level `param` keyword to `var  ` (same length, so every byte offset
    and error position stays right) and return the rewritten source plus the offsets of
    the rewritten declarations, so the parser can report them as params again."""
    starts: set[int] = set()

    def rewrite(match: re.Match) -> bytes:
        offset = match.start() + len(match.group(1))
        if src.count(b"'''", 0, offset) % 2:  # inside a multi-line string: leave it
            return match.group(0)
        starts.add(offset)
        return match.group(1) + b"var  "

    return _BICEPPARAM_PARAM.sub(rewrite, src), starts


class _FileParser:
    def __init__(self, file: str, text: str, bicepparam: bool = False):
        self.file = file
        self.src = text.encode("utf-8")
        # Offsets of `.bicepparam` parameter assignments (see _bicepparam_as_bicep).
        self.param_assignments: set[int] = set()
        self.bicepparam = bicepparam
        if bicepparam:
            self.src, self.param_assignments = _bicepparam_as_bicep(self.src)
        self.tree = _parser().parse(self.src)
        bad = _first_error(self.tree.root_node)
        if bad is not None:
            snippet = self.src[bad.start_byte:bad.end_byte].decode("utf-8", "replace")[:60]
            what = f"missing '{bad.type}'" if bad.is_missing else f"syntax error near {snippet!r}"
            raise BicepAstError(file, bad, what)
        self.symbols: dict[str, str] = {}
        self.conv = _Converter(file, self.src, self.symbols)

    def _collect_symbols(self, decls: list[Node]) -> None:
        kinds = {"parameter_declaration": "param", "variable_declaration": "var",
                 "resource_declaration": "resource", "module_declaration": "module",
                 "type_declaration": "type", "user_defined_function": "func"}
        for node in decls:
            kind = kinds.get(node.type)
            if node.start_byte in self.param_assignments:
                kind = "param"
            if kind:
                name = self.conv.text(_named(node)[0])
                if name in self.symbols:
                    raise self.conv.error(node, f"duplicate symbol '{name}'")
                self.symbols[name] = kind

    def parse(self) -> dict:
        model: dict[str, Any] = {
            "path": self.file, "target_scope": "resourceGroup", "metadata": {}, "params": {},
            "vars": {}, "resources": {}, "modules": {}, "outputs": {}, "types": {},
            "functions": {}, "imports": [], "using": None,
        }
        decls = _named(self.tree.root_node)
        self._collect_symbols(decls)
        decorators: dict[str, Any] = {}
        pending: Node | None = None
        conv = self.conv
        for node in decls:
            if node.type == "decorators":
                decorators, pending = self.decorators(node), node
                continue
            kind = node.type
            if pending is not None and kind not in ("parameter_declaration", "variable_declaration",
                                                   "resource_declaration", "module_declaration",
                                                   "output_declaration", "type_declaration",
                                                   "user_defined_function"):
                raise conv.error(pending, f"decorators are not followed by a declaration (found {kind})")
            line = node.start_point[0] + 1
            named = _named(node)
            if kind == "target_scope_assignment":
                model["target_scope"] = conv.expr(named[0])
            elif kind == "metadata_declaration":
                model["metadata"][conv.text(named[0])] = conv.expr(named[1])
            elif kind == "parameter_declaration":
                name = conv.text(named[0])
                type_text, nullable = self.type_of(named[1])
                entry = {"name": name, "type": type_text, "nullable": nullable,
                         "decorators": decorators, "line": line}
                if len(named) > 2:
                    entry["default"] = conv.expr(named[2])
                model["params"][name] = entry
            elif kind == "variable_declaration" and node.start_byte in self.param_assignments:
                name = conv.text(named[0])  # `.bicepparam`: param NAME = VALUE
                model["params"][name] = {"name": name, "value": conv.expr(named[-1]), "line": line}
            elif kind == "variable_declaration":
                name = conv.text(named[0])
                model["vars"][name] = {"name": name, "value": conv.expr(named[-1]),
                                       "decorators": decorators, "line": line}
            elif kind == "using_statement" and self.bicepparam:
                model["using"] = conv.expr(named[0])
            elif kind == "resource_declaration":
                self.resource(node, decorators, model["resources"], parent=None)
            elif kind == "module_declaration":
                self.module(node, decorators, model["modules"])
            elif kind == "output_declaration":
                name = conv.text(named[0])
                type_text, nullable = self.type_of(named[1])
                model["outputs"][name] = {"name": name, "type": type_text, "nullable": nullable,
                                          "value": conv.expr(named[-1]),
                                          "decorators": decorators, "line": line}
            elif kind == "type_declaration":
                model["types"][conv.text(named[0])] = conv.text(node)
            elif kind == "user_defined_function":
                model["functions"][conv.text(node.child_by_field_name("name"))] = conv.text(node)
            elif kind in ("import_functionality", "import_statement", "import_with_statement"):
                model["imports"].append(conv.text(node))
            else:
                raise conv.error(node, f"unsupported top-level construct '{kind}'")
            decorators, pending = {}, None
        if pending is not None:
            raise conv.error(pending, "decorators at end of file")
        return model

    def type_of(self, node: Node) -> tuple[str, bool]:
        """(type source text without a trailing '?', nullable?)"""
        inner = _named(node)
        if node.type == "type" and len(inner) == 1 and inner[0].type == "nullable_type":
            return self.conv.text(_named(inner[0])[0]), True
        return self.conv.text(node), False

    def decorators(self, node: Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for deco in _named(node):
            call = _named(deco)[0]
            if call.type == "call_expression":
                canon = self.conv.expr(call)
                name, args = canon["call"], canon["args"]
            else:  # `@secure` without parentheses is not Bicep, but be explicit about it
                raise self.conv.error(deco, "decorator must be a call, e.g. @secure()")
            value: Any = True if not args else args[0] if len(args) == 1 else args
            out[name] = value
        return out

    def _declared_value(self, node: Node, nested: list | None) -> tuple[Any, Any, Any]:
        """(body, condition, loop) of a resource/module's `= {...}`, `= if (c) {...}` or
        `= [for ...: {...}]`."""
        value = _named(node)[-1]
        conv = self.conv
        if value.type == "object":
            return conv.object(value, frozenset(), nested), None, None
        if value.type == "if_statement":
            cond_node, body_node = _named(value)
            return conv.object(body_node, frozenset(), nested), conv.expr(cond_node), None
        if value.type == "for_statement":
            parts = conv.loop(value, frozenset(), as_expression=False, nested=nested)
            return parts["body"], parts["condition"], parts["loop"]
        raise conv.error(value, f"unsupported declaration value '{value.type}'")

    def resource(self, node: Node, decorators: dict, out: dict, parent: dict | None) -> None:
        conv = self.conv
        named = _named(node)
        symbol = conv.text(named[0])
        type_ref = conv.expr(named[1])
        if not isinstance(type_ref, str):
            raise conv.error(named[1], "resource type must be a plain string")
        rtype, _, api = type_ref.rpartition("@") if "@" in type_ref else (type_ref, "", "")
        if parent is not None:
            symbol = f"{parent['symbol']}::{symbol}"
            # `'images'` or `'images@ver'` is relative to the parent; a fully-qualified
            # `'Microsoft.X/y/z@ver'` is taken as written.
            if "." not in rtype.split("/", 1)[0]:
                rtype = f"{parent['type']}/{rtype}"
            api = api or parent["api_version"]
        existing = any(c.type == "existing" for c in node.children)
        nested: list[Node] = []
        body, condition, loop = self._declared_value(node, nested)
        parent_value = body.get("parent") if isinstance(body, dict) else None
        if parent is not None:
            parent_ref: Any = parent["symbol"]
        elif isinstance(parent_value, dict) and list(parent_value) == ["resource"]:
            parent_ref = parent_value["resource"]
        else:
            parent_ref = parent_value
        entry = {
            "symbol": symbol, "type": rtype, "api_version": api, "existing": existing,
            "name": body.get("name") if isinstance(body, dict) else None,
            "parent": parent_ref,
            "scope": body.get("scope") if isinstance(body, dict) else None,
            "depends_on": body.get("dependsOn", []) if isinstance(body, dict) else [],
            "condition": condition, "loop": loop, "body": body,
            "decorators": decorators, "line": node.start_point[0] + 1,
        }
        if symbol in out:
            raise conv.error(node, f"duplicate resource symbol '{symbol}'")
        out[symbol] = entry
        for child in nested:
            self.resource(child, {}, out, parent=entry)

    def module(self, node: Node, decorators: dict, out: dict) -> None:
        conv = self.conv
        named = _named(node)
        symbol = conv.text(named[0])
        path = conv.expr(named[1])
        if not isinstance(path, str):
            raise conv.error(named[1], "module path must be a plain string")
        body, condition, loop = self._declared_value(node, None)
        # Registry / template-spec references (br:..., br/alias:..., ts:...) are not files.
        if re.match(r"^(br|ts)[:/]", path):
            resolved = None
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(self.file), path))
        get = body.get if isinstance(body, dict) else (lambda *_: None)
        out[symbol] = {
            "symbol": symbol, "path": path, "resolved": resolved,
            "name": get("name"), "scope": get("scope"), "params": get("params") or {},
            "depends_on": get("dependsOn") or [], "condition": condition, "loop": loop,
            "body": body, "decorators": decorators, "line": node.start_point[0] + 1,
        }


# ----------------------------------------------------------------------------- entry points

def parse_text(text: str, path: str = "<text>") -> dict:
    """Parse Bicep source; `path` names it in errors and relative module paths."""
    return _FileParser(path, text).parse()


def parse_file(path: str | Path, name: str | None = None) -> dict:
    """Parse a `.bicep` file, or a `.bicepparam` file (see parse_bicepparam_text)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".bicepparam":
        return parse_bicepparam_text(text, name or path.as_posix())
    return parse_text(text, name or path.as_posix())


def parse_bicepparam_text(text: str, path: str = "<text>") -> dict:
    """Parse a `.bicepparam` file into the same model shape as a `.bicep` file, with
    "using" set to the referenced template path and each `param NAME = VALUE` in
    "params" as {"name", "value": EXPR, "line"}."""
    return _FileParser(path, text, bicepparam=True).parse()


def load_bicep_dir(directory: str | Path) -> dict[str, dict]:
    """Parse `main.bicep` and each `modules/*.bicep` of a compiler output folder.

    Returns {relative posix path: file model}, main.bicep first. Paths inside the models
    (and modules' "resolved") are relative to `directory`, so a module's "resolved" value
    is the key of its file in the result when it points into modules/."""
    directory = Path(directory)
    main = directory / "main.bicep"
    if not main.is_file():
        raise FileNotFoundError(f"{main} not found")
    files = [main] + sorted((directory / "modules").glob("*.bicep"))
    out: dict[str, dict] = {}
    for file in files:
        rel = file.relative_to(directory).as_posix()
        out[rel] = parse_file(file, rel)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the normalised model of Bicep files as JSON.")
    parser.add_argument("target", help="a folder holding main.bicep (+ modules/), or one .bicep file")
    parser.add_argument("--indent", type=int, default=2)
    args = parser.parse_args(argv)
    target = Path(args.target)
    try:
        result = load_bicep_dir(target) if target.is_dir() else parse_file(target)
    except (BicepAstError, FileNotFoundError) as exc:
        print(f"bicep_ast: {exc}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=args.indent, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
