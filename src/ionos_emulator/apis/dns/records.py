"""Records of primary zones: the rules of their CRUD (hooks of the engine), the contract-wide /records
listing, and the conflict rules."""

from __future__ import annotations

from ...engine.errors import conflict, limit_exceeded
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import ProductChange, filtered, new_row, page, rows_of
from . import rdata
from .model import DNS, MAX_RECORDS_PER_ZONE, RECORD, check_quota, count_change, live, zone_of


def check_zone_size(ctx: Ctx, zone: Row, adding: int = 1, replacing: int = 0) -> None:
    """422 when the zone would hold more than MAX_RECORDS_PER_ZONE records."""
    held = ctx.store.count(ctx.tenant, RECORD.name, zone.id) - replacing
    if held + adding > MAX_RECORDS_PER_ZONE:
        raise limit_exceeded(
            f"a zone holds at most {MAX_RECORDS_PER_ZONE} records; '{zone.props['zoneName']}' has {held} and "
            f"{adding} more were asked for"
        )


def owner_key(name: str) -> str:
    """A record's owner name as stored in its row's `link`: the records of one name are one indexed read
    (store.list(..., link=...)), so checking a new record costs the same in a zone of ten or ten thousand."""
    return "@" if rdata.is_apex(name) else name.rstrip(".").lower()


def record_meta(row: Row, zone: Row) -> None:
    row.meta.update(fqdn=rdata.fqdn(row.props["name"], zone.props["zoneName"]), zoneId=zone.id)
    row.link = owner_key(row.props["name"])


def _same_owner(a: str, b: str) -> bool:
    return owner_key(a) == owner_key(b)


def _is_spf(props: dict) -> bool:
    return props["type"] == "TXT" and props["content"].strip().strip('"').lower().startswith("v=spf1")


def check_conflicts(zone: Row, props: dict, others: list[Row]) -> None:
    """409 when the record cannot coexist with the zone's other records (RFC 1034 §3.6.2 for CNAMEs)."""
    name, zone_name = props["name"], zone.props["zoneName"]
    same = [r for r in others if _same_owner(r.props["name"], name)]
    if same and props["type"] == "CNAME":
        raise conflict(
            f"a CNAME record cannot coexist with the other records of "
            f"'{rdata.fqdn(name, zone_name)}' ({same[0].props['type']} {same[0].id})"
        )
    cname = next((r for r in same if r.props["type"] == "CNAME"), None)
    if cname is not None:
        raise conflict(
            f"'{rdata.fqdn(name, zone_name)}' has a CNAME record ({cname.id}); no other record can coexist with it"
        )
    wire = rdata.record_rdata(props, zone_name)
    for r in same:
        if r.props["type"] == props["type"] and rdata.record_rdata(r.props, zone_name) == wire:
            raise conflict(f"the same {props['type']} record exists for '{rdata.fqdn(name, zone_name)}' ({r.id})")
        if _is_spf(props) and _is_spf(r.props):
            raise conflict(
                f"'{rdata.fqdn(name, zone_name)}' has an SPF TXT record already ({r.id}); join them into one"
            )


def _same_name(ctx: Ctx, zone: Row, name: str, self_id: str | None) -> list[Row]:
    """The zone's live records of this owner name (and any stored before rows carried it, link '')."""
    rows = [
        r
        for link in (owner_key(name), "")
        for r in ctx.store.list(ctx.tenant, RECORD.name, zone.id, link=link)
        if r.scope == ctx.api.location
    ]
    return [r for r in rows if r.id != self_id and r.meta.get("state") != "DESTROYING"]


def checked(
    ctx: Ctx, zone: Row, props: dict, self_id: str | None = None, others: dict[str, list[Row]] | None = None
) -> dict:
    """The record's properties checked, and against the zone's records of its name (or `others`, the records
    of a zone file read so far, by owner key)."""
    props = rdata.check_record(props, zone.props["zoneName"])
    same = _same_name(ctx, zone, props["name"], self_id) if others is None else others.get(owner_key(props["name"]), [])
    check_conflicts(zone, props, same)
    return props


def create_record(ctx: Ctx, zone: Row, props: dict, ch: ProductChange) -> Row:
    """Inserts a checked record through the change (PROVISIONING, AVAILABLE when it completes)."""
    row = new_row(ctx, RECORD, zone, props)
    record_meta(row, zone)
    ch.created(RECORD, row)
    return row


# -- the engine's hooks: records of /zones/{zoneId}/records are plain resources -------------------------


def _prepare(ctx: Ctx, zone: Row, props: dict, old: Row | None) -> dict:
    live(zone)
    if old is None:
        rid = ctx.params.get("recordId")  # a PUT under the client's id: record ids are unique across zones
        if rid and ctx.store.find(ctx.tenant, RECORD.name, rid) is not None:
            raise conflict(f"record '{rid}' belongs to another zone")
    props = checked(ctx, zone, props, old.id if old else None)
    if old is None:
        check_quota(ctx, "records")
        check_zone_size(ctx, zone)
    return props


def _after(ctx: Ctx, row: Row, change) -> None:
    """A new or replaced record: its name in the metadata, a change of its zone."""
    zone = zone_of(ctx, row)
    record_meta(row, zone)
    ctx.store.update(row)
    count_change(ctx, zone)


RECORD.prepare, RECORD.after = _prepare, _after
RECORD.delete = lambda ctx, row, change: count_change(ctx, zone_of(ctx, row))


# Filters of /records that must match exactly (the engine's generic filters match substrings, and
# filter.type=A must not find AAAA, CAA or ALIAS records); filter.name matches a part of the name only.
def _exact(value_of):
    return lambda ctx, rows, values: [
        r for r in rows if str(value_of(r) or "").lower() in {v.strip().lower() for v in values}
    ]


ALL_RECORDS_FILTERS = {
    "filter.zoneId": _exact(lambda r: r.parent),
    "filter.type": _exact(lambda r: r.props.get("type")),
    "filter.state": _exact(lambda r: r.meta.get("state")),
    "filter.name": lambda ctx, rows, values: [
        r for r in rows if any(v.strip().lower() in r.props.get("name", "").lower() for v in values)
    ],
}


@DNS.handler("recordsGet")
def all_records(ctx: Ctx) -> Reply:
    """Records of every primary zone of the contract (a listing across zones, not a resource collection)."""
    ctx, rows = filtered(ctx, ALL_RECORDS_FILTERS, rows_of(ctx, RECORD))
    return Reply(200, page(ctx, RECORD, rows, "records"))
