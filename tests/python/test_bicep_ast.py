"""Unit tests for bicep_ast.py over the hand-written samples and inline snippets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bicep_ast
from bicep_ast import BicepAstError, is_expr, load_bicep_dir, parse_text, unescape

HERE = Path(__file__).resolve().parent


def value(src: str, name: str = "v") -> object:
    """Canonical value of `var <name>` in a snippet (params declared as needed)."""
    return parse_text(src + "\n")["vars"][name]["value"]


PARAMS = "param a bool\nparam b object\nparam c object\nparam xs array\nparam n string\n"


# ----------------------------------------------------------------------------- samples/basic

@pytest.fixture(scope="module")
def basic(samples_dir):
    return load_bicep_dir(samples_dir / "basic")


@pytest.fixture(scope="module")
def main(basic):
    return basic["main.bicep"]


def test_load_dir_returns_main_and_modules(basic):
    assert list(basic) == ["main.bicep", "modules/gallery-role.bicep"]
    assert basic["modules/gallery-role.bicep"]["path"] == "modules/gallery-role.bicep"


def test_model_is_plain_json(basic):
    assert json.loads(json.dumps(basic)) == basic


def test_metadata_and_target_scope(main, basic):
    assert main["metadata"] == {
        "name": "aibc sample: linux image",
        "description": "Hand-written sample used to probe the Bicep parser.",
    }
    assert main["target_scope"] == "resourceGroup"
    assert basic["modules/gallery-role.bicep"]["metadata"]["name"] == "gallery role assignment"


def test_param_decorators(main):
    p = main["params"]
    assert p["imageTemplateName"]["decorators"] == {
        "description": "Required. Name of the image template.", "minLength": 1, "maxLength": 64,
    }
    assert "default" not in p["imageTemplateName"]
    assert p["vmSize"]["decorators"]["allowed"] == ["Standard_D2s_v5", "Standard_D4s_v5"]
    assert p["vmSize"]["default"] == "Standard_D2s_v5"
    assert p["buildTimeoutInMinutes"]["decorators"] == {
        "description": "Optional. Build timeout in minutes.", "minValue": 0, "maxValue": 960,
    }
    assert p["buildTimeoutInMinutes"]["type"] == "int"
    assert p["secretValue"]["decorators"]["secure"] is True
    assert p["enableAutoRun"]["decorators"] == {}


def test_param_nullable_and_defaults(main):
    p = main["params"]
    assert p["stagingResourceGroupId"]["nullable"] is True
    assert p["stagingResourceGroupId"]["type"] == "string"
    assert "default" not in p["stagingResourceGroupId"]
    assert p["location"]["nullable"] is False
    assert p["location"]["default"] == {"prop": [{"call": "resourceGroup", "args": []}, "location"]}
    assert p["gallerySubscriptionId"]["default"] == {"prop": [{"call": "subscription", "args": []}, "subscriptionId"]}
    assert p["tags"]["default"] == {}
    assert p["replicationRegions"]["default"] == [{"param": "location"}]


def test_vars(main):
    v = main["vars"]
    assert v["identityName"]["value"] == {"concat": ["id-", {"param": "imageTemplateName"}]}
    assert v["shortSuffix"]["value"] == {"call": "take", "args": [
        {"call": "uniqueString", "args": [
            {"prop": [{"call": "resourceGroup", "args": []}, "id"]}, {"param": "imageTemplateName"}]},
        8,
    ]}
    assert v["nested"]["value"] == {"list": [1, "two", True, None], "quoted-key": "v", "inner": {"deep": -3}}


def test_escapes_and_multiline(main):
    v = main["vars"]
    assert v["escaped"]["value"] == "it's a \\ backslash and a ${literal} and a newline\n and tab\t"
    assert v["dollarOnly"]["value"] == "cost: $5"
    assert v["multiLine"]["value"] == (
        "#!/bin/bash\necho 'single quotes stay' \"and doubles\"\necho ${NOT_INTERPOLATED}\n"
    )


def test_resource_identity(main):
    r = main["resources"]["identity"]
    assert (r["type"], r["api_version"], r["existing"]) == (
        "Microsoft.ManagedIdentity/userAssignedIdentities", "2024-11-30", False)
    assert r["name"] == {"var": "identityName"}
    assert r["body"] == {"name": {"var": "identityName"}, "location": {"param": "location"}, "tags": {"param": "tags"}}
    assert (r["parent"], r["scope"], r["depends_on"], r["condition"], r["loop"]) == (None, None, [], None, None)


def test_existing_resources_scope_and_parent(main):
    gallery = main["resources"]["gallery"]
    assert gallery["existing"] is True
    assert gallery["name"] == {"concat": ["gal_", {"var": "shortSuffix"}]}
    assert gallery["scope"] == {"call": "resourceGroup", "args": [
        {"param": "gallerySubscriptionId"}, {"param": "galleryResourceGroupName"}]}
    image = main["resources"]["galleryImage"]
    assert image["parent"] == "gallery"
    assert image["body"]["parent"] == {"resource": "gallery"}
    assert image["type"] == "Microsoft.Compute/galleries/images"


def test_role_assignment(main):
    r = main["resources"]["roleAssignment"]
    assert r["name"] == {"call": "guid", "args": [
        {"prop": [{"call": "resourceGroup", "args": []}, "id"]},
        {"prop": ["identity", "id"]},
        {"var": "contributorRoleId"},
    ]}
    assert r["scope"] == {"call": "resourceGroup", "args": []}
    assert r["body"]["properties"] == {
        "roleDefinitionId": {"call": "subscriptionResourceId", "args": [
            "Microsoft.Authorization/roleDefinitions", {"var": "contributorRoleId"}]},
        "principalId": {"prop": ["identity", "properties", "principalId"]},
        "principalType": "ServicePrincipal",
    }


def test_image_template_body(main):
    r = main["resources"]["imageTemplate"]
    body = r["body"]
    # Interpolated key: not representable as a plain dict key.
    assert body["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {
        "object": [[{"concat": [{"prop": ["identity", "id"]}]}, {}]]}}
    props = body["properties"]
    assert props["customize"][0]["inline"] == [
        "sudo apt-get update",
        {"concat": ['echo "', {"param": "imageTemplateName"}, "-", {"param": "location"}, '"']},
    ]
    assert props["customize"][1]["inline"] == [{"var": "multiLine"}]
    assert props["distribute"][0]["galleryImageId"] == {"prop": ["galleryImage", "id"]}
    assert props["autoRun"] == {"state": {"if": [{"param": "enableAutoRun"}, "Enabled", "Disabled"]}}
    assert r["depends_on"] == [{"resource": "roleAssignment"}]


def test_module(main, basic):
    m = main["modules"]["galleryRole"]
    assert m["path"] == m["resolved"] == "modules/gallery-role.bicep"
    assert m["resolved"] in basic
    assert m["name"] == {"concat": ["gallery-role-", {"var": "shortSuffix"}]}
    assert m["scope"] == {"call": "resourceGroup", "args": [
        {"param": "gallerySubscriptionId"}, {"param": "galleryResourceGroupName"}]}
    assert m["params"] == {
        "principalId": {"prop": ["identity", "properties", "principalId"]},
        "galleryName": {"prop": ["gallery", "name"]},
        "roleDefinitionId": {"var": "contributorRoleId"},
    }


def test_outputs(main, basic):
    o = main["outputs"]
    assert o["imageTemplateId"] == {
        "name": "imageTemplateId", "type": "string", "nullable": False,
        "value": {"prop": ["imageTemplate", "id"]},
        "decorators": {"description": "Resource id of the image template."},
        "line": o["imageTemplateId"]["line"],
    }
    assert o["roleAssignmentName"]["value"] == {"prop": ["galleryRole", "outputs", "assignmentName"]}
    mod = basic["modules/gallery-role.bicep"]
    assert mod["resources"]["assignment"]["scope"] == {"resource": "gallery"}
    assert mod["outputs"]["assignmentName"]["value"] == {"prop": ["assignment", "name"]}


def test_line_numbers(main):
    src = (HERE / "samples/basic/main.bicep").read_text().splitlines()
    assert src[main["resources"]["imageTemplate"]["line"] - 1].startswith("resource imageTemplate ")
    assert src[main["params"]["location"]["line"] - 1].startswith("param location ")


# ----------------------------------------------------------------------------- samples/edge

@pytest.fixture(scope="module")
def edge(samples_dir):
    return load_bicep_dir(samples_dir / "edge")["main.bicep"]


def test_edge_strings(edge):
    v = {k: e["value"] for k, e in edge["vars"].items()}
    assert v["url"] == "https://example.com/path#frag"
    assert v["twoHoles"] == {"concat": [{"param": "name"}, {"param": "count"}]}
    assert v["nestedQuotes"] == {"concat": [
        {"call": "format", "args": ["{0}-{1}", {"param": "name"}, "x"]}, "-tail"]}
    assert v["justQuote"] == "'"
    assert v["justBackslash"] == "\\"
    assert v["literalDollar"] == "${name}"
    assert v["dollarBrace"] == "$"
    assert v["unicodeEsc"] == "smile \U0001F600!"
    assert v["crlf"] == "a\r\nb"
    assert v["interpKeyObj"] == {"object": [
        [{"concat": [{"param": "name"}, "-key"]}, True], ["plain", False]]}


def test_edge_operators(edge):
    v = {k: e["value"] for k, e in edge["vars"].items()}
    assert v["mixed"] == {"if": [
        {"op": "==", "args": [{"index": [{"param": "regions"}, 1]}, "x"]},
        {"param": "flag"}, {"op": "!", "args": [{"param": "flag"}]}]}
    assert v["math"] == {"op": "+", "args": [{"param": "count"}, {"op": "*", "args": [2, 3]}]}
    assert v["cmp"]["op"] == "&&"
    assert v["coalesced"] == {"op": "??", "args": [{"param": "name"}, "default"]}
    assert v["negatives"] == [-1, -20]
    assert edge["params"]["count"]["default"] == -1


def test_edge_conditions_and_loops(edge):
    sa = edge["resources"]["sa"]
    assert sa["condition"] == {"param": "flag"} and sa["loop"] is None
    ids = edge["resources"]["ids"]
    assert ids["loop"] == {"item": "r", "index": "i", "in": {"param": "regions"}}
    assert ids["name"] == {"concat": ["id-", {"local": "r"}, "-", {"local": "i"}]}
    per = edge["modules"]["perRegion"]
    assert per["loop"] == {"item": "r", "index": None, "in": {"param": "regions"}}
    assert per["params"] == {"region": {"local": "r"}}
    assert edge["outputs"]["firstId"]["value"] == {"prop": [{"index": [{"resource": "ids"}, 0]}, "id"]}
    assert edge["outputs"]["allNames"]["value"] == {"for": {
        "item": "r", "index": None, "in": {"param": "regions"},
        "body": {"concat": ["x-", {"local": "r"}]}, "condition": None}}


# ----------------------------------------------------------------------------- inline snippets

@pytest.mark.parametrize("src,expected", [
    # accessors bind tighter than every operator (tree-sitter-bicep gets this wrong raw)
    ("a && b.c", {"op": "&&", "args": [{"param": "a"}, {"prop": ["b", "c"]}]}),
    ("a && b.c > 1", {"op": "&&", "args": [{"param": "a"}, {"op": ">", "args": [{"prop": ["b", "c"]}, 1]}]}),
    ("!b.c", {"op": "!", "args": [{"prop": ["b", "c"]}]}),
    ("-b.c", {"op": "-", "args": [{"prop": ["b", "c"]}]}),
    ("a ? b.x : c.y", {"if": [{"param": "a"}, {"prop": ["b", "x"]}, {"prop": ["c", "y"]}]}),
    ("a && xs[0]", {"op": "&&", "args": [{"param": "a"}, {"index": [{"param": "xs"}, 0]}]}),
    ("(a && b).c", {"prop": [{"op": "&&", "args": [{"param": "a"}, {"param": "b"}]}, "c"]}),
    ("b.c.d[1].e", {"prop": [{"index": [{"prop": ["b", "c", "d"]}, 1]}, "e"]}),
    # infix precedence and associativity
    ("1 - 2 + 3", {"op": "+", "args": [{"op": "-", "args": [1, 2]}, 3]}),
    ("1 + 2 * 3", {"op": "+", "args": [1, {"op": "*", "args": [2, 3]}]}),
    ("a || a && a", {"op": "||", "args": [{"param": "a"}, {"op": "&&", "args": [{"param": "a"}, {"param": "a"}]}]}),
    ("1 == 2 ? 'x' : 'y'", {"if": [{"op": "==", "args": [1, 2]}, "x", "y"]}),
    ("a ? 1 : a ? 2 : 3", {"if": [{"param": "a"}, 1, {"if": [{"param": "a"}, 2, 3]}]}),
    ("n =~ 'X' || n !~ 'y'", {"op": "||", "args": [{"op": "=~", "args": [{"param": "n"}, "X"]},
                                                  {"op": "!~", "args": [{"param": "n"}, "y"]}]}),
    ("-(1)", -1),
    ("-(a ? 1 : 2)", {"op": "-", "args": [{"if": [{"param": "a"}, 1, 2]}]}),
    # safe access, non-null assertion, namespaces, method calls
    ("b.?x", {"safe_prop": ["b", "x"]}),
    ("b.?x.y", {"prop": [{"safe_prop": ["b", "x"]}, "y"]}),
    ("b!.x", {"prop": ["b", "x"]}),
    ("sys.concat('a', n)", {"call": "concat", "args": ["a", {"param": "n"}]}),
    ("az.resourceGroup().id", {"prop": [{"call": "resourceGroup", "args": []}, "id"]}),
    ("b.listKeys().keys[0].value", {"prop": [{"index": [
        {"prop": [{"call": "listKeys", "on": {"param": "b"}, "args": []}, "keys"]}, 0]}, "value"]}),
    ("a && b.f(1).g", {"op": "&&", "args": [{"param": "a"}, {"prop": [
        {"call": "f", "on": {"param": "b"}, "args": [1]}, "g"]}]}),
    # lambdas: the body extends to the end of the argument
    ("map(xs, x => x.id)", {"call": "map", "args": [{"param": "xs"}, {"lambda": {
        "params": ["x"], "body": {"prop": [{"local": "x"}, "id"]}}}]}),
    ("filter(xs, x => x.n > 1 && x.m)", {"call": "filter", "args": [{"param": "xs"}, {"lambda": {
        "params": ["x"], "body": {"op": "&&", "args": [
            {"op": ">", "args": [{"prop": [{"local": "x"}, "n"]}, 1]}, {"prop": [{"local": "x"}, "m"]}]}}}]}),
    ("sort(xs, (p, q) => p < q)", {"call": "sort", "args": [{"param": "xs"}, {"lambda": {
        "params": ["p", "q"], "body": {"op": "<", "args": [{"local": "p"}, {"local": "q"}]}}}]}),
    # loops
    ("[for (x, i) in xs: if (i > 0) { v: x }]", {"for": {
        "item": "x", "index": "i", "in": {"param": "xs"}, "body": {"v": {"local": "x"}},
        "condition": {"op": ">", "args": [{"local": "i"}, 0]}}}),
    # unknown identifiers are kept, marked
    ("nope", {"ident": "nope"}),
])
def test_expressions(src, expected):
    assert value(PARAMS + f"var v = {src}") == expected


@pytest.mark.parametrize("src,expected", [
    # tree-sitter-bicep splits some first array items in two (no error node); repaired
    ("[f()]", [{"call": "f", "args": []}]),
    ("[\n  f()\n]", [{"call": "f", "args": []}]),
    ("[ f(), g() ]", [{"call": "f", "args": []}, {"call": "g", "args": []}]),
    ("[\n  xs[0]\n  xs[1]\n]", [{"index": [{"param": "xs"}, 0]}, {"index": [{"param": "xs"}, 1]}]),
    ("[\n  guid(n)\n  n\n]", [{"call": "guid", "args": [{"param": "n"}]}, {"param": "n"}]),
    ("[\n  f(\n    1\n  )\n]", [{"call": "f", "args": [1]}]),
    ("{\n  scopes: [\n    resourceGroup().id\n  ]\n}",
     {"scopes": [{"prop": [{"call": "resourceGroup", "args": []}, "id"]}]}),
    ("[\n  n\n  (n)\n]", [{"param": "n"}, {"param": "n"}]),  # separate lines stay separate
])
def test_array_items(src, expected):
    assert value(PARAMS + f"var v = {src}") == expected


def test_strings_inline():
    assert value("var v = 'a\\'b'") == "a'b"
    assert value("var v = ''") == ""
    assert value("param n string\nvar v = '${n}'") == {"concat": [{"param": "n"}]}
    assert value("param n string\nvar v = 'x${'y'}z'") == "xyz"  # literal holes fold away
    assert value("var v = '''\r\nwin\r\n'''") == "win\r\n"
    assert value("var v = '''no leading newline'''") == "no leading newline"
    assert value("param n string\nvar v = '${n ? 'a' : 'b'}!'") == {
        "concat": [{"if": [{"param": "n"}, "a", "b"]}, "!"]}


@pytest.mark.parametrize("src,expected", [
    (r"'\\${n}'", {"concat": ["\\", {"param": "n"}]}),        # escaped backslash, then a hole
    (r"'a\'${n}'", {"concat": ["a'", {"param": "n"}]}),
    (r"'\${n}${n}'", {"concat": ["${n}", {"param": "n"}]}),     # escaped hole, then a real one
    (r"'${n}\\'", {"concat": [{"param": "n"}, "\\"]}),
    (r"'$${n}'", {"concat": ["$", {"param": "n"}]}),
    (r"'{${n}}'", {"concat": ["{", {"param": "n"}, "}"]}),
])
def test_strings_around_holes(src, expected):
    assert value(PARAMS + f"var v = {src}") == expected


def test_unescape_rules():
    assert unescape(r"\\ \' \n \r \t \$ \u{41}") == "\\ ' \n \r \t $ A"
    with pytest.raises(ValueError):
        unescape(r"\q")


def test_object_literal_that_looks_like_an_expression():
    v = value("var v = {\n  param: 'x'\n}")
    assert v == {"object": [["param", "x"]]}
    assert not is_expr(v["object"][0][1]) and is_expr({"param": "x"})
    assert value("var v = {\n  param: 'x'\n  other: 1\n}") == {"param": "x", "other": 1}
    assert value("var v = {\n  call: 'f'\n  args: []\n}") == {"object": [["call", "f"], ["args", []]]}


def test_is_expr():
    assert is_expr({"call": "f", "args": []})
    assert is_expr({"call": "f", "on": {"resource": "r"}, "args": []})
    assert is_expr({"concat": ["a", {"param": "b"}]})
    assert not is_expr({"a": 1})
    assert not is_expr("x") and not is_expr([{"param": "x"}])


def test_decorators_survive_comments_and_disable_lines():
    model = parse_text(
        "@description('d')\n// a comment\n#disable-next-line no-unused-params // why\n"
        "@sys.minLength(2)\nparam p string\n"
    )
    assert model["params"]["p"]["decorators"] == {"description": "d", "minLength": 2}


def test_decorator_multiple_args_and_negative_values():
    model = parse_text("@maxValue(-1)\n@minValue(-5)\n@metadata({\n  k: 'v'\n})\nparam p int\n")
    assert model["params"]["p"]["decorators"] == {"maxValue": -1, "minValue": -5, "metadata": {"k": "v"}}


def test_resource_and_module_descriptions():
    model = parse_text(
        "@description('res')\nresource r 'A.B/c@2020-01-01' = {\n  name: 'x'\n}\n"
        "@batchSize(1)\nmodule m 'modules/m.bicep' = [for x in [1]: {\n  name: 'n${x}'\n}]\n"
    )
    assert model["resources"]["r"]["decorators"] == {"description": "res"}
    assert model["modules"]["m"]["decorators"] == {"batchSize": 1}
    assert model["modules"]["m"]["params"] == {}


def test_nested_child_resource_is_hoisted():
    model = parse_text(
        "resource gal 'Microsoft.Compute/galleries@2025-03-03' = {\n"
        "  name: 'g'\n"
        "  location: 'x'\n"
        "  resource img 'images' = {\n"
        "    name: 'i'\n"
        "  }\n"
        "}\n"
        "output id string = gal::img.id\n"
    )
    res = model["resources"]
    assert list(res) == ["gal", "gal::img"]
    assert res["gal"]["body"] == {"name": "g", "location": "x"}
    child = res["gal::img"]
    assert (child["type"], child["api_version"], child["parent"]) == (
        "Microsoft.Compute/galleries/images", "2025-03-03", "gal")
    assert model["outputs"]["id"]["value"] == {"prop": ["gal::img", "id"]}


def test_target_scope_and_module_paths():
    model = parse_text(
        "targetScope = 'subscription'\n"
        "module a '../shared/x.bicep' = {\n  name: 'a'\n}\n"
        "module b 'br/public:avm/res/foo:1.0.0' = {\n  name: 'b'\n}\n",
        path="modules/main.bicep",
    )
    assert model["target_scope"] == "subscription"
    assert model["modules"]["a"]["resolved"] == "shared/x.bicep"
    assert model["modules"]["b"]["resolved"] is None


def test_param_equals_null_differs_from_no_default():
    model = parse_text("param p string?\nparam q string? = null\n")
    assert "default" not in model["params"]["p"]
    assert model["params"]["q"]["default"] is None and model["params"]["q"]["nullable"] is True


def test_types_functions_imports_are_recorded():
    model = parse_text("type t = {\n  a: string\n}\nfunc f(a string) string => a\nimport {x} from 'y.bicep'\n")
    assert list(model["types"]) == ["t"] and list(model["functions"]) == ["f"]
    assert model["imports"] == ["import {x} from 'y.bicep'"]


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("src,line,fragment", [
    ("var a = 1\nvar b = (\n", 2, ""),
    ("param p string\nvar x = 'bad \\q escape'\n", 2, "invalid escape"),
    ("var a = 1\nvar a = 2\n", 2, "duplicate symbol 'a'"),
    ("var a = {\n  k: 1\n  k: 2\n}\n", 1, "duplicate object key"),
    ("@description('x')\n", 1, ""),
])
def test_errors_are_located(src, line, fragment):
    with pytest.raises(BicepAstError) as info:
        parse_text(src, path="f.bicep")
    message = str(info.value)
    assert message.startswith(f"f.bicep:{line}:"), message
    assert fragment in message


def test_load_dir_requires_main(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_bicep_dir(tmp_path)


# ----------------------------------------------------------------------------- CLI

def run_cli(*args):
    return subprocess.run([sys.executable, str(HERE / "bicep_ast.py"), *args],
                          capture_output=True, text=True)


def test_cli_dir_and_file(samples_dir):
    res = run_cli(str(samples_dir / "basic"))
    assert res.returncode == 0, res.stderr
    assert list(json.loads(res.stdout)) == ["main.bicep", "modules/gallery-role.bicep"]
    res = run_cli(str(samples_dir / "basic/modules/gallery-role.bicep"), "--indent", "0")
    assert res.returncode == 0 and "assignmentName" in json.loads(res.stdout)["outputs"]


def test_cli_error(tmp_path):
    bad = tmp_path / "main.bicep"
    bad.write_text("param p string\nvar = 1\n")
    res = run_cli(str(tmp_path))
    assert res.returncode == 1
    assert "main.bicep:2:" in res.stderr


def test_module_has_no_pycep_dependency():
    # The model must not depend on pycep (pinned only for pycep_probe.py).
    assert "pycep" not in Path(bicep_ast.__file__).read_text().split('"""', 2)[2]


# ----------------------------------------------------------------------------- cross-check with pycep

def test_cross_check_with_pycep_agrees_on_samples(samples_dir):
    import pycep_probe

    for path in sorted((samples_dir / "basic").rglob("*.bicep")):
        assert pycep_probe.cross_check(path) == [], path


def test_cross_check_detects_a_split_array_item(tmp_path, monkeypatch):
    """Without bicep_ast's array repair, tree-sitter-bicep's split of a first-item call
    must show up as a shape difference against pycep."""
    import pycep_probe

    path = tmp_path / "main.bicep"
    path.write_text("param a array\nvar v = [\n  a[0]\n]\n")  # raw: items `a` and `[0]`
    assert pycep_probe.cross_check(path) == []
    monkeypatch.setattr(bicep_ast._Converter, "array_items",
                        lambda self, node, local: [self.expr(c, local) for c in bicep_ast._named(node)])
    problems = pycep_probe.cross_check(path)
    assert problems and "var v" in problems[0]


# ----------------------------------------------------------------------------- .bicepparam

def test_bicepparam_sample(samples_dir):
    model = bicep_ast.parse_file(samples_dir / "basic/main.bicepparam")
    assert model["using"] == "main.bicep"
    params = {name: p["value"] for name, p in model["params"].items()}
    assert params == {
        "imageTemplateName": "it-ubuntu-22",
        "buildTimeoutInMinutes": 90,
        "replicationRegions": ["westeurope", "northeurope"],
        "tags": {"owner": "platform", "cost-center": "42"},
        "gallerySubscriptionId": {"call": "readEnvironmentVariable", "args": ["GALLERY_SUBSCRIPTION_ID", ""]},
    }
    assert model["params"]["imageTemplateName"]["line"] == 4
    # every param of the params file is declared by the template it uses
    template = load_bicep_dir(samples_dir / "basic")["main.bicep"]
    assert set(params) <= set(template["params"])


def test_bicepparam_rewrite_keeps_strings_and_positions():
    model = bicep_ast.parse_bicepparam_text(
        "using 'main.bicep'\nparam a = 1\nvar c = '''\nparam x = 2\n'''\nparam b = a\n")
    assert model["params"]["a"]["value"] == 1
    assert model["params"]["b"]["value"] == {"param": "a"}
    assert model["vars"]["c"]["value"] == "param x = 2\n"
    with pytest.raises(BicepAstError) as info:
        bicep_ast.parse_bicepparam_text("using 'main.bicep'\nparam a = (\n", "p.bicepparam")
    assert str(info.value).startswith("p.bicepparam:2:")


def test_using_is_rejected_in_bicep_files():
    with pytest.raises(BicepAstError, match="using_statement"):
        parse_text("using 'main.bicep'\n")
