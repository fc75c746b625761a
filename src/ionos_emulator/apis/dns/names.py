"""The zone-name index, across contracts: who owns a zone name, and where the DNS server finds the zone of a
query name without scanning every zone of every contract.

One key/value entry per zone name, `dns.zone:<labels reversed>.` ("com.example." for example.com), holds the
zones of that name (tenant, kind, id). Reversing the labels puts a name's subtree under one key prefix, so the
zones below a name are one range read, and the zones above it one read per label. Entries are hints checked
against the stored rows (a zone that is gone or being deleted does not count), written in the transaction that
creates the zone and dropped when its deletion completes (the `dns.unindex` effect).

Ownership (as in the real Cloud DNS, where a zone name is delegated to one customer): a primary zone's name and
its subtree belong to one contract; another contract's primary zone of the same name, below it or above it
answers 409. The same holds among secondary zones. A secondary zone may copy another contract's primary (that
is what zone transfers are for), but never answers in its place: the DNS server prefers primary zones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ...engine.errors import conflict
from ...store import Row, Store
from . import rdata

PREFIX = "dns.zone:"
BUILT = "dns.zone-index"  # set once the index holds every zone (built from the rows on first use)


def key(name: str) -> str:
    labels = [label for label in name.rstrip(".").lower().split(".") if label]
    return PREFIX + "".join(label + "." for label in reversed(labels))


def ancestors(name: str) -> Iterator[str]:
    """The name and every name above it, closest first (example.com: example.com, com)."""
    labels = [label for label in name.rstrip(".").lower().split(".") if label]
    for i in range(len(labels)):
        yield ".".join(labels[i:])


def add(store: Store, row: Row) -> None:
    """Index a zone (inside the transaction that creates it)."""
    k = key(row.props["zoneName"])
    refs = [r for r in store.kv_get(k) or [] if r["id"] != row.id]
    store.kv_set(k, refs + [{"tenant": row.tenant, "kind": row.kind, "id": row.id}])


def remove(store: Store, tenant: int, zone_id: str, name: str) -> None:
    k = key(name)
    refs = [r for r in store.kv_get(k) or [] if not (r["id"] == zone_id and r["tenant"] == tenant)]
    if refs:
        store.kv_set(k, refs)
    else:
        store.kv_delete(k)


def ensure_built(store: Store, tenants: Callable[[], list[int]], kinds: tuple[str, ...]) -> None:
    """A data dir from before the index: every zone of every contract (`tenants()`) indexed, once."""
    if store.kv_get(BUILT):
        return
    with store.tx():
        if store.kv_get(BUILT):
            return
        for tenant in tenants():
            for kind in kinds:
                for row in store.list(tenant, kind):
                    add(store, row)
        store.kv_set(BUILT, True)


def live(store: Store, ref: dict) -> Row | None:
    """The zone an entry names, unless it is gone or being deleted."""
    row = store.get(ref["tenant"], ref["kind"], "", ref["id"])
    return None if row is None or row.meta.get("state") == "DESTROYING" else row


def zones_named(store: Store, name: str) -> list[Row]:
    return [row for ref in store.kv_get(key(name)) or [] if (row := live(store, ref)) is not None]


def zones_below(store: Store, name: str) -> list[Row]:
    k = key(name)
    return [
        row for entry, refs in store.kv_prefix(k) if entry != k for ref in refs if (row := live(store, ref)) is not None
    ]


def check_owner(store: Store, tenant: int, kind: str, name: str) -> None:
    """409 when another contract holds a zone of this kind at the name, above it or below it."""
    for above in ancestors(name):
        for row in zones_named(store, above):
            if row.tenant != tenant and row.kind == kind:
                where = "" if rdata.same_name(above, name) else f" (it holds '{row.props['zoneName']}' above it)"
                raise conflict(f"the zone name '{name}' belongs to another contract{where}")
    for row in zones_below(store, name):
        if row.tenant != tenant and row.kind == kind:
            raise conflict(
                f"the zone name '{name}' cannot be created: another contract holds '{row.props['zoneName']}' below it"
            )
