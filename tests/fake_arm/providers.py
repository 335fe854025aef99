"""Resource types the fake serves, and what each resource provider does on top of ARM's
generic behaviour: server-filled properties, parent and uniqueness checks, immutable
properties, which writes are long-running.

A `Handler` is called by `service.Service` in this order for a PUT:
  validate (schema + type rules) -> normalise (the caller-controlled input, for change
  detection) -> check_write (conflicts; sees whether anything changed) -> build (the stored
  representation) -> creation_error (what the RP would report by failing provisioning).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import errors, ids
from .rbac import ROLE_ASSIGNMENTS_TYPE, ROLE_DEFINITIONS_TYPE, is_guid, role_definition_guid
from .state import Resource, derived_uuid

REGIONS = {
    "westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US", "eastus2": "East US 2",
    "westus": "West US", "westus2": "West US 2", "westus3": "West US 3", "centralus": "Central US",
    "southcentralus": "South Central US", "northcentralus": "North Central US", "westcentralus": "West Central US",
    "uksouth": "UK South", "ukwest": "UK West", "francecentral": "France Central",
    "germanywestcentral": "Germany West Central", "swedencentral": "Sweden Central",
    "switzerlandnorth": "Switzerland North", "norwayeast": "Norway East", "polandcentral": "Poland Central",
    "italynorth": "Italy North", "australiaeast": "Australia East", "southeastasia": "Southeast Asia",
    "eastasia": "East Asia", "japaneast": "Japan East", "koreacentral": "Korea Central",
    "canadacentral": "Canada Central", "brazilsouth": "Brazil South", "centralindia": "Central India",
    "uaenorth": "UAE North", "southafricanorth": "South Africa North",
}

RESOURCES_VERSIONS = ["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01",
                      "2021-04-01", "2021-01-01", "2020-10-01", "2020-06-01", "2019-10-01"]


def norm_location(value: str) -> str:
    return value.replace(" ", "").lower()


def region_display(value: str) -> str:
    return REGIONS.get(norm_location(value), value)


def now_iso(svc) -> str:
    return svc.clock.iso()


class Handler:
    type = ""
    versions: list[str] = []
    location = "required"  # required | none
    put_lro: str | None = None  # "async" (201 + Azure-AsyncOperation) | "location" (202 + Location)
    delete_lro: str | None = None
    readonly_props: tuple[str, ...] = ("provisioningState",)
    in_progress_state = "Creating"

    # -- PUT pipeline -------------------------------------------------------------------

    def validate(self, svc, rid: ids.Rid, body: dict, version: str) -> None:
        if svc.validator.has_schema(self.type, version):
            svc.validator.check(self.type, version, rid.name, body)

    def normalise(self, svc, rid: ids.Rid, body: dict) -> dict:
        out = copy.deepcopy({k: v for k, v in body.items() if k not in ("id", "name", "type", "systemData", "etag")})
        if isinstance(out.get("location"), str):
            out["location"] = norm_location(out["location"])
        props = out.get("properties")
        if isinstance(props, dict):
            for key in self.readonly_props:
                props.pop(key, None)
        return out

    def check_write(self, svc, rid: ids.Rid, new: dict, existing: Resource | None, changed: bool,
                    dry_run: bool) -> None:
        pass

    def build(self, svc, rid: ids.Rid, new: dict, existing: Resource | None) -> dict:
        body = copy.deepcopy(new)
        body.setdefault("properties", {})
        body["properties"]["provisioningState"] = "Succeeded"
        return body

    def creation_error(self, svc, res: Resource) -> tuple[str, str] | None:
        """(code, message) when the provider would fail provisioning of this resource."""
        return None

    def set_provisioning(self, res: Resource, state: str, error: tuple[str, str] | None) -> None:
        res.properties["provisioningState"] = state

    def after_write(self, svc, res: Resource, created: bool) -> None:
        pass

    # -- other verbs ----------------------------------------------------------------------

    def render(self, svc, res: Resource, query: dict) -> dict:
        out: dict[str, Any] = {"id": res.id, "name": res.rid.leaf_name, "type": res.type}
        for k in ("location", "tags", "kind", "sku", "identity", "plan", "zones"):
            if k in res.body:
                out[k] = copy.deepcopy(res.body[k])
        for k, v in res.body.items():
            if k not in out:
                out[k] = copy.deepcopy(v)
        return out

    def check_delete(self, svc, res: Resource) -> None:
        if any(d.type.lower() not in self.cascade_types() for d in svc.store.descendants(res.id)):
            raise errors.cannot_delete_nested()

    def cascade_types(self) -> set[str]:
        """Child types deleted along with this resource (instead of blocking its deletion)."""
        return {ROLE_ASSIGNMENTS_TYPE.lower()}

    def patch(self, svc, res: Resource, body: dict, version: str) -> None:
        if "tags" in body:
            res.body["tags"] = body["tags"]
            res.input["tags"] = body["tags"]

    def observe(self, svc, res: Resource) -> None:
        """Called on every GET of the resource (advances simulations)."""

    def post(self, svc, res: Resource, action: str, body: Any, version: str):
        raise errors.ArmError(404, "InvalidResourceType",
                              f"The resource type '{res.type.split('/', 1)[1]}/{action}' could not be found "
                              f"in the namespace '{res.type.split('/')[0]}' for api version '{version}'.")

    def collection(self, svc, res: Resource, name: str, query: dict) -> list[dict] | None:
        """A GET on `{id}/{name}`: a list of sub-items, or None when the name is not a collection."""
        return None


class Generic(Handler):
    """Types only seeded or written as opaque bodies (virtual networks, managed images...)."""

    location = "optional"

    def __init__(self, rtype: str, versions: list[str]):
        self.type = rtype
        self.versions = versions


# ----------------------------------------------------------------------------- identities

class UserAssignedIdentities(Handler):
    type = "Microsoft.ManagedIdentity/userAssignedIdentities"
    versions = ["2024-11-30"]
    readonly_props = ("tenantId", "principalId", "clientId")

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        body.pop("properties", None)
        if existing is not None:
            body["properties"] = copy.deepcopy(existing.properties)
        else:
            n = svc.store.incarnations.get(rid.key(), 0) + 1
            body["properties"] = {
                "tenantId": svc.tenant_for(rid.subscription),
                "principalId": derived_uuid("principal", rid.id, n),
                "clientId": derived_uuid("client", rid.id, n),
            }
        if new.get("properties", {}).get("isolationScope"):
            body["properties"]["isolationScope"] = new["properties"]["isolationScope"]
        return body


# ----------------------------------------------------------------------------- compute gallery

class Galleries(Handler):
    type = "Microsoft.Compute/galleries"
    versions = ["2025-03-03"]
    put_lro = "async"
    delete_lro = "async"
    readonly_props = ("provisioningState", "identifier", "sharingStatus")

    def build(self, svc, rid, new, existing):
        body = super().build(svc, rid, new, existing)
        body["properties"]["identifier"] = {"uniqueName": f"{rid.subscription}-{rid.leaf_name.upper()}"}
        return body

    def cascade_types(self):
        return {ROLE_ASSIGNMENTS_TYPE.lower()}


class GalleryImages(Handler):
    type = "Microsoft.Compute/galleries/images"
    versions = Galleries.versions
    put_lro = "async"
    delete_lro = "async"
    immutable = ("osType", "osState", "hyperVGeneration", "architecture", "identifier")

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        gallery = svc.store.get(rid.parent.id)
        if gallery is not None and norm_location(new.get("location", "")) != gallery.body.get("location"):
            # Wording guessed; Compute requires a definition to live in its gallery's region.
            raise errors.ArmError(400, "InvalidParameter",
                                  f"The gallery image location '{new.get('location')}' must be the same as the "
                                  f"location of its gallery, '{gallery.body.get('location')}'.", target="location")
        props = new.get("properties", {})
        ident = props.get("identifier", {})
        for other in svc.store.descendants(rid.parent.id):
            if other.type.lower() != self.type.lower() or ids.key(other.id) == rid.key():
                continue
            o = other.properties.get("identifier", {})
            if all(str(o.get(k, "")).lower() == str(ident.get(k, "")).lower() for k in ("publisher", "offer", "sku")):
                raise errors.ArmError(409, "Conflict",  # wording guessed
                                      f"An image definition with identifier publisher '{ident.get('publisher')}', "
                                      f"offer '{ident.get('offer')}', sku '{ident.get('sku')}' already exists in the "
                                      f"gallery: '{other.rid.leaf_name}'.")
        if existing is not None and changed:
            old = existing.input.get("properties", {})
            for key in self.immutable:
                if key in props and key in old and _ci(props[key]) != _ci(old[key]):
                    raise errors.ArmError(409, "PropertyChangeNotAllowed",
                                          f"Changing property 'galleryImage.properties.{key}' is not allowed.",
                                          target=f"galleryImage.properties.{key}")

    def cascade_types(self):
        return {ROLE_ASSIGNMENTS_TYPE.lower()}


class GalleryImageVersions(Handler):
    """Versions are written by Azure Image Builder during a run (or by a direct PUT). GET with
    $expand=ReplicationStatus shows per-region replication, advanced on each observation."""

    type = "Microsoft.Compute/galleries/images/versions"
    versions = Galleries.versions
    put_lro = "async"
    delete_lro = "async"
    readonly_props = ("provisioningState", "replicationStatus")

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        props = body.setdefault("properties", {})
        profile = props.setdefault("publishingProfile", {})
        regions = profile.get("targetRegions") or [{"name": body.get("location", "")}]
        for region in regions:
            region["name"] = region_display(region["name"])
            region.setdefault("regionalReplicaCount", profile.get("replicaCount", 1))
            region.setdefault("storageAccountType", profile.get("storageAccountType", "Standard_LRS"))
        profile["targetRegions"] = regions
        profile.setdefault("replicaCount", 1)
        profile.setdefault("excludeFromLatest", False)
        profile.setdefault("storageAccountType", "Standard_LRS")
        profile.setdefault("publishedDate", svc.clock.iso())
        props.setdefault("safetyProfile", {"allowDeletionOfReplicatedLocations": False})
        props["provisioningState"] = "Creating"
        return body

    def after_write(self, svc, res, created):
        if created:
            start_replication(svc, res, svc.scenario.get("replication", {}))

    def set_provisioning(self, res, state, error):
        # The version's own state follows replication (see observe); only failures stick.
        if state == "Failed":
            res.properties["provisioningState"] = "Failed"

    def observe(self, svc, res):
        tick_replication(res)

    def render(self, svc, res, query):
        out = super().render(svc, res, query)
        expand = {e.strip().lower() for e in query.get("$expand", "").split(",")}
        if "replicationstatus" in expand:
            out["properties"]["replicationStatus"] = replication_status(res)
        return out


def start_replication(svc, res: Resource, spec: dict) -> None:
    """Per-region replication that completes after `polls` observations (scenario
    "replication": {"polls": n, "regions": {"northeurope": "Failed"}})."""
    polls = int(spec.get("polls", 1))
    # A region's value is its final state ("Failed"), or {"polls": n, "final": state} for a
    # region that lags (or fails) after its own number of observations.
    regions = {norm_location(k): (v if isinstance(v, dict) else {"final": v}) for k, v in spec.get("regions", {}).items()}
    state = {}
    for r in res.properties["publishingProfile"]["targetRegions"]:
        own = regions.get(norm_location(r["name"]), {})
        n = int(own.get("polls", polls))
        state[r["name"]] = {"left": n, "total": max(n, 1), "final": own.get("final", "Completed")}
        # {"seconds": s}: replication takes that long on the fake clock, however often it is read.
        seconds = own.get("seconds", spec.get("seconds"))
        if seconds is not None:
            state[r["name"]].update({"left": 1, "total": 1, "until": svc.clock.now() + float(seconds), "clock": svc.clock,
                                     "span": float(seconds)})
    res.private["replication"] = state
    tick_replication(res, advance=False)


def tick_replication(res: Resource, advance: bool = True) -> None:
    rep = res.private.get("replication")
    if not rep:
        return
    for state in rep.values():
        if "until" in state:
            state["left"] = 1 if state["clock"].now() < state["until"] else 0
        elif advance and state["left"] > 0:
            state["left"] -= 1
    if all(s["left"] == 0 for s in rep.values()) and res.properties.get("provisioningState") == "Creating":
        failed = any(s["final"] == "Failed" for s in rep.values())
        res.properties["provisioningState"] = "Failed" if failed else "Succeeded"


def replication_done(res: Resource) -> bool:
    rep = res.private.get("replication")
    return not rep or all(s["left"] == 0 for s in rep.values())


def replication_status(res: Resource) -> dict:
    rep = res.private.get("replication") or {}
    summary = []
    for region, s in rep.items():
        if "until" in s and s["left"] > 0:
            done = 1 - max(0.0, s["until"] - s["clock"].now()) / max(s["span"], 0.001)
            summary.append({"region": region, "state": "Replicating", "details": "", "progress": int(100 * done)})
        elif s["left"] > 0:
            progress = int(100 * (s["total"] - s["left"]) / s["total"])
            summary.append({"region": region, "state": "Replicating", "details": "", "progress": progress})
        elif s["final"] == "Failed":
            summary.append({"region": region, "state": "Failed", "progress": 0,
                            "details": "Replication to this region failed (scripted by the fake ARM scenario)."})
        else:
            summary.append({"region": region, "state": "Completed", "details": "", "progress": 100})
    states = {s["state"] for s in summary}
    aggregated = ("InProgress" if "Replicating" in states else "Failed" if "Failed" in states
                  else "Completed" if summary else "Unknown")
    return {"aggregatedState": aggregated, "summary": summary}


class ManagedImages(Generic):
    def __init__(self):
        super().__init__("Microsoft.Compute/images", ["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01",
                                                      "2023-09-01", "2023-03-01"])


# ----------------------------------------------------------------------------- storage

_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
STORAGE_VERSIONS = ["2025-06-01", "2025-01-01", "2024-01-01", "2023-05-01", "2023-04-01", "2023-01-01",
                    "2022-09-01"]


class StorageAccounts(Handler):
    type = "Microsoft.Storage/storageAccounts"
    versions = STORAGE_VERSIONS
    put_lro = "location"
    readonly_props = ("provisioningState", "primaryEndpoints", "primaryLocation", "statusOfPrimary",
                      "creationTime", "keyCreationTime")

    def validate(self, svc, rid, body, version):
        if not _ACCOUNT_NAME.match(rid.leaf_name):
            raise errors.ArmError(400, "AccountNameInvalid",
                                  f"{rid.leaf_name} is not a valid storage account name. Storage account name must "
                                  "be between 3 and 24 characters in length and use numbers and lower-case letters "
                                  "only.")
        super().validate(svc, rid, body, version)

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        if existing is not None:
            return
        for other in svc.store.of_type(self.type):
            if other.rid.leaf_name.lower() == rid.leaf_name.lower():
                if other.rid.subscription.lower() == rid.subscription.lower():
                    raise errors.ArmError(409, "StorageAccountInAnotherResourceGroup",
                                          f"The account {rid.leaf_name} is already in another resource group in "
                                          "this subscription.")
                raise errors.ArmError(409, "StorageAccountAlreadyTaken",
                                      f"The storage account named {rid.leaf_name} is already taken.")
        if rid.leaf_name.lower() in [n.lower() for n in svc.scenario.option("storage", "taken_names", [])]:
            raise errors.ArmError(409, "StorageAccountAlreadyTaken",
                                  f"The storage account named {rid.leaf_name} is already taken.")

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        props = body.setdefault("properties", {})
        props.setdefault("supportsHttpsTrafficOnly", True)
        props.setdefault("allowBlobPublicAccess", False)
        if body.get("kind") in ("StorageV2", "BlobStorage"):
            props.setdefault("accessTier", "Hot")
        created = existing.properties.get("creationTime") if existing else svc.clock.iso()
        props.update({"provisioningState": "Succeeded", "creationTime": created,
                      "primaryLocation": body.get("location"), "statusOfPrimary": "available",
                      "primaryEndpoints": svc.storage_endpoints(rid.leaf_name)})
        sku = body.setdefault("sku", {})
        if isinstance(sku.get("name"), str):
            sku["tier"] = "Premium" if sku["name"].startswith("Premium") else "Standard"
        return body

    def after_write(self, svc, res, created):
        if created:  # every account has its blob service
            svc.store.put(Resource(res.id + "/blobServices/default", StorageBlobServices.type, res.api_version,
                                   {}, {"properties": {}}, svc.clock.now(), 1))

    def cascade_types(self):
        return {ROLE_ASSIGNMENTS_TYPE.lower(), StorageBlobServices.type.lower(), StorageContainers.type.lower()}


class StorageBlobServices(Handler):
    type = "Microsoft.Storage/storageAccounts/blobServices"
    versions = STORAGE_VERSIONS
    location = "none"

    def validate(self, svc, rid, body, version):
        if rid.leaf_name != "default":
            raise errors.ArmError(400, "InvalidResourceName",  # wording guessed
                                  f"The blob service name '{rid.leaf_name}' is invalid; it must be 'default'.")
        super().validate(svc, rid, body, version)

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        body.setdefault("properties", {})
        return body

    def cascade_types(self):
        return {ROLE_ASSIGNMENTS_TYPE.lower(), StorageContainers.type.lower()}


class StorageContainers(Handler):
    type = "Microsoft.Storage/storageAccounts/blobServices/containers"
    versions = STORAGE_VERSIONS
    location = "none"
    readonly_props = ("lastModifiedTime", "leaseStatus", "leaseState", "hasImmutabilityPolicy", "hasLegalHold",
                      "deleted", "remainingRetentionDays", "etag")

    def validate(self, svc, rid, body, version):
        if not _CONTAINER_NAME.match(rid.leaf_name):
            raise errors.ArmError(400, "ContainerNameInvalid",  # code guessed
                                  f"The specified container name '{rid.leaf_name}' is invalid: 3-63 characters, "
                                  "lower-case letters, digits and single hyphens, starting with a letter or digit.")
        super().validate(svc, rid, body, version)

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        account = svc.store.get(rid.parent.parent.id)
        public = new.get("properties", {}).get("publicAccess", "None")
        if account is not None and public != "None" and not account.properties.get("allowBlobPublicAccess", False):
            raise errors.ArmError(409, "PublicAccessNotPermitted",
                                  "Public access is not permitted on this storage account.")

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        props = body.setdefault("properties", {})
        props.setdefault("publicAccess", "None")
        props.update({"lastModifiedTime": svc.clock.iso(), "leaseStatus": "Unlocked", "leaseState": "Available",
                      "hasImmutabilityPolicy": False, "hasLegalHold": False, "deleted": False,
                      "remainingRetentionDays": 0})
        return body


# ----------------------------------------------------------------------------- authorization

class RoleDefinitions(Handler):
    type = ROLE_DEFINITIONS_TYPE
    versions = ["2022-04-01", "2022-05-01-preview", "2018-01-01-preview", "2015-07-01"]
    location = "none"
    readonly_props = ("createdOn", "updatedOn", "createdBy", "updatedBy")

    def validate(self, svc, rid, body, version):
        if not is_guid(rid.leaf_name):
            raise errors.ArmError(400, "InvalidRoleDefinitionId",  # wording guessed
                                  f"The role definition ID '{rid.leaf_name}' is not valid. It must be a GUID.")
        super().validate(svc, rid, body, version)

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        name = new.get("properties", {}).get("roleName", "")
        for other in svc.store.of_type(self.type):
            if other.rid.leaf_name.lower() != rid.leaf_name.lower() and \
                    str(other.properties.get("roleName", "")).lower() == str(name).lower():
                raise errors.ArmError(409, "RoleDefinitionWithSameNameExists",
                                      "A custom role with the same name already exists in this directory. "
                                      "Use a different name.")
        for scope in new.get("properties", {}).get("assignableScopes", []):
            if not svc.scope_exists(scope):
                raise errors.ArmError(400, "InvalidAssignableScope",  # wording guessed
                                      f"The assignable scope '{scope}' does not exist or is not valid.")

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        props = body.setdefault("properties", {})
        created = existing.properties.get("createdOn") if existing else svc.clock.iso()
        props.update({"createdOn": created, "updatedOn": svc.clock.iso(), "createdBy": svc.caller_oid(),
                      "updatedBy": svc.caller_oid()})
        return body

    def render(self, svc, res, query):
        out = super().render(svc, res, query)
        sub = res.rid.subscription
        if sub:  # role definitions are reported at subscription level, whatever scope wrote them
            out["id"] = f"/subscriptions/{sub}/providers/{self.type}/{res.rid.leaf_name}"
        return out

    def check_delete(self, svc, res):
        for a in svc.store.of_type(ROLE_ASSIGNMENTS_TYPE):
            parsed = role_definition_guid(a.properties.get("roleDefinitionId", ""))
            if parsed and parsed[1] == res.rid.leaf_name.lower():
                raise errors.ArmError(409, "RoleDefinitionHasAssignments",
                                      "There are existing role assignments referencing role (code: "
                                      "RoleDefinitionHasAssignments).")


class RoleAssignments(Handler):
    type = ROLE_ASSIGNMENTS_TYPE
    versions = ["2022-04-01", "2020-10-01-preview", "2020-04-01-preview", "2018-09-01-preview", "2015-07-01"]
    location = "none"
    readonly_props = ("scope", "createdOn", "updatedOn", "createdBy", "updatedBy")

    def validate(self, svc, rid, body, version):
        if not is_guid(rid.leaf_name):
            raise errors.ArmError(400, "InvalidRoleAssignmentId",
                                  f"The role assignment ID '{rid.leaf_name}' is not valid. The role assignment ID "
                                  "must be a GUID.")
        super().validate(svc, rid, body, version)

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        props = new.get("properties", {})
        scope = rid.scope
        role_id = props.get("roleDefinitionId", "")
        parsed = role_definition_guid(role_id)
        if parsed is None:
            raise errors.ArmError(400, "InvalidRoleDefinitionId", f"The role definition ID '{role_id}' is not valid.")
        role_sub, guid = parsed
        scope_sub = ids.split_path(scope).subscription
        if role_sub and scope_sub and role_sub.lower() != scope_sub.lower():
            raise errors.ArmError(400, "InvalidRoleDefinitionId",  # wording guessed
                                  f"The role definition ID '{role_id}' is not valid: it belongs to subscription "
                                  f"'{role_sub}', but the assignment scope '{scope}' is in subscription "
                                  f"'{scope_sub}'.")
        role = svc.rbac.role(guid)
        if role is None:
            raise errors.ArmError(400, "RoleDefinitionDoesNotExist",
                                  f"The specified role definition with ID '{guid}' does not exist.")
        if role.get("custom") and not any(ids.key(scope) == ids.key(s) or ids.key(scope).startswith(ids.key(s) + "/")
                                          for s in role.get("assignableScopes", [])):
            raise errors.ArmError(400, "RoleAssignmentScopeNotAssignableToRoleDefinition",  # wording guessed
                                  f"The role definition '{guid}' is not assignable at scope '{scope}': its "
                                  f"assignable scopes are {role.get('assignableScopes')}.")
        principal = props.get("principalId", "")
        kind = svc.principals().get(principal.lower())
        if kind is None:
            raise errors.ArmError(400, "PrincipalNotFound",
                                  f"Principal {principal.replace('-', '')} does not exist in the directory "
                                  f"{svc.tenant_for(scope_sub)}. Check that you have the correct principal ID. If "
                                  "you are creating this principal and then immediately assigning a role, this "
                                  "error might be related to a replication delay. In this case, set the role "
                                  "assignment principalType property to a value, such as ServicePrincipal, User, or "
                                  "Group.  See https://aka.ms/docs-principaltype")
        ptype = props.get("principalType")
        if ptype and ptype.lower() != kind.lower():
            raise errors.ArmError(400, "UnmatchedPrincipalType",
                                  f"The PrincipalId '{principal.replace('-', '')}' has type '{kind}' , which is "
                                  f"different from specified PrincipalType '{ptype}'.")
        if existing is not None:
            old = existing.properties
            if (old.get("principalId", "").lower() != principal.lower()
                    or (role_definition_guid(old.get("roleDefinitionId", "")) or (None, ""))[1] != guid):
                raise errors.ArmError(400, "RoleAssignmentUpdateNotPermitted",
                                      "Tenant ID, application ID, principal ID, and scope are not allowed to be "
                                      "updated.")
        else:
            for other in svc.store.of_type(self.type):
                o = other.properties
                if (ids.key(o.get("scope", "")) == ids.key(scope) and o.get("principalId", "").lower() == principal.lower()
                        and (role_definition_guid(o.get("roleDefinitionId", "")) or (None, ""))[1] == guid):
                    raise errors.ArmError(409, "RoleAssignmentExists", "The role assignment already exists.",
                                          extra={"additionalInfo": [{"type": "RoleAssignmentExists",
                                                                     "info": {"id": other.id}}]})

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        props = body.setdefault("properties", {})
        props.setdefault("principalType", svc.principals().get(props.get("principalId", "").lower(), "User"))
        created = existing.properties.get("createdOn") if existing else svc.clock.iso()
        props.update({"scope": rid.scope, "createdOn": created, "updatedOn": svc.clock.iso(),
                      "createdBy": svc.caller_oid(), "updatedBy": svc.caller_oid()})
        return body


def _ci(value: Any) -> Any:
    """Case-insensitive comparison form of a JSON value."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k.lower(): _ci(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ci(v) for v in value]
    return value


def registry() -> dict[str, Handler]:
    from .aib import ImageTemplates, Triggers  # noqa: WPS433 (import cycle: aib uses providers)
    from .compute import NetworkInterfaces, VirtualMachines  # noqa: WPS433

    handlers: list[Handler] = [
        UserAssignedIdentities(), Galleries(), GalleryImages(), GalleryImageVersions(), ManagedImages(),
        StorageAccounts(), StorageBlobServices(), StorageContainers(), RoleDefinitions(), RoleAssignments(),
        ImageTemplates(), Triggers(), NetworkInterfaces(), VirtualMachines(),
        Generic("Microsoft.Network/virtualNetworks", ["2024-10-01", "2024-07-01", "2024-05-01", "2024-03-01",
                                                      "2024-01-01", "2023-11-01", "2023-09-01", "2023-05-01"]),
        Generic("Microsoft.Network/virtualNetworks/subnets", ["2024-10-01", "2024-07-01", "2024-05-01",
                                                              "2024-03-01", "2024-01-01", "2023-11-01"]),
        Generic("Microsoft.KeyVault/vaults", ["2024-11-01", "2024-04-01-preview", "2023-07-01", "2023-02-01"]),
    ]
    return {h.type.lower(): h for h in handlers}


# Namespaces ARM knows (an unknown one gives InvalidResourceNamespace).
KNOWN_NAMESPACES = {"microsoft.resources", "microsoft.virtualmachineimages", "microsoft.compute",
                    "microsoft.managedidentity", "microsoft.storage", "microsoft.authorization",
                    "microsoft.network", "microsoft.keyvault"}
