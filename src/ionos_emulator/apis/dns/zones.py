"""Primary zones, secondary zones with their zone transfers, and the quota."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

from ...engine import clock, listing
from ...engine.change import key
from ...engine.errors import conflict, invalid
from ...gateway.context import Ctx, Reply
from ...store import Row, Store
from ..product import load, success
from . import names, rdata
from .model import (
    DNS,
    SECONDARY,
    ZONE,
    check_quota,
    check_unique_zone_name,
    count_change,
    quota_limits,
    quota_usage,
    transfer_port,
)

log = logging.getLogger("ionos_emulator.dns")

TRANSFER_TIMEOUT = 2.0  # seconds per primary and message
TRANSFER_LIFETIME = 6.0  # seconds per primary in all
TRANSFER_OK, TRANSFER_FAILED, TRANSFER_RUNNING = "OK", "FAILED", "IN_PROGRESS"


# -- primary and secondary zones ------------------------------------------------------------------------
# Both are plain resources of the engine (PUT creates under the client's id or replaces); their names are
# unique together and fixed once created, and a replacement counts as a change of the zone (SOA serial).


def _zone_prepare(what: str, kind: str, quota_key: str, fields):
    """The prepare hook of a zone kind; `fields(props)` checks and returns what the kind adds to the name."""

    def prepare(ctx: Ctx, parent, props: dict, old: Row | None) -> dict:
        name = rdata.clean_zone_name(props.get("zoneName"))
        check_unique_zone_name(ctx, name, old.id if old else None)
        out = {"zoneName": name, **fields(props)}
        if props.get("description") is not None:
            out["description"] = props["description"]
        if old is None:  # the name index is built (check_unique_zone_name above)
            names.check_owner(ctx.store, ctx.tenant, kind, name)  # one contract per name and subtree
            check_quota(ctx, quota_key)
            return out
        if not rdata.same_name(name, old.props["zoneName"]):
            raise invalid(
                "properties.zoneName",
                f"cannot be changed (the {what} is '{old.props['zoneName']}'); create a new one instead",
            )
        out["zoneName"] = old.props["zoneName"]
        count_change(ctx, old)
        return out

    return prepare


def _primary_fields(props: dict) -> dict:
    return {"enabled": True if props.get("enabled") is None else props["enabled"]}


def _secondary_fields(props: dict) -> dict:
    ips = props.get("primaryIps")
    if not isinstance(ips, list) or not ips:
        raise invalid("properties.primaryIps", "must list at least one IP address")
    for i, ip in enumerate(ips):
        try:
            ipaddress.ip_address(ip)
        except (ValueError, TypeError):
            raise invalid(f"properties.primaryIps[{i}]", f"must be an IPv4 or IPv6 address, got {ip!r}") from None
    return {"primaryIps": list(ips)}


ZONE.prepare = _zone_prepare("zone", ZONE.name, "zones", _primary_fields)
SECONDARY.prepare = _zone_prepare("secondary zone", SECONDARY.name, "secondaryZones", _secondary_fields)
UNINDEX = "dns.unindex"  # the effect that drops a deleted zone from the name index when the deletion completes


def _index(ctx: Ctx, row: Row, change) -> None:
    names.add(ctx.store, row)


def _secondary_after(ctx: Ctx, row: Row, change) -> None:
    names.add(ctx.store, row)
    start_transfer(ctx.store, ctx.tenant, row)  # a secondary zone transfers once created or replaced


def _unindex_when_deleted(ctx: Ctx, row: Row, change) -> None:
    change.effect(UNINDEX, key(row), zoneName=row.props["zoneName"])


ZONE.after, SECONDARY.after = _index, _secondary_after
ZONE.delete = SECONDARY.delete = _unindex_when_deleted
DNS.effects[UNINDEX] = lambda settings: (
    lambda store, eff, ts: names.remove(store, eff["tenant"], eff["id"], eff["zoneName"])
)


@DNS.handler("secondaryzonesAxfrGet")
def axfr_status(ctx: Ctx) -> Reply:
    row = load(ctx, SECONDARY, ctx.params["secondaryZoneId"])
    status = (row.x.get("transfer") or {}).get("status") or [
        {"primaryIp": ip, "status": TRANSFER_RUNNING} for ip in row.props.get("primaryIps") or []
    ]
    return Reply(success(ctx, 202), {"type": "collection", "items": status})


@DNS.handler("secondaryzonesAxfrPut")
def axfr_start(ctx: Ctx) -> Reply:
    row = load(ctx, SECONDARY, ctx.params["secondaryZoneId"])
    if row.meta.get("state") == "DESTROYING":
        raise conflict("the secondary zone is being deleted")
    start_transfer(ctx.store, ctx.tenant, row)
    return Reply(success(ctx, 202), {})


@DNS.handler("secondaryzonesRecordsGet")
def secondary_records(ctx: Ctx) -> Reply:
    row = load(ctx, SECONDARY, ctx.params["secondaryZoneId"])
    zone_name = row.props["zoneName"]
    items = []
    for rec in (row.x.get("transfer") or {}).get("records") or []:
        view = transferred_view(rec, zone_name)
        if view is not None:
            items.append(
                {
                    "type": "record",
                    "metadata": {"fqdn": rdata.fqdn(view["name"], zone_name), "zoneId": row.id, "rootName": zone_name},
                    "properties": view,
                }
            )
    page, offset, limit, total = listing.select(items, lambda v: v, ctx.query, paginated=True, default_limit=100)
    href = f"/{row.path}/records"
    return Reply(
        200,
        {
            "id": row.id,
            "type": "collection",
            "href": href,
            "metadata": {"primaryIps": list(row.props.get("primaryIps") or [])},
            "items": page,
            "offset": offset,
            "limit": limit,
            "_links": listing.links(href, offset, limit, total),
        },
    )


def transferred_view(rec: dict, zone_name: str) -> dict | None:
    """A transferred record as the API shows it; types outside the API's enum (SOA, PTR, ...) are served by
    the DNS server but not listed, since the clients reject unknown types."""
    if rec["type"] not in rdata.RECORD_TYPES:
        return None
    rd = rdata.parse(rec["type"], rec["rdata"], zone_name)
    content, priority = rdata.from_rdata(rec["type"], rd)
    out = {
        "name": rec["name"],
        "type": rec["type"],
        "content": content,
        "ttl": min(604800, max(60, int(rec["ttl"]))),
        "enabled": True,
    }
    if priority is not None:
        out["priority"] = priority
    return out


# -- zone transfers -------------------------------------------------------------------------------------
# A transfer asks each primary for the zone by AXFR (dnspython), on a thread of its own: a primary that does
# not answer holds that thread for TRANSFER_LIFETIME, never a request. Its result is written in a transaction
# of its own, after the change that started it has committed (that one holds the write lock until then).

_TRANSFERS = ThreadPoolExecutor(2, thread_name_prefix="dns-transfer")


def start_transfer(store: Store, tenant: int, row: Row) -> None:
    """Marks the transfer as running (inside the caller's transaction) and starts it."""
    ips = list(row.props.get("primaryIps") or [])
    state = dict(row.x.get("transfer") or {})
    state["status"] = [{"primaryIp": ip, "status": TRANSFER_RUNNING} for ip in ips]
    # only the latest attempt may write its result (an older one may finish after a newer one started)
    state["attempt"] = attempt = str(uuid.uuid4())
    row.x["transfer"] = state
    store.update(row)
    zone_id, name = row.id, row.props["zoneName"]

    def run() -> None:
        try:
            apply_transfer(store, tenant, zone_id, attempt, fetch_all(name, ips, transfer_port()))
        except Exception:  # a transfer must never take the emulator down
            log.exception("zone transfer of %s failed", name)

    _TRANSFERS.submit(run)


def fetch_all(zone_name: str, ips: list[str], port: int) -> list[dict]:
    return [fetch(zone_name, ip, port) for ip in ips]


def fetch(zone_name: str, ip: str, port: int) -> dict:
    import dns.name  # here: dnspython costs about 7 MB and 40 ms of a start-up (rdata.py)
    import dns.query
    import dns.rdatatype
    import dns.zone

    origin = dns.name.from_text(zone_name)
    zone = dns.zone.Zone(origin, relativize=False)
    try:
        dns.query.inbound_xfr(ip, zone, port=port, timeout=TRANSFER_TIMEOUT, lifetime=TRANSFER_LIFETIME)
        soa = zone.get_soa()
    except Exception as e:  # whatever went wrong with this primary, the transfer from it failed
        return {
            "primaryIp": ip,
            "status": TRANSFER_FAILED,
            "errorMessage": f"zone transfer from {ip} port {port} failed: {type(e).__name__}: {e}".strip(),
        }
    records = []
    for name, rds in zone.iterate_rdatasets():
        rel = name.relativize(origin).to_text()
        for rd in rds:
            records.append(
                {
                    "name": "" if rel == "@" else rel,
                    "type": dns.rdatatype.to_text(rds.rdtype),
                    "ttl": rds.ttl,
                    "rdata": rd.to_text(),
                }
            )
    return {"primaryIp": ip, "status": TRANSFER_OK, "serial": soa.serial, "records": records}


def apply_transfer(store, tenant: int, zone_id: str, attempt: str, results: list[dict]) -> None:
    with store.tx():
        row = store.get(tenant, SECONDARY.name, "", zone_id)
        state = dict(row.x.get("transfer") or {}) if row is not None else {}
        if state.get("attempt") != attempt:
            return
        state["status"] = [{k: r[k] for k in ("primaryIp", "status", "errorMessage") if k in r} for r in results]
        best = max((r for r in results if r["status"] == TRANSFER_OK), key=lambda r: r["serial"], default=None)
        if best is not None:  # a failed transfer keeps what was transferred before, as a secondary does
            when = clock.iso(clock.Clock(store).now())
            state.update(records=best["records"], serial=best["serial"], transferredAt=when)
        row.x["transfer"] = state
        store.update(row)


# -- quota ------------------------------------------------------------------------------------------------


@DNS.handler("quotaGet")
def quota(ctx: Ctx) -> Reply:
    return Reply(200, {"quotaUsage": quota_usage(ctx), "quotaLimits": quota_limits(ctx)})
