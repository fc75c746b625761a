"""What both DBaaS PostgreSQL APIs share: the service's catalogue (PostgreSQL versions, backup locations)
and the checks of a cluster's request (its network, initial user, recovery times); and, in the last section,
the DBaaS rules MongoDB uses too (maintenance windows, display names, date-times, log windows), kept in one
place so that they move to the shared DBaaS module in one step."""
from __future__ import annotations

import ipaddress
import math
import random
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from ...engine import clock
from ...engine.errors import invalid, unprocessable
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import private_lan

# Major versions offered, oldest first, with their support status (a free-form string in both APIs).
VERSIONS = {"12": "DEPRECATED", "13": "DEPRECATED", "14": "SUPPORTED", "15": "SUPPORTED", "16": "SUPPORTED",
            "17": "SUPPORTED"}
VERSION_COMMENTS = {"DEPRECATED": "no longer supported by the PostgreSQL community; upgrade the cluster",
                    "SUPPORTED": "supported"}

# Object storage locations backups are written to; a cluster's default is the one nearest to it.
BACKUP_LOCATIONS = ("de", "eu-central-2", "eu-south-2")
NEAREST_BACKUP_LOCATION = {"de/fra": "de", "de/txl": "eu-central-2", "es/vit": "eu-south-2"}

# Names the service keeps for its own roles; PostgreSQL itself reserves the pg_ prefix.
RESTRICTED_USERNAMES = {"postgres", "admin", "standby"}


def required(p: dict, attr: str, names: tuple[str, ...]) -> None:
    for name in names:
        if p.get(name) is None:
            raise invalid(f"{attr}.{name}", "is required")


# -- catalogue ----------------------------------------------------------------------------------------

def check_version(attr: str, version: str, current: str | None = None) -> str:
    if version not in VERSIONS:
        raise invalid(attr, f"must be one of {', '.join(VERSIONS)}, got '{version}'")
    if current is not None and int(version) < int(current):
        raise invalid(attr, f"cannot go down from PostgreSQL {current} to {version}; only upgrades are possible")
    return version


def upgrades_of(version: str) -> list[str]:
    return [v for v in VERSIONS if int(v) > int(version)]


def stable_id(*parts: str) -> str:
    """Catalogue ids: the same for every contract and across restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ionos-emulator:postgresql:" + ":".join(parts)))


def check_backup_location(attr: str, value: str | None, cluster_location: str) -> str:
    if value is None:
        return NEAREST_BACKUP_LOCATION.get(cluster_location, "de")
    if value not in BACKUP_LOCATIONS:
        raise invalid(attr, f"must be one of {', '.join(BACKUP_LOCATIONS)}, got '{value}'")
    return value


# -- request checks -------------------------------------------------------------------------------------

def check_username(attr: str, name: str, pattern: re.Pattern, rule: str) -> str:
    if not pattern.match(name):
        raise invalid(attr, f"must be {rule}, got '{name}'")
    if name.lower() in RESTRICTED_USERNAMES or name.lower().startswith("pg_"):
        raise invalid(attr, f"'{name}' is reserved for the service's own roles")
    return name


def network(ctx: Ctx, attr: str, datacenter_id: str, lan_id: str, location: str, address: str | None,
            address_attr: str, reserved: tuple[str, ...], taken: dict[str | None, str]) -> tuple[Row, Row]:
    """The data center and LAN a cluster connects to: both must exist for this contract, the data center in
    the cluster's location, the LAN private; the address (IPv4 with its prefix) must be a host address
    outside the service's ranges and not used by another cluster in that LAN (`taken`: address -> cluster)."""
    dc, lan = private_lan(ctx, attr, datacenter_id, lan_id, location)
    if address is not None:
        where = f"{attr}.{address_attr}"
        try:
            iface = ipaddress.IPv4Interface(address)
        except ValueError:
            iface = None
        if iface is None or "/" not in address or not 8 <= iface.network.prefixlen <= 30:
            raise invalid(where, f"must be an IPv4 address with a prefix from /8 to /30 (192.168.1.100/24), "
                                 f"got '{address}'")
        if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
            raise invalid(where, f"must be a host address, not its network's first or last ('{address}')")
        for net in map(ipaddress.IPv4Network, reserved):
            if iface.ip in net:
                raise invalid(where, f"lies in {net}, which the service keeps for itself")
        other = taken.get(str(iface.ip))
        if other:
            raise invalid(where, f"uses {iface.ip}, taken by cluster {other} in this LAN")
    return dc, lan


def address_of(cidr: str | None) -> str | None:
    try:
        return str(ipaddress.IPv4Interface(cidr).ip) if cidr else None
    except ValueError:
        return None


def check_recovery_time(attr: str, value: str | None, earliest: float, latest: float) -> str | None:
    if value is None:
        return None
    ts = parse_time(attr, value)
    if not math.floor(earliest) <= ts <= latest + CLOCK_SKEW:
        raise invalid(attr, f"must lie between {clock.iso(earliest)} and {clock.iso(latest)}, got '{value}'")
    return clock.iso_precise(ts)


# -- DBaaS rules MongoDB shares (for the shared DBaaS module) -------------------------------------------

CLOCK_SKEW = 60.0  # seconds a client's "now" may run ahead of ours
LOG_WINDOW = 30 * 24 * 3600.0  # how far back instance logs reach
WINDOW_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def maintenance_window(attr: str, value: dict | None, current: dict | None = None) -> dict:
    if value is None:  # the service picks one
        return current or {"dayOfTheWeek": random.choice(DAYS), "time": f"{random.randrange(24):02d}:00:00"}
    required(value, attr, ("dayOfTheWeek", "time"))
    if not WINDOW_TIME.match(value["time"]):
        raise invalid(f"{attr}.time", f"must be a time of day HH:MM:SS, got '{value['time']}'")
    return {"dayOfTheWeek": value["dayOfTheWeek"], "time": value["time"]}


def display_name(attr: str, value: str) -> str:
    if not value.strip():
        raise invalid(attr, "must not be empty")
    return value


def timestamp(value: str) -> float | None:
    """An RFC 3339 date-time as a Unix time, None if it is none; a '+' of an offset that was not
    percent-encoded arrives as a space."""
    try:
        dt = datetime.fromisoformat(value.strip().replace(" ", "+").replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()
    except (ValueError, OverflowError):
        return None


def parse_time(attr: str, value: str) -> float:
    ts = timestamp(value)
    if ts is None:
        raise invalid(attr, f"must be an RFC 3339 date-time, got '{value}'")
    return ts


def query_time(ctx: Ctx, name: str, default: float) -> float:
    raw = ctx.q(name)
    if raw is None:
        return default
    ts = timestamp(raw)
    if ts is None:
        raise unprocessable(f"query parameter '{name}' must be an RFC 3339 date-time, got '{raw}'")
    return ts


def log_window(ctx: Ctx) -> tuple[float, float]:
    """The (start, end) a logs request asks for: at most LOG_WINDOW back, not in the future, start first."""
    now = ctx.now
    end, start = query_time(ctx, "end", now), query_time(ctx, "start", now - LOG_WINDOW)
    if end > now + CLOCK_SKEW:
        raise unprocessable("query parameter 'end' must not be later than now")
    if start < now - LOG_WINDOW - CLOCK_SKEW:
        raise unprocessable("query parameter 'start' must not be more than 30 days ago")
    if start >= end:
        raise unprocessable("query parameter 'start' must be before 'end'")
    return start, min(end, now)


def logs_reply(ctx: Ctx, instances: int, running: bool, name: Callable[[int], str],
               lines: Callable[[int, float, float, bool, int], list]) -> Reply:
    """A cluster's logs: per instance, `lines(i, start, end, forward, limit)` of the window asked for; none
    while the cluster is being created (nothing has run yet)."""
    start, end = log_window(ctx)
    forward, limit = (ctx.q("direction") or "BACKWARD") == "FORWARD", ctx.q_int("limit", 100)
    return Reply(200, {"instances": [{"name": name(i), "messages": lines(i, start, end, forward, limit) if running
                                      else []} for i in range(instances)]})


def api_versions(product, versions: list[dict]) -> None:
    """Serves /infos/version (the newest) and /infos/versions: the API's own versions."""
    product.handler("infosVersionGet")(lambda ctx: Reply(200, dict(versions[-1])))
    product.handler("infosVersionsGet")(lambda ctx: Reply(200, [dict(v) for v in versions]))
