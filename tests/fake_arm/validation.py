"""Request-body validation: the official ARM schemas (through tests/python/arm_schema.py) where
the specs folder has them, small hand-written schemas where it does not.

The body of a PUT is checked as the resource it describes: `type`, `apiVersion` and `name`
are added from the URL and `arm_schema.Checker.check_resource` runs, strict pass included
(unknown properties are errors). Types with no local schema (Microsoft.Storage,
Microsoft.Authorization) get the HAND_SCHEMAS below, written from the REST API reference;
they are closed (additionalProperties: false) only where the property list is small and
stable (role assignments and definitions), and otherwise check required fields and types.

Violations become ARM's 400 `InvalidRequestContent` with one detail per problem, worded
like the JSON deserialiser resource providers use ("Could not find member 'x' on object of
type 'Y'. Path 'properties.x'", "Required property 'x' not found in JSON. Path '...'").
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import arm_schema  # tests/python (on sys.path, see fake_arm/__init__.py)

from . import errors

_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_STR_ARRAY = {"type": "array", "items": {"type": "string"}}
_TAGS = {"type": "object", "additionalProperties": {"type": "string"}}

HAND_SCHEMAS: dict[str, dict] = {
    "microsoft.storage/storageaccounts": {
        "type": "object",
        "required": ["sku", "kind", "location"],
        "properties": {
            "location": {"type": "string"}, "tags": _TAGS, "kind": {
                "type": "string", "enum": ["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"]},
            "sku": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "enum": [
                "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
                "Standard_GZRS", "Standard_RAGZRS", "StandardV2_LRS", "StandardV2_GRS", "StandardV2_ZRS",
                "StandardV2_GZRS", "PremiumV2_LRS", "PremiumV2_ZRS"]}, "tier": {"type": "string"}}},
            "identity": {"type": "object"}, "extendedLocation": {"type": "object"},
            "properties": {"type": "object", "properties": {
                "accessTier": {"type": "string", "enum": ["Hot", "Cool", "Cold", "Premium"]},
                "allowBlobPublicAccess": {"type": "boolean"},
                "allowCrossTenantReplication": {"type": "boolean"},
                "allowSharedKeyAccess": {"type": "boolean"},
                "defaultToOAuthAuthentication": {"type": "boolean"},
                "supportsHttpsTrafficOnly": {"type": "boolean"},
                "isHnsEnabled": {"type": "boolean"},
                "isSftpEnabled": {"type": "boolean"},
                "isLocalUserEnabled": {"type": "boolean"},
                "minimumTlsVersion": {"type": "string", "enum": ["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"]},
                "publicNetworkAccess": {"type": "string", "enum": ["Enabled", "Disabled", "SecuredByPerimeter"]},
                "networkAcls": {"type": "object"}, "encryption": {"type": "object"},
            }},
        },
        "additionalProperties": False,
    },
    "microsoft.storage/storageaccounts/blobservices": {
        "type": "object",
        "properties": {"properties": {"type": "object"}},
        "additionalProperties": False,
    },
    "microsoft.storage/storageaccounts/blobservices/containers": {
        "type": "object",
        "properties": {"properties": {"type": "object", "properties": {
            "publicAccess": {"type": "string", "enum": ["None", "Blob", "Container"]},
            "metadata": _TAGS,
            "defaultEncryptionScope": {"type": "string"},
            "denyEncryptionScopeOverride": {"type": "boolean"},
            "immutableStorageWithVersioning": {"type": "object"},
            "enableNfsV3RootSquash": {"type": "boolean"},
            "enableNfsV3AllSquash": {"type": "boolean"},
        }, "additionalProperties": False}},
        "additionalProperties": False,
    },
    "microsoft.authorization/roleassignments": {
        "type": "object",
        "required": ["properties"],
        "properties": {"properties": {
            "type": "object",
            "required": ["roleDefinitionId", "principalId"],
            "properties": {
                "roleDefinitionId": {"type": "string"},
                "principalId": {"type": "string"},
                "principalType": {"type": "string", "enum": ["User", "Group", "ServicePrincipal",
                                                              "ForeignGroup", "Device"]},
                "description": {"type": ["string", "null"]},
                "condition": {"type": ["string", "null"]},
                "conditionVersion": {"type": ["string", "null"]},
                "delegatedManagedIdentityResourceId": {"type": ["string", "null"]},
            },
            "additionalProperties": False,
        }},
        "additionalProperties": False,
    },
    "microsoft.authorization/roledefinitions": {
        "type": "object",
        "required": ["properties"],
        "properties": {"properties": {
            "type": "object",
            "required": ["roleName", "permissions", "assignableScopes"],
            "properties": {
                "roleName": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "type": {"type": "string"},
                "permissions": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"actions": _STR_ARRAY, "notActions": _STR_ARRAY,
                                   "dataActions": _STR_ARRAY, "notDataActions": _STR_ARRAY},
                    "additionalProperties": False}},
                "assignableScopes": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            },
            "additionalProperties": False,
        }},
        "additionalProperties": False,
    },
}

# .NET type names for "Error converting value" messages.
_DOTNET = {"integer": "System.Int32", "boolean": "System.Boolean", "string": "System.String",
           "number": "System.Double", "array": "System.Collections.Generic.List`1[System.Object]",
           "object": "Newtonsoft.Json.Linq.JObject"}

_READONLY_TOP = ("id", "name", "type", "systemData", "etag", "apiVersion")


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(body: Any, path: tuple) -> Any:
    for part in path:
        try:
            body = body[part]
        except (KeyError, IndexError, TypeError):
            return None
    return body


def _owner(rtype: str, path: tuple) -> str:
    """A plausible .NET type name for the object at `path` (for "on object of type ...")."""
    leaf = rtype.rsplit("/", 1)[-1]
    base = leaf[0].upper() + leaf[1:]
    base = base[:-1] if base.endswith("s") else base
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return base
    if names == ["properties"]:
        return base + "Properties"
    last = names[-1]
    return base + last[0].upper() + last[1:]


class Structured(arm_schema.Report):
    """A Report that also keeps (path, message) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[tuple, str]] = []

    def violation(self, file: str, path, message: str) -> None:  # noqa: D401 (override)
        super().violation(file, path, message)
        self.items.append((tuple(path), message))


class BodyValidator:
    def __init__(self, specs_dir: Path):
        self.schemas = arm_schema.SchemaSet(specs_dir)
        self.checker = arm_schema.Checker(self.schemas, strict=True)
        self._hand = {k: arm_schema.ArmValidator(v) for k, v in HAND_SCHEMAS.items()}

    def has_schema(self, rtype: str, version: str) -> bool:
        return (rtype.lower(), version) in self.schemas.by_type_version or rtype.lower() in self._hand

    def problems(self, rtype: str, version: str, name: str, body: dict) -> list[tuple[tuple, str, str]]:
        """(path, kind, message) for every problem; kind is unknown|required|type|other."""
        out: list[tuple[tuple, str, str]] = []
        if (rtype.lower(), version) in self.schemas.by_type_version:
            resource = {"type": rtype, "apiVersion": version, "name": name}
            resource.update({k: v for k, v in body.items() if k not in _READONLY_TOP})
            report = Structured()
            self.checker.check_resource(resource, "", report, (), False)
            for path, message in report.items:
                if message.startswith("unknown property"):
                    out.append((path, "unknown", message))
                elif "is a required property" in message:
                    missing = re.match(r"'([^']+)' is a required property", message)
                    out.append((path + ((missing.group(1),) if missing else ()), "required", message))
                elif "is not of type" in message:
                    wanted = re.search(r"is not of type '(\w+)'", message)
                    out.append((path, "type:" + (wanted.group(1) if wanted else "object"), message))
                else:
                    out.append((path, "other", message.replace(" (nor is it an ARM expression '[...]')", "")))
        validator = self._hand.get(rtype.lower())
        if validator is not None:
            for err in validator.iter_errors(body):
                path = tuple(err.absolute_path)
                if err.validator == "additionalProperties":
                    extra = re.findall(r"'([^']+)' was unexpected", err.message) or \
                        re.findall(r"\('([^']+)'", err.message)
                    for key in extra or ["?"]:
                        out.append((path + (key,), "unknown", err.message))
                elif err.validator == "required":
                    missing = re.match(r"'([^']+)' is a required property", err.message)
                    out.append((path + ((missing.group(1),) if missing else ()), "required", err.message))
                elif err.validator == "type":
                    wanted = err.validator_value if isinstance(err.validator_value, str) else "object"
                    out.append((path, "type:" + wanted, err.message))
                else:
                    out.append((path, "other", err.message))
        return out

    def check(self, rtype: str, version: str, name: str, body: dict) -> None:
        """Raise ARM's 400 when the body is not a valid request for this type."""
        found = self.problems(rtype, version, name, body)
        if not found:
            return
        details = []
        for path, kind, message in found:
            where = dotted(path)
            if kind == "unknown":
                text = (f"Could not find member '{path[-1]}' on object of type '{_owner(rtype, path[:-1])}'. "
                        f"Path '{where}'")
            elif kind == "required":
                parent = dotted(path[:-1])
                text = f"Required property '{path[-1]}' not found in JSON. Path '{parent}'"
            elif kind.startswith("type:"):
                value = _lookup(body, path)
                text = (f"Error converting value {json.dumps(value)} to type '{_DOTNET.get(kind[5:], kind[5:])}'. "
                        f"Path '{where}'")
            else:
                text = f"{message}. Path '{where}'"
            details.append({"code": "InvalidRequestContent", "target": where or None, "message": text})
        for d in details:
            if d["target"] is None:
                del d["target"]
        raise errors.invalid_request_content(details[0]["message"], details)
