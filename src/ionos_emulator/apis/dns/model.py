"""Cloud DNS: where it is served, its resource kinds, and the facts the API and the DNS server share."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from ...engine.errors import conflict, limit_exceeded, not_found
from ...gateway.context import Ctx
from ...store import Row
from ..product import PKind, Product, load
from . import names, rdata

DNS = Product(
    name="dns",
    spec_name="dns",
    config_name="dns",
    locations=("de/fra",),
    host="dns.{region}.ionos.com",
    privilege="accessAndManageDns",
)

# The name servers the zones are delegated to (the spec names them for primary and secondary zones).
PRIMARY_NAMESERVERS = ["ns-ic.ui-dns.com", "ns-ic.ui-dns.de", "ns-ic.ui-dns.org", "ns-ic.ui-dns.biz"]
SECONDARY_NAMESERVERS = ["nscs.ui-dns.com", "nscs.ui-dns.de", "nscs.ui-dns.org", "nscs.ui-dns.biz"]

# Quota of a contract unless its resourceLimits say otherwise (keys dnsZones, dnsSecondaryZones, dnsRecords,
# dnsReverseRecords); the numbers are those of the spec's example.
QUOTA_DEFAULTS = {"zones": 50000, "secondaryZones": 100000, "records": 100000, "reverseRecords": 100000}
QUOTA_KEYS = {
    "zones": "dnsZones",
    "secondaryZones": "dnsSecondaryZones",
    "records": "dnsRecords",
    "reverseRecords": "dnsReverseRecords",
}

# Records one zone may hold, through the API or a zone file. *Guess*: the real Cloud DNS documents no per-zone
# limit (only the contract's quota); 10,000 keeps a zone's DNS answers and zone file work bounded.
MAX_RECORDS_PER_ZONE = 10_000

# Port the primaries of secondary zones are asked for zone transfers on (53 in the real cloud; tests point
# it at a local server).
TRANSFER_PORT_ENV = "IONOS_EMULATOR_DNS_TRANSFER_PORT"


def transfer_port() -> int:
    return int(os.environ.get(TRANSFER_PORT_ENV) or 53)


def _zone_meta(ctx: Ctx, row: Row) -> dict:
    return {"nameservers": list(PRIMARY_NAMESERVERS)}


def _secondary_meta(ctx: Ctx, row: Row) -> dict:
    return {"nameservers": list(SECONDARY_NAMESERVERS)}


# Their rules are hooks set by the modules that hold them (zones, records, reverse).
# The real Cloud DNS answers a POST or PUT of a zone or record with the resource already AVAILABLE (served
# and counted in the SOA serial at once; a forced failure still removes it when its request completes), and
# renders a description that was never set as "" (docs/fidelity.md, "Cloud DNS as the real product").
READY = "AVAILABLE"  # the state a creation or replacement answers with
DESCRIBED = {"description": ""}
ZONE = PKind(
    DNS, "zone", "zone", "zones", meta=_zone_meta, delete_body={}, creating=READY, updating=READY,
    rendered_defaults=DESCRIBED,
)  # fmt: skip
SECONDARY = PKind(
    DNS, "secondaryzone", "secondaryzone", "secondaryzones", meta=_secondary_meta, delete_body={}, creating=READY,
    updating=READY, rendered_defaults=DESCRIBED,
)  # fmt: skip
RECORD = PKind(DNS, "record", "record", "records", parent=ZONE, delete_body={}, creating=READY, updating=READY)
# Reverse records are synchronous: 201/200 with the record as written, no state.
REVERSE = PKind(
    DNS, "reverserecord", "reverserecord", "reverserecords", delete_body={}, stateless=True, rendered_defaults=DESCRIBED
)
# DNSSEC keys of a zone: one row below the zone (so deleting the zone takes it), never rendered as a resource.
KEYS = PKind(DNS, "dnsseckeys", "dnsseckeys", "keys", parent=ZONE)


# -- the SOA serial ---------------------------------------------------------------------------------------
# A zone counts its changed rows in x["changes"] when a change is requested; the serial the DNS server shows
# is (zone creation second + changes - rows still being deleted), so it rises exactly when
# a change shows and never falls (a failed change also completes).


def count_change(ctx: Ctx, zone: Row, n: int = 1) -> None:
    zone.x["changes"] = int(zone.x.get("changes", 0)) + n
    ctx.store.update(zone)


def serial(zone: Row, pending: int) -> int:
    created = datetime.strptime(zone.meta["createdDate"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return (int(created.timestamp()) + int(zone.x.get("changes", 0)) - pending) % 2**32


# -- shared rules -----------------------------------------------------------------------------------------


def check_unique_zone_name(ctx: Ctx, name: str, self_id: str | None = None) -> None:
    """409 for a second zone of this name in the contract here; found through the zone-name index (names.py),
    not by loading every zone of the contract (a create would cost more with every zone made). Builds that
    index first if the data dir predates it (the zone prepare hook relies on that)."""
    tenants = lambda: [int(c["contractNumber"]) for c in ctx.identity.contracts()]
    names.ensure_built(ctx.store, tenants, (ZONE.name, SECONDARY.name))
    for ref in ctx.store.kv_get(names.key(name)) or []:
        if ref["tenant"] != ctx.tenant or ref["id"] == self_id:
            continue
        row = ctx.store.get(ctx.tenant, ref["kind"], "", ref["id"])
        if row is not None and row.scope == ctx.api.location and rdata.same_name(row.props.get("zoneName", ""), name):
            raise conflict(f"a zone named '{name}' already exists in this contract ({row.id})")


def quota_limits(ctx: Ctx) -> dict:
    limits = (ctx.identity.contract(ctx.tenant) or {}).get("resourceLimits") or {}
    return {k: int(limits.get(QUOTA_KEYS[k], v)) for k, v in QUOTA_DEFAULTS.items()}


def quota_usage(ctx: Ctx) -> dict:
    """Counted by the store (an index range each), not loaded: a check costs the same in a large contract."""
    count = lambda kind: ctx.store.count(ctx.tenant, kind.name, scope=ctx.api.location)
    return {
        "zones": count(ZONE),
        "secondaryZones": count(SECONDARY),
        "records": count(RECORD),
        "reverseRecords": count(REVERSE),
    }


def check_quota(ctx: Ctx, what: str, adding: int = 1) -> None:
    used, limit = quota_usage(ctx)[what], quota_limits(ctx)[what]
    if used + adding > limit:
        raise limit_exceeded(
            f"the quota of {limit} {what} of this contract would be exceeded ({used} in use, {adding} more requested)"
        )


def live(zone: Row) -> Row:
    """A zone that can still change: one being deleted is as good as gone."""
    if zone.meta.get("state") == "DESTROYING":
        raise not_found(f"zone '{zone.id}' is being deleted")
    return zone


def load_zone(ctx: Ctx, zone_id: str) -> Row:
    return live(load(ctx, ZONE, zone_id))


def zone_of(ctx: Ctx, row: Row) -> Row:
    """The zone a record belongs to."""
    return load(ctx, ZONE, row.parent)
