"""Unit tests for arm_expr.py: the ARM expression parser and the canonical bridge to
bicep_ast's shapes (each convention is checked against the Bicep that means the same)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import arm_expr
import bicep_ast
from arm_expr import (ArmExprError, BicepResolver, arm_value, canonical, name_segments, parse, ref_from_id_text,
                      resource_ref)

HERE = Path(__file__).resolve().parent
P = {"param": "p"}
Q = {"param": "q"}


# ----------------------------------------------------------------------------- layer 1: parse

@pytest.mark.parametrize("text,tree", [
    ("'abc'", "abc"),
    ("'it''s'", "it's"),
    ("''''", "'"),
    ("''", ""),
    ("'a]b[c'", "a]b[c"),
    ("42", 42),
    ("-1", -1),
    ("f()", {"call": "f", "args": []}),
    ("  f ( 'a' , 1 )  ", {"call": "f", "args": ["a", 1]}),
    ("f(g(h()), 'x')", {"call": "f", "args": [{"call": "g", "args": [{"call": "h", "args": []}]}, "x"]}),
    ("f().a.b", {"prop": [{"call": "f", "args": []}, "a", "b"]}),
    ("f()[0]", {"index": [{"call": "f", "args": []}, 0]}),
    ("f()['a b'].c", {"prop": [{"index": [{"call": "f", "args": []}, "a b"]}, "c"]}),
    ("f()[g()].h", {"prop": [{"index": [{"call": "f", "args": []}, {"call": "g", "args": []}]}, "h"]}),
    ("ns.fn(1)", {"call": "ns.fn", "args": [1]}),
    ("f(')(,[]''.')", {"call": "f", "args": [")(,[]'."]}),
])
def test_parse(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize("text,message,column", [
    ("", "empty expression", 1),
    ("f(", "expected a string, an integer or a function call, found end of expression", 3),
    ("f('a'", "expected ')', found end of expression", 6),
    ("f('a)", "unterminated string literal", 3),
    ("abc", "'abc' is not a function call (ARM has no bare names)", 1),
    ("f() g()", "unexpected 'g' after the expression", 5),
    ("f().", "expected a property name after '.'", 5),
    ("f()[1", "expected ']', found end of expression", 6),
    ("f(1,)", "expected a string, an integer or a function call, found ')'", 5),
    ("f(\"x\")", "unexpected character '\"'", 3),
    ("(f())", "expected a string, an integer or a function call, found '('", 1),
])
def test_parse_errors(text, message, column):
    with pytest.raises(ArmExprError) as info:
        parse(text)
    first = str(info.value).splitlines()[0]
    assert first == f"column {column}: {message}"
    assert str(info.value).splitlines()[2].index("^") == column + 2  # caret under the column


@pytest.mark.parametrize("value,tree", [
    ("plain", "plain"),
    ("[[escaped]", "[escaped]"),
    ("[[", "[["),  # does not end with ']': a literal as it stands
    ("[not closed", "[not closed"),
    ("closed]", "closed]"),
    ("[f()]", {"call": "f", "args": []}),
    ("[ f() ]", {"call": "f", "args": []}),
])
def test_string_value(value, tree):
    assert arm_expr.string_value(value) == tree


def test_string_value_syntax_error_strict_and_lenient():
    with pytest.raises(ArmExprError):
        arm_expr.string_value("[not an expression]")
    node = arm_expr.string_value("[not an expression]", strict=False)
    assert list(node) == ["ident"] and "ARM syntax error" in node["ident"]


def test_from_json_objects():
    assert arm_expr.from_json({"a": "[f()]", "b": ["x", 1, True, None]}) == {
        "a": {"call": "f", "args": []}, "b": ["x", 1, True, None]}
    # an expression key makes the object an {"object": pairs} node
    assert arm_expr.from_json({"[parameters('id')]": {}}) == {
        "object": [[{"call": "parameters", "args": ["id"]}, {}]]}
    # a literal object that looks like an expression node is wrapped too
    assert arm_expr.from_json({"param": "x"}) == {"object": [["param", "x"]]}


# ----------------------------------------------------------------------------- layer 2: canonical

@pytest.mark.parametrize("value,canon", [
    ("[parameters('p')]", P),
    ("[variables('tags')]", {"var": "tags"}),
    ("[format('a{0}b', parameters('p'))]", {"concat": ["a", P, "b"]}),
    ("[format('{0}', parameters('p'))]", {"concat": [P]}),
    ("[format('{0}{1}{0}', parameters('p'), parameters('q'))]", {"concat": [P, Q, P]}),
    ("[format('{{x}}-{0}', parameters('p'))]", {"concat": ["{x}-", P]}),
    ("[format('it''s {0}', parameters('p'))]", {"concat": ["it's ", P]}),
    ("[format('no holes')]", "no holes"),
    ("[format('{0:D}', parameters('p'))]", {"call": "format", "args": ["{0:D}", P]}),
    ("[format('{1}', parameters('p'))]", {"call": "format", "args": ["{1}", P]}),
    ("[format('a{0}', format('b{0}', parameters('p')))]", {"concat": ["ab", P]}),
    ("[if(parameters('p'), 'a', 'b')]", {"if": [P, "a", "b"]}),
    ("[equals(parameters('p'), 1)]", {"op": "==", "args": [P, 1]}),
    ("[not(parameters('p'))]", {"op": "!", "args": [P]}),
    ("[and(parameters('p'), parameters('q'), true())]",
     {"op": "&&", "args": [{"op": "&&", "args": [P, Q]}, True]}),
    ("[or(parameters('p'), false())]", {"op": "||", "args": [P, False]}),
    ("[coalesce(parameters('p'), null())]", {"op": "??", "args": [P, None]}),
    ("[greaterOrEquals(parameters('p'), 2)]", {"op": ">=", "args": [P, 2]}),
    ("[add(parameters('p'), 1)]", {"op": "+", "args": [P, 1]}),
    ("[createArray('a', parameters('p'))]", ["a", P]),
    ("[createArray()]", []),
    ("[createObject('k', parameters('p'))]", {"k": P}),
    ("[createObject('param', 1)]", {"object": [["param", 1]]}),
    ("[parameters('o').a['b-c'][0]]", {"index": [{"prop": [{"param": "o"}, "a", "b-c"]}, 0]}),
    ("[parameters('o')['a']]", {"prop": [{"param": "o"}, "a"]}),
    ("[uniquestring(resourcegroup().id)]",
     {"call": "uniqueString", "args": [{"prop": [{"call": "resourceGroup", "args": []}, "id"]}]}),
    ("[myNs.myFn(1)]", {"call": "myNs.myFn", "args": [1]}),
    ("['literal']", "literal"),
    ("[[x]", "[x]"),
    (True, True),
    (3, 3),
])
def test_canonical(value, canon):
    assert arm_value(value) == canon


def test_resource_id_forms():
    rg_ref = resource_ref("Microsoft.Compute/galleries/images", ["g", P])
    assert arm_value("[resourceId('Microsoft.Compute/galleries/images', 'g', parameters('p'))]") == rg_ref
    assert rg_ref == {"resource_ref": {"type": "Microsoft.Compute/galleries/images", "name": ["g", P]}}
    assert arm_value("[resourceId('rg', 'Microsoft.Compute/images', 'i')]") == \
        resource_ref("Microsoft.Compute/images", ["i"], rg="rg")
    assert arm_value("[resourceId('s', 'rg', 'Microsoft.Resources/deployments', 'd')]") == \
        resource_ref("Microsoft.Resources/deployments", ["d"], sub="s", rg="rg")
    # names with '/' inside one argument are split like separate arguments
    assert arm_value("[resourceId('Microsoft.Compute/galleries/images', 'g/i')]") == \
        arm_value("[resourceId('Microsoft.Compute/galleries/images', 'g', 'i')]")
    # not a resource id: kept as a call
    assert arm_value("[resourceId(parameters('p'))]") == {"call": "resourceId", "args": [P]}


def test_extension_resource_id():
    scope = "resourceId('Microsoft.Compute/galleries', 'g')"
    assert arm_value(f"[extensionResourceId({scope}, 'Microsoft.Authorization/roleAssignments', 'n')]") == \
        resource_ref("Microsoft.Authorization/roleAssignments", ["n"],
                     scope=resource_ref("Microsoft.Compute/galleries", ["g"]))
    assert arm_value("[extensionResourceId(resourceGroup().id, 'Microsoft.Authorization/roleAssignments', 'n')]") == \
        arm_value("[resourceId('Microsoft.Authorization/roleAssignments', 'n')]")


def test_reference_forms():
    ref = resource_ref("Microsoft.Storage/storageAccounts", [P])
    assert arm_value("[reference(resourceId('Microsoft.Storage/storageAccounts', parameters('p')), '2025-06-01')"
                     ".primaryEndpoints.blob]") == \
        {"prop": [{"reference": {"to": ref, "api": "2025-06-01"}}, "primaryEndpoints", "blob"]}
    assert arm_value("[reference(resourceId('Microsoft.Storage/storageAccounts', parameters('p')), '2025-06-01', "
                     "'Full').identity]") == \
        {"prop": [{"reference": {"to": ref, "api": "2025-06-01", "full": True}}, "identity"]}


def test_module_output_forms():
    dep = "resourceId('s', 'rg', 'Microsoft.Resources/deployments', 'd')"
    out = {"module_output": {"deployment": resource_ref(arm_expr.DEPLOYMENTS_TYPE, ["d"], sub="s", rg="rg"),
                             "output": "o"}}
    assert arm_value(f"[reference({dep}, '2025-04-01').outputs.o.value]") == out
    assert arm_value(f"[reference({dep}, '2025-04-01').outputs.o.value.x]") == {"prop": [out, "x"]}
    # the api version must be the deployments' one when it is known
    wrong = arm_value(f"[reference({dep}, '2020-01-01').outputs.o.value]", deployments_api="2025-04-01")
    assert list(wrong) == ["prop"]
    # without `.value` it is not an output's value
    assert list(arm_value(f"[reference({dep}, '2025-04-01').outputs.o]")) == ["prop"]


def test_object_keys():
    assert arm_value({"[parameters('p')]": {}}) == {"object": [[P, {}]]}
    assert arm_value({"[format('{0}', parameters('p'))]": {}}) == {"object": [[P, {}]]}
    assert arm_value({"[[k]": 1}) == {"[k]": 1}
    assert arm_value({"a": 1, "b": "[parameters('p')]"}) == {"a": 1, "b": P}


def test_name_segments():
    assert name_segments("a/b") == ["a", "b"]
    assert name_segments({"concat": [P, "/default/", Q]}) == [P, "default", Q]
    assert name_segments({"concat": ["x-", P, "/y"]}) == [{"concat": ["x-", P]}, "y"]
    assert name_segments({"concat": [P]}) == [P]
    assert name_segments({"call": "guid", "args": ["a/b"]}) == [{"call": "guid", "args": ["a/b"]}]


def test_ref_from_id_text():
    assert ref_from_id_text("Microsoft.Compute/galleries/g/images/i") == \
        resource_ref("Microsoft.Compute/galleries/images", ["g", "i"])
    assert ref_from_id_text(arm_value(
        "[format('Microsoft.Storage/storageAccounts/{0}/blobServices/default/containers/{1}', parameters('p'), parameters('q'))]")) == \
        resource_ref("Microsoft.Storage/storageAccounts/blobServices/containers", [P, "default", Q])
    assert ref_from_id_text("/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/i") == \
        resource_ref("Microsoft.Compute/images", ["i"], sub="s", rg="r")
    for not_an_id in ("plain", "Microsoft.Compute/galleries", "a/b/c", P):
        assert ref_from_id_text(not_an_id) == not_an_id


def test_walk_visits_keys_and_values():
    tree = {"object": [[P, [Q, {"k": "v"}]]]}
    seen = list(arm_expr.walk(tree))
    assert P in seen and Q in seen and "v" in seen


def test_is_node_and_make_object():
    assert arm_expr.is_node(P) and arm_expr.is_node(resource_ref("A.B/c", ["n"]))
    assert not arm_expr.is_node({"a": 1, "b": 2})
    assert arm_expr.make_object([("reference", 1)]) == {"object": [["reference", 1]]}
    assert arm_expr.make_object([("a", 1), ("a", 2)]) == {"object": [["a", 1], ["a", 2]]}


# ----------------------------------------------------------------------------- Bicep <-> ARM

BICEP_CONTEXT = """\
param p string
param q string
param o object
param flag bool
var tags = {
  a: 'b'
}
resource gallery 'Microsoft.Compute/galleries@2025-03-03' = {
  name: 'gal'
}
resource image 'Microsoft.Compute/galleries/images@2025-03-03' existing = {
  parent: gallery
  name: p
}
resource acct 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: 'st${q}'
}
resource role 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(image.id)
  scope: image
}
module mod 'modules/m.bicep' = {
  name: 'dep-${p}'
  scope: resourceGroup('sub', 'rg')
}
module local 'modules/m.bicep' = {
  name: 'local'
}
"""

PAIRS = [
    ("p", "[parameters('p')]"),
    ("tags", "[variables('tags')]"),
    ("tags.a", "[variables('tags').a]"),
    ("o['x-y'].z", "[parameters('o')['x-y'].z]"),
    ("'a${p}b${q}'", "[format('a{0}b{1}', parameters('p'), parameters('q'))]"),
    ("'{${p}}'", "[format('{{{0}}}', parameters('p'))]"),
    ("'it\\'s ${p}'", "[format('it''s {0}', parameters('p'))]"),
    ("flag ? p : 'x'", "[if(parameters('flag'), parameters('p'), 'x')]"),
    ("p == q", "[equals(parameters('p'), parameters('q'))]"),
    ("p != q", "[not(equals(parameters('p'), parameters('q')))]"),
    ("p =~ q", "[equals(toLower(parameters('p')), toLower(parameters('q')))]"),
    ("!flag && flag || flag", "[or(and(not(parameters('flag')), parameters('flag')), parameters('flag'))]"),
    ("p ?? q", "[coalesce(parameters('p'), parameters('q'))]"),
    ("[\n  p\n  'x'\n]", "[createArray(parameters('p'), 'x')]"),
    ("{\n  k: p\n}", "[createObject('k', parameters('p'))]"),
    ("{\n  reference: p\n}", "[createObject('reference', parameters('p'))]"),
    ("take(uniqueString(resourceGroup().id, p), 8)",
     "[take(uniqueString(resourceGroup().id, parameters('p')), 8)]"),
    ("gallery.id", "[resourceId('Microsoft.Compute/galleries', 'gal')]"),
    ("image.id", "[resourceId('Microsoft.Compute/galleries/images', 'gal', parameters('p'))]"),
    ("image.name", "[parameters('p')]"),
    ("acct.name", "[format('st{0}', parameters('q'))]"),
    ("acct.properties.primaryEndpoints.blob",
     "[reference(resourceId('Microsoft.Storage/storageAccounts', format('st{0}', parameters('q'))), '2025-06-01')"
     ".primaryEndpoints.blob]"),
    ("acct.location",
     "[reference(resourceId('Microsoft.Storage/storageAccounts', format('st{0}', parameters('q'))), '2025-06-01', "
     "'full').location]"),
    ("acct.listKeys().keys[0].value",
     "[listKeys(resourceId('Microsoft.Storage/storageAccounts', format('st{0}', parameters('q'))), '2025-06-01')"
     ".keys[0].value]"),
    ("role.id", "[extensionResourceId(resourceId('Microsoft.Compute/galleries/images', 'gal', parameters('p')), "
     "'Microsoft.Authorization/roleAssignments', guid(resourceId('Microsoft.Compute/galleries/images', 'gal', "
     "parameters('p'))))]"),
    ("mod.outputs.o", "[reference(resourceId('sub', 'rg', 'Microsoft.Resources/deployments', "
     "format('dep-{0}', parameters('p'))), '2025-04-01').outputs.o.value]"),
    ("local.outputs.o.x", "[reference(resourceId('Microsoft.Resources/deployments', 'local'), '2025-04-01')"
     ".outputs.o.value.x]"),
    ("resourceId('rg', 'Microsoft.Compute/images', 'i')", "[resourceId('rg', 'Microsoft.Compute/images', 'i')]"),
    ("true", "[true()]"),
    ("null", "[null()]"),
    ("-1", "[-1]"),
]


@pytest.mark.parametrize("bicep,arm", PAIRS, ids=[b for b, _ in PAIRS])
def test_bicep_and_arm_forms_meet(bicep, arm):
    model = bicep_ast.parse_text(BICEP_CONTEXT + f"var v = {bicep}\n")
    ours = canonical(model["vars"]["v"]["value"], BicepResolver(model))
    theirs = arm_value(arm, deployments_api="2025-04-01")
    assert ours == theirs, f"\nBicep {json.dumps(ours)}\nARM   {json.dumps(theirs)}"


def test_bicep_interpolated_key_meets_arm_expression_key():
    model = bicep_ast.parse_text(BICEP_CONTEXT + "var v = {\n  '${p}': {}\n}\n")
    assert canonical(model["vars"]["v"]["value"], BicepResolver(model)) == \
        arm_value({"[parameters('p')]": {}}) == {"object": [[P, {}]]}


def test_cli(tmp_path):
    out = subprocess.run([sys.executable, str(HERE / "arm_expr.py"), "[format('a{0}', parameters('p'))]"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"concat": ["a", P]}
    bad = subprocess.run([sys.executable, str(HERE / "arm_expr.py"), "[f(]"], capture_output=True, text=True)
    assert bad.returncode == 1 and "column 3" in bad.stderr
    doc = tmp_path / "t.json"
    doc.write_text(json.dumps({"a": "[parameters('p')]"}))
    out = subprocess.run([sys.executable, str(HERE / "arm_expr.py"), "--file", str(doc)],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"a": P}
