"""The Bicep and the ARM JSON that aibc emits describe the same deployment.

For every golden example (every image folder of a family) the Bicep output
(`tests/golden/<ex>/bicep/[<image>/]`) and the ARM output (`tests/golden/<ex>/arm/[<image>/]`)
are both reduced to one canonical model and compared as Python structures:

  main      target scope, description, params (type, default, allowed, min/max, description),
            variables, outputs, and the modules IN ORDER: deployment name, scope
            (subscription, resource group), condition, parameter values; Bicep main has no
            resources and ARM main only `Microsoft.Resources/deployments`.
  modules   each Bicep module file against the inline template of its deployment (a file
            used by several deployments is compared with each): params, variables, outputs
            (type, value, description) and the NON-existing resources, keyed by type and full
            name: api version, name, scope, condition and every other property (dependsOn
            aside). `existing` resources are not in ARM; references to them are compared
            where they are used (resourceId()/reference() <-> sym.id/sym.properties).

Expressions are compared in the canonical form of arm_expr.py (bicep_ast.py's shapes plus
resource refs); Bicep symbols are resolved by `arm_expr.BicepResolver`. Beyond the pairwise
comparison, each side is checked on its own for dangling references (an undeclared
parameter or variable, an unresolved Bicep identifier) and for module arguments that do not
match the module's parameters; `test_dependencies` checks that ARM's dependsOn lists
exactly the deployments/resources Bicep would infer plus Bicep's explicit dependsOn.

A mismatch is reported as one line per difference: `path: Bicep <value> != ARM <value>`.

Run:  PY="$(scripts/py-env.sh)"; "$PY" -m pytest -q tests/python/test_equivalence.py
      AIBC_GOLDEN_DIR=/tmp/out "$PY" -m pytest -q tests/python/test_equivalence.py
      (AIBC_GOLDEN_DIR: another tree laid out like tests/golden, e.g. fresh compiler output)
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

import arm_expr
import bicep_ast
import pycep_probe
from arm_expr import DEPLOYMENTS_TYPE, BicepResolver, Canonicaliser, as_string_value, is_ref, resource_ref

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GOLDEN = Path(os.environ.get("AIBC_GOLDEN_DIR") or REPO / "tests" / "golden")

ARM_SCHEMA_SCOPES = {
    "deploymentTemplate.json": "resourceGroup",
    "subscriptionDeploymentTemplate.json": "subscription",
    "managementGroupDeploymentTemplate.json": "managementGroup",
    "tenantDeploymentTemplate.json": "tenant",
}


# ----------------------------------------------------------------------------- discovery

def golden_images(root: Path = GOLDEN) -> list[tuple[str, Path, Path]]:
    """(id, bicep dir, arm dir) per example, or per image folder of a family example."""
    found: list[tuple[str, Path, Path]] = []
    if not root.is_dir():
        return found
    for example in sorted(p for p in root.iterdir() if p.is_dir()):
        bicep, arm = example / "bicep", example / "arm"
        if (bicep / "main.bicep").is_file() or (arm / "azuredeploy.json").is_file():
            found.append((example.name, bicep, arm))
            continue
        names = {p.name for d in (bicep, arm) if d.is_dir() for p in d.iterdir() if p.is_dir()}
        for name in sorted(names):
            found.append((f"{example.name}/{name}", bicep / name, arm / name))
    return found


IMAGES = golden_images()
IMAGE_IDS = [i for i, _, _ in IMAGES]


@functools.lru_cache(maxsize=None)
def load_bicep(directory: Path) -> tuple[dict[str, dict], tuple[str, ...]]:
    """({relative path: file model}, parse errors): like bicep_ast.load_bicep_dir, but every
    file is parsed on its own so that each broken file is reported."""
    models: dict[str, dict] = {}
    errors: list[str] = []
    for path in [directory / "main.bicep"] + sorted((directory / "modules").glob("*.bicep")):
        rel = path.relative_to(directory).as_posix()
        try:
            models[rel] = bicep_ast.parse_file(path, rel)
        except bicep_ast.BicepAstError as exc:
            errors.append(f"{directory}/{exc}")
    return models, tuple(errors)


@functools.lru_cache(maxsize=None)
def load_json(path: Path) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
        keys = [k for k, _ in pairs]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"{path}: duplicate JSON keys {dupes}")
        return dict(pairs)
    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def load_pair(bicep_dir: Path, arm_dir: Path) -> tuple[dict, dict]:
    """Both sides of one image, copied (tests may mutate them); a file that does not parse
    fails the test, naming every such file."""
    problems: list[str] = []
    if not (bicep_dir / "main.bicep").is_file():
        problems.append(f"{bicep_dir}/main.bicep is missing (the ARM side has {arm_dir})")
    if not (arm_dir / "azuredeploy.json").is_file():
        problems.append(f"{arm_dir}/azuredeploy.json is missing (the Bicep side has {bicep_dir})")
    models: dict = {}
    arm: Any = None
    if not problems:
        models, errors = load_bicep(bicep_dir)
        problems += [f"Bicep does not parse: {e}" for e in errors]
        try:
            arm = load_json(arm_dir / "azuredeploy.json")
        except ValueError as exc:
            problems.append(f"ARM does not load: {exc}")
        if problems and arm is not None:  # say what can still be said about the ARM side
            problems += [f"(ARM on its own) {p}" for p in arm_self_check(arm)]
    _fail(problems, header="problem(s): the outputs cannot be compared")
    return copy.deepcopy(models), copy.deepcopy(arm)


# ----------------------------------------------------------------------------- canonical models

def _literal(value: Any) -> Any:
    """Metadata (descriptions) is never evaluated by ARM: compared as written."""
    return value


def bicep_param(canon: Canonicaliser, p: dict) -> dict:
    deco = dict(p["decorators"])
    ptype = p["type"]
    if deco.pop("secure", None) is not None:
        ptype = "secure" + ptype
    rec: dict[str, Any] = {"type": ptype.lower()}
    if p["nullable"]:
        rec["nullable"] = True
    if "default" in p:
        rec["default"] = canon.expr(p["default"])
    if "allowed" in deco:
        rec["allowed"] = canon.expr(deco.pop("allowed"))
    for key in ("minValue", "maxValue", "minLength", "maxLength"):
        if key in deco:
            rec[key] = canon.expr(deco.pop(key))
    if "description" in deco:
        rec["description"] = canon.expr(deco.pop("description"))
    if "metadata" in deco:
        rec["metadata"] = canon.expr(deco.pop("metadata"))
    for key, value in deco.items():
        rec["@" + key] = canon.expr(value)
    return rec


def arm_param(canon: Canonicaliser, p: dict) -> dict:
    p = dict(p)
    rec: dict[str, Any] = {"type": str(p.pop("type", "<no type>")).lower()}
    if p.pop("nullable", False):
        rec["nullable"] = True
    if "defaultValue" in p:
        rec["default"] = canon.expr(arm_expr.from_json(p.pop("defaultValue")))
    if "allowedValues" in p:
        rec["allowed"] = canon.expr(arm_expr.from_json(p.pop("allowedValues")))
    for key in ("minValue", "maxValue", "minLength", "maxLength"):
        if key in p:
            rec[key] = p.pop(key)
    meta = dict(p.pop("metadata", {}) or {})
    if "description" in meta:
        rec["description"] = _literal(meta.pop("description"))
    if meta:
        rec["metadata"] = _literal(meta)
    for key, value in p.items():
        rec["arm:" + key] = value
    return rec


def bicep_output(canon: Canonicaliser, o: dict) -> dict:
    deco = dict(o["decorators"])
    otype = o["type"]
    if deco.pop("secure", None) is not None:
        otype = "secure" + otype
    rec: dict[str, Any] = {"type": otype.lower(), "value": canon.expr(o["value"])}
    if o["nullable"]:
        rec["nullable"] = True
    if "description" in deco:
        rec["description"] = canon.expr(deco.pop("description"))
    for key, value in deco.items():
        rec["@" + key] = canon.expr(value)
    return rec


def arm_output(canon: Canonicaliser, o: dict) -> dict:
    o = dict(o)
    rec: dict[str, Any] = {"type": str(o.pop("type", "<no type>")).lower(),
                           "value": canon.expr(arm_expr.from_json(o.pop("value", None)))}
    if o.pop("nullable", False):
        rec["nullable"] = True
    meta = dict(o.pop("metadata", {}) or {})
    if "description" in meta:
        rec["description"] = _literal(meta.pop("description"))
    if meta:
        rec["metadata"] = _literal(meta)
    for key, value in o.items():
        rec["arm:" + key] = value
    return rec


def render(e: Any) -> str:
    """Short Bicep-like text of a canonical expression, for keys and messages."""
    if isinstance(e, str):
        return "'" + e.replace("'", "\\'") + "'"
    if not isinstance(e, dict):
        return json.dumps(e)
    if not arm_expr.is_node(e):
        return json.dumps(e, ensure_ascii=False)
    tag = next(iter(e))
    v = e[tag]
    if tag in ("param", "var", "local", "ident"):
        return v if tag != "ident" else f"?{v}"
    if tag == "call":
        on = render(e["on"]) + "." if "on" in e else ""
        return f"{on}{v}({', '.join(render(a) for a in e['args'])})"
    if tag == "prop":
        return render(v[0]) + "".join("." + p for p in v[1:])
    if tag == "index":
        return f"{render(v[0])}[{render(v[1])}]"
    if tag == "concat":
        return "'" + "".join(p if isinstance(p, str) else "${" + render(p) + "}" for p in v) + "'"
    if tag == "if":
        return f"({render(v[0])} ? {render(v[1])} : {render(v[2])})"
    if tag == "op":
        args = [render(a) for a in e["args"]]
        return f"{v}{args[0]}" if len(args) == 1 else f"({args[0]} {v} {args[1]})"
    if tag == "resource_ref":
        where = "".join(f"{k}={render(v[k])} " for k in ("sub", "rg", "scope") if k in v)
        return f"<{where}{v['type']} {'/'.join(render(n) for n in v['name'])}>"
    if tag == "reference":
        return f"reference({render(v['to'])}, '{v['api']}'{', full' if v.get('full') else ''})"
    if tag == "module_output":
        return f"{render(v['deployment'])}.outputs.{v['output']}"
    return json.dumps(e, ensure_ascii=False)


def resource_key(rtype: str, name: list[Any]) -> str:
    return f"{rtype} {'/'.join(render(n) for n in name)}"


def bicep_resource(canon: Canonicaliser, resolver: BicepResolver, sym: str) -> tuple[str, dict]:
    res = resolver.model["resources"][sym]
    ref = resolver.ref(canon, sym)["resource_ref"]
    rec: dict[str, Any] = {"type": res["type"], "api_version": res["api_version"], "name": ref["name"]}
    for key in ("sub", "rg", "scope"):
        if key in ref:
            rec[key] = ref[key]
    if res["condition"] is not None:
        rec["condition"] = canon.expr(res["condition"])
    if res["loop"] is not None:
        rec["loop"] = canon.expr({"for": {**res["loop"], "body": None, "condition": None}})
    body = {k: v for k, v in res["body"].items() if k not in ("name", "parent", "scope", "dependsOn")}
    rec["body"] = canon.expr(body)
    if res["decorators"]:  # aibc emits none; any would need a rule here (no silent drop)
        rec["decorators"] = canon.expr(res["decorators"])
    return resource_key(res["type"], ref["name"]), rec


def arm_scope(canon: Canonicaliser, value: Any) -> Any:
    return arm_expr.ref_from_id_text(canon.expr(arm_expr.from_json(value)))


def arm_resource(canon: Canonicaliser, r: dict) -> tuple[str, dict]:
    r = {k: v for k, v in r.items() if k != "dependsOn"}
    rtype = r.pop("type", "<no type>")
    name = as_string_value(canon.expr(arm_expr.from_json(r.pop("name", ""))))
    segments = arm_expr.name_segments(name)
    rec: dict[str, Any] = {"type": rtype, "api_version": r.pop("apiVersion", None), "name": segments}
    if "subscriptionId" in r:
        rec["sub"] = canon.expr(arm_expr.from_json(r.pop("subscriptionId")))
    if "resourceGroup" in r:
        rec["rg"] = canon.expr(arm_expr.from_json(r.pop("resourceGroup")))
    if "scope" in r:
        rec["scope"] = arm_scope(canon, r.pop("scope"))
    if "condition" in r:
        rec["condition"] = canon.expr(arm_expr.from_json(r.pop("condition")))
    if "copy" in r:
        rec["loop"] = r.pop("copy")
    rec["body"] = canon.expr(arm_expr.from_json(r))
    return resource_key(rtype, segments), rec


def target_scope_of_schema(schema: str) -> str:
    return ARM_SCHEMA_SCOPES.get(schema.rsplit("/", 1)[-1].rstrip("#"), f"<unknown schema {schema}>")


def bicep_file_record(model: dict) -> dict:
    """Canonical model of one Bicep module file (without its modules: see bicep_main_record)."""
    resolver = BicepResolver(model)
    canon = Canonicaliser(resolver)
    rec: dict[str, Any] = {
        "target_scope": canon.expr(model["target_scope"]),
        "description": model["metadata"].get("description"),
        "params": {n: bicep_param(canon, p) for n, p in model["params"].items()},
        "variables": {n: canon.expr(v["value"]) for n, v in model["vars"].items()},
        "resources": {},
        "outputs": {n: bicep_output(canon, o) for n, o in model["outputs"].items()},
    }
    for sym, res in model["resources"].items():
        if not res["existing"]:
            key, value = bicep_resource(canon, resolver, sym)
            if key in rec["resources"]:
                key += f" #{len(rec['resources'])}"
            rec["resources"][key] = value
    return rec


def arm_template_record(template: dict, deployments_api: str | None = None) -> dict:
    """Canonical model of an ARM template (main or a module's inline template)."""
    canon = Canonicaliser(deployments_api=deployments_api)
    t = dict(template)
    rec: dict[str, Any] = {
        "target_scope": target_scope_of_schema(t.pop("$schema", "")),
        "description": (t.pop("metadata", {}) or {}).get("description"),
        "params": {n: arm_param(canon, p) for n, p in (t.pop("parameters", {}) or {}).items()},
        "variables": {n: canon.expr(arm_expr.from_json(v)) for n, v in (t.pop("variables", {}) or {}).items()},
        "resources": {},
        "outputs": {n: arm_output(canon, o) for n, o in (t.pop("outputs", {}) or {}).items()},
    }
    for r in t.pop("resources", []) or []:
        key, value = arm_resource(canon, r)
        if key in rec["resources"]:
            key += f" #{len(rec['resources'])}"
        rec["resources"][key] = value
    t.pop("contentVersion", None)
    for key, value in t.items():
        rec["arm:" + key] = value
    return rec


def bicep_module_call(canon: Canonicaliser, resolver: BicepResolver, sym: str) -> dict:
    mod = resolver.model["modules"][sym]
    ref = resolver.deployment_ref(canon, sym)["resource_ref"]
    rec: dict[str, Any] = {"deployment": ref["name"][0] if len(ref["name"]) == 1 else ref["name"]}
    for key in ("sub", "rg", "scope"):
        if key in ref:
            rec[key] = ref[key]
    if mod["condition"] is not None:
        rec["condition"] = canon.expr(mod["condition"])
    if mod["loop"] is not None:
        rec["loop"] = canon.expr({"for": {**mod["loop"], "body": None, "condition": None}})
    # What Bicep compiles every module to (aibc's convention: see the module doc).
    rec["expression_evaluation"] = "inner"
    rec["mode"] = "Incremental"
    rec["params"] = canon.expr(mod["params"])
    extra = {k: v for k, v in mod["body"].items() if k not in ("name", "scope", "params", "dependsOn")}
    if extra:
        rec["other"] = canon.expr(extra)
    if mod["decorators"]:
        rec["decorators"] = canon.expr(mod["decorators"])
    return rec


def arm_module_call(canon: Canonicaliser, r: dict) -> dict:
    r = {k: v for k, v in r.items() if k not in ("dependsOn", "type", "apiVersion")}
    props = dict(r.pop("properties", {}) or {})
    name = as_string_value(canon.expr(arm_expr.from_json(r.pop("name", ""))))
    rec: dict[str, Any] = {"deployment": name}
    if "subscriptionId" in r:
        rec["sub"] = canon.expr(arm_expr.from_json(r.pop("subscriptionId")))
    if "resourceGroup" in r:
        rec["rg"] = canon.expr(arm_expr.from_json(r.pop("resourceGroup")))
    if "scope" in r:
        rec["scope"] = arm_scope(canon, r.pop("scope"))
    if "condition" in r:
        rec["condition"] = canon.expr(arm_expr.from_json(r.pop("condition")))
    if "copy" in r:
        rec["loop"] = r.pop("copy")
    rec["expression_evaluation"] = (props.pop("expressionEvaluationOptions", None) or {}).get("scope", "outer")
    rec["mode"] = props.pop("mode", None)
    params: dict[str, Any] = {}
    for pname, entry in (props.pop("parameters", {}) or {}).items():
        if isinstance(entry, dict) and list(entry) == ["value"]:
            params[pname] = canon.expr(arm_expr.from_json(entry["value"]))
        else:
            params[pname] = {"arm:parameter entry": entry}
    rec["params"] = params
    props.pop("template", None)
    other = dict(r)
    other.update({"properties." + k: v for k, v in props.items()})
    if other:
        rec["other"] = other
    return rec


def bicep_main_record(models: dict[str, dict]) -> dict:
    main = models["main.bicep"]
    resolver = BicepResolver(main)
    canon = Canonicaliser(resolver)
    rec = bicep_file_record(main)
    rec["modules"] = [bicep_module_call(canon, resolver, sym) for sym in main["modules"]]
    return rec


def arm_main_record(arm: dict) -> dict:
    api = deployments_api(arm)
    canon = Canonicaliser(deployments_api=api)
    rest = {k: v for k, v in arm.items() if k != "resources"}
    deployments = [r for r in arm.get("resources", []) if r.get("type") == DEPLOYMENTS_TYPE]
    others = [r for r in arm.get("resources", []) if r.get("type") != DEPLOYMENTS_TYPE]
    rec = arm_template_record({**rest, "resources": others}, api)
    rec["modules"] = [arm_module_call(canon, r) for r in deployments]
    return rec


def deployments_api(arm: dict) -> str | None:
    versions = {r.get("apiVersion") for r in arm.get("resources", []) if r.get("type") == DEPLOYMENTS_TYPE}
    return versions.pop() if len(versions) == 1 else None


# ----------------------------------------------------------------------------- diff

def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _show(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if arm_expr.is_node(value):
        text = f"{render(value)}  {text}"
    return text if len(text) <= limit else text[:limit] + "…"


def _step(key: Any) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", key):
        return "." + key
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


def diff(bicep: Any, arm: Any, path: str = "") -> list[str]:
    """One line per difference: `path: Bicep X != ARM Y` / `path: only in Bicep: X`."""
    out: list[str] = []
    _diff(bicep, arm, path, out)
    return out


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    # Expression nodes are compared whole (and shown rendered); literal objects and arrays
    # are descended into, so the path points at the differing property or item.
    if isinstance(a, dict) and isinstance(b, dict) and not (arm_expr.is_node(a) or arm_expr.is_node(b)):
        for key in a:
            if key in b:
                _diff(a[key], b[key], path + _step(key), out)
            else:
                out.append(f"{path + _step(key)}: only in Bicep: {_show(a[key])}")
        for key in b:
            if key not in a:
                out.append(f"{path + _step(key)}: only in ARM: {_show(b[key])}")
        return
    if isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            if i >= len(a):
                out.append(f"{path}[{i}]: only in ARM: {_show(b[i])}")
            elif i >= len(b):
                out.append(f"{path}[{i}]: only in Bicep: {_show(a[i])}")
            else:
                _diff(a[i], b[i], f"{path}[{i}]", out)
        return
    if not _same(a, b):
        out.append(f"{path}: Bicep {_show(a)} != ARM {_show(b)}")


# ----------------------------------------------------------------------------- consistency

def dangling(record: Any, params: set[str], variables: set[str], where: str) -> list[str]:
    """References that name nothing declared in their own file/template."""
    problems: list[str] = []
    for node in arm_expr.walk(record):
        if not isinstance(node, dict) or len(node) != 1:
            continue
        (tag, value), = node.items()
        if tag == "param" and isinstance(value, str) and value not in params:
            problems.append(f"{where}: reference to undeclared parameter '{value}'")
        elif tag == "var" and isinstance(value, str) and value not in variables:
            problems.append(f"{where}: reference to undeclared variable '{value}'")
        elif tag in ("ident", "unresolved_parent", "unresolved_scope"):
            problems.append(f"{where}: unresolved {tag}: {_show(value)}")
    return sorted(set(problems))


def check_file(rec: dict, where: str) -> list[str]:
    return dangling(rec, set(rec["params"]), set(rec["variables"]), where)


def check_arguments(args: Any, params: dict[str, dict], where: str) -> list[str]:
    """Module arguments against the module's parameters."""
    if not isinstance(args, dict):
        return [f"{where}: arguments are not a plain object: {_show(args)}"]
    problems = [f"{where}: argument '{a}' is not a parameter of the module" for a in args if a not in params]
    problems += [f"{where}: required parameter '{p}' gets no value" for p, spec in params.items()
                 if p not in args and "default" not in spec and not spec.get("nullable")]
    return problems


def compare_module(bicep_model: dict, template: dict, label: str = "module") -> list[str]:
    """Differences between a Bicep module file model and an ARM inline template, plus
    dangling references on either side."""
    b = bicep_file_record(bicep_model)
    a = arm_template_record(template)
    return (diff(b, a, label) + check_file(b, f"{label} [Bicep]") + check_file(a, f"{label} [ARM]"))


def compare_image(models: dict[str, dict], arm: dict) -> list[str]:
    """All differences between the Bicep output (load_bicep_dir) and azuredeploy.json."""
    problems: list[str] = []
    b_main, a_main = bicep_main_record(models), arm_main_record(arm)
    problems += diff(b_main, a_main, "main")
    problems += check_file(b_main, "main [Bicep]") + check_file(a_main, "main [ARM]")
    main = models["main.bicep"]
    deployments = [r for r in arm.get("resources", []) if r.get("type") == DEPLOYMENTS_TYPE]
    api = deployments_api(arm)
    if deployments and api is None:
        problems.append("main [ARM]: deployments use different api versions: "
                        f"{sorted({str(r.get('apiVersion')) for r in deployments})}")
    for (sym, mod), (i, dep) in zip(main["modules"].items(), enumerate(deployments)):
        label = f"module {sym} ({mod['path']})"
        file_model = models.get(mod["resolved"])
        if file_model is None:
            problems.append(f"{label}: module file {mod['resolved']} not found")
            continue
        template = (dep.get("properties") or {}).get("template")
        if not isinstance(template, dict):
            problems.append(f"{label}: ARM deployment #{i} has no inline template")
            continue
        problems += compare_module(file_model, template, label)
        problems += check_arguments(b_main["modules"][i]["params"], bicep_file_record(file_model)["params"],
                                    f"{label} [Bicep]")
        problems += check_arguments(a_main["modules"][i]["params"], arm_template_record(template)["params"],
                                    f"{label} [ARM]")
    return problems


def arm_self_check(arm: dict) -> list[str]:
    """Dangling references and argument/parameter mismatches within the ARM output alone."""
    a_main = arm_main_record(arm)
    problems = check_file(a_main, "main [ARM]")
    deployments = [r for r in arm.get("resources", []) if r.get("type") == DEPLOYMENTS_TYPE]
    for call, dep in zip(a_main["modules"], deployments):
        template = (dep.get("properties") or {}).get("template")
        if isinstance(template, dict):
            rec = arm_template_record(template)
            label = f"deployment {render(call['deployment'])} [ARM]"
            problems += check_file(rec, label) + check_arguments(call["params"], rec["params"], label)
    return problems


def _fail(problems: list[str], limit: int = 60,
          header: str = "difference(s) between the Bicep and the ARM output") -> None:
    if problems:
        shown = problems[:limit]
        more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
        pytest.fail(f"{len(problems)} {header}:\n  " + "\n  ".join(shown) + more, pytrace=False)


# ----------------------------------------------------------------------------- dependencies

def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _refs(tree: Any) -> list[dict]:
    return [n for n in arm_expr.walk(tree) if is_ref(n)]


def _identity(rec: dict) -> dict:
    return resource_ref(rec["type"], rec["name"], sub=rec.get("sub"), rg=rec.get("rg"), scope=rec.get("scope"))


def _parent(ref: dict) -> dict | None:
    body = ref["resource_ref"]
    if body["type"].count("/") < 2 or len(body["name"]) < 2:
        return None
    return resource_ref(body["type"].rsplit("/", 1)[0], body["name"][:-1],
                        sub=body.get("sub"), rg=body.get("rg"), scope=body.get("scope"))


def check_template_dependencies(template: dict, explicit: dict[str, list[dict]], label: str,
                                deployments: str | None = None) -> list[str]:
    """ARM dependsOn of each resource == the declared resources it references (itself, its
    parent, or through an existing resource never being one) + Bicep's explicit dependsOn.

    `explicit` maps a resource key (resource_key) to Bicep's explicit dependsOn refs."""
    canon = Canonicaliser(deployments_api=deployments)
    declared: dict[str, str] = {}
    records: list[tuple[str, dict, dict]] = []
    for r in template.get("resources", []) or []:
        key, rec = arm_resource(canon, r)
        if rec["type"] == DEPLOYMENTS_TYPE:
            rec = {**rec, **arm_module_call(canon, r)}
            ident = resource_ref(DEPLOYMENTS_TYPE, [rec["deployment"]], sub=rec.get("sub"), rg=rec.get("rg"))
        else:
            ident = _identity(rec)
        declared[_key(ident)] = key
        records.append((key, rec, r))
    problems: list[str] = []
    for key, rec, raw in records:
        own = {k: v for k, v in rec.items() if k != "deployment"}
        ident_key = next(k for k, v in declared.items() if v == key)
        needed: dict[str, dict] = {}
        for ref in _refs(own):
            if _key(ref) in declared and _key(ref) != ident_key:
                needed[_key(ref)] = ref
        for node in arm_expr.walk(own):
            if isinstance(node, dict) and list(node) == ["module_output"]:
                ref = node["module_output"]["deployment"]
                if _key(ref) in declared:
                    needed[_key(ref)] = ref
        if rec["type"] != DEPLOYMENTS_TYPE:
            parent = _parent(_identity(rec))
            if parent is not None and _key(parent) in declared:
                needed[_key(parent)] = parent
        for ref in explicit.get(key, []):
            needed[_key(ref)] = ref
        have: dict[str, Any] = {}
        for dep in raw.get("dependsOn", []) or []:
            value = canon.expr(arm_expr.from_json(dep))
            have[_key(value)] = value
        for k in needed.keys() - have.keys():
            problems.append(f"{label}: {key}: dependsOn lacks {render(needed[k])}")
        for k in have:
            if k not in declared:
                problems.append(f"{label}: {key}: dependsOn names a resource the template does not "
                                f"declare: {render(have[k])}")
            elif k not in needed:
                problems.append(f"{label}: {key}: dependsOn has a resource Bicep would not depend on: "
                                f"{render(have[k])}")
    return problems


def explicit_dependencies(model: dict, for_modules: bool) -> dict[str, list[dict]]:
    """Bicep's explicit dependsOn per resource key (or per deployment key in main)."""
    resolver = BicepResolver(model)
    canon = Canonicaliser(resolver)
    out: dict[str, list[dict]] = {}
    table = model["modules"] if for_modules else model["resources"]
    for sym, entry in table.items():
        refs = [canon.expr(d) for d in entry["depends_on"]]
        if for_modules:
            name = resolver.deployment_ref(canon, sym)["resource_ref"]["name"]
            out[resource_key(DEPLOYMENTS_TYPE, name)] = refs
        elif not entry["existing"]:
            ref = resolver.ref(canon, sym)["resource_ref"]
            out[resource_key(ref["type"], ref["name"])] = refs
    return out


# ----------------------------------------------------------------------------- golden tests

def test_goldens_found():
    assert IMAGES, f"no golden outputs under {GOLDEN}"


@pytest.mark.parametrize("image,bicep_dir,arm_dir", IMAGES, ids=IMAGE_IDS)
def test_bicep_and_arm_are_equivalent(image, bicep_dir, arm_dir):
    models, arm = load_pair(bicep_dir, arm_dir)
    _fail(compare_image(models, arm))


@pytest.mark.parametrize("image,bicep_dir,arm_dir", IMAGES, ids=IMAGE_IDS)
def test_dependencies(image, bicep_dir, arm_dir):
    models, arm = load_pair(bicep_dir, arm_dir)
    main = models["main.bicep"]
    api = deployments_api(arm)
    problems = check_template_dependencies(arm, explicit_dependencies(main, True), "main", api)
    deployments = [r for r in arm.get("resources", []) if r.get("type") == DEPLOYMENTS_TYPE]
    for (sym, mod), dep in zip(main["modules"].items(), deployments):
        template = (dep.get("properties") or {}).get("template") or {}
        file_model = models.get(mod["resolved"])
        explicit = explicit_dependencies(file_model, False) if file_model else {}
        problems += check_template_dependencies(template, explicit, f"module {sym}")
    _fail(problems, header="dependsOn problem(s) in the ARM output")


@pytest.mark.parametrize("image,bicep_dir,arm_dir", IMAGES, ids=IMAGE_IDS)
def test_parameter_files(image, bicep_dir, arm_dir):
    """main.bicepparam and azuredeploy.parameters.json give the same values; a value only
    known at deploy time (readEnvironmentVariable) has no place in the JSON file."""
    bicepparam = bicep_dir / "main.bicepparam"
    params_json = arm_dir / "azuredeploy.parameters.json"
    assert bicepparam.is_file() and params_json.is_file()
    try:
        model = bicep_ast.parse_file(bicepparam)
    except bicep_ast.BicepAstError as exc:
        pytest.fail(f"main.bicepparam does not parse: {exc}", pytrace=False)
    assert model["using"] == "main.bicep"
    canon = Canonicaliser(BicepResolver(model))
    bicep_values: dict[str, Any] = {}
    for name, p in model["params"].items():
        value = canon.expr(p["value"])
        if isinstance(value, dict) and value.get("call") == "readEnvironmentVariable":
            continue
        bicep_values[name] = value
    doc = load_json(params_json)
    arm_values: dict[str, Any] = {}
    for name, entry in doc.get("parameters", {}).items():
        arm_values[name] = arm_expr.arm_value(entry.get("value")) if list(entry) == ["value"] else entry
    _fail(diff(bicep_values, arm_values, "parameters"),
          header="difference(s) between main.bicepparam and azuredeploy.parameters.json")


@pytest.mark.parametrize("image,bicep_dir,arm_dir", IMAGES, ids=IMAGE_IDS)
def test_pycep_agrees_on_structure(image, bicep_dir, arm_dir):
    """Guard against a silent tree-sitter mis-parse: pycep's independent grammar must see
    the same declarations and shapes (files pycep cannot parse at all are skipped)."""
    problems: list[str] = []
    for path in [bicep_dir / "main.bicep"] + sorted((bicep_dir / "modules").glob("*.bicep")):
        try:
            problems += [p for p in pycep_probe.cross_check(path) if not p.startswith("pycep cannot parse")]
        except bicep_ast.BicepAstError as exc:
            problems.append(f"bicep_ast cannot parse {exc}")
    _fail(problems, header="structural disagreement(s) between pycep and bicep_ast")


def test_golden_image_folders_pair_up():
    for image, bicep_dir, arm_dir in IMAGES:
        assert (bicep_dir / "main.bicep").is_file(), f"{image}: ARM output without Bicep output"
        assert (arm_dir / "azuredeploy.json").is_file(), f"{image}: Bicep output without ARM output"


# ----------------------------------------------------------------------------- the comparison bites
#
# A hand-written pair in aibc's conventions (independent of the goldens' current state), then
# mutations of it and of golden module pairs: every mutation must be reported.

SYNTH_MAIN = """\
targetScope = 'resourceGroup'

@description('Optional. Region.')
param location string = 'westeurope'

@description('Optional. Second phase.')
param deployImageTemplate bool = true

@allowed([
  'dev'
  'prod'
])
param environment string = 'dev'

var tags = {
  owner: 'team'
  environment: '${environment}'
}

module identity 'modules/identity.bicep' = {
  name: 'img-identity'
  scope: resourceGroup('0000-sub', 'rg-shared')
}

module store 'modules/store.bicep' = {
  name: 'img-store'
  params: {
    accountName: 'st${uniqueString(resourceGroup().id, 'img')}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module template 'modules/store.bicep' = if (deployImageTemplate) {
  name: 'img-store-2'
  scope: resourceGroup('rg-other')
  params: {
    accountName: 'st2'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
  dependsOn: [
    store
  ]
}

@description('Container URL.')
output url string = deployImageTemplate ? store.outputs.containerUrl : ''
"""

SYNTH_IDENTITY = """\
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: 'id-aib'
}

@description('Principal ID.')
output principalId string = identity.properties.principalId
"""

SYNTH_STORE = """\
@description('Required. Account name.')
param accountName string
param location string
param tags object
param principalId string

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: accountName
  location: location
  tags: tags
  kind: 'StorageV2'
  properties: {
    allowBlobPublicAccess: false
    networkAcls: {
      ipRules: [
        {
          value: '10.0.0.0/24'
          action: 'Allow'
        }
      ]
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = {
  parent: blobService
  name: 'artifacts'
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, 'reader')
  scope: container
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: '[not an expression]'
    condition: '@Resource[x] == \\'{y}\\''
  }
}

output containerUrl string = '${account.properties.primaryEndpoints.blob}${container.name}'
"""

_STORE_PARAMS = {
    "accountName": {"type": "string", "metadata": {"description": "Required. Account name."}},
    "location": {"type": "string"}, "tags": {"type": "object"}, "principalId": {"type": "string"},
}
_STORE_TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": _STORE_PARAMS,
    "resources": [
        {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2025-06-01",
         "name": "[parameters('accountName')]", "location": "[parameters('location')]",
         "tags": "[parameters('tags')]", "kind": "StorageV2",
         "properties": {"allowBlobPublicAccess": False, "networkAcls": {
             "ipRules": [{"value": "10.0.0.0/24", "action": "Allow"}]}}},
        {"type": "Microsoft.Storage/storageAccounts/blobServices", "apiVersion": "2025-06-01",
         "name": "[format('{0}/default', parameters('accountName'))]",
         "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts', parameters('accountName'))]"]},
        {"type": "Microsoft.Storage/storageAccounts/blobServices/containers", "apiVersion": "2025-06-01",
         "name": "[format('{0}/default/artifacts', parameters('accountName'))]",
         "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts/blobServices', parameters('accountName'), 'default')]"]},
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
         "name": "[guid(resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('accountName'), 'default', 'artifacts'), parameters('principalId'), 'reader')]",
         "scope": "[format('Microsoft.Storage/storageAccounts/{0}/blobServices/default/containers/artifacts', parameters('accountName'))]",
         "properties": {"principalId": "[parameters('principalId')]", "principalType": "ServicePrincipal",
                        "description": "[[not an expression]", "condition": "@Resource[x] == '{y}'"},
         "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('accountName'), 'default', 'artifacts')]"]},
    ],
    "outputs": {"containerUrl": {"type": "string", "value": "[format('{0}{1}', reference(resourceId('Microsoft.Storage/storageAccounts', parameters('accountName')), '2025-06-01').primaryEndpoints.blob, 'artifacts')]"}},
}
_IDENTITY_OUT = "[reference(resourceId('0000-sub', 'rg-shared', 'Microsoft.Resources/deployments', 'img-identity'), '2025-04-01').outputs.principalId.value]"
SYNTH_ARM = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "location": {"type": "string", "defaultValue": "westeurope", "metadata": {"description": "Optional. Region."}},
        "deployImageTemplate": {"type": "bool", "defaultValue": True, "metadata": {"description": "Optional. Second phase."}},
        "environment": {"type": "string", "defaultValue": "dev", "allowedValues": ["dev", "prod"]},
    },
    "variables": {"tags": {"owner": "team", "environment": "[format('{0}', parameters('environment'))]"}},
    "resources": [
        {"type": DEPLOYMENTS_TYPE, "apiVersion": "2025-04-01", "name": "img-identity",
         "subscriptionId": "0000-sub", "resourceGroup": "rg-shared",
         "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental", "parameters": {},
                        "template": {"$schema": _STORE_TEMPLATE["$schema"], "contentVersion": "1.0.0.0",
                                     "parameters": {}, "resources": [],
                                     "outputs": {"principalId": {"type": "string", "metadata": {"description": "Principal ID."},
                                                                 "value": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-aib'), '2024-11-30').principalId]"}}}}},
        {"type": DEPLOYMENTS_TYPE, "apiVersion": "2025-04-01", "name": "img-store",
         "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental",
                        "parameters": {"accountName": {"value": "[format('st{0}', uniqueString(resourceGroup().id, 'img'))]"},
                                       "location": {"value": "[parameters('location')]"},
                                       "tags": {"value": "[variables('tags')]"},
                                       "principalId": {"value": _IDENTITY_OUT}},
                        "template": _STORE_TEMPLATE},
         "dependsOn": ["[resourceId('0000-sub', 'rg-shared', 'Microsoft.Resources/deployments', 'img-identity')]"]},
        {"type": DEPLOYMENTS_TYPE, "apiVersion": "2025-04-01", "name": "img-store-2", "resourceGroup": "rg-other",
         "condition": "[parameters('deployImageTemplate')]",
         "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental",
                        "parameters": {"accountName": {"value": "st2"}, "location": {"value": "[parameters('location')]"},
                                       "tags": {"value": "[variables('tags')]"}, "principalId": {"value": _IDENTITY_OUT}},
                        "template": _STORE_TEMPLATE},
         "dependsOn": ["[resourceId('0000-sub', 'rg-shared', 'Microsoft.Resources/deployments', 'img-identity')]",
                       "[resourceId('Microsoft.Resources/deployments', 'img-store')]"]},
    ],
    "outputs": {"url": {"type": "string", "metadata": {"description": "Container URL."},
                        "value": "[if(parameters('deployImageTemplate'), reference(resourceId('Microsoft.Resources/deployments', 'img-store'), '2025-04-01').outputs.containerUrl.value, '')]"}},
}


@pytest.fixture()
def synth(tmp_path) -> tuple[dict, dict]:
    (tmp_path / "modules").mkdir()
    (tmp_path / "main.bicep").write_text(SYNTH_MAIN)
    (tmp_path / "modules" / "identity.bicep").write_text(SYNTH_IDENTITY)
    (tmp_path / "modules" / "store.bicep").write_text(SYNTH_STORE)
    arm = copy.deepcopy(SYNTH_ARM)
    # both store deployments hold the same template object: copy them apart
    arm["resources"][2]["properties"]["template"] = copy.deepcopy(_STORE_TEMPLATE)
    return bicep_ast.load_bicep_dir(tmp_path), arm


def _all_problems(models: dict, arm: dict) -> list[str]:
    problems = compare_image(models, arm)
    main = models["main.bicep"]
    problems += check_template_dependencies(arm, explicit_dependencies(main, True), "main", deployments_api(arm))
    deployments = [r for r in arm["resources"] if r["type"] == DEPLOYMENTS_TYPE]
    for (sym, mod), dep in zip(main["modules"].items(), deployments):
        problems += check_template_dependencies(dep["properties"]["template"],
                                                explicit_dependencies(models[mod["resolved"]], False), f"module {sym}")
    return problems


def test_synthetic_pair_is_equivalent(synth):
    models, arm = synth
    assert _all_problems(models, arm) == []


def _store_arm(arm: dict, i: int = 1) -> dict:
    return arm["resources"][i]["properties"]["template"]


def _bicep_res(models: dict, sym: str, file: str = "modules/store.bicep") -> dict:
    return models[file]["resources"][sym]


SYNTH_MUTATIONS = {
    # name: (mutate(models, arm), text expected in one reported line)
    "arm api version": (lambda m, a: _store_arm(a)["resources"][2].update(apiVersion="2024-01-01"),
                        "api_version: Bicep \"2025-06-01\" != ARM \"2024-01-01\""),
    "bicep property dropped": (lambda m, a: _bicep_res(m, "account")["body"]["properties"].pop("allowBlobPublicAccess"),
                               "properties.allowBlobPublicAccess: only in ARM: false"),
    "nested array literal": (lambda m, a: _store_arm(a)["resources"][0]["properties"]["networkAcls"]["ipRules"][0]
                             .update(value="10.0.0.0/16"), "ipRules[0].value"),
    "parameter reference": (lambda m, a: _store_arm(a)["resources"][3]["properties"]
                            .update(principalId="[parameters('accountName')]"), "properties.principalId"),
    "escaped bracket literal": (lambda m, a: _store_arm(a)["resources"][3]["properties"]
                                .update(description="[not an expression]"), "properties.description"),
    "extension scope": (lambda m, a: _store_arm(a)["resources"][3].update(
        scope="[format('Microsoft.Storage/storageAccounts/{0}/blobServices/default', parameters('accountName'))]"), ".scope"),
    "bicep parent chain": (lambda m, a: _bicep_res(m, "container").update(parent="account"), "artifacts"),
    "module order": (lambda m, a: a["resources"].insert(1, a["resources"].pop(2)), "main.modules[1].deployment"),
    "deployment name": (lambda m, a: a["resources"][0].update(name="img-identity-x"), "main.modules[0].deployment"),
    "deployment scope": (lambda m, a: a["resources"][2].update(resourceGroup="rg-else"), "main.modules[2].rg"),
    "deployment condition": (lambda m, a: a["resources"][2].update(condition="[not(parameters('deployImageTemplate'))]"),
                             "main.modules[2].condition"),
    "module output name": (lambda m, a: a["resources"][1]["properties"]["parameters"]["principalId"].update(
        value=_IDENTITY_OUT.replace("principalId", "resourceId")), "main.modules[1].params.principalId"),
    "module output deployment": (lambda m, a: a["resources"][1]["properties"]["parameters"]["principalId"].update(
        value=_IDENTITY_OUT.replace("'rg-shared'", "'rg-x'")), "main.modules[1].params.principalId"),
    "param default": (lambda m, a: a["parameters"]["location"].update(defaultValue="northeurope"),
                      "main.params.location.default"),
    "allowed values": (lambda m, a: a["parameters"]["environment"]["allowedValues"].append("test"),
                       "main.params.environment.allowed[2]: only in ARM"),
    "description": (lambda m, a: a["parameters"]["location"]["metadata"].update(description="Region"),
                    "main.params.location.description"),
    "variable": (lambda m, a: a["variables"]["tags"].update(owner="other"), "main.variables.tags.owner"),
    "format string": (lambda m, a: a["resources"][1]["properties"]["parameters"]["accountName"].update(
        value="[format('sa{0}', uniqueString(resourceGroup().id, 'img'))]"), "params.accountName"),
    "output value": (lambda m, a: a["outputs"]["url"].update(value="[if(parameters('deployImageTemplate'), '', '')]"),
                     "main.outputs.url.value"),
    "bool vs string": (lambda m, a: _store_arm(a)["resources"][0]["properties"].update(allowBlobPublicAccess="false"),
                       "allowBlobPublicAccess"),
    "undeclared parameter": (lambda m, a: a["resources"][2]["properties"]["parameters"]["location"].update(
        value="[parameters('name')]"), "undeclared parameter 'name'"),
    "missing dependsOn": (lambda m, a: a["resources"][2].update(dependsOn=a["resources"][2]["dependsOn"][:1]),
                          "dependsOn lacks"),
    "child dependsOn": (lambda m, a: _store_arm(a)["resources"][2].pop("dependsOn"), "dependsOn lacks"),
    "extra resource": (lambda m, a: _store_arm(a)["resources"].append(
        {"type": "Microsoft.Storage/storageAccounts/fileServices", "apiVersion": "2025-06-01",
         "name": "[format('{0}/default', parameters('accountName'))]"}), "only in ARM"),
    "existing resource name": (lambda m, a: m["modules/identity.bicep"]["resources"]["identity"].update(name="id-other"),
                               "outputs.principalId.value"),
}


@pytest.mark.parametrize("mutation", list(SYNTH_MUTATIONS))
def test_synthetic_mutation_is_reported(synth, mutation):
    models, arm = synth
    mutate, expected = SYNTH_MUTATIONS[mutation]
    mutate(models, arm)
    problems = _all_problems(models, arm)
    assert any(expected in p for p in problems), "\n".join(problems) or "no difference reported"


# Golden module pairs: a module file and the inline template of its deployment, matched by
# the deployment name's suffix (the module files are named after their deployments).

def _golden_module(example: str, module: str) -> tuple[dict, dict]:
    found = [(b, a) for i, b, a in IMAGES if i == example]
    if not found:
        pytest.fail(f"golden example {example} not found under {GOLDEN}")
    bicep_dir, arm_dir = found[0]
    try:
        model = bicep_ast.parse_file(bicep_dir / "modules" / f"{module}.bicep", f"modules/{module}.bicep")
    except bicep_ast.BicepAstError as exc:
        pytest.fail(f"golden module does not parse: {exc}", pytrace=False)
    arm = load_json(arm_dir / "azuredeploy.json")
    templates = [r["properties"]["template"] for r in arm["resources"]
                 if r.get("type") == DEPLOYMENTS_TYPE and _names_module(str(r.get("name", "")), module)]
    if len(templates) != 1:
        pytest.fail(f"{example}: no single deployment named *-{module}")
    return model, copy.deepcopy(templates[0])


def _names_module(name: str, module: str) -> bool:
    """`<image>-<module>`, or in another group `[format('<image>-<module>-{0}', take(uniqueString(…)))]`."""
    return name.endswith("-" + module) or f"-{module}-{{0}}'" in name


def _find(resources: list[dict], rtype: str) -> dict:
    for r in resources:
        if r.get("type") == rtype:
            return r
    pytest.fail(f"no {rtype} resource in the golden template")


GOLDEN_MUTATIONS = {
    "arm api version": ("private-subnet", "artifacts",
                        lambda b, t: _find(t["resources"], "Microsoft.Storage/storageAccounts/blobServices/containers")
                        .update(apiVersion="2023-05-01"), "api_version"),
    "bicep property dropped": ("private-subnet", "artifacts",
                               lambda b, t: b["resources"]["container"]["body"]["properties"].pop("publicAccess"),
                               "publicAccess: only in ARM"),
    "nested array literal": ("private-subnet", "gallery-access",
                             lambda b, t: _find(t["resources"], "Microsoft.Authorization/roleDefinitions")
                             ["properties"]["permissions"][0]["actions"].__setitem__(0, "Microsoft.Compute/*"),
                             "permissions[0].actions[0]: Bicep"),
    "arm parameter reference": ("private-subnet", "artifacts",
                                lambda b, t: _find(t["resources"], "Microsoft.Authorization/roleAssignments")
                                ["properties"].update(principalId="[parameters('containerName')]"),
                                "properties.principalId: Bicep"),
    "bicep parameter reference": ("private-subnet", "artifacts",
                                  lambda b, t: b["resources"]["containerReader"]["body"]["properties"].update(
                                      principalId={"param": "containerName"}), "properties.principalId: Bicep"),
    "existing parent name": ("private-subnet", "artifacts",
                             lambda b, t: b["resources"]["storageAccount"].update(name="stother"), "stother"),
    "role scope": ("private-subnet", "gallery-access",
                   lambda b, t: _find(t["resources"], "Microsoft.Authorization/roleAssignments").update(
                       scope="Microsoft.Compute/galleries/gal_other_images"), ".scope"),
    "output description": ("private-subnet", "identity",
                           lambda b, t: t["outputs"]["principalId"]["metadata"].update(description="x"),
                           "outputs.principalId.description"),
    "reference api version": ("private-subnet", "identity",
                              lambda b, t: t["outputs"]["principalId"].update(value=t["outputs"]["principalId"]["value"]
                                                                                .replace("2024-11-30", "2023-01-31")),
                              "outputs.principalId.value"),
}


@pytest.mark.parametrize("mutation", list(GOLDEN_MUTATIONS))
def test_golden_mutation_is_reported(mutation):
    example, module, mutate, expected = GOLDEN_MUTATIONS[mutation]
    model, template = _golden_module(example, module)
    baseline = compare_module(model, template, f"module {module}")
    assert baseline == [], "the unmutated golden pair already differs:\n" + "\n".join(baseline)
    mutate(model, template)
    problems = compare_module(model, template, f"module {module}")
    assert any(expected in p for p in problems), "\n".join(problems) or "no difference reported"


def test_diff_output_is_readable():
    lines = diff({"a": [1, {"b": "x"}], "c": True}, {"a": [1, {"b": "y"}, 3], "c": 1})
    assert lines == [
        '.a[1].b: Bicep "x" != ARM "y"',
        ".a[2]: only in ARM: 3",
        ".c: Bicep true != ARM 1",
    ]
