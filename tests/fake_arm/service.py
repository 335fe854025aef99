"""The ARM request core: routing, authentication, api-versions, the PUT pipeline of
providers.Handler, long-running operations, faults, the request log.

`Service.handle` takes one request and returns (status, headers, body). Everything is
in-process state (state.Store); the HTTP layer is server.py. Writes made by a deployment go
through the same `write` pipeline as client PUTs, so the same validation applies and the
request log can tell client requests from deployment-internal writes.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from . import engine, errors, faults, ids, providers, rbac, tokens, validation
from .scenario import Scenario
from .state import Operation, Resource, ResourceGroup, Store

RG_TYPE = "Microsoft.Resources/resourceGroups"
DEPLOYMENTS_TYPE = "Microsoft.Resources/deployments"
SUBSCRIPTIONS_VERSIONS = ["2022-12-01", "2021-01-01", "2020-01-01", "2016-06-01"]
# Data-plane containers live in one Azurite account (see README.md, "Storage").
AZURITE_ACCOUNT = "devstoreaccount1"


class Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.damage: str | None = None  # faults.DAMAGE: how the server breaks the body on the wire


class Service:
    def __init__(self, specs_dir: Path, scenario: dict | None = None, blob_endpoint: str | None = None,
                 base_url: str = "https://127.0.0.1") -> None:
        self.clock = tokens.Clock()
        self.scenario = Scenario(scenario or {})
        self.store = Store()
        self.handlers = providers.registry()
        self.validator = validation.BodyValidator(specs_dir)
        self.rbac = rbac.Rbac(self)
        self.issuer = tokens.TokenIssuer(self.clock, self.scenario)
        # Without an Azurite the data plane is left out (containers exist only as ARM resources).
        self.blob_endpoint = (blob_endpoint or f"https://127.0.0.1:10000/{AZURITE_ACCOUNT}/").rstrip("/") + "/"
        self.data_plane = blob_endpoint is not None
        self.base_url = base_url.rstrip("/")
        self.requests: list[dict] = []
        self.issued: list[str] = []  # every token and secret handed out, for the leak check
        self._local = threading.local()
        self.lock = self.store.lock
        self.containers_made: set[str] = set()
        self.revoked_tokens: set[str] = set()  # continuous access evaluation (faults.revoke)
        self.revoked_at: float | None = None

    # -- what the handlers ask of the service -------------------------------------------

    def caller_oid(self) -> str:
        return getattr(self._local, "oid", "")

    def tenant_for(self, sub: str | None) -> str:
        s = self.scenario.subscription(sub or "") if sub else None
        return (s or {}).get("tenantId") or self.scenario["tenant_id"]

    def principals(self) -> dict[str, str]:
        """Principal object ids the directory knows, with their type."""
        out = {c["object_id"].lower(): "ServicePrincipal" for c in self.scenario["clients"]}
        out[self.scenario["managed_identity"]["object_id"].lower()] = "ServicePrincipal"
        for p in self.scenario.get("principals", []):
            out[p["object_id"].lower()] = p.get("type", "User")
        for res in self.store.of_type("Microsoft.ManagedIdentity/userAssignedIdentities"):
            pid = res.properties.get("principalId")
            if pid:
                out[pid.lower()] = "ServicePrincipal"
        return out

    def scope_exists(self, scope: str) -> bool:
        parsed = ids.split_path(scope)
        if parsed.subscription and not parsed.blocks and not parsed.rest:
            if parsed.resource_group:
                return self.store.rg(parsed.subscription, parsed.resource_group) is not None
            return self.scenario.subscription(parsed.subscription) is not None
        return self.store.get(scope) is not None

    def storage_endpoints(self, account: str) -> dict:
        # Every account's blob endpoint is the one Azurite account: the fake cannot give
        # each its own host name, and the binary only ever uses the URL it is given.
        if self.scenario.option("storage", "proxy", False):
            blob = faults.proxied_endpoint(self)
            return {"blob": blob, "dfs": blob, "queue": blob, "table": blob, "file": blob, "web": blob}
        return {"blob": self.blob_endpoint, "dfs": self.blob_endpoint, "queue": self.blob_endpoint,
                "table": self.blob_endpoint, "file": self.blob_endpoint, "web": self.blob_endpoint}

    def container_of_url(self, url: str) -> str | None:
        """The container resource id a blob URL points into (for AIB's artifact check)."""
        rest = url[len(self.blob_endpoint):] if url.startswith(self.blob_endpoint) else None
        proxied = faults.proxied_endpoint(self)
        if rest is None and url.startswith(proxied):
            rest = url[len(proxied):]
        if rest is None:
            return None
        container = rest.split("/", 1)[0]
        for res in self.store.of_type(providers.StorageContainers.type):
            if res.rid.leaf_name.lower() == container.lower():
                return res.id
        return None

    def blob_of_url(self, url: str) -> dict | None:
        return None  # blob bodies live in Azurite; AIB's content check is off by default

    def write_internal(self, rid: ids.Rid, rtype: str, body: dict) -> Resource:
        """A resource a resource provider creates itself (AIB's gallery versions, images)."""
        handler = self.handlers.get(rtype.lower()) or providers.Generic(rtype, ["2025-03-03"])
        existing = self.store.get(rid.id)
        new = handler.normalise(self, rid, body)
        built = handler.build(self, rid, new, existing)
        res = Resource(rid.id, handler.type or rtype, handler.versions[0] if handler.versions else "", new, built,
                       self.clock.now(), self.store.next_incarnation(rid.id))
        self.store.put(res)
        handler.after_write(self, res, existing is None)
        return res

    # -- the request log ------------------------------------------------------------------

    def log(self, entry: dict) -> None:
        entry.setdefault("time", self.clock.now())
        self.requests.append(entry)

    # -- entry point ----------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Response:
        method = method.upper()
        request_id = str(uuid.uuid4())
        correlation = headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        entry = {"method": method, "path": path, "query": {k: v for k, v in query.items() if k != "__path__"},
                 "source": "client", "body": body,
                 "changed": None, "status": 0}
        damage = None
        try:
            fault = self.scenario.match_fault(method, path)
            if fault is not None:
                faults.log_fault(self, entry, fault)
                kind = fault.get("kind")
                if fault.get("drop"):
                    entry["status"] = -1
                    self.log(entry)
                    raise ConnectionAbortedError("fault: dropped connection")
                if kind == "stall":
                    entry["status"] = -2
                    self.log(entry)
                    raise faults.Stalled(float(fault.get("seconds", 30)))
                if kind == "html":
                    entry["status"] = 200
                    self.log(entry)
                    return Response(200, faults.html_body(fault), {"Content-Type": "text/html; charset=utf-8"})
                if kind in faults.DAMAGE:
                    damage = kind
                else:
                    raise self._fault_error(fault)
            claims = self.issuer.verify(headers.get("authorization"), tokens.ARM_AUDIENCES)
            faults.cae_check(self, headers.get("authorization", "").partition(" ")[2].strip())
            self._local.oid = claims.oid
            with self.lock:
                response = self._route(method, path, query, body, entry)
        except errors.ArmError as e:
            response = Response(e.status, e.body(), dict(e.headers))
            if e.status == 401:
                response.headers.setdefault(
                    "WWW-Authenticate",
                    f'Bearer authorization_uri="{self.base_url}/{self.scenario["tenant_id"]}", '
                    f'error="invalid_token", error_description="{e.message}"')
        response.headers.update({"x-ms-request-id": request_id, "x-ms-correlation-request-id": correlation})
        response.damage = damage
        entry["status"] = response.status
        self.log(entry)
        return response

    def _fault_error(self, fault: dict) -> errors.ArmError:
        status = int(fault.get("status", 503))
        retry = fault.get("retry_after")
        if status == 429:
            return errors.throttled(self.scenario["subscriptions"][0]["id"], int(retry if retry is not None else 1))
        if status == 503:
            return errors.service_unavailable(int(retry) if retry is not None else None)
        if status == 500:
            return errors.internal_error(str(uuid.uuid4()))
        return errors.ArmError(status, fault.get("code", "InjectedFault"), fault.get("message", "Injected fault."))

    # -- routing --------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict, body: Any, entry: dict) -> Response:
        seg = ids.segments(path)
        low = [s.lower() for s in seg]
        if low[:1] == ["_operations"]:
            return self._operation_status(seg[1] if len(seg) > 1 else "", query, kind=seg[2] if len(seg) > 2 else "async")
        version = query.get("api-version")
        if low == ["subscriptions"]:
            self._need_version(version, SUBSCRIPTIONS_VERSIONS, "subscriptions")
            return Response(200, {"value": [self._subscription(s) for s in self.scenario.subscriptions]})
        if len(seg) < 2 or low[0] != "subscriptions":
            raise errors.ArmError(404, "NotFound", f"The requested path '{path}' was not found.")
        sub = seg[1]
        if self.scenario.subscription(sub) is None:
            raise errors.subscription_not_found(sub)
        if len(seg) == 2:
            self._need_version(version, SUBSCRIPTIONS_VERSIONS, "subscriptions")
            return Response(200, self._subscription(self.scenario.subscription(sub)))
        if low[2] == "resourcegroups":
            if len(seg) == 3:
                self._need_version(version, providers.RESOURCES_VERSIONS, "resourceGroups")
                return Response(200, {"value": [rg.render() for rg in self.store.rgs.values()
                                                if rg.subscription.lower() == sub.lower()]})
            if len(seg) == 4:
                return self._resource_group(method, sub, seg[3], version, body, entry)
            if len(seg) == 5 and low[4] == "resources":
                self._need_version(version, providers.RESOURCES_VERSIONS, "resources")
                return Response(200, {"value": [self._render(r, {}) for r in self.store.in_scope(ids.rg_id(sub, seg[3]))
                                                if not r.rid.is_extension]})
        parsed = ids.split_path(path)
        if not parsed.blocks or parsed.rest:
            raise errors.ArmError(404, "NotFound", f"The requested path '{path}' was not found.")
        if parsed.resource_group and self.store.rg(sub, parsed.resource_group) is None:
            raise errors.resource_group_not_found(parsed.resource_group)
        last = parsed.last
        namespace = last.namespace
        if namespace.lower() not in providers.KNOWN_NAMESPACES:
            raise errors.invalid_namespace(namespace)
        if last.full_type.lower() == DEPLOYMENTS_TYPE.lower() or (
                last.pairs and last.pairs[0][0].lower() == "deployments" and namespace.lower() == "microsoft.resources"):
            return engine.route(self, method, parsed, query, body, entry)
        if last.tail is not None:
            # `{id}/run`, `{id}/runOutputs`, or a collection `{scope}/providers/ns/type`.
            if not last.pairs:
                return self._list(parsed, last.tail, query)
            rid = self._rid_of(parsed, drop_tail=True)
            return self._action_or_collection(method, rid, last.tail, query, body)
        rid = ids.parse_id(path)
        if rid is None:
            raise errors.ArmError(404, "NotFound", f"The requested path '{path}' was not found.")
        virtual = self._virtual_child(rid)
        if virtual is not None:
            return virtual
        if method == "GET":
            return self._get(rid, query)
        if method == "PUT":
            return self._put(rid, query, body, entry)
        if method == "DELETE":
            return self._delete(rid, query)
        if method == "PATCH":
            return self._patch(rid, query, body)
        raise errors.ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here.")

    def _subscription(self, s: dict) -> dict:
        return {"id": f"/subscriptions/{s['id']}", "subscriptionId": s["id"], "displayName": s.get("displayName", ""),
                "state": "Enabled", "tenantId": s.get("tenantId", self.scenario["tenant_id"])}

    def _need_version(self, version: str | None, supported: list[str], rtype: str) -> None:
        if not version:
            raise errors.missing_api_version()
        if version not in supported:
            raise errors.invalid_api_version(version, supported)

    def handler_for(self, rtype: str, version: str | None, location: str = "") -> providers.Handler:
        handler = self.handlers.get(rtype.lower())
        if handler is None:
            raise errors.invalid_resource_type(rtype.split("/", 1)[-1], rtype.split("/")[0], version or "")
        if not version:
            raise errors.missing_api_version()
        if version not in handler.versions:
            raise errors.no_registered_provider(providers.norm_location(location or "westeurope"), version, rtype,
                                                handler.versions, sorted(providers.REGIONS))
        return handler

    def _rid_of(self, parsed: ids.ParsedPath, drop_tail: bool) -> ids.Rid:
        scope = ids.scope_id(parsed.subscription, parsed.resource_group)
        for block in parsed.blocks[:-1]:
            scope = ids.join_id(scope, block.full_type, [n for _, n in block.pairs])
        last = parsed.last
        return ids.Rid(scope, last.full_type, [n for _, n in last.pairs], parsed.subscription, parsed.resource_group)

    # -- resource groups ------------------------------------------------------------------

    def _resource_group(self, method: str, sub: str, name: str, version: str | None, body: Any, entry: dict) -> Response:
        self._need_version(version, providers.RESOURCES_VERSIONS, "resourceGroups")
        rg = self.store.rg(sub, name)
        if method in ("GET", "HEAD"):
            if rg is None:
                if method == "HEAD":
                    return Response(404)
                raise errors.resource_group_not_found(name)
            return Response(204 if method == "HEAD" else 200, None if method == "HEAD" else rg.render())
        if method == "PUT":
            if not isinstance(body, dict) or not isinstance(body.get("location"), str):
                raise errors.location_required()
            location = providers.norm_location(body["location"])
            if rg is not None and rg.location != location:
                raise errors.ArmError(409, "InvalidResourceGroupLocation",
                                      f"Invalid resource group location '{location}'. The Resource group already "
                                      f"exists in location '{rg.location}'.")
            tags = body.get("tags") or {}
            changed = rg is None or rg.tags != tags or rg.managed_by != body.get("managedBy")
            entry["changed"] = changed
            new = ResourceGroup(sub, rg.name if rg else name, location, dict(tags), body.get("managedBy"))
            self.store.put_rg(new)
            return Response(200 if rg else 201, new.render())
        if method == "DELETE":
            if rg is None:
                return Response(204)
            self.store.delete_rg(sub, name)
            return self._new_operation(ids.rg_id(sub, name), "Microsoft.Resources", RG_TYPE, "delete",
                                       lambda: ("Succeeded", None), location_style=True, delete=True)
        raise errors.ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here.")

    # -- resources ------------------------------------------------------------------------

    def _render(self, res: Resource, query: dict) -> dict:
        handler = self.handlers.get(res.type.lower()) or providers.Generic(res.type, [])
        return handler.render(self, res, query)

    def _get(self, rid: ids.Rid, query: dict) -> Response:
        handler = self.handler_for(rid.full_type, query.get("api-version"))
        res = self.store.get(rid.id)
        if res is None:
            raise errors.resource_not_found(f"{rid.full_type}/{rid.name}", rid.resource_group)
        handler.observe(self, res)
        return Response(200, self._render(res, query))

    def _list(self, parsed: ids.ParsedPath, rtype_tail: str, query: dict) -> Response:
        scope = ids.scope_id(parsed.subscription, parsed.resource_group)
        for block in parsed.blocks[:-1]:
            scope = ids.join_id(scope, block.full_type, [n for _, n in block.pairs])
        rtype = f"{parsed.last.namespace}/{rtype_tail}"
        handler = self.handler_for(rtype, query.get("api-version"))
        items = [r for r in self.store.in_scope(scope) if r.type.lower() == rtype.lower()
                 and ids.key(r.rid.scope) == ids.key(scope)]
        for r in items:
            handler.observe(self, r)
        return self._page([self._render(r, query) for r in items], query)

    def _page(self, values: list, query: dict, size: int | None = None) -> Response:
        """ARM pages long lists with nextLink; the page size is scripted (default 50)."""
        size = size or int(self.scenario.get("page_size", 50))
        start = int(query.get("$skiptoken", "0") or 0)
        page = values[start:start + size]
        body: dict[str, Any] = {"value": page}
        if start + size < len(values):
            q = dict(query, **{"$skiptoken": str(start + size)})
            body["nextLink"] = f"{self.base_url}{query.get('__path__', '')}?{urllib.parse.urlencode(q)}"
        return Response(200, body)

    def _children(self, rid: ids.Rid, tail: str, query: dict) -> Response | None:
        """`{id}/{childType}`: a child collection (galleries/images, images/versions)."""
        rtype = f"{rid.full_type}/{tail}"
        handler = self.handlers.get(rtype.lower())
        if handler is None:
            return None
        self.handler_for(rtype, query.get("api-version"))
        if self.store.get(rid.id) is None:
            raise errors.resource_not_found(f"{rid.full_type}/{rid.name}", rid.resource_group)
        items = [r for r in self.store.descendants(rid.id) if r.type.lower() == rtype.lower()
                 and r.rid.parent is not None and ids.key(r.rid.parent.id) == rid.key()]
        for r in items:
            handler.observe(self, r)
        return self._page([self._render(r, query) for r in items], query)

    def _virtual_child(self, rid: ids.Rid) -> Response | None:
        parent = rid.parent
        if parent is None:
            return None
        handler = self.handlers.get(parent.full_type.lower())
        res = self.store.get(parent.id)
        if handler is None or res is None or not hasattr(handler, "virtual_child"):
            return None
        child = handler.virtual_child(self, res, rid.full_type.rsplit("/", 1)[-1], rid.leaf_name)
        return Response(200, child) if child is not None else None

    def _action_or_collection(self, method: str, rid: ids.Rid, tail: str, query: dict, body: Any) -> Response:
        version = query.get("api-version")
        if method == "GET":
            children = self._children(rid, tail, query)
            if children is not None:
                return children
        handler = self.handler_for(rid.full_type, version)
        res = self.store.get(rid.id)
        if res is None:
            raise errors.resource_not_found(f"{rid.full_type}/{rid.name}", rid.resource_group)
        if method == "GET":
            items = handler.collection(self, res, tail, query)
            if items is None:
                raise errors.ArmError(404, "NotFound", f"The resource '{rid.id}/{tail}' was not found.")
            return self._page(items, query)
        if method != "POST":
            raise errors.ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here.")
        result = handler.post(self, res, tail, body, version)
        if hasattr(result, "finished"):  # an AIB run: 202 with Azure-AsyncOperation
            run = result

            def step():
                handler.observe(self, res)
                if not run.finished:
                    return None
                if run.result in ("Succeeded", "PartiallySucceeded"):
                    return ("Succeeded", None)
                return ("Failed" if run.result == "Failed" else "Canceled",
                        {"code": "ImageTemplateBuildFailed" if run.result == "Failed" else "Canceled",
                         "message": res.properties.get("lastRunStatus", {}).get("message", "")})

            if tail.lower() == "run":
                self._on_run_started(res, run)
            return self._new_operation(res.id, rid.namespace, rid.full_type, tail.lower(), step, accepted=True)
        if isinstance(result, dict) and "_lro_result" in result:
            response = self._new_operation(res.id, rid.namespace, rid.full_type, tail.lower(),
                                           lambda: ("Succeeded", None), location_style=True)
            op_id = response.headers["Location"].rsplit("/", 2)[-2]
            self.store.operations[op_id].result = result["_lro_result"]
            return response
        return Response(200, result)

    def _on_run_started(self, res: Resource, run) -> None:
        """Wraps the run's finish to publish customization.log like AIB does."""
        original = run._finish

        def finish(result: str, message: str) -> None:
            original(result, message)
            try:
                self._publish_log(res, run, result, message)
            except Exception as e:  # the log is best effort, as in AIB
                self.log({"method": "INTERNAL", "path": "customization.log", "status": 0, "error": str(e),
                          "source": "fake", "query": {}, "body": None, "changed": None})

        run._finish = finish

    def _publish_log(self, res: Resource, run, result: str, message: str) -> None:
        from . import azurite  # noqa: WPS433 (optional data plane)
        if not self.data_plane:
            return
        staging = res.properties.get("exactStagingResourceGroup", "")
        parsed = ids.split_path(staging)
        if not parsed.subscription or not parsed.resource_group:
            return
        if self.store.rg(parsed.subscription, parsed.resource_group) is None:
            self.store.put_rg(ResourceGroup(parsed.subscription, parsed.resource_group,
                                            res.body.get("location", "westeurope"), {"createdBy": "AzureVMImageBuilder"}))
        account = "st" + uuid.uuid5(uuid.NAMESPACE_URL, staging.lower()).hex[:20]
        account_id = f"{ids.rg_id(parsed.subscription, parsed.resource_group)}/providers/Microsoft.Storage/storageAccounts/{account}"
        if self.store.get(account_id) is None:
            self.write_internal(ids.parse_id(account_id), providers.StorageAccounts.type,
                                {"location": res.body.get("location", "westeurope"), "kind": "StorageV2",
                                 "sku": {"name": "Standard_LRS"}, "properties": {}})
        spec = run.spec
        text = spec.get("log") or default_log(res, run, result, message)
        run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{res.id}|{run.started}").hex
        token, _ = self.issuer.mint(oid=self.scenario["managed_identity"]["object_id"],
                                    appid=self.scenario["managed_identity"]["client_id"],
                                    audience="https://storage.azure.com/")
        azurite.put_blob(self.blob_endpoint, "packerlogs", f"{run_id}/customization.log", text.encode(), token)

    def _put(self, rid: ids.Rid, query: dict, body: Any, entry: dict) -> Response:
        res, created, changed = self.write(rid, body, query.get("api-version"), source="client")
        entry["changed"] = changed
        handler = self.handlers[res.type.lower()]
        status = 201 if created else 200
        failure = res.private.pop("creation_error", None)
        if handler.put_lro and (created or changed):
            def step(err=failure):
                if err is not None:
                    return ("Failed", {"code": err[0], "message": err[1]})
                return ("Succeeded", None)

            res_body = self._render(res, query)
            if failure is None:
                handler.set_provisioning(res, handler.in_progress_state, None)
                res_body["properties"]["provisioningState"] = handler.in_progress_state

            def finish(final_state=("Failed" if failure else "Succeeded"), err=failure):
                handler.set_provisioning(res, final_state, err)

            op = self._new_operation(res.id, rid.namespace, rid.full_type, "put", step,
                                     location_style=handler.put_lro == "location", on_done=finish,
                                     initial_status=202 if handler.put_lro == "location" else status,
                                     initial_body=None if handler.put_lro == "location" else res_body)
            return op
        if failure is not None:
            raise errors.ArmError(400, failure[0], failure[1])
        return Response(status, self._render(res, query))

    def write(self, rid: ids.Rid, body: Any, version: str | None, source: str) -> tuple[Resource, bool, bool]:
        """The PUT pipeline: checks, change detection, stored representation. Raises ArmError."""
        if not isinstance(body, dict):
            raise errors.invalid_request_content("The request content was invalid and could not be deserialized.")
        handler = self.handler_for(rid.full_type, version, body.get("location", "") if isinstance(body.get("location"), str) else "")
        if rid.resource_group and rid.subscription and self.store.rg(rid.subscription, rid.resource_group) is None:
            raise errors.resource_group_not_found(rid.resource_group)
        if rid.is_extension and not self.scope_exists(rid.scope):
            raise errors.resource_not_found(rid.scope, rid.resource_group)
        parent = rid.parent
        if parent is not None and self.store.get(parent.id) is None:
            raise errors.parent_not_found(parent.full_type.split("/")[-1], parent.id)
        if handler.location == "required" and not isinstance(body.get("location"), str):
            raise errors.location_required()
        handler.validate(self, rid, body, version)
        new = handler.normalise(self, rid, body)
        existing = self.store.get(rid.id)
        changed = existing is None or existing.input != new
        handler.check_write(self, rid, new, existing, changed, dry_run=False)
        if existing is not None and not changed:
            return existing, False, False
        failure = self.scenario.resource_failure(rid.full_type, rid.name, "put", source)
        built = handler.build(self, rid, new, existing)
        res = Resource(rid.id if existing is None else existing.id, handler.type, version, new, built,
                       existing.created if existing else self.clock.now(),
                       existing.incarnation if existing else self.store.next_incarnation(rid.id),
                       existing.private if existing else {})
        self.store.put(res)
        handler.after_write(self, res, existing is None)
        if res.type.lower() == providers.StorageContainers.type.lower():
            self._ensure_container(rid.leaf_name)
        error = handler.creation_error(self, res)
        if failure is not None:
            error = (failure.get("code", "InternalServerError"), failure.get("message", "Injected failure."))
        if error is not None:
            handler.set_provisioning(res, "Failed", error)
            res.private["creation_error"] = error
        return res, existing is None, True

    def _ensure_container(self, name: str) -> None:
        if name.lower() in self.containers_made or not self.data_plane:
            return
        from . import azurite  # noqa: WPS433
        token, _ = self.issuer.mint(oid=self.scenario["managed_identity"]["object_id"],
                                    appid=self.scenario["managed_identity"]["client_id"],
                                    audience="https://storage.azure.com/")
        if azurite.create_container(self.blob_endpoint, name, token):
            self.containers_made.add(name.lower())

    def _delete(self, rid: ids.Rid, query: dict) -> Response:
        handler = self.handler_for(rid.full_type, query.get("api-version"))
        res = self.store.get(rid.id)
        if res is None:
            return Response(204)
        handler.check_delete(self, res)
        self.store.delete(res.id)
        if handler.delete_lro:
            return self._new_operation(res.id, rid.namespace, rid.full_type, "delete", lambda: ("Succeeded", None),
                                       location_style=handler.delete_lro == "location", delete=True)
        return Response(200)

    def _patch(self, rid: ids.Rid, query: dict, body: Any) -> Response:
        handler = self.handler_for(rid.full_type, query.get("api-version"))
        res = self.store.get(rid.id)
        if res is None:
            raise errors.resource_not_found(f"{rid.full_type}/{rid.name}", rid.resource_group)
        handler.patch(self, res, body or {}, query.get("api-version"))
        return Response(200, self._render(res, query))

    # -- long-running operations ------------------------------------------------------------

    def _new_operation(self, target: str, namespace: str, rtype: str, op: str, step, *, location_style=False,
                       delete=False, accepted=False, on_done=None, initial_status: int | None = None,
                       initial_body: Any = None) -> Response:
        spec = self.scenario.lro(rtype, op)
        countdown = engine.countdown(self, spec)
        op_id = str(uuid.uuid4())

        def stepped():
            if not countdown.tick():
                return None
            outcome = step()
            if outcome is not None and on_done is not None:
                on_done()
            return outcome

        location = providers.norm_location(self.scenario.get("location", "westeurope"))
        operation = Operation(op_id, target, namespace, location, int(spec.get("retry_after", 1)), stepped,
                              started=self.clock.now())
        self.store.operations[op_id] = operation
        async_url = f"{self.base_url}/_operations/{op_id}/async"
        location_url = f"{self.base_url}/_operations/{op_id}/location"
        headers = {"Retry-After": str(operation.retry_after)}
        if location_style or delete or accepted:
            headers["Location"] = location_url
        if not location_style:
            headers["Azure-AsyncOperation"] = async_url
        if location_style or delete or accepted:
            return Response(202, initial_body, headers)
        return Response(initial_status or 201, initial_body, headers)

    def _operation_status(self, op_id: str, query: dict, kind: str) -> Response:
        op = self.store.operations.get(op_id)
        if op is None:
            raise errors.ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
        op.observe(self.clock.now())
        headers = {} if op.done else {"Retry-After": str(op.retry_after)}
        if kind == "location":
            if not op.done:
                return Response(202, None, dict(headers, Location=f"{self.base_url}/_operations/{op_id}/location"))
            if op.status != "Succeeded":
                err = op.error or {"code": op.status, "message": ""}
                return Response(400 if op.status == "Failed" else 409, {"error": err})
            res = self.store.get(op.target)
            if op.result is not None:
                return Response(200, op.result)
            return Response(200 if res else 204, self._render(res, {}) if res else None)
        body: dict[str, Any] = {"id": f"/_operations/{op_id}", "name": op_id, "status": op.status,
                                "startTime": self.clock.iso(op.started)}
        if op.done:
            body["endTime"] = self.clock.iso(op.ended or self.clock.now())
            if op.error:
                body["error"] = op.error
            if op.result is not None:
                body["properties"] = op.result
        return Response(200, body, headers)


def default_log(res: Resource, run, result: str, message: str) -> str:
    """A Packer-shaped customization.log: each customizer, its output, and the failure."""
    rid = uuid.uuid5(uuid.NAMESPACE_URL, res.id).hex[:8]
    out = [f"[{rid}] PACKER OUT ==> azure-arm: Running builder ...",
           f"[{rid}] PACKER OUT ==> azure-arm: Creating resource group ..."]
    steps = res.properties.get("customize", [])
    fail_at = run.spec.get("fail_step")
    for i, c in enumerate(steps):
        kind = c.get("type", "")
        name = c.get("name") or f"step-{i + 1}"
        script = {"PowerShell": "powershell script", "Shell": "shell script"}.get(kind, kind.lower())
        out.append(f"[{rid}] PACKER OUT ==> azure-arm: Provisioning with {script}: {name}")
        out.append(f"[{rid}] PACKER OUT     azure-arm: running {name}")
        if result == "Failed" and run.step == "Customizing" and (fail_at == name or (fail_at is None and i == len(steps) - 1)):
            for line in run.spec.get("step_output", [f"{name}: something went wrong"]):
                out.append(f"[{rid}] PACKER OUT     azure-arm: {line}")
            out.append(f"[{rid}] PACKER ERR ==> azure-arm: Script exited with non-zero exit status: 1. "
                       "Allowed exit codes are: [0]")
            out.append(f"[{rid}] PACKER ERR Build 'azure-arm' errored after 4 minutes: {message}")
            break
    return "\n".join(out) + "\n"
