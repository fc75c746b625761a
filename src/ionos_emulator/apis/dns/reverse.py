"""Reverse DNS records (IP -> name) for addresses the contract owns: IPv4 addresses of its IP blocks, IPv6
addresses inside the IPv6 blocks of its data centers, LANs and NICs. Synchronous (201/200, no state)."""
from __future__ import annotations

import dataclasses
import ipaddress
import uuid

from starlette.datastructures import QueryParams

from ...engine import clock
from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import load, new_row, page, properties, render, rows_of, success
from . import rdata
from .model import DNS, REVERSE, check_quota


def parse_ip(value, attr: str = "properties.ip"):
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise rdata.bad(attr, f"must be an IPv4 or IPv6 address, got {value!r}") from None


def owned(ctx: Ctx, ip) -> bool:
    store, t = ctx.store, ctx.tenant
    if ip.version == 4:
        return any(str(ip) in (b.props.get("ips") or []) for b in store.list(t, "ipblock"))
    blocks = [r.props.get("ipv6CidrBlock") for kind in ("datacenter", "lan", "nic") for r in store.list(t, kind)]
    blocks += [f"{a}/128" for n in store.list(t, "nic") for a in n.props.get("ipv6Ips") or []]
    for block in blocks:
        try:
            if block and ip in ipaddress.ip_network(block, strict=False):
                return True
        except ValueError:
            continue
    return False


def _checked(ctx: Ctx, props: dict, self_id: str | None) -> dict:
    ip = parse_ip(props.get("ip"))
    name = rdata.check_host(props.get("name") or "", "properties.name") if isinstance(props.get("name"), str) \
        else None
    if not name:
        raise rdata.bad("properties.name", "is required")
    for r in rows_of(ctx, REVERSE):
        if r.id != self_id and parse_ip(r.props["ip"]) == ip:
            raise ApiError(409, f"the IP {ip} has a reverse record already ({r.id})")
    if not owned(ctx, ip):
        raise ApiError(409, f"the IP {ip} is not available for a reverse record: it is not an address of this "
                            f"contract's IP blocks or IPv6 networks")
    out = {"name": props["name"], "ip": props["ip"]}
    if props.get("description") is not None:
        out["description"] = props["description"]
    return out


def view(ctx: Ctx, row: Row) -> dict:
    out = render(ctx, REVERSE, row)
    out["metadata"].pop("state", None)  # reverse records have no state
    return out


@DNS.handler("reverserecordsGet")
def reverse_list(ctx: Ctx) -> Reply:
    rows = rows_of(ctx, REVERSE)
    wanted = [parse_ip(v, "filter.recordIp") for raw in ctx.query.getlist("filter.recordIp")
              for v in raw.split(",") if v.strip()]
    if wanted:
        rows = [r for r in rows if parse_ip(r.props["ip"]) in wanted]
    rest = QueryParams([(k, v) for k, v in ctx.query.multi_items() if k != "filter.recordIp"])
    body = page(dataclasses.replace(ctx, query=rest), REVERSE, rows, "reverserecords")
    for item in body["items"]:
        item["metadata"].pop("state", None)
    return Reply(200, body)


@DNS.handler("reverserecordsPost")
def reverse_post(ctx: Ctx) -> Reply:
    props = _checked(ctx, properties(ctx), None)
    check_quota(ctx, "reverseRecords")
    row = new_row(ctx, REVERSE, None, props)
    row.meta.pop("state", None)
    ctx.store.insert(row)
    return Reply(success(ctx, 201), view(ctx, row))


@DNS.handler("reverserecordsFindById")
def reverse_get(ctx: Ctx) -> Reply:
    return Reply(200, view(ctx, load(ctx, REVERSE, ctx.params["reverserecordId"])))


@DNS.handler("reverserecordsPut")
def reverse_put(ctx: Ctx) -> Reply:
    rid = ctx.params["reverserecordId"]
    row = ctx.store.get(ctx.tenant, REVERSE.name, "", rid)
    props = _checked(ctx, properties(ctx), rid)
    if row is None:
        try:
            uuid.UUID(rid)
        except ValueError:
            raise ApiError(422, f"the id '{rid}' of a new reverse record must be a UUID") from None
        check_quota(ctx, "reverseRecords")
        row = new_row(ctx, REVERSE, None, props, rid)
        row.meta.pop("state", None)
        ctx.store.insert(row)
    else:
        row.doc["properties"] = props
        p = ctx.principal
        row.meta.update(lastModifiedDate=clock.iso_precise(ctx.now), lastModifiedBy=p.email,
                        lastModifiedByUserId=p.user_id)
        ctx.store.update(row)
    return Reply(success(ctx, 200), view(ctx, row))


@DNS.handler("reverserecordsDelete")
def reverse_delete(ctx: Ctx) -> Reply:
    row = load(ctx, REVERSE, ctx.params["reverserecordId"])
    ctx.store.delete_tree(row)
    return Reply(success(ctx, 202), {})
