"""Bicep's default linter rules that can be checked offline, rule by rule, on every generated
Bicep file (the goldens of every example). Built on bicep_ast's parse; each rule is the
condition the Bicep linter documents for it, so a finding here is one `bicep lint` reports.

The Bicep CLI is not available offline; rules that need type information it has (e.g.
use-recent-api-versions, which is off by default anyway) are not here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import bicep_ast

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
FILES = sorted(p for p in GOLDEN.rglob("*.bicep"))

# no-hardcoded-env-urls, default configuration.
DISALLOWED_HOSTS = ["gallery.azure.com", "management.core.windows.net", "management.azure.com",
                    "database.windows.net", "core.windows.net", "login.microsoftonline.com", "graph.windows.net",
                    "trafficmanager.net", "datalake.azure.net", "azuredatalakestore.net",
                    "azuredatalakeanalytics.net", "vault.azure.net", "api.loganalytics.io", "asazure.windows.net",
                    "region.asazure.windows.net", "batch.core.windows.net"]
EXCLUDED_HOSTS = ["schema.management.azure.com"]


def walk(x: Any) -> Iterator[Any]:
    yield x
    if isinstance(x, dict):
        for k, v in x.items():
            if not isinstance(k, str):
                yield from walk(k)
            yield from walk(v)
    elif isinstance(x, list):
        for item in x:
            yield from walk(item)


def everything(model: dict) -> Iterator[Any]:
    """Every expression of the file, param defaults included."""
    for p in model["params"].values():
        if "default" in p:
            yield from walk(p["default"])
        yield from walk(p.get("decorators"))
    for v in model["vars"].values():
        yield from walk(v["value"])
    for table in ("resources", "modules"):
        for r in model[table].values():
            for key in ("name", "scope", "depends_on", "condition", "body", "params", "parent"):
                if key in r and r[key] is not None:
                    yield from walk(r[key])
            if r.get("loop"):
                yield from walk(r["loop"])
    for o in model["outputs"].values():
        yield from walk(o["value"])


def outside_params(model: dict) -> Iterator[Any]:
    for table in ("resources", "modules"):
        for r in model[table].values():
            for key in ("name", "scope", "condition", "body", "params"):
                if r.get(key) is not None:
                    yield from walk(r[key])
    for v in model["vars"].values():
        yield from walk(v["value"])
    for o in model["outputs"].values():
        yield from walk(o["value"])


def referenced_names(model: dict) -> set[str]:
    names: set[str] = set()
    for node in everything(model):
        if isinstance(node, dict) and len(node) == 1:
            (tag, value), = node.items()
            if tag in ("param", "var", "resource", "module", "ident") and isinstance(value, str):
                names.add(value)
            if tag in ("prop", "safe_prop", "index") and isinstance(value, list) and isinstance(value[0], str):
                names.add(value[0])
    for table in ("resources", "modules"):
        for r in model[table].values():
            if isinstance(r.get("parent"), str):
                names.add(r["parent"])
            for d in r.get("depends_on") or []:
                if isinstance(d, str):
                    names.add(d)
    return names


def strings(model: dict) -> Iterator[str]:
    for node in everything(model):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict) and list(node) == ["concat"]:
            yield from (p for p in node["concat"] if isinstance(p, str))


# ----------------------------------------------------------------------------- the rules

def no_unused_params(model: dict, text: str) -> list[str]:
    used = referenced_names(model)
    return [f"param {n} is never used" for n in model["params"] if n not in used]


def no_unused_vars(model: dict, text: str) -> list[str]:
    used = referenced_names(model)
    return [f"var {n} is never used" for n in model["vars"] if n not in used]


def no_unused_existing_resources(model: dict, text: str) -> list[str]:
    used = referenced_names(model)
    return [f"existing resource {s} is never used" for s, r in model["resources"].items()
            if r["existing"] and s not in used and s.split("::")[-1] not in used]


def simplify_interpolation(model: dict, text: str) -> list[str]:
    """Values only: an interpolated object key (`'${id}': {}`) cannot be written otherwise."""
    keys = {id(k) for n in everything(model) if isinstance(n, dict) and list(n) == ["object"]
            for k, _ in n["object"] if not isinstance(k, str)}
    return [f"'${{…}}' around a single expression: {n}" for n in everything(model)
            if isinstance(n, dict) and list(n) == ["concat"] and len(n["concat"]) == 1
            and not isinstance(n["concat"][0], str) and id(n) not in keys]


def prefer_interpolation(model: dict, text: str) -> list[str]:
    """concat() of strings; concat() of arrays has no interpolated form."""
    def arrayish(a: Any) -> bool:
        return isinstance(a, list) or (isinstance(a, dict) and list(a) == ["if"] and any(isinstance(x, list) for x in a["if"][1:]))
    return [f"concat() call: {n}" for n in everything(model)
            if isinstance(n, dict) and n.get("call") == "concat" and "args" in n
            and not any(arrayish(a) for a in n["args"])]


def no_hardcoded_env_urls(model: dict, text: str) -> list[str]:
    out = []
    for s in strings(model):
        low = s.lower()
        for excluded in EXCLUDED_HOSTS:
            low = low.replace(excluded, "")
        hit = [h for h in DISALLOWED_HOSTS if h in low]
        if hit:
            out.append(f"{hit[0]} in {s[:120]!r}")
    return out


def conditional_access_is_safe(model: dict, text: str) -> list[str]:
    """BCP318: a property of a conditional module or resource read without `.?`."""
    conditional = {s for t in ("resources", "modules") for s, r in model[t].items() if r.get("condition") is not None}
    out = []
    for n in everything(model):
        if isinstance(n, dict) and list(n) == ["prop"] and isinstance(n["prop"][0], str) \
                and n["prop"][0] in conditional and n["prop"][1:2] != ["name"]:
            out.append(f"{n['prop'][0]}.{'.'.join(map(str, n['prop'][1:]))} of a conditional declaration")
    return out


def no_loc_expr_outside_params(model: dict, text: str) -> list[str]:
    out = []
    for n in outside_params(model):
        if isinstance(n, dict) and list(n) == ["prop"] and n["prop"][1:] == ["location"] \
                and isinstance(n["prop"][0], dict) and n["prop"][0].get("call") in ("resourceGroup", "deployment"):
            out.append(f"{n['prop'][0]['call']}().location outside a parameter default")
    return out


def no_hardcoded_location(model: dict, text: str) -> list[str]:
    out = []
    for s, r in model["resources"].items():
        body = r.get("body") or {}
        loc = body.get("location") if isinstance(body, dict) else None
        if isinstance(loc, str) and loc.lower() != "global":
            out.append(f"resource {s} has the literal location {loc!r}")
    return out


def outputs_should_not_contain_secrets(model: dict, text: str) -> list[str]:
    out = []
    for name, o in model["outputs"].items():
        if re.search(r"password|secret", name, re.I):
            out.append(f"output {name} looks like a secret")
        for n in walk(o["value"]):
            if isinstance(n, dict) and str(n.get("call", "")).lower().startswith("list"):
                out.append(f"output {name} calls {n['call']}()")
    return out


def secure_parameter_default(model: dict, text: str) -> list[str]:
    return [f"@secure() param {n} has a default" for n, p in model["params"].items()
            if "secure" in (p.get("decorators") or {}) and p.get("default") not in (None, "", {})]


def use_parent_property(model: dict, text: str) -> list[str]:
    out = []
    for s, r in model["resources"].items():
        name = r["name"]
        parts = name["concat"] if isinstance(name, dict) and list(name) == ["concat"] else [name]
        if r.get("parent") is None and any(isinstance(p, str) and "/" in p for p in parts):
            out.append(f"resource {s} spells its parent in its name")
    return out


def no_unnecessary_dependson(model: dict, text: str) -> list[str]:
    out = []
    for table in ("resources", "modules"):
        for s, r in model[table].items():
            refs: set[str] = set()
            body = r.get("body")
            if isinstance(body, dict):
                body = {k: v for k, v in body.items() if k != "dependsOn"}
            for value in (body, r.get("params"), r.get("name"), r.get("scope")):
                for n in walk(value):
                    if isinstance(n, dict) and len(n) == 1:
                        (tag, v), = n.items()
                        if tag in ("resource", "module") and isinstance(v, str):
                            refs.add(v)
                        if tag in ("prop", "safe_prop") and isinstance(v, list) and isinstance(v[0], str):
                            refs.add(v[0])
            for d in r.get("depends_on") or []:
                name = d if isinstance(d, str) else next(iter(d.values()), None) if isinstance(d, dict) else None
                if name in refs:
                    out.append(f"{s} depends on {name}, which it references already")
    return out


def prefer_unquoted_property_names(model: dict, text: str) -> list[str]:
    return [f"line {i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1)
            if re.match(r"^\s*'[A-Za-z_][A-Za-z0-9_]*'\s*:", line)]


def simplify_json_null(model: dict, text: str) -> list[str]:
    return ["json('null')" for n in everything(model)
            if isinstance(n, dict) and n.get("call") == "json" and n.get("args") == ["null"]]


def max_counts(model: dict, text: str) -> list[str]:
    limits = {"params": 256, "vars": 256, "resources": 800, "outputs": 64}
    return [f"{k}: {len(model[k])} > {v}" for k, v in limits.items() if len(model[k]) > v]


RULES: dict[str, Callable[[dict, str], list[str]]] = {
    "no-unused-params": no_unused_params,
    "no-unused-vars": no_unused_vars,
    "no-unused-existing-resources": no_unused_existing_resources,
    "simplify-interpolation": simplify_interpolation,
    "prefer-interpolation": prefer_interpolation,
    "no-hardcoded-env-urls": no_hardcoded_env_urls,
    "BCP318 (conditional access)": conditional_access_is_safe,
    "no-loc-expr-outside-params": no_loc_expr_outside_params,
    "no-hardcoded-location": no_hardcoded_location,
    "outputs-should-not-contain-secrets": outputs_should_not_contain_secrets,
    "secure-parameter-default": secure_parameter_default,
    "use-parent-property": use_parent_property,
    "no-unnecessary-dependson": no_unnecessary_dependson,
    "prefer-unquoted-property-names": prefer_unquoted_property_names,
    "simplify-json-null": simplify_json_null,
    "max-params/variables/resources/outputs": max_counts,
}

_MODELS: dict[Path, tuple[dict, str]] = {}


def model_of(path: Path) -> tuple[dict, str]:
    if path not in _MODELS:
        _MODELS[path] = (bicep_ast.parse_file(path, str(path.relative_to(GOLDEN))), path.read_text())
    return _MODELS[path]


def test_there_are_files_to_lint():
    assert len(FILES) > 20, FILES


@pytest.mark.parametrize("rule", list(RULES))
def test_every_generated_file_passes(rule):
    findings = []
    for path in FILES:
        model, text = model_of(path)
        findings += [f"{path.relative_to(GOLDEN)}: {f}" for f in RULES[rule](model, text)]
    assert findings == [], f"{rule}:\n" + "\n".join(findings)


# Each rule finds what it is for (a rule that never fires proves nothing).
BAD = {
    "no-unused-params": "param unused string\n",
    "no-unused-vars": "var unused = 1\n",
    "no-unused-existing-resources": "resource st 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {\n  name: 'x'\n}\n",
    "simplify-interpolation": "param a string\noutput o string = '${a}'\n",
    "prefer-interpolation": "param a string\noutput o string = concat(a, 'b')\n",
    "no-hardcoded-env-urls": "output o string = 'https://x.blob.core.windows.net/c'\n",
    "BCP318 (conditional access)": ("param c bool\nmodule m 'm.bicep' = if (c) {\n  name: 'm'\n}\n"
                                    "output o string = c ? m.outputs.x : ''\n"),
    "no-loc-expr-outside-params": "output o string = resourceGroup().location\n",
    "no-hardcoded-location": ("resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {\n"
                              "  name: 'x'\n  location: 'westeurope'\n}\n"),
    "outputs-should-not-contain-secrets": "output adminPassword string = 'x'\n",
    "secure-parameter-default": "@secure()\nparam p string = 'x'\noutput o string = p\n",
    "use-parent-property": ("resource c 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {\n"
                            "  name: 'acct/default'\n}\n"),
    "no-unnecessary-dependson": ("resource a 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {\n"
                                 "  name: 'a'\n  location: resourceGroup().location\n}\n"
                                 "resource b 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {\n"
                                 "  name: a.name\n  location: resourceGroup().location\n  dependsOn: [\n    a\n  ]\n}\n"),
    "prefer-unquoted-property-names": "output o object = {\n  'plain': 1\n}\n",
    "simplify-json-null": "output o object = json('null')\n",
}


@pytest.mark.parametrize("rule", list(BAD))
def test_each_rule_fires_on_what_it_forbids(rule):
    text = BAD[rule]
    model = bicep_ast.parse_text(text, "bad.bicep")
    assert RULES[rule](model, text), f"{rule} found nothing in:\n{text}"
