"""Per-test scripting of the fake: a JSON "scenario" (see README.md for the format).

A scenario is a plain JSON object; everything is optional. It is loaded at start-up
(`--scenario FILE`), replaced or merged at run time (`PUT`/`POST /_fake/scenario`) or from
Python (`FakeArm.set_scenario` / `update_scenario`). Counters of fault rules restart whenever
the scenario changes.
"""

from __future__ import annotations

import copy
import fnmatch
import threading
from typing import Any

TENANT_ID = "8b7f2a31-5c44-4b8e-9d0a-0f6e1c2d3a4b"
SUBSCRIPTION_ID = "5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
CLIENT_ID = "3c9d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
CLIENT_SECRET = "fake-client-secret"
CLIENT_OBJECT_ID = "9e8d7c6b-5a49-4838-a726-15f4e3d2c1b0"
MSI_CLIENT_ID = "6d5c4b3a-2918-4776-a554-4433221100ff"
MSI_OBJECT_ID = "0f1e2d3c-4b5a-4697-8877-66554433aa22"

DEFAULTS: dict[str, Any] = {
    "tenant_id": TENANT_ID,
    "subscriptions": [{"id": SUBSCRIPTION_ID, "displayName": "aibc fake subscription"}],
    "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "object_id": CLIENT_OBJECT_ID}],
    "managed_identity": {"client_id": MSI_CLIENT_ID, "object_id": MSI_OBJECT_ID, "header": "fake-identity-header"},
    "token_lifetime_seconds": 3600,
    "retry_after": 1,
    "lro": {"default": {"polls": 1}},
    "faults": [],
    "resource_failures": [],
    "runs": {"default": {}},
    "aib": {"check_permissions": True, "check_artifacts": False},
    "storage": {"blob_endpoint": "real", "check_data_rbac": True},
    "unregistered_providers": [],
    "api_versions": {},
    "principals": [],
    "seed": {},
}


def deep_merge(base: Any, update: Any) -> Any:
    """Objects merge key by key; anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(update, dict):
        out = dict(base)
        for k, v in update.items():
            out[k] = deep_merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(update)


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


class Scenario:
    def __init__(self, data: dict | None = None):
        self._lock = threading.Lock()
        self.data: dict = copy.deepcopy(DEFAULTS)
        self.fault_counts: list[int] = []
        self.failure_counts: list[int] = []
        if data:
            self.merge(data)

    # -- loading ------------------------------------------------------------------------

    def replace(self, data: dict) -> None:
        with self._lock:
            self.data = deep_merge(copy.deepcopy(DEFAULTS), data)
            self._reset_counters()

    def merge(self, data: dict) -> None:
        with self._lock:
            self.data = deep_merge(self.data, data)
            self._reset_counters()

    def _reset_counters(self) -> None:
        self.fault_counts = [0] * len(self.data.get("faults", []))
        self.failure_counts = [0] * len(self.data.get("resource_failures", []))

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    # -- lookups --------------------------------------------------------------------------

    @property
    def subscriptions(self) -> list[dict]:
        subs = []
        for s in self.data["subscriptions"]:
            subs.append({"id": s["id"], "displayName": s.get("displayName", s["id"]),
                         "tenantId": s.get("tenantId", self.data["tenant_id"])})
        return subs

    def subscription(self, sub_id: str) -> dict | None:
        for s in self.subscriptions:
            if s["id"].lower() == sub_id.lower():
                return s
        return None

    def lro(self, rtype: str, op: str) -> dict:
        """How long an operation takes: {"polls": n} or {"seconds": s}, plus optional retry_after.
        Looked up as "type:op", then "type", then "default" (type compared case-insensitively)."""
        table = {k.lower(): v for k, v in self.data.get("lro", {}).items()}
        for k in (f"{rtype}:{op}".lower(), rtype.lower(), "default"):
            if k in table:
                spec = dict(table[k])
                spec.setdefault("retry_after", self.data.get("retry_after", 1))
                return spec
        return {"polls": 1, "retry_after": self.data.get("retry_after", 1)}

    def match_fault(self, method: str, path: str) -> dict | None:
        """The first fault rule whose method/path match and whose turn it is (nth/times)."""
        with self._lock:
            for i, rule in enumerate(self.data.get("faults", [])):
                wanted = str(rule.get("method", "*")).upper()
                if wanted not in ("*", method.upper()):
                    continue
                if not _glob(rule.get("path", "*"), path):
                    continue
                self.fault_counts[i] += 1
                n = self.fault_counts[i]
                first = int(rule.get("nth", 1))
                times = rule.get("times", 1)
                if n < first:
                    continue
                if times in (0, "always", None) or n < first + int(times):
                    return dict(rule, _count=n)
            return None

    def resource_failure(self, rtype: str, name: str, phase: str, via: str) -> dict | None:
        """A scripted failure for a resource write (see README: resource_failures)."""
        with self._lock:
            for i, rule in enumerate(self.data.get("resource_failures", [])):
                if rule.get("type", "*") != "*" and rule["type"].lower() != rtype.lower():
                    continue
                pattern = rule.get("name", "*")
                if not (_glob(pattern, name) or _glob(pattern, name.rsplit("/", 1)[-1])):
                    continue
                if rule.get("phase", "put") != phase:
                    continue
                if rule.get("via", "any") not in ("any", via):
                    continue
                self.failure_counts[i] += 1
                times = rule.get("times", 0)
                if times in (0, None, "always") or self.failure_counts[i] <= int(times):
                    return rule
            return None

    def run_spec(self, template_name: str) -> dict:
        runs = self.data.get("runs", {})
        spec = dict(runs.get("default", {}))
        for pattern, value in runs.items():
            if pattern != "default" and _glob(pattern, template_name):
                spec.update(value)
        return spec

    def option(self, section: str, name: str, default: Any = None) -> Any:
        return self.data.get(section, {}).get(name, default)
