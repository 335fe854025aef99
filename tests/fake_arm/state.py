"""In-memory state: resource groups, resources, long-running operations, blobs.

One re-entrant lock guards everything (the server is threaded, the state is small). The
store can be cloned for what-if, which runs a deployment against a copy.
"""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from . import ids

# Deterministic ids (principalId, clientId...) derive from this namespace and the resource id.
ID_NAMESPACE = uuid.UUID("2f0a1d5e-6b7c-4d8e-9f01-23456789abcd")


@dataclass
class Resource:
    id: str  # canonical spelling of the id
    type: str  # canonical spelling of the type
    api_version: str  # api-version of the last write
    input: dict  # what the caller controls (normalised request body): for change detection
    body: dict  # full representation except id/name/type: location, tags, properties (+ server fields)...
    created: float
    incarnation: int  # 1 for the first creation of this id, 2 after delete + create...
    private: dict = field(default_factory=dict)  # provider-private state (run simulation, replication)

    @property
    def rid(self) -> ids.Rid:
        parsed = ids.parse_id(self.id)
        assert parsed is not None, self.id
        return parsed

    @property
    def name(self) -> str:
        return self.rid.name

    @property
    def properties(self) -> dict:
        return self.body.setdefault("properties", {})


@dataclass
class ResourceGroup:
    subscription: str
    name: str
    location: str
    tags: dict
    managed_by: str | None = None

    @property
    def id(self) -> str:
        return ids.rg_id(self.subscription, self.name)

    def render(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": "Microsoft.Resources/resourceGroups",
                               "location": self.location, "properties": {"provisioningState": "Succeeded"}}
        if self.tags:
            out["tags"] = dict(self.tags)
        if self.managed_by:
            out["managedBy"] = self.managed_by
        return out


class Countdown:
    """When an operation is done: after N in-progress observations, or after S seconds."""

    def __init__(self, clock, spec: dict):
        self.clock = clock
        self.polls = spec.get("polls")
        self.deadline = clock.now() + float(spec["seconds"]) if "seconds" in spec else None
        if self.polls is None and self.deadline is None:
            self.polls = 1

    def tick(self) -> bool:
        """One observation; True once the operation is complete."""
        if self.deadline is not None:
            return self.clock.now() >= self.deadline
        if self.polls > 0:
            self.polls -= 1
            return False
        return True


@dataclass
class Operation:
    """A long-running operation, polled through Azure-AsyncOperation and/or Location URLs.

    `step` is called once per observation (a poll of the operation, or a GET of its target)
    and returns None while in progress, or the terminal (status, error-object) pair. For a
    Location-style poll, `final` gives the terminal HTTP (status, body) once complete."""

    id: str
    target: str  # resource id the operation works on
    namespace: str
    location: str
    retry_after: int
    step: Callable[[], tuple[str, dict | None] | None]
    final: Callable[[str], tuple[int, Any]] | None = None
    started: float = 0.0
    status: str = "InProgress"
    error: dict | None = None
    ended: float | None = None
    result: Any = None  # for what-if: the result body

    @property
    def done(self) -> bool:
        return self.status not in ("InProgress", "Running", "Accepted", "Canceling")

    def observe(self, now: float) -> None:
        if self.done:
            return
        outcome = self.step()
        if outcome is not None:
            self.status, self.error = outcome
            self.ended = now


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rgs: dict[tuple[str, str], ResourceGroup] = {}
        self.resources: dict[str, Resource] = {}
        self.operations: dict[str, Operation] = {}
        self.incarnations: dict[str, int] = {}
        self.blobs: dict[tuple[str, str, str], dict] = {}  # (account, container, blob) -> {data, props}
        self.registered: dict[str, dict[str, str]] = {}  # sub -> namespace -> registrationState

    # -- resource groups ----------------------------------------------------------------

    def rg(self, sub: str, name: str) -> ResourceGroup | None:
        return self.rgs.get((sub.lower(), name.lower()))

    def put_rg(self, rg: ResourceGroup) -> None:
        self.rgs[(rg.subscription.lower(), rg.name.lower())] = rg

    def delete_rg(self, sub: str, name: str) -> None:
        prefix = ids.key(ids.rg_id(sub, name)) + "/"
        for k in [k for k in self.resources if k.startswith(prefix)]:
            del self.resources[k]
        self.rgs.pop((sub.lower(), name.lower()), None)

    # -- resources ------------------------------------------------------------------------

    def get(self, resource_id: str) -> Resource | None:
        return self.resources.get(ids.key(resource_id))

    def put(self, res: Resource) -> None:
        self.resources[ids.key(res.id)] = res

    def next_incarnation(self, resource_id: str) -> int:
        k = ids.key(resource_id)
        self.incarnations[k] = self.incarnations.get(k, 0) + 1
        return self.incarnations[k]

    def descendants(self, resource_id: str) -> list[Resource]:
        """Child resources and extension resources below this id."""
        prefix = ids.key(resource_id) + "/"
        return [r for k, r in self.resources.items() if k.startswith(prefix)]

    def delete(self, resource_id: str) -> None:
        k = ids.key(resource_id)
        self.resources.pop(k, None)
        for d in [x for x in self.resources if x.startswith(k + "/")]:
            del self.resources[d]

    def of_type(self, rtype: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type.lower() == rtype.lower()]

    def in_scope(self, scope: str) -> list[Resource]:
        prefix = ids.key(scope) + "/"
        return [r for k, r in self.resources.items() if k.startswith(prefix)]

    # -- copies ---------------------------------------------------------------------------

    def clone(self) -> "Store":
        """A copy for what-if runs (operations and blobs are shared, never written there)."""
        other = Store()
        other.rgs = copy.deepcopy(self.rgs)
        other.resources = {k: Resource(r.id, r.type, r.api_version, copy.deepcopy(r.input),
                                       copy.deepcopy(r.body), r.created, r.incarnation, {})
                           for k, r in self.resources.items()}
        other.incarnations = dict(self.incarnations)
        other.blobs = self.blobs
        other.registered = copy.deepcopy(self.registered)
        return other


def derived_uuid(*parts: Any) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "|".join(str(p).lower() for p in parts)))
