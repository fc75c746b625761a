"""Records of primary zones: per-zone CRUD, the contract-wide /records listing, and the conflict rules."""
from __future__ import annotations

import dataclasses
import uuid

from starlette.datastructures import QueryParams

from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import ProductChange, load, new_row, page, properties, render, replace, rows_of, success
from . import rdata
from .model import DNS, RECORD, ZONE, check_quota, count_change, load_zone


def record_meta(row: Row, zone: Row) -> None:
    row.meta.update(fqdn=rdata.fqdn(row.props["name"], zone.props["zoneName"]), zoneId=zone.id)


def _same_owner(a: str, b: str) -> bool:
    return (rdata.is_apex(a) and rdata.is_apex(b)) or a.rstrip(".").lower() == b.rstrip(".").lower()


def _is_spf(props: dict) -> bool:
    return props["type"] == "TXT" and props["content"].strip().strip('"').lower().startswith("v=spf1")


def check_conflicts(zone: Row, props: dict, others: list[Row]) -> None:
    """409 when the record cannot coexist with the zone's other records (RFC 1034 §3.6.2 for CNAMEs)."""
    name, zone_name = props["name"], zone.props["zoneName"]
    same = [r for r in others if _same_owner(r.props["name"], name)]
    if same and props["type"] == "CNAME":
        raise ApiError(409, f"a CNAME record cannot coexist with the other records of "
                            f"'{rdata.fqdn(name, zone_name)}' ({same[0].props['type']} {same[0].id})")
    cname = next((r for r in same if r.props["type"] == "CNAME"), None)
    if cname is not None:
        raise ApiError(409, f"'{rdata.fqdn(name, zone_name)}' has a CNAME record ({cname.id}); no other record "
                            f"can coexist with it")
    wire = rdata.record_rdata(props, zone_name)
    for r in same:
        if r.props["type"] == props["type"] and rdata.record_rdata(r.props, zone_name) == wire:
            raise ApiError(409, f"the same {props['type']} record exists for '{rdata.fqdn(name, zone_name)}' "
                                f"({r.id})")
        if _is_spf(props) and _is_spf(r.props):
            raise ApiError(409, f"'{rdata.fqdn(name, zone_name)}' has an SPF TXT record already ({r.id}); join them "
                                f"into one")


def _others(ctx: Ctx, zone: Row, self_id: str | None) -> list[Row]:
    return [r for r in rows_of(ctx, RECORD, zone) if r.id != self_id and r.meta.get("state") != "DESTROYING"]


def checked(ctx: Ctx, zone: Row, props: dict, self_id: str | None = None, others: list[Row] | None = None) -> dict:
    props = rdata.check_record(props, zone.props["zoneName"])
    check_conflicts(zone, props, _others(ctx, zone, self_id) if others is None else others)
    return props


def create_record(ctx: Ctx, zone: Row, props: dict, ch: ProductChange, id: str | None = None) -> Row:
    """Inserts a checked record through the change (PROVISIONING, AVAILABLE when it completes)."""
    row = new_row(ctx, RECORD, zone, props, id)
    record_meta(row, zone)
    ch.created(RECORD, row)
    return row


def _update(ctx: Ctx, row: Row, props: dict) -> dict:
    zone = load_zone(ctx, row.parent)
    props = checked(ctx, zone, props, row.id)
    row.props.update(props)  # so that the metadata below describes the new name
    record_meta(row, zone)
    count_change(ctx, zone)
    return props


RECORD.prepare = lambda ctx, parent, props, old: props if old is None else _update(ctx, old, props)


@DNS.handler("zonesRecordsGet")
def zone_records(ctx: Ctx) -> Reply:
    zone = load(ctx, ZONE, ctx.params["zoneId"])
    return Reply(200, page(ctx, RECORD, rows_of(ctx, RECORD, zone), f"{zone.path}/records"))


@DNS.handler("zonesRecordsFindById")
def record_get(ctx: Ctx) -> Reply:
    zone = load(ctx, ZONE, ctx.params["zoneId"])
    return Reply(200, render(ctx, RECORD, load(ctx, RECORD, ctx.params["recordId"], zone)))


@DNS.handler("zonesRecordsPost")
def record_post(ctx: Ctx) -> Reply:
    zone = load_zone(ctx, ctx.params["zoneId"])
    props = checked(ctx, zone, properties(ctx))
    check_quota(ctx, "records")
    with ProductChange(ctx, RECORD) as ch:
        row = create_record(ctx, zone, props, ch)
        count_change(ctx, zone)
    return Reply(success(ctx, 202), render(ctx, RECORD, row))


@DNS.handler("zonesRecordsPut")
def record_put(ctx: Ctx) -> Reply:
    """Replaces the record with the given id, or creates it under that id."""
    zone = load_zone(ctx, ctx.params["zoneId"])
    rid = ctx.params["recordId"]
    row = ctx.store.get(ctx.tenant, RECORD.name, zone.id, rid)
    if row is not None:
        return Reply(success(ctx, 202), render(ctx, RECORD, replace(ctx, RECORD, row, properties(ctx))))
    try:
        uuid.UUID(rid)
    except ValueError:
        raise ApiError(422, f"the id '{rid}' of a new record must be a UUID") from None
    if ctx.store.find(ctx.tenant, RECORD.name, rid) is not None:
        raise ApiError(409, f"record '{rid}' belongs to another zone")
    props = checked(ctx, zone, properties(ctx))
    check_quota(ctx, "records")
    with ProductChange(ctx, RECORD) as ch:
        row = create_record(ctx, zone, props, ch, rid)
        count_change(ctx, zone)
    return Reply(success(ctx, 202), render(ctx, RECORD, row))


@DNS.handler("zonesRecordsDelete")
def record_delete(ctx: Ctx) -> Reply:
    zone = load(ctx, ZONE, ctx.params["zoneId"])
    row = load(ctx, RECORD, ctx.params["recordId"], zone)
    with ProductChange(ctx, RECORD) as ch:
        count_change(ctx, zone)
        ch.deleting(RECORD, row)
    return Reply(success(ctx, 202), {})


# Filters of /records that must match exactly (the engine's generic filters match substrings, and
# filter.type=A must not find AAAA, CAA or ALIAS records).
EXACT_FILTERS = {"filter.zoneId": lambda r: r.parent, "filter.type": lambda r: r.props.get("type"),
                 "filter.state": lambda r: r.meta.get("state")}


@DNS.handler("recordsGet")
def all_records(ctx: Ctx) -> Reply:
    """Records of every primary zone of the contract; filter.name matches a part of the name."""
    rows = rows_of(ctx, RECORD)
    for param, value_of in EXACT_FILTERS.items():
        wanted = ctx.q(param)
        if wanted:
            rows = [r for r in rows if str(value_of(r) or "").lower() == wanted.lower()]
    name = ctx.q("filter.name")
    if name:
        rows = [r for r in rows if name.lower() in r.props.get("name", "").lower()]
    rest = [(k, v) for k, v in ctx.query.multi_items() if k not in EXACT_FILTERS and k != "filter.name"]
    return Reply(200, page(dataclasses.replace(ctx, query=QueryParams(rest)), RECORD, rows, "records"))
