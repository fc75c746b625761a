"""Reverse DNS records (IP -> name) for addresses the contract owns: IPv4 addresses of its IP blocks, IPv6
addresses inside the IPv6 blocks of its data centers, LANs and NICs. Plain resources of the engine, but
stateless: written at once (201/200), no state."""

from __future__ import annotations

import ipaddress

from ...engine.errors import conflict, invalid
from ...gateway.context import Ctx
from ...store import Row, Store
from . import rdata
from .model import REVERSE, check_quota


def parse_ip(value, attr: str = "properties.ip"):
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise invalid(attr, f"must be an IPv4 or IPv6 address, got {value!r}") from None


def ip_key(value) -> str:
    """A reverse record's address as kept in its row's `link` (one form per address: 2001:DB8:0::1 is
    2001:db8::1), so the records of one address are one indexed read."""
    return ipaddress.ip_address(value).compressed


def with_address(store: Store, tenant: int, ip) -> list[Row]:
    """The contract's reverse records of the address (and any stored before rows carried it, link '')."""
    key = ip_key(ip)
    legacy = [r for r in store.list(tenant, REVERSE.name, link="") if _same(r.props.get("ip"), key)]
    return store.list(tenant, REVERSE.name, link=key) + legacy


def _same(value, key: str) -> bool:
    try:
        return ip_key(value) == key
    except ValueError:  # stored under an older, looser rule
        return False


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


def _prepare(ctx: Ctx, parent, props: dict, old: Row | None) -> dict:
    """The checked properties of a new (old None) or replaced reverse record."""
    ip = parse_ip(props.get("ip"))
    name = rdata.check_host(props.get("name") or "", "properties.name") if isinstance(props.get("name"), str) else None
    if not name:
        raise invalid("properties.name", "is required")
    for r in with_address(ctx.store, ctx.tenant, ip):
        if (old is None or r.id != old.id) and r.scope == ctx.api.location:
            raise conflict(f"the IP {ip} has a reverse record already ({r.id})")
    if not owned(ctx, ip):
        raise conflict(
            f"the IP {ip} is not available for a reverse record: it is not an address of this "
            f"contract's IP blocks or IPv6 networks"
        )
    out = {"name": props["name"], "ip": props["ip"]}
    if props.get("description") is not None:
        out["description"] = props["description"]
    if old is None:
        check_quota(ctx, "reverseRecords")
    return out


def _with_ip(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    """filter.recordIp: the records of the addresses listed, compared as addresses (2001:db8::1 is 2001:DB8:0::1)."""
    wanted = [parse_ip(v, "filter.recordIp") for v in values]
    return [r for r in rows if parse_ip(r.props["ip"]) in wanted]


def _after(ctx: Ctx, row: Row, change) -> None:
    row.link = ip_key(row.props["ip"])
    ctx.store.update(row)


REVERSE.prepare, REVERSE.after = _prepare, _after
REVERSE.filters = {"filter.recordIp": _with_ip}
