#!/usr/bin/env python3
"""Re-run the pycep-parser investigation recorded in PYCEP_NOTES.md.

Usage: python pycep_probe.py            prints a Markdown table, one row per construct
       python pycep_probe.py --samples  also parses samples/**/*.bicep with pycep and
                                        cross-checks their shape against bicep_ast

As a module, `cross_check(path)` compares pycep's and bicep_ast's view of one file's
structure (see the section at the end); the Bicep/ARM comparison can use it as a guard.

Each case is a small Bicep snippet plus a check of what a correct parse must contain.
For pycep the check reads pycep's JSON output; for bicep_ast (tree-sitter-bicep) it reads
our canonical model. A row reads: OK (parsed, meaning kept), LOSSY (parsed, but a detail
the comparison needs is gone or needs post-processing), WRONG (parsed into a different
meaning), FAIL (exception). Run it again after bumping either parser's pin.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

from pycep import BicepParser

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bicep_ast  # noqa: E402

Check = Callable[[Any], str]  # returns "OK", "LOSSY: why" or "WRONG: why"


def _var(out: dict, name: str = "a") -> Any:
    return out["variables"][name]["value"]


def _op(node: Any) -> str | None:
    return node.get("operator", {}).get("type") if isinstance(node, dict) else None


def ok_if(cond: bool, bad: str) -> str:
    return "OK" if cond else bad


# (label, bicep, pycep check, bicep_ast check)
CASES: list[tuple[str, str, Check, Check]] = [
    ("metadata", "metadata name = 'x'",
     lambda o: ok_if(o["metadata"]["name"]["value"] == "x", "WRONG"),
     lambda m: ok_if(m["metadata"]["name"] == "x", "WRONG")),
    ("targetScope", "targetScope = 'subscription'",
     lambda o: ok_if(o["globals"]["scope"]["value"] == "subscription", "WRONG"),
     lambda m: ok_if(m["target_scope"] == "subscription", "WRONG")),
    ("@description/@allowed/@minValue/@maxValue",
     "@description('Required. d')\n@allowed([\n  1\n  2\n])\n@minValue(1)\n@maxValue(2)\nparam p int",
     lambda o: ok_if([d["type"] for d in o["parameters"]["p"]["decorators"]]
                     == ["description", "allowed", "min_value", "max_value"], "WRONG"),
     lambda m: ok_if(m["params"]["p"]["decorators"]
                     == {"description": "Required. d", "allowed": [1, 2], "minValue": 1, "maxValue": 2}, "WRONG")),
    ("@maxValue(-1)", "@maxValue(-1)\nparam p int",
     lambda o: ok_if(o["parameters"]["p"]["decorators"][0]["argument"] == -1, "WRONG"),
     lambda m: ok_if(m["params"]["p"]["decorators"] == {"maxValue": -1}, "WRONG")),
    ("nullable param `string?`", "param p string?",
     lambda o: ok_if(o["parameters"]["p"].get("nullable") is True or o["parameters"]["p"]["type"] != "string",
                     "LOSSY: type is 'string', the '?' is dropped"),
     lambda m: ok_if(m["params"]["p"]["nullable"] is True, "WRONG")),
    ("param without default vs `= null`", "param p string\nparam q string = null",
     lambda o: ok_if(o["parameters"]["p"]["default"] != o["parameters"]["q"]["default"],
                     "LOSSY: both give default None"),
     lambda m: ok_if("default" not in m["params"]["p"] and m["params"]["q"]["default"] is None, "WRONG")),
    ("default `resourceGroup().location`", "param p string = resourceGroup().location",
     lambda o: ok_if(_op(o["parameters"]["p"]["default"]) == "property_accessor", "WRONG"),
     lambda m: ok_if(m["params"]["p"]["default"] == {"prop": [{"call": "resourceGroup", "args": []}, "location"]}, "WRONG")),
    ("identifier vs string literal", "param n string\nvar a = n\nvar b = 'n'",
     lambda o: ok_if(type(_var(o, "a")).__name__ == "BicepElement" and type(_var(o, "b")) is str,
                     "WRONG: cannot tell them apart"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"param": "n"} and m["vars"]["b"]["value"] == "n", "WRONG")),
    ("interpolation `'a-${b}-c'`", "param b string\nvar a = 'a-${b}-c'",
     lambda o: ok_if(_var(o) != "a-${b}-c", "LOSSY: raw text 'a-${b}-c'; holes must be re-parsed by the caller"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"concat": ["a-", {"param": "b"}, "-c"]}, "WRONG")),
    ("escaped quote `'it\\'s'`", "var a = 'it\\'s'",
     lambda o: ok_if(_var(o) == "it's", "LOSSY: escapes left raw (it\\'s)"),
     lambda m: ok_if(m["vars"]["a"]["value"] == "it's", "WRONG")),
    ("escaped backslash at end `'\\\\'`", "var a = '\\\\'\nvar b = 'x'",
     lambda o: ok_if(_var(o) == "\\", "WRONG"),
     lambda m: ok_if(m["vars"]["a"]["value"] == "\\" and m["vars"]["b"]["value"] == "x", "WRONG")),
    ("escaped interpolation `'\\${x}'`", "var a = '\\${x}'",
     lambda o: ok_if(_var(o) == "${x}", "LOSSY: raw '\\${x}', caller must unescape"),
     lambda m: ok_if(m["vars"]["a"]["value"] == "${x}", "WRONG")),
    ("`\\n` `\\t` `\\u{41}` escapes", "var a = 'x\\n\\t\\u{41}'",
     lambda o: ok_if(_var(o) == "x\n\tA", "LOSSY: left raw"),
     lambda m: ok_if(m["vars"]["a"]["value"] == "x\n\tA", "WRONG")),
    ("multi-line `'''...'''`", "var a = '''\nline 'q' ${x}\n'''",
     lambda o: ok_if(_var(o) == "line 'q' ${x}\n", "WRONG"),
     lambda m: ok_if(m["vars"]["a"]["value"] == "line 'q' ${x}\n", "WRONG")),
    ("`x.properties.principalId`", "resource x 'A.B/c@1' existing = {\n  name: 'n'\n}\nvar a = x.properties.principalId",
     lambda o: ok_if(not isinstance(_var(o)["operator"]["operands"]["operand_2"], dict),
                     "LOSSY: right-nested accessor(x, accessor(properties, principalId))"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"prop": ["x", "properties", "principalId"]}, "WRONG")),
    ("`guid(a, b, c)` argument order", "var a = guid('1', '2', '3')",
     lambda o: ok_if(list(_var(o)["function"]["parameters"].values()) == ["1", "2", "3"], "WRONG"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"call": "guid", "args": ["1", "2", "3"]}, "WRONG")),
    ("`resourceGroup(sub, rg)` argument order", "var a = resourceGroup('sub', 'rg')",
     lambda o: ok_if(list(_var(o)["function"]["parameters"].values()) == ["sub", "rg"],
                     "LOSSY: named parameters, positional order not kept (rg first)"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"call": "resourceGroup", "args": ["sub", "rg"]}, "WRONG")),
    ("`subscriptionResourceId(type, name)`", "var a = subscriptionResourceId('T/x', 'n')",
     lambda o: ok_if(_var(o)["function"]["parameters"]["resource_type"] == "T/x", "WRONG"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"call": "subscriptionResourceId", "args": ["T/x", "n"]}, "WRONG")),
    ("interpolated object key `'${id}': {}`", "param id string\nvar a = {\n  '${id}': {}\n}",
     lambda o: ok_if("'${id}'" not in _var(o), "LOSSY: key kept as raw source text with quotes \"'${id}'\""),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"object": [[{"concat": [{"param": "id"}]}, {}]]}, "WRONG")),
    ("`a == b ? x : y` precedence", "var a = 1 == 2 ? 'x' : 'y'",
     lambda o: ok_if(_op(_var(o)) == "conditional", "WRONG: parsed as 1 == (2 ? 'x' : 'y')"),
     lambda m: ok_if(list(m["vars"]["a"]["value"]) == ["if"], "WRONG")),
    ("`a >= 2 && b` precedence", "var a = 1 >= 2 && true",
     lambda o: ok_if(_op(_var(o)) == "and", "WRONG: parsed as 1 >= (2 && true)"),
     lambda m: ok_if(m["vars"]["a"]["value"]["op"] == "&&", "WRONG")),
    ("`a - b + c` associativity", "var a = 1 - 2 + 3",
     lambda o: ok_if(_op(_var(o)) == "add", "WRONG: parsed as 1 - (2 + 3)"),
     lambda m: ok_if(m["vars"]["a"]["value"]["op"] == "+", "WRONG")),
    ("safe access `x.?y`", "param x object\nvar a = x.?y\nvar b = x.y",
     lambda o: ok_if(_var(o, "a") != _var(o, "b"), "LOSSY: same output as x.y"),
     lambda m: ok_if(m["vars"]["a"]["value"] == {"safe_prop": ["x", "y"]}, "WRONG")),
    ("comments `//` and `#disable-next-line`", "#disable-next-line no-unused-vars // why\nvar a = 1 // c",
     lambda o: ok_if(_var(o) == 1, "WRONG"),
     lambda m: ok_if(m["vars"]["a"]["value"] == 1, "WRONG")),
    ("`module` with scope and params", "module m 'modules/x.bicep' = {\n  name: 'dep'\n  scope: resourceGroup('s', 'r')\n  params: {\n    a: 1\n  }\n}",
     lambda o: ok_if(o["modules"]["m"]["config"]["params"] == {"a": 1}, "WRONG"),
     lambda m: ok_if(m["modules"]["m"]["params"] == {"a": 1}, "WRONG")),
    ("lambda `map(xs, x => x.id)`", "param xs array\nvar a = map(xs, x => x.id)",
     lambda o: ok_if(_var(o)["function"]["parameters"]["arg_2"]["detail"]["expression"]["operator"]["operands"]
                     == {"operand_1": "x", "operand_2": "id"}, "WRONG"),
     lambda m: ok_if(m["vars"]["a"]["value"]["args"][1] == {"lambda": {"params": ["x"], "body": {"prop": [{"local": "x"}, "id"]}}}, "WRONG")),
    ("accessor after operator `a && b.c`", "param a bool\nparam b object\nvar v = a && b.c",
     lambda o: ok_if(_op(o["variables"]["v"]["value"]) == "and", "WRONG"),
     lambda m: ok_if(m["vars"]["v"]["value"] == {"op": "&&", "args": [{"param": "a"}, {"prop": ["b", "c"]}]}, "WRONG")),
    ("accessor inside ternary `c ? x.a : y.b`", "param c bool\nparam x object\nparam y object\nvar v = c ? x.a : y.b",
     lambda o: ok_if(_op(o["variables"]["v"]["value"]) == "conditional", "WRONG"),
     lambda m: ok_if(m["vars"]["v"]["value"] == {"if": [{"param": "c"}, {"prop": ["x", "a"]}, {"prop": ["y", "b"]}]}, "WRONG")),
    ("lambda with operators `x => x.n > 1 && x.m`", "param xs array\nvar a = filter(xs, x => x.n > 1 && x.m)",
     lambda o: ok_if(_op(_var(o)["function"]["parameters"]["expression"]["detail"]["expression"]) == "and",
                     "WRONG: parsed as x.(n > (1 && x.m))"),
     lambda m: ok_if(m["vars"]["a"]["value"]["args"][1]["lambda"]["body"]["op"] == "&&", "WRONG")),
]


def run_pycep(parser: BicepParser, check: Check, src: str) -> str:
    try:
        out = parser.parse(text=src + "\n")
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"FAIL: {type(exc).__name__} {first[:70]}"
    try:
        return check(out)
    except Exception as exc:  # noqa: BLE001
        return f"WRONG: unexpected shape ({type(exc).__name__}: {exc})"


def run_ours(check: Check, src: str) -> str:
    try:
        model = bicep_ast.parse_text(src + "\n")
    except Exception as exc:  # noqa: BLE001
        return f"FAIL: {exc}"
    try:
        return check(model)
    except Exception as exc:  # noqa: BLE001
        return f"WRONG: unexpected shape ({type(exc).__name__}: {exc})"


# Raw tree-sitter-bicep groupings that bicep_ast has to repair (see _OperatorParser).
RAW_TREE_SITTER = ["a && b.c", "!a.b", "c ? x : y.b", "x => x.id", "(a && b).c", "a - b + c",
                   "[x[0]]", "[f(), g()]", "[\n  n\n  (n)\n]"]


def raw_tree_sitter(src: str) -> str:
    from tree_sitter import Language, Parser
    import tree_sitter_bicep

    data = f"var v = {src}\n".encode()
    tree = Parser(Language(tree_sitter_bicep.language())).parse(data)

    def text(node) -> str:
        return data[node.start_byte:node.end_byte].decode()

    def show(node) -> str:
        field = node.child_by_field_name
        if node.type == "binary_expression":
            return f"({show(field('left'))} {text(field('operator'))} {show(field('right'))})"
        if node.type == "unary_expression":
            return f"({text(field('operator'))}{show(field('argument'))})"
        if node.type == "ternary_expression":
            return (f"({show(field('condition'))} ? {show(field('consequence'))}"
                    f" : {show(field('alternative'))})")
        if node.type == "member_expression":
            return f"({show(field('object'))}.{text(field('property'))})"
        if node.type == "lambda_expression":
            kids = [c for c in node.children if c.is_named]
            return f"({show(kids[0])} => {show(kids[-1])})"
        if node.type == "parenthesized_expression":
            return "paren(" + ", ".join(show(k) for k in node.named_children) + ")"
        if node.type == "array":
            return "array[" + ", ".join(show(k) for k in node.named_children) + "]"
        if node.type == "subscript_expression":
            return f"({show(field('object'))}[{show(field('index'))}])"
        if node.type == "call_expression":
            args = field("arguments").named_children
            return f"{show(field('function'))}(" + ", ".join(show(k) for k in args) + ")"
        return text(node)

    return show(tree.root_node.named_children[0].named_children[-1])


def main() -> int:
    parser = BicepParser()
    print("| construct | pycep-parser 0.7.1 | bicep_ast (tree-sitter-bicep) |")
    print("|---|---|---|")
    ours_bad = 0
    for label, src, pycep_check, our_check in CASES:
        ours = run_ours(our_check, src)
        ours_bad += ours != "OK"
        print(f"| {label} | {run_pycep(parser, pycep_check, src)} | {ours} |")
    print()
    print("Raw tree-sitter-bicep grouping (before bicep_ast's repair):")
    for src in RAW_TREE_SITTER:
        print(f"  {src!r:18} -> {raw_tree_sitter(src)}")
    if "--samples" in sys.argv:
        here = Path(__file__).resolve().parent
        print()
        for path in sorted(here.glob("samples/**/*.bicep")):
            rel = path.relative_to(here)
            try:
                parser.parse(file_path=path)
            except Exception as exc:  # noqa: BLE001
                print(f"pycep on {rel}: NO ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})")
                continue
            problems = cross_check(path)
            print(f"pycep on {rel}: parses; shape cross-check: {'agrees' if not problems else problems}")
    return 1 if ours_bad else 0



# ----------------------------------------------------------------------------- cross-check
#
# tree-sitter-bicep has silent mis-parses (see bicep_ast's docstring), so the model is
# cross-checked against pycep's independent grammar where pycep is reliable: the SHAPE of
# every declaration (object keys in order, array lengths, which values are containers).
# Expressions are compared only as opaque leaves, since pycep's operator trees are wrong.

def _shape_pycep(value: Any) -> Any:
    if isinstance(value, dict):
        if {"function", "operator", "loop_type"} & set(value) or value.get("type") == "lambda_expression":
            return "E"
        keys = []
        for key, item in value.items():
            key = str(key)
            if key.startswith("'") and key.endswith("'"):
                key = key[1:-1]
            keys.append(["<expr>" if "${" in key else key, _shape_pycep(item)])
        return {"{}": keys}
    if isinstance(value, list):
        return ["[]"] + [_shape_pycep(item) for item in value]
    return "E"


def _shape_ours(value: Any) -> Any:
    if isinstance(value, dict) and list(value) == ["object"]:
        return {"{}": [[k if isinstance(k, str) else "<expr>", _shape_ours(v)] for k, v in value["object"]]}
    if bicep_ast.is_expr(value):
        return "E"
    if isinstance(value, dict):
        return {"{}": [[k, _shape_ours(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return ["[]"] + [_shape_ours(item) for item in value]
    return "E"


def _pycep_body(config: Any) -> Any:
    """pycep wraps `if`/`for` declarations as {condition, config} / {loop_type, ..., config}."""
    if isinstance(config, dict) and "config" in config and ("condition" in config or "loop_type" in config):
        return _pycep_body(config["config"])
    return config


def cross_check(path: Path) -> list[str]:
    """Differences between pycep's and bicep_ast's view of one file's structure.

    Returns ["pycep cannot parse ..."] when pycep fails (not a difference in itself)."""
    try:
        theirs = BicepParser().parse(file_path=path)
    except Exception as exc:  # noqa: BLE001
        return [f"pycep cannot parse {path}: {type(exc).__name__}"]
    ours = bicep_ast.parse_file(path)
    problems: list[str] = []

    def same(what: str, a: Any, b: Any) -> None:
        if a != b:
            problems.append(f"{path}: {what}: pycep {json.dumps(a)[:200]} != ours {json.dumps(b)[:200]}")

    tp, op = theirs.get("parameters", {}), ours["params"]
    same("param names", list(tp), list(op))
    for name in set(tp) & set(op):
        same(f"param {name} default", _shape_pycep(tp[name]["default"]),
             _shape_ours(op[name].get("default")))
    tv, ov = theirs.get("variables", {}), ours["vars"]
    same("var names", list(tv), list(ov))
    for name in set(tv) & set(ov):
        same(f"var {name}", _shape_pycep(tv[name]["value"]), _shape_ours(ov[name]["value"]))
    tr, orr = theirs.get("resources", {}), ours["resources"]
    same("resource symbols", sorted(tr), sorted(s.replace("::", "__") for s in orr))
    for name in set(tr) & set(orr):
        t, o = tr[name], orr[name]
        same(f"resource {name} type", [t["type"], t["api_version"], t["existing"]],
             [o["type"], o["api_version"], o["existing"]])
        same(f"resource {name} body", _shape_pycep(_pycep_body(t["config"])), _shape_ours(o["body"]))
    tm, om = theirs.get("modules", {}), ours["modules"]
    same("module symbols", list(tm), list(om))
    for name in set(tm) & set(om):
        same(f"module {name} path", tm[name]["detail"]["path"], om[name]["path"])
        same(f"module {name} body", _shape_pycep(_pycep_body(tm[name]["config"])), _shape_ours(om[name]["body"]))
    to, oo = theirs.get("outputs", {}), ours["outputs"]
    same("output names", list(to), list(oo))
    for name in set(to) & set(oo):
        same(f"output {name}", _shape_pycep(to[name]["value"]), _shape_ours(oo[name]["value"]))
    return problems


if __name__ == "__main__":
    sys.exit(main())
