"""Zone files (BIND format, RFC 1035): export of a primary zone, and import that replaces its records."""

from __future__ import annotations

import re
import time

from ...engine.errors import bad_request, limit_exceeded, unprocessable
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import ProductChange, load, page, rows_of
from . import rdata
from .model import (
    DNS,
    MAX_RECORDS_PER_ZONE,
    PRIMARY_NAMESERVERS,
    RECORD,
    ZONE,
    check_quota,
    count_change,
    load_zone,
    serial,
)
from .records import checked, create_record, owner_key

# SOA timers and the TTL of the apex SOA and NS records (those of the spec's zone file example).
SOA_TTL, NS_TTL, REFRESH, RETRY, EXPIRE, MINIMUM = 86400, 86400, 28800, 7200, 604800, 600
# DNSSEC data in an imported file is made by the signer, not by the customer: it is ignored like SOA.
IGNORED_ON_IMPORT = {"SOA", "DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY"}
# What one zone file may hold, checked before it is parsed (a 40-byte $GENERATE once made 65,535 records, and
# froze the server). *Guesses*: the real Cloud DNS documents no numbers; these are well above real zones.
MAX_ZONE_FILE_LINES = 20_000
MAX_GENERATE_RANGE = 1_000  # records one $GENERATE directive may make
_GENERATE = re.compile(r"^\$GENERATE\s+(\d+)-(\d+)(?:/(\d+))?\s", re.IGNORECASE | re.MULTILINE)


def soa_text(zone_name: str, zone_serial: int) -> str:
    return (
        f"{PRIMARY_NAMESERVERS[0]}. hostmaster.{zone_name.rstrip('.')}. {zone_serial} {REFRESH} {RETRY} "
        f"{EXPIRE} {MINIMUM}"
    )


def pending(rows: list[Row]) -> int:
    return sum(1 for r in rows if r.meta.get("state") in ("PROVISIONING", "DESTROYING"))


@DNS.handler("zonesZonefileGet")
def export(ctx: Ctx) -> Reply:
    zone = load(ctx, ZONE, ctx.params["zoneId"])
    name = zone.props["zoneName"]
    records = rows_of(ctx, RECORD, zone)
    lines = [
        f";Zone: {name}",
        f";Exported: {time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime(ctx.now))}",
        "",
        f"$ORIGIN {name}.",
        "$TTL 3600",
        "",
        f"@  {SOA_TTL}  IN  SOA  {soa_text(name, serial(zone, pending(records + [zone])))}",
    ]
    lines += [f"@  {NS_TTL}  IN  NS  {ns}." for ns in PRIMARY_NAMESERVERS]
    for r in records:
        p = r.props
        if not p.get("enabled", True) or r.meta.get("state") == "DESTROYING":
            continue
        owner = "@" if rdata.is_apex(p["name"]) else p["name"]
        lines.append(f"{owner}  {p.get('ttl', 3600)}  IN  {p['type']}  {rdata.record_rdata(p, name).to_text()}")
    return Reply(200, "\n".join(lines) + "\n", content_type="text/plain")


_ALIAS = re.compile(r"^(\S+)((?:\s+(?:\d+|IN))*)\s+ALIAS\s+(\S+)\s*(?:;.*)?$", re.IGNORECASE)


def _split_alias(text: str) -> tuple[str, list[tuple[str, int | None, str]]]:
    """ALIAS is no DNS type, so dnspython cannot read it: such lines are taken out and read here."""
    kept, aliases = [], []
    for line in text.splitlines():
        m = _ALIAS.match(line)
        if m is None:
            kept.append(line)
            continue
        ttl = next((int(t) for t in m.group(2).split() if t.isdigit()), None)
        aliases.append((m.group(1), ttl, m.group(3)))
    return "\n".join(kept) + "\n", aliases


def check_size(text: str) -> None:
    """422 for a file over the limits, before anything is parsed: its lines, each $GENERATE's range, and the
    records all its $GENERATEs make against the zone's limit."""
    lines = text.count("\n") + 1
    if lines > MAX_ZONE_FILE_LINES:
        raise unprocessable(f"the zone file has {lines} lines; at most {MAX_ZONE_FILE_LINES} are accepted")
    generated = 0
    for m in _GENERATE.finditer(text):
        start, stop, step = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
        if stop < start or step < 1:
            raise bad_request(f"the zone file's '$GENERATE {m.group(1)}-{m.group(2)}' has no valid range")
        count = (stop - start) // step + 1
        if count > MAX_GENERATE_RANGE:
            raise unprocessable(
                f"the zone file's '$GENERATE {m.group(1)}-{m.group(2)}' makes {count} records; one $GENERATE "
                f"makes at most {MAX_GENERATE_RANGE}"
            )
        generated += count
    if generated > MAX_RECORDS_PER_ZONE:
        raise limit_exceeded(
            f"the zone file's $GENERATEs make {generated} records; a zone holds at most {MAX_RECORDS_PER_ZONE}"
        )


def parse(text: str, zone_name: str) -> list[dict]:
    """The records of a zone file as API properties. SOA, apex NS and DNSSEC data are ignored."""
    check_size(text)
    import dns.exception  # here: dnspython costs about 7 MB and 40 ms of a start-up (rdata.py)
    import dns.name
    import dns.rdatatype
    import dns.zone

    origin = dns.name.from_text(zone_name)
    body, aliases = _split_alias(text)
    try:
        zone = dns.zone.from_text(body, origin=origin, relativize=False, check_origin=False)
    except dns.exception.DNSException as e:
        raise bad_request(f"the zone file cannot be read: {e}") from None
    default_ttl = 3600
    out = []
    for owner, rds in zone.iterate_rdatasets():
        rtype = dns.rdatatype.to_text(rds.rdtype)
        if rtype in IGNORED_ON_IMPORT or (rtype == "NS" and owner == origin):
            continue
        rel = owner.relativize(origin).to_text()
        if rtype not in rdata.RECORD_TYPES:
            raise bad_request(
                f"the zone file has a {rtype} record for '{owner}'; Cloud DNS supports {', '.join(rdata.RECORD_TYPES)}"
            )
        for rd in rds:
            content, priority = rdata.from_rdata(rtype, rd)
            out.append(_props("" if rel == "@" else rel, rtype, content, priority, rds.ttl))
    for alias_owner, ttl, target in aliases:
        name = dns.name.from_text(alias_owner, origin).relativize(origin).to_text() if alias_owner != "@" else ""
        out.append(
            _props(
                "" if name == "@" else name, "ALIAS", target.rstrip("."), None, ttl if ttl is not None else default_ttl
            )
        )
    return out


def _props(name: str, rtype: str, content: str, priority: int | None, ttl: int) -> dict:
    p = {"name": name, "type": rtype, "content": content, "ttl": ttl, "enabled": True}
    if priority is not None:
        p["priority"] = priority
    return p


@DNS.handler("zonesZonefilePut")
def import_(ctx: Ctx) -> Reply:
    """All records of the zone are replaced with those of the file, in one change."""
    zone = load_zone(ctx, ctx.params["zoneId"])
    raw = ctx.body if isinstance(ctx.body, str) else ctx.raw_body
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise bad_request("the zone file must be UTF-8 text") from None
    if not text.strip():
        raise bad_request("the request body must be a zone file")
    parsed = parse(text, zone.props["zoneName"])
    if len(parsed) > MAX_RECORDS_PER_ZONE:
        raise limit_exceeded(f"the zone file has {len(parsed)} records; a zone holds at most {MAX_RECORDS_PER_ZONE}")
    new: list[Row] = []
    by_owner: dict[str, list[Row]] = {}  # the file's records so far, by name: each is checked against its own
    for i, props in enumerate(parsed):
        if not 60 <= props["ttl"] <= 604800:
            raise unprocessable(
                f"record {i + 1} of the zone file ({props['name'] or '@'} {props['type']}) has the "
                f"TTL {props['ttl']}; it must be between 60 and 604800"
            )
        props = checked(ctx, zone, props, others=by_owner)
        row = Row(tenant=ctx.tenant, kind=RECORD.name, id=f"zone file record {i + 1}", doc={"properties": props})
        new.append(row)
        by_owner.setdefault(owner_key(props["name"]), []).append(row)
    old = [r for r in rows_of(ctx, RECORD, zone) if r.meta.get("state") != "DESTROYING"]
    check_quota(ctx, "records", len(new) - len(old))
    with ProductChange(ctx, RECORD) as ch:
        for r in old:
            ch.deleting(RECORD, r)
        created = [create_record(ctx, zone, r.props, ch) for r in new]
        count_change(ctx, zone, len(old) + len(created))
    return Reply(200, page(ctx, RECORD, created, f"{zone.path}/records"))
