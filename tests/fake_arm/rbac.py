"""Role definitions and effective permissions.

Built-in roles are a small table of the ones image builds use (the GUIDs are Azure's; the
action lists are abridged to what matters here). Custom roles are the
Microsoft.Authorization/roleDefinitions resources in the store. An assignment applies to its
scope and everything below it; actions match with `*` wildcards, case-insensitively, minus
notActions (dataActions likewise).
"""

from __future__ import annotations

import fnmatch
import re

from . import ids

BUILTIN_ROLES: dict[str, dict] = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": {"roleName": "Owner", "actions": ["*"]},
    "b24988ac-6180-42a0-ab88-20f7382dd24c": {
        "roleName": "Contributor", "actions": ["*"],
        "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                       "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
                       "Microsoft.Blueprint/blueprintAssignments/delete"]},
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": {"roleName": "Reader", "actions": ["*/read"]},
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": {"roleName": "User Access Administrator",
                                             "actions": ["*/read", "Microsoft.Authorization/*"]},
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": {
        "roleName": "Storage Blob Data Reader",
        "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read",
                    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
        "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]},
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": {
        "roleName": "Storage Blob Data Contributor",
        "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/delete",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/write",
                    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
        "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"]},
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": {
        "roleName": "Storage Blob Data Owner",
        "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/*",
                    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
        "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"]},
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": {"roleName": "Storage Account Contributor",
                                             "actions": ["Microsoft.Storage/storageAccounts/*",
                                                         "Microsoft.Authorization/*/read"]},
    "f1a07417-d97a-45cb-824c-7a7467783830": {
        "roleName": "Managed Identity Operator",
        "actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                    "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                    "Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read",
                    "Microsoft.Resources/deployments/*"]},
    "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59": {"roleName": "Managed Identity Contributor",
                                             "actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/*",
                                                         "Microsoft.Authorization/*/read"]},
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": {
        "roleName": "Virtual Machine Contributor",
        "actions": ["Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/disks/*",
                    "Microsoft.Network/networkInterfaces/*", "Microsoft.Network/virtualNetworks/read",
                    "Microsoft.Network/virtualNetworks/subnets/join/action", "Microsoft.Authorization/*/read"]},
    "4d97b98b-1d4f-4787-a291-c67834d212e7": {"roleName": "Network Contributor",
                                             "actions": ["Microsoft.Network/*", "Microsoft.Authorization/*/read"]},
    "4633458b-17de-408a-b874-0445c86b69e6": {
        "roleName": "Key Vault Secrets User",
        "dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action",
                        "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]},
}

ROLE_DEFINITIONS_TYPE = "Microsoft.Authorization/roleDefinitions"
ROLE_ASSIGNMENTS_TYPE = "Microsoft.Authorization/roleAssignments"
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ROLE_ID_RE = re.compile(r"^(?:/subscriptions/([^/]+))?(?:/resourceGroups/[^/]+)?"
                         r"(?:/providers/.+?)?/providers/Microsoft\.Authorization/roleDefinitions/([^/]+)$", re.I)


def is_guid(text: str) -> bool:
    return bool(_GUID_RE.match(text or ""))


def role_definition_guid(role_definition_id: str) -> tuple[str | None, str] | None:
    """(subscription or None, guid) of a roleDefinitionId, or None when malformed."""
    m = _ROLE_ID_RE.match(role_definition_id or "")
    if not m or not is_guid(m.group(2)):
        return None
    return m.group(1), m.group(2).lower()


def _matches(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


class Rbac:
    def __init__(self, svc) -> None:
        self.svc = svc

    def role(self, guid: str) -> dict | None:
        """{roleName, actions, notActions, dataActions, notDataActions, assignableScopes?, custom}."""
        guid = guid.lower()
        extra = {k.lower(): v for k, v in self.svc.scenario.get("role_definitions", {}).items()}
        if guid in BUILTIN_ROLES or guid in extra:
            base = dict(BUILTIN_ROLES.get(guid) or extra[guid])
            base["custom"] = False
            return base
        for res in self.svc.store.of_type(ROLE_DEFINITIONS_TYPE):
            if res.rid.leaf_name.lower() == guid:
                props = res.properties
                perms = props.get("permissions", [])
                return {
                    "roleName": props.get("roleName"), "custom": True,
                    "actions": [a for p in perms for a in p.get("actions", [])],
                    "notActions": [a for p in perms for a in p.get("notActions", [])],
                    "dataActions": [a for p in perms for a in p.get("dataActions", [])],
                    "notDataActions": [a for p in perms for a in p.get("notDataActions", [])],
                    "assignableScopes": props.get("assignableScopes", []),
                }
        return None

    def assignments(self, principal_id: str) -> list:
        return [r for r in self.svc.store.of_type(ROLE_ASSIGNMENTS_TYPE)
                if r.properties.get("principalId", "").lower() == principal_id.lower()]

    def allowed(self, principal_id: str, scope: str, action: str, data: bool = False) -> bool:
        """Does any assignment of the principal at `scope` or above grant `action`?"""
        chain = {ids.key(s) for s in ids.scope_chain(scope)}
        for res in self.assignments(principal_id):
            if ids.key(res.properties.get("scope", "")) not in chain:
                continue
            parsed = role_definition_guid(res.properties.get("roleDefinitionId", ""))
            role = self.role(parsed[1]) if parsed else None
            if role is None:
                continue
            grant, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
            if _matches(role.get(grant, []), action) and not _matches(role.get(deny, []), action):
                return True
        return False

    def denial(self, principal_id: str, app_id: str, scope: str, action: str) -> str:
        """ARM's AuthorizationFailed wording."""
        return (f"The client '{app_id}' with object id '{principal_id}' does not have authorization to perform "
                f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
                "please refresh your credentials.")
