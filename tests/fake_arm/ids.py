"""Resource ids and request paths.

ARM paths are `/subscriptions/{s}[/resourceGroups/{rg}]` followed by provider blocks,
`/providers/{Namespace}/{type}/{name}[/{childType}/{childName}...]`. A second provider block
makes an extension resource (a role assignment on a storage container). An odd segment at the
end of a block is a collection (`.../imageTemplates`, `.../runOutputs`) or an action
(`.../run`, `.../whatIf`). All comparisons are case-insensitive; `key()` is the lookup key.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Block:
    namespace: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (type segment, name)
    tail: str | None = None  # odd trailing segment: a collection or an action

    @property
    def full_type(self) -> str:
        return "/".join([self.namespace] + [t for t, _ in self.pairs])


@dataclass
class ParsedPath:
    subscription: str | None = None
    resource_group: str | None = None
    blocks: list[Block] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)  # segments outside the grammar above

    @property
    def last(self) -> Block | None:
        return self.blocks[-1] if self.blocks else None


def segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def split_path(path: str) -> ParsedPath:
    seg = segments(path)
    out = ParsedPath()
    i = 0
    if len(seg) >= 2 and seg[0].lower() == "subscriptions":
        out.subscription = seg[1]
        i = 2
    elif seg and seg[0].lower() == "subscriptions":
        out.rest = seg[1:]
        return out
    if i + 1 < len(seg) and seg[i].lower() == "resourcegroups":
        out.resource_group = seg[i + 1]
        i += 2
    while i < len(seg) and seg[i].lower() == "providers":
        if i + 1 >= len(seg):
            out.rest = seg[i:]
            return out
        block = Block(seg[i + 1])
        i += 2
        while i < len(seg) and seg[i].lower() != "providers":
            if i + 1 < len(seg) and seg[i + 1].lower() != "providers":
                block.pairs.append((seg[i], seg[i + 1]))
                i += 2
            else:
                block.tail = seg[i]
                i += 1
        out.blocks.append(block)
        if block.tail is not None and i < len(seg):
            out.rest = seg[i:]
            return out
    out.rest = seg[i:]
    return out


def key(resource_id: str) -> str:
    """Lookup key: ARM ids are case-insensitive."""
    return "/" + "/".join(segments(resource_id)).lower()


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def scope_id(sub: str | None, rg: str | None) -> str:
    if sub is None:
        return ""
    return rg_id(sub, rg) if rg else f"/subscriptions/{sub}"


def join_id(scope: str, full_type: str, names: list[str]) -> str:
    """`{scope}/providers/{ns}/{t1}/{n1}/{t2}/{n2}` from 'ns/t1/t2' and [n1, n2]."""
    ns, *types = full_type.split("/")
    if len(types) != len(names):
        raise ValueError(f"type {full_type} needs {len(types)} name(s), got {names}")
    parts = [f"{scope.rstrip('/')}/providers/{ns}"]
    for t, n in zip(types, names):
        parts.append(f"{t}/{n}")
    return "/".join(parts)


@dataclass
class Rid:
    """One concrete resource id: its scope (where the last provider block hangs), type, names."""

    scope: str  # "/subscriptions/s/resourceGroups/rg", "/subscriptions/s", or a parent resource id
    full_type: str  # Namespace/type[/child...]
    names: list[str]
    subscription: str | None
    resource_group: str | None

    @property
    def id(self) -> str:
        return join_id(self.scope, self.full_type, self.names)

    @property
    def name(self) -> str:
        return "/".join(self.names)

    @property
    def leaf_name(self) -> str:
        return self.names[-1]

    @property
    def namespace(self) -> str:
        return self.full_type.split("/", 1)[0]

    @property
    def is_extension(self) -> bool:
        """Hangs below another resource's provider block (not directly under a sub/rg)."""
        return "/providers/" in self.scope.lower() + "/"

    @property
    def parent(self) -> "Rid | None":
        """The parent resource of a child type (galleries/images -> galleries)."""
        if len(self.names) < 2:
            return None
        return Rid(self.scope, self.full_type.rsplit("/", 1)[0], self.names[:-1],
                   self.subscription, self.resource_group)

    def key(self) -> str:
        return key(self.id)


def parse_id(resource_id: str) -> Rid | None:
    """A resource id as an Rid, or None when it is not one (a collection, a bare scope...)."""
    parsed = split_path(resource_id)
    if not parsed.blocks or parsed.rest or parsed.last.tail is not None or not parsed.last.pairs:
        return None
    for block in parsed.blocks[:-1]:
        if block.tail is not None or not block.pairs:
            return None
    scope = scope_id(parsed.subscription, parsed.resource_group)
    for block in parsed.blocks[:-1]:
        scope = join_id(scope, block.full_type, [n for _, n in block.pairs])
    last = parsed.last
    return Rid(scope, last.full_type, [n for _, n in last.pairs], parsed.subscription, parsed.resource_group)


def scope_chain(resource_id: str) -> list[str]:
    """Every scope a role assignment could be inherited from, broadest first:
    /subscriptions/s, its resource group, then each resource (and parent) on the path."""
    parsed = split_path(resource_id)
    chain: list[str] = []
    if parsed.subscription is None:
        return chain
    scope = f"/subscriptions/{parsed.subscription}"
    chain.append(scope)
    if parsed.resource_group:
        scope = rg_id(parsed.subscription, parsed.resource_group)
        chain.append(scope)
    for block in parsed.blocks:
        prefix = f"{scope}/providers/{block.namespace}"
        for t, n in block.pairs:
            prefix = f"{prefix}/{t}/{n}"
            chain.append(prefix)
        scope = prefix
    return chain
