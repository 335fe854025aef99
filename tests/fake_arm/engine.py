"""Microsoft.Resources/deployments at resource-group scope: template validation, expression
evaluation (template.py), dependsOn ordering, nested deployments (inner scope, other
resource groups), extension resources, conditions, outputs, deployment operations and
what-if.

A deployment runs to its end when it is PUT (the resource writes go through
Service.write, so every body is validated as a client PUT would be); the client then sees it
as ARM shows it: 201 + Azure-AsyncOperation, Running for the scripted number of polls, then
Succeeded or Failed with DeploymentFailed and the failed operations' errors.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import errors, ids, providers, template
from .state import Countdown, Resource

DEPLOYMENTS_TYPE = "Microsoft.Resources/deployments"
VERSIONS = providers.RESOURCES_VERSIONS
PARAM_TYPES = {"string": str, "securestring": str, "int": int, "bool": bool, "object": dict,
               "secureobject": dict, "array": list}


def countdown(svc, spec: dict) -> Countdown:
    return Countdown(svc.clock, spec)


# ----------------------------------------------------------------------------- routing

def route(svc, method: str, parsed: ids.ParsedPath, query: dict, body: Any, entry: dict):
    from .service import Response  # noqa: WPS433 (cycle)
    version = query.get("api-version")
    if not version:
        raise errors.missing_api_version()
    if version not in VERSIONS:
        raise errors.invalid_api_version(version, VERSIONS)
    last = parsed.last
    sub, rg = parsed.subscription, parsed.resource_group
    if not last.pairs:  # list
        items = [d for d in svc.store.of_type(DEPLOYMENTS_TYPE)
                 if ids.key(d.rid.scope) == ids.key(ids.scope_id(sub, rg))]
        return Response(200, {"value": [render(d, svc) for d in items]})
    name = last.pairs[0][1]
    did = ids.join_id(ids.scope_id(sub, rg), DEPLOYMENTS_TYPE, [name])
    tail = last.tail or (last.pairs[1][0] if len(last.pairs) > 1 else None)
    if tail is not None:
        res = svc.store.get(did)
        if tail.lower() == "operations":
            if res is None:
                raise errors.ArmError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
            return svc._page(res.private.get("operations", []), query)
        if tail.lower() == "whatif" and method == "POST":
            return what_if(svc, sub, rg, name, body)
        if tail.lower() == "cancel" and method == "POST":
            return Response(204)
        raise errors.ArmError(404, "NotFound", f"The requested path '{did}/{tail}' was not found.")
    if method == "GET":
        res = svc.store.get(did)
        if res is None:
            raise errors.ArmError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
        observe(svc, res)
        return Response(200, render(res, svc))
    if method == "DELETE":
        svc.store.delete(did)
        return Response(204)
    if method != "PUT":
        raise errors.ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here.")
    _refuse_if_active(svc, did, name)
    res = deploy(svc, sub, rg, name, body, source="client")
    entry["changed"] = True
    out = render(res)
    out["properties"]["provisioningState"] = "Accepted"
    response = svc._new_operation(did, "Microsoft.Resources", DEPLOYMENTS_TYPE, "put",
                                  lambda: _final(res), initial_status=201, initial_body=out)
    # One clock for both views: the deployment shows Running until its operation is done.
    res.private["operation"] = response.headers["Azure-AsyncOperation"].rsplit("/", 2)[-2]
    return response


def _refuse_if_active(svc, did: str, name: str) -> None:
    """ARM keeps one deployment of a name at a time: a PUT while the previous one runs is refused
    with 409 DeploymentActive (its message names the running deployment's start time)."""
    existing = svc.store.get(did)
    if existing is None:
        return
    observe(svc, existing)
    if _running(svc, existing):
        started = existing.body["properties"].get("timestamp", "")
        raise errors.ArmError(409, "DeploymentActive",
                              f"Unable to edit or replace deployment '{name}': previous deployment from '{started}' "
                              "is still active (expiration time is in 7 days). Please see https://aka.ms/arm-deploy "
                              "for usage details.")


def _final(res: Resource):
    props = res.body["properties"]
    if props["provisioningState"] == "Succeeded":
        return ("Succeeded", None)
    return ("Failed", props.get("error"))


def _running(svc, res: Resource) -> bool:
    op = svc.store.operations.get(res.private.get("operation", "")) if svc is not None else None
    return op is not None and not op.done


def observe(svc, res: Resource) -> None:
    """A GET of the deployment advances its operation, as a poll of the operation does."""
    op = svc.store.operations.get(res.private.get("operation", ""))
    if op is not None:
        op.observe(svc.clock.now())


def render(res: Resource, svc=None) -> dict:
    out = {"id": res.id, "name": res.rid.leaf_name, "type": DEPLOYMENTS_TYPE}
    if res.body.get("tags"):
        out["tags"] = copy.deepcopy(res.body["tags"])
    props = copy.deepcopy(res.body["properties"])
    if _running(svc, res):
        props["provisioningState"] = "Running"
        props.pop("outputs", None)
        props.pop("error", None)
    out["properties"] = props
    return out


# ----------------------------------------------------------------------------- evaluation

class Host:
    """What template functions need from one deployment."""

    def __init__(self, svc, sub: str, rg: str, name: str, params: dict, variables_raw: dict, ev_ref):
        self.svc, self.sub, self.rg, self.name = svc, sub, rg, name
        self.params = params
        self.variables_raw = variables_raw
        self.variables: dict[str, Any] = {}
        self.ev_ref = ev_ref
        self.outputs_of: dict[str, dict] = {}

    def parameter(self, name):
        for k, v in self.params.items():
            if k.lower() == str(name).lower():
                return copy.deepcopy(v)
        raise template.EvalError(f"The template parameter '{name}' is not found.")

    def variable(self, name):
        for k in self.variables_raw:
            if k.lower() == str(name).lower():
                if k not in self.variables:
                    self.variables[k] = self.ev_ref().value(self.variables_raw[k])
                return copy.deepcopy(self.variables[k])
        raise template.EvalError(f"The template variable '{name}' is not found.")

    def resource_group(self):
        rg = self.svc.store.rg(self.sub, self.rg)
        return {"id": ids.rg_id(self.sub, self.rg), "name": rg.name if rg else self.rg,
                "location": rg.location if rg else "westeurope", "tags": dict(rg.tags) if rg else {},
                "type": "Microsoft.Resources/resourceGroups", "properties": {"provisioningState": "Succeeded"}}

    def subscription(self):
        return {"id": f"/subscriptions/{self.sub}", "subscriptionId": self.sub,
                "tenantId": self.svc.tenant_for(self.sub), "displayName": "aibc fake subscription"}

    def tenant(self):
        return {"tenantId": self.svc.tenant_for(self.sub)}

    def deployment(self):
        return {"name": self.name, "properties": {"templateLink": None}}

    def environment(self):
        return {"name": "AzureCloud", "authentication": {"loginEndpoint": self.svc.base_url + "/"},
                "resourceManager": self.svc.base_url + "/",
                # ARM's public-cloud suffixes (environment().suffixes).
                "suffixes": {"storage": "core.windows.net", "keyvaultDns": ".vault.azure.net",
                             "sqlServerHostname": ".database.windows.net", "acrLoginServer": ".azurecr.io"}}

    def resource_id(self, args: list[str]):
        args = list(args)
        sub, rg = self.sub, self.rg
        # resourceId([subscriptionId], [resourceGroupName], type, names...)
        if "/" not in args[0]:
            if len(args) > 1 and "/" not in args[1]:
                sub, rg, args = args[0], args[1], args[2:]
            else:
                rg, args = args[0], args[1:]
        rtype, names = args[0], args[1:]
        return ids.join_id(ids.rg_id(sub, rg), rtype, names)

    def subscription_resource_id(self, args: list[str]):
        args = list(args)
        sub = self.sub
        if "/" not in args[0]:
            sub, args = args[0], args[1:]
        return ids.join_id(f"/subscriptions/{sub}", args[0], args[1:])

    def extension_resource_id(self, scope, rtype, names):
        return ids.join_id(scope, rtype, list(names))

    def reference(self, target, version, full):
        rid = target if str(target).startswith("/") else None
        if rid is None:
            # A symbolic-free reference by name: resource in this group of the given type.
            raise template.EvalError(f"The resource '{target}' is not defined in the template.")
        if ids.parse_id(rid) and ids.parse_id(rid).full_type.lower() == DEPLOYMENTS_TYPE.lower():
            dep = self.svc.store.get(rid)
            if dep is None:
                raise template.EvalError(f"The Resource '{rid}' is not defined in the template.")
            props = copy.deepcopy(dep.body["properties"])
            return {"properties": props, **props} if full else props
        res = self.svc.store.get(rid)
        if res is None:
            raise template.EvalError(f"The Resource '{rid}' is not defined in the template.")
        handler = self.svc.handlers.get(res.type.lower())
        view = handler.render(self.svc, res, {}) if handler else copy.deepcopy(res.body)
        return view if full else copy.deepcopy(view.get("properties", {}))

    def utc_now(self, fmt):
        return self.svc.clock.iso()


def _check_params(tpl: dict, given: dict) -> dict:
    """Parameter values with defaults, type-checked as ARM does."""
    declared = tpl.get("parameters") or {}
    out: dict[str, Any] = {}
    for k in given:
        if not any(k.lower() == d.lower() for d in declared):
            raise errors.invalid_template(
                f"Deployment template validation failed: 'The template parameters '{k}' in the parameters file "
                "are not valid; they are not present in the original template and can therefore not be provided "
                "at deployment time. The only supported parameters for this template are "
                f"'{', '.join(declared)}'.'.")
    missing = []
    for name, decl in declared.items():
        value = next((v for k, v in given.items() if k.lower() == name.lower()), None)
        if value is None:
            if "defaultValue" not in decl:
                missing.append(name)
                continue
            out[name] = ("default", decl["defaultValue"])
            continue
        if not isinstance(value, dict) or "value" not in value:
            if isinstance(value, dict) and "reference" in value:
                raise errors.not_modelled("Key Vault parameter references")
            raise errors.invalid_request_content(f"The parameter '{name}' must have a 'value'.")
        out[name] = ("given", value["value"])
    if missing:
        raise errors.invalid_template(
            f"Deployment template validation failed: 'The value for the template parameter '{missing[0]}' at line "
            "'1' and column '1' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage "
            "details.'.")
    return out


def _typed(name: str, decl: dict, value: Any) -> Any:
    t = str(decl.get("type", "string")).lower()
    py = PARAM_TYPES.get(t)
    ok = isinstance(value, py) and not (py is int and isinstance(value, bool))
    if not ok:
        raise errors.invalid_template(
            f"Deployment template validation failed: 'Template parameter JToken type is not valid. Expected "
            f"'{decl.get('type')}'. Actual '{template.type_name(value)}'. Please see "
            "https://aka.ms/arm-create-parameter-file for usage details.'.", target=name)
    if "allowedValues" in decl and value not in decl["allowedValues"]:
        raise errors.invalid_template(
            f"Deployment template validation failed: 'The provided value '{value}' for the template parameter "
            f"'{name}' is not valid. The value must be one of {decl['allowedValues']}.'.")
    for key, check in (("minLength", lambda n: len(value) >= n), ("maxLength", lambda n: len(value) <= n),
                       ("minValue", lambda n: value >= n), ("maxValue", lambda n: value <= n)):
        if key in decl and not check(decl[key]):
            raise errors.invalid_template(
                f"Deployment template validation failed: 'The provided value for the template parameter "
                f"'{name}' is not valid. Its {key} is {decl[key]}.'.")
    return value


class Failed(Exception):
    def __init__(self, detail: dict):
        super().__init__(detail.get("message", ""))
        self.detail = detail


def deploy(svc, sub: str, rg: str, name: str, body: Any, source: str, depth: int = 0) -> Resource:
    """Validates and runs one deployment; returns the stored deployment resource (which may
    be Failed). Template and parameter errors before anything ran are raised (400)."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise errors.invalid_request_content("The request content was invalid and could not be deserialized: "
                                             "'properties' is required.")
    props = body["properties"]
    tpl = props.get("template")
    if not isinstance(tpl, dict):
        raise errors.invalid_request_content("The request content was invalid: 'template' or 'templateLink' "
                                             "is required.")
    if props.get("mode", "Incremental") not in ("Incremental", "Complete"):
        raise errors.invalid_request_content(f"The deployment mode '{props.get('mode')}' is not valid.")
    if svc.store.rg(sub, rg) is None:
        raise errors.resource_group_not_found(rg)
    did = ids.join_id(ids.rg_id(sub, rg), DEPLOYMENTS_TYPE, [name])
    existing = svc.store.get(did)
    if existing is not None and _running(svc, existing):
        raise errors.deployment_active(name, existing.body["properties"].get("timestamp", ""))
    for key in ("resources", "$schema", "contentVersion"):
        if key not in tpl and key != "$schema":
            raise errors.invalid_template(f"Deployment template validation failed: 'Required property '{key}' not "
                                          "found in JSON.'.")
    raw_params = _check_params(tpl, props.get("parameters") or {})

    holder: dict[str, template.Evaluator] = {}
    host = Host(svc, sub, rg, name, {}, tpl.get("variables") or {}, lambda: holder["ev"])
    ev = template.Evaluator(host)
    holder["ev"] = ev
    declared = tpl.get("parameters") or {}
    try:
        for pname, (kind, value) in raw_params.items():
            if kind == "default":
                ev.allow_utc = True
                value = ev.value(value)
                ev.allow_utc = False
            host.params[pname] = _typed(pname, declared[pname], value)
    except template.EvalError as e:
        raise errors.invalid_template(f"Deployment template validation failed: '{e}'.") from None

    correlation = str(uuid.uuid4())
    dep = Resource(did, DEPLOYMENTS_TYPE, VERSIONS[0], {}, {
        "tags": copy.deepcopy(body.get("tags") or {}),
        "properties": {
            "templateHash": str(abs(hash(str(tpl))) % 10**19), "mode": props.get("mode", "Incremental"),
            "parameters": {k: {"type": declared[k].get("type", "String"), "value": v} for k, v in host.params.items()
                           if str(declared[k].get("type", "")).lower() not in ("securestring", "secureobject")},
            "provisioningState": "Running", "timestamp": svc.clock.iso(), "correlationId": correlation,
            "duration": "PT1S", "outputResources": [], "dependencies": [],
        }}, svc.clock.now(), svc.store.next_incarnation(did), {"operations": []})
    svc.store.put(dep)
    operations: list[dict] = dep.private["operations"]
    failures: list[dict] = []
    try:
        resources = _expand(ev, tpl.get("resources") or [])
        order = _order(resources, host)
    except template.EvalError as e:
        svc.store.delete(did)
        raise errors.invalid_template(f"Deployment template validation failed: '{e}'.") from None
    except Failed as f:
        svc.store.delete(did)
        raise errors.ArmError(400, f.detail["code"], f.detail["message"]) from None
    done_ok: set[str] = set()
    for key, spec in order:
        if any(d not in done_ok for d in spec["_deps"]):
            continue  # a dependency failed: ARM does not start this one
        try:
            ok = _apply(svc, host, ev, dep, spec, operations, depth)
        except template.EvalError as e:
            ok = False
            failures.append({"code": "InvalidTemplate", "message": f"Unable to process template language "
                             f"expressions for resource '{spec.get('_id', key)}'. {e}"})
        else:
            if not ok:
                failures.append(operations[-1]["properties"]["statusMessage"]["error"])
        if ok:
            done_ok.add(key)
    outputs = {}
    if not failures:
        try:
            for oname, odecl in (tpl.get("outputs") or {}).items():
                if "condition" in odecl and not ev.value(odecl["condition"]):
                    continue
                value = ev.value(odecl.get("value"))
                outputs[oname] = {"type": odecl.get("type", "String"), "value": value}
        except template.EvalError as e:
            failures.append({"code": "DeploymentOutputEvaluationFailed",
                             "message": f"Unable to evaluate template outputs: '{', '.join(tpl.get('outputs', {}))}'. {e}"})
    p = dep.body["properties"]
    if failures:
        p["provisioningState"] = "Failed"
        p["error"] = errors.deployment_failed(did, failures).detail()
    else:
        p["provisioningState"] = "Succeeded"
        p["outputs"] = outputs
    return dep


def _expand(ev: template.Evaluator, resources: list) -> list[dict]:
    """Resources with copy loops expanded (the loop index stays set while the body is evaluated later)."""
    out = []
    for r in resources:
        loop = r.get("copy")
        if isinstance(loop, dict):
            count = ev.value(loop.get("count", 0))
            for i in range(int(count)):
                item = dict(r)
                item["_copy"] = (loop["name"], i)
                out.append(item)
        else:
            out.append(dict(r))
    return out


def _with_copy(ev: template.Evaluator, r: dict):
    if "_copy" in r:
        ev.copy_indexes[r["_copy"][0].lower()] = r["_copy"][1]
        ev.copy_indexes[None] = r["_copy"][1]


def _resource_key(ev, host: Host, r: dict) -> str:
    _with_copy(ev, r)
    rtype = r["type"]
    name = ev.value(r["name"])
    names = name.split("/")
    if rtype.lower() == DEPLOYMENTS_TYPE.lower():
        sub = ev.value(r.get("subscriptionId", host.sub))
        rg = ev.value(r.get("resourceGroup", host.rg))
        return ids.join_id(ids.rg_id(sub, rg), rtype, names)
    scope = r.get("scope")
    if scope is not None:
        scope = ev.value(scope)
        if not scope.startswith("/"):
            # A relative resource id ("Microsoft.X/type/name") in this group.
            ns, *rest = scope.split("/")
            scope = ids.join_id(ids.rg_id(host.sub, host.rg), f"{ns}/" + "/".join(rest[0::2]), rest[1::2])
        return ids.join_id(scope, rtype, names)
    return ids.join_id(ids.rg_id(host.sub, host.rg), rtype, names)


def _order(resources: list[dict], host: Host) -> list[tuple[str, dict]]:
    """Topological order by dependsOn (names, resource ids or resourceId() expressions)."""
    ev = host.ev_ref()
    keyed: list[tuple[str, dict]] = []
    for r in resources:
        key = _resource_key(ev, host, r)
        r["_id"] = key
        keyed.append((key, r))
    by_key = {ids.key(k): k for k, _ in keyed}
    by_name = {}
    for k, r in keyed:
        by_name.setdefault(ev.value(r["name"]).lower(), []).append(k)
    for k, r in keyed:
        deps = []
        for d in r.get("dependsOn", []):
            value = ev.value(d)
            if ids.key(value) in by_key:
                deps.append(by_key[ids.key(value)])
            elif value.lower() in by_name:
                deps.extend(by_name[value.lower()])
            else:
                tail = value.rsplit("/", 1)[-1].lower()
                match = [x for x in by_key.values() if x.lower().endswith(value.lower()) or
                         x.rsplit("/", 1)[-1].lower() == tail and value.lower() in x.lower()]
                if not match:
                    raise Failed({"code": "InvalidTemplate", "message":
                                  f"Deployment template validation failed: 'The resource '{value}' is not defined "
                                  "in the template.'."})
                deps.extend(match)
        r["_deps"] = deps
    done: list[tuple[str, dict]] = []
    placed: set[str] = set()
    pending = list(keyed)
    while pending:
        progress = False
        for item in list(pending):
            if all(d in placed for d in item[1]["_deps"]):
                done.append(item)
                placed.add(item[0])
                pending.remove(item)
                progress = True
        if not progress:
            raise Failed({"code": "InvalidTemplate", "message": "Deployment template validation failed: 'Circular "
                          f"dependency detected on resource: '{pending[0][0]}'.'."})
    return done


def _operation(dep: Resource, target: str, rtype: str, name: str, op: str, state: str, status_code: str,
               message: Any) -> dict:
    op_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{dep.id}|{target}|{len(dep.private['operations'])}").hex.upper()[:16]
    return {"id": f"{dep.id}/operations/{op_id}", "operationId": op_id, "properties": {
        "provisioningOperation": op, "provisioningState": state, "timestamp": dep.body["properties"]["timestamp"],
        "duration": "PT1S", "trackingId": str(uuid.uuid4()), "statusCode": status_code, "statusMessage": message,
        "targetResource": {"id": target, "resourceType": rtype, "resourceName": name}}}


def _apply(svc, host: Host, ev: template.Evaluator, dep: Resource, r: dict, operations: list, depth: int) -> bool:
    _with_copy(ev, r)
    if "condition" in r and not ev.value(r["condition"]):
        return True
    rtype = r["type"]
    target = r["_id"]
    rid = ids.parse_id(target)
    name = ev.value(r["name"])
    if r.get("existing"):
        return svc.store.get(target) is not None
    if rtype.lower() == DEPLOYMENTS_TYPE.lower():
        return _nested(svc, host, ev, dep, r, rid, operations, depth)
    body = {k: ev.value(v) for k, v in r.items()
            if k not in ("type", "apiVersion", "name", "dependsOn", "condition", "copy", "scope", "comments",
                         "_id", "_deps", "_copy", "existing")}
    existed = svc.store.get(target) is not None
    try:
        res, created, changed = svc.write(rid, body, r.get("apiVersion"), source="deployment")
        svc.log({"method": "PUT", "path": target, "query": {"api-version": r.get("apiVersion")},
                 "source": "deployment", "deployment": dep.rid.leaf_name, "changed": changed, "status": 201 if created else 200,
                 "body": body})
        failure = res.private.pop("creation_error", None)
        if failure is not None:
            raise errors.ArmError(400, failure[0], failure[1])
    except errors.ArmError as e:
        detail = e.detail()
        operations.append(_operation(dep, target, rtype, name, "Create", "Failed", _status_code(e.status),
                                     {"status": "Failed", "error": detail}))
        svc.log({"method": "PUT", "path": target, "query": {"api-version": r.get("apiVersion")},
                 "source": "deployment", "deployment": dep.rid.leaf_name, "changed": False, "status": e.status,
                 "body": body})
        return False
    operations.append(_operation(dep, res.id, rtype, name, "Create", "Succeeded", "Created" if not existed else "OK",
                                 None))
    dep.body["properties"]["outputResources"].append({"id": res.id})
    return True


def _status_code(status: int) -> str:
    return {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
            429: "TooManyRequests", 500: "InternalServerError"}.get(status, str(status))


def _nested(svc, host: Host, ev: template.Evaluator, dep: Resource, r: dict, rid: ids.Rid, operations: list,
            depth: int) -> bool:
    props = r.get("properties") or {}
    inner = (props.get("expressionEvaluationOptions") or {}).get("scope", "outer").lower() == "inner"
    if not inner:
        raise errors.not_modelled("nested deployments with outer expression scope")
    params = ev.value(props.get("parameters") or {})
    body = {"properties": {"mode": props.get("mode", "Incremental"), "template": props.get("template"),
                           "parameters": params}, "tags": ev.value(r.get("tags") or {})}
    sub, rg = rid.subscription, rid.resource_group
    try:
        child = deploy(svc, sub, rg, rid.leaf_name, body, source="deployment", depth=depth + 1)
    except errors.ArmError as e:
        operations.append(_operation(dep, rid.id, DEPLOYMENTS_TYPE, rid.leaf_name, "Create", "Failed",
                                     _status_code(e.status), {"status": "Failed", "error": e.detail()}))
        return False
    state = child.body["properties"]["provisioningState"]
    if state != "Succeeded":
        operations.append(_operation(dep, child.id, DEPLOYMENTS_TYPE, rid.leaf_name, "Create", "Failed",
                                     "Conflict", {"status": "Failed", "error": child.body["properties"]["error"]}))
        return False
    operations.append(_operation(dep, child.id, DEPLOYMENTS_TYPE, rid.leaf_name, "Create", "Succeeded", "OK", None))
    return True


# ----------------------------------------------------------------------------- what-if

def what_if(svc, sub: str, rg: str, name: str, body: Any):
    """Runs the deployment against a copy of the store and diffs what it would write."""
    from .service import Response  # noqa: WPS433
    real = svc.store
    shadow = real.clone()
    before = {k: copy.deepcopy(r.input) for k, r in real.resources.items()}
    svc.store = shadow
    saved_log = len(svc.requests)
    try:
        dep = deploy(svc, sub, rg, f"{name}-whatif", body, source="whatif")
        written = [e for e in svc.requests[saved_log:] if e.get("source") == "deployment" and e.get("status", 0) < 400]
        changes = []
        seen = set()
        for e in written:
            k = ids.key(e["path"])
            if k in seen:
                continue
            seen.add(k)
            after = shadow.resources.get(k)
            if k not in before:
                change = {"resourceId": e["path"], "changeType": "Create",
                          "after": copy.deepcopy(after.input) if after else None}
            elif after is not None and after.input != before[k]:
                change = {"resourceId": e["path"], "changeType": "Modify", "before": before[k],
                          "after": copy.deepcopy(after.input), "delta": _delta(before[k], after.input)}
            else:
                change = {"resourceId": e["path"], "changeType": "NoChange"}
            changes.append(change)
        error = dep.body["properties"].get("error")
    finally:
        svc.store = real
        del svc.requests[saved_log:]
    result = {"status": "Failed" if error else "Succeeded", "properties": {"changes": changes}}
    if error:
        result["error"] = error
    op = svc._new_operation(ids.rg_id(sub, rg), "Microsoft.Resources", DEPLOYMENTS_TYPE, "whatif",
                            lambda: ("Succeeded", None), location_style=True)
    svc.store.operations[op.headers["Location"].rsplit("/", 2)[-2]].result = result
    return op


def _delta(a: Any, b: Any, path: str = "") -> list[dict]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append({"path": p, "propertyChangeType": "Create", "after": b[k]})
            elif k not in b:
                out.append({"path": p, "propertyChangeType": "Delete", "before": a[k]})
            elif a[k] != b[k]:
                out.extend(_delta(a[k], b[k], p))
        return out
    return [{"path": path, "propertyChangeType": "Modify", "before": a, "after": b}]
