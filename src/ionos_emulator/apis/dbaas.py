"""The rules every DBaaS product shares (PostgreSQL, MariaDB, In-Memory DB, MongoDB): cluster names, maintenance
windows, the connection of a cluster to a private LAN of a Cloud API data center and its addresses there,
date-time values, the refusal to change a cluster mid-change, the service's catalogues (versions, backup
locations), the recovery points (backups, snapshots) the service keeps of a cluster's data; and what the v1
APIs (PostgreSQL v1, MongoDB) serve alike: their instances' logs and their own versions.
"""

from __future__ import annotations

import ipaddress
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..engine import clock
from ..engine.change import Change, key
from ..engine.errors import conflict, invalid, unprocessable
from ..engine.resources import Kind
from ..gateway.context import Ctx, Reply
from ..store import Row
from .product import PKind, Product, computed_rows, load, new_row, spec_locations

CLUSTER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WINDOW_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
CLOCK_SKEW = 60.0  # seconds a client's "now" may run ahead of ours
LOG_WINDOW = 30 * 24 * 3600.0  # how far back instance logs reach
PRIVILEGE = "manageDBaaS"  # the group flag every DBaaS API asks of a non-administrator


def regional_product(name: str, host: str, privilege: str = PRIVILEGE) -> Product:
    """A regional API (MariaDB and In-Memory DB v2; Logging, Monitoring, NFS with their own `privilege`) served at
    `host` in every location its compiled spec lists, under one name for its path, its compiled spec and its entry
    in the IONOS config file."""
    return Product(
        name=name, spec_name=name, config_name=name, locations=spec_locations(name), host=host, privilege=privilege
    )


def first_generation(name: str, host: str) -> Product:
    """The v1 API of a regional DBaaS product whose v2 is served at `host`/v2: at the host's root, on our
    paths /<name>/<region>/... beside v2's /<name>/<region>/v2/..., its kinds its own. No config-file entry:
    the tools look the product's name up for v2 (endpoints.ALIASES)."""
    spec_name = f"{name}-v1"
    return Product(
        name=spec_name,
        path=name,
        spec_name=spec_name,
        config_name="",
        locations=spec_locations(spec_name),
        host=host,
        privilege=PRIVILEGE,
    )


def required(value: dict, attr: str, names: Iterable[str]) -> None:
    for name in names:
        if value.get(name) in (None, ""):
            raise invalid(f"{attr}.{name}", "is required")


def cluster_name(attr: str, value: str | None, *, free_form: bool = False) -> str:
    """A cluster's name: the v2 APIs' `name` begins and ends with a letter or digit and holds only letters,
    digits, '-', '_' and '.'; the v1 APIs' `displayName` (`free_form`) may be any text but blanks."""
    if not value:
        raise invalid(attr, "is required")
    if free_form:
        if not value.strip():
            raise invalid(attr, "must not be empty")
        return value
    if not CLUSTER_NAME.match(value):
        raise invalid(
            attr,
            f"must begin and end with a letter or digit and hold only letters, digits, '-', '_' and '.', got '{value}'",
        )
    return value


def maintenance_window(attr: str, value: dict | None, current: dict | None = None) -> dict:
    """The window a client asked for; without one, the cluster's (a replacement) or one the service picks."""
    if value is None:
        return current or {"dayOfTheWeek": random.choice(DAYS), "time": f"{random.randrange(24):02d}:00:00"}
    required(value, attr, ("dayOfTheWeek", "time"))
    if not WINDOW_TIME.match(str(value["time"])):
        raise invalid(f"{attr}.time", f"must be a time of day HH:MM:SS, got '{value['time']}'")
    return {"dayOfTheWeek": value["dayOfTheWeek"], "time": value["time"]}


def parse_time(name: str, value: str, *, query: bool = False) -> float:
    """An RFC 3339 date-time (naive: UTC) of the attribute `name`, or of the query parameter `name`: there a '+'
    of an offset that was not percent-encoded arrives as a space."""
    try:
        text = value.strip().replace(" ", "+") if query else value
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()
    except (ValueError, TypeError, AttributeError, OverflowError):
        if query:
            raise unprocessable(f"query parameter '{name}' must be an RFC 3339 date-time, got '{value}'") from None
        raise invalid(name, f"must be an RFC 3339 date-time, got '{value}'") from None


def query_time(ctx: Ctx, name: str, default: float) -> float:
    """The date-time of the query parameter `name`, `default` without one."""
    raw = ctx.q(name)
    return default if raw is None else parse_time(name, raw, query=True)


def refuse_busy(kind: Kind, row: Row) -> None:
    """A cluster in the middle of a change (being created, changed or deleted) takes no other (409)."""
    state = row.meta.get("state")
    if state in (kind.states.creating, kind.states.updating, kind.states.destroying):
        raise conflict(f"{kind.type} '{row.id}' is {state}; it can be changed once it is {kind.states.ready}")


# -- the connection to a data center's LAN -------------------------------------------------------------


def private_lan(
    ctx: Ctx,
    attr: str,
    datacenter_id: str,
    lan_id,
    location: str,
    what: str = "cluster",
    lan_attr: str = "lanId",
) -> tuple[Row, Row]:
    """The Cloud API data center and LAN a managed cluster (or other `what`: a VPN gateway) connects to: the data
    center must exist for this contract (and be visible to the caller) in the cluster's location, the LAN must
    be one of its private LANs (named `lan_attr` in messages: NFS calls it "lan")."""
    from .cloud.model import visible  # the Cloud API's access rule, applied to products' references too

    dc = ctx.store.get(ctx.tenant, "datacenter", "", datacenter_id)
    if dc is None or not visible(ctx, dc):
        raise invalid(f"{attr}.datacenterId", f"names no data center ('{datacenter_id}')")
    if dc.props.get("location") != location:
        raise invalid(
            f"{attr}.datacenterId",
            f"names a data center in {dc.props.get('location')}, but the {what} is in {location}",
        )
    lan = ctx.store.get(ctx.tenant, "lan", dc.id, str(lan_id))
    if lan is None:
        raise invalid(f"{attr}.{lan_attr}", f"names no LAN of data center {dc.id} ('{lan_id}')")
    if lan.props.get("public"):
        raise invalid(f"{attr}.{lan_attr}", f"names a public LAN ({lan.id}); a {what} connects to a private LAN")
    return dc, lan


def editable_datacenter(ctx: Ctx, attr: str, datacenter_id: Any) -> Row:
    """A Cloud API data center a managed service builds in for the caller: one of the contract they see (else
    422 naming `attr`) and may change (its owner, an administrator, or a share with the edit privilege; else
    403, the Cloud API's refusal)."""
    from .cloud.model import check_access, visible

    dc = ctx.store.get(ctx.tenant, "datacenter", "", str(datacenter_id or ""))
    if dc is None or not visible(ctx, dc):
        raise invalid(attr, f"names no data center ('{datacenter_id}')")
    check_access(ctx, dc, write=True)
    return dc


def host_address(
    attr: str,
    cidr: str,
    *,
    reserved: Iterable[ipaddress.IPv4Network] = (),
    prefixes: tuple[int, int] = (8, 30),
    whole_network: bool = False,
) -> ipaddress.IPv4Interface:
    """An instance's address in CIDR notation: a host address (not its network's first or last) with a prefix
    in `prefixes`, outside the ranges the service keeps for itself (`whole_network`: its network may not even
    overlap them)."""
    try:
        iface = ipaddress.IPv4Interface(cidr)
    except ValueError:
        iface = None
    low, high = prefixes
    if iface is None or "/" not in str(cidr) or not low <= iface.network.prefixlen <= high:
        netmask = f"/{low}" if low == high else f"from /{low} to /{high}"
        raise invalid(
            attr,
            f"must be an IPv4 address with a prefix {netmask} in CIDR notation (e.g. 192.168.1.100/24), got '{cidr}'",
        )
    if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise invalid(attr, f"must be a host address, not its network's first or last ('{cidr}')")
    for net in reserved:
        if iface.network.overlaps(net) if whole_network else iface.ip in net:
            raise invalid(attr, f"lies in {net}, a range the service keeps for itself ('{cidr}')")
    return iface


Endpoints = Callable[[Row], Iterable[tuple[str, str, str | None]]]  # a cluster's (datacenterId, lanId, cidr)


def lan_addresses(
    clusters: Iterable[Row], endpoints: Endpoints, dc_id: str, lan_id: str, except_id: str = ""
) -> dict[str, str]:
    """The addresses other clusters use in one LAN: address -> cluster id."""
    return {
        str(ipaddress.IPv4Interface(cidr).ip): row.id
        for row in clusters
        if row.id != except_id
        for dc, lan, cidr in endpoints(row)
        if cidr and (dc, str(lan)) == (dc_id, str(lan_id))
    }


def refuse_taken(attr: str, iface: ipaddress.IPv4Interface, taken: dict[str, str]) -> None:
    other = taken.get(str(iface.ip))
    if other:
        raise invalid(attr, f"uses {iface.ip}, taken by cluster {other} in this LAN")


def connect(
    ctx: Ctx,
    attr: str,
    datacenter_id: str,
    lan_id: str,
    location: str,
    addresses: Mapping[str, str],
    *,
    clusters: Iterable[Row],
    endpoints: Endpoints,
    except_id: str = "",
    reserved: Iterable[ipaddress.IPv4Network] = (),
    prefixes: tuple[int, int] = (8, 30),
    whole_network: bool = False,
    taken_attr: str | None = None,
    lan_attr: str = "lanId",
) -> tuple[Row, Row, list[ipaddress.IPv4Interface]]:
    """A cluster's connection to a private LAN of a data center in `location` (`private_lan`) and its addresses
    there (attribute -> address in CIDR notation): each a host address (`host_address`) that no other of
    `clusters` (but `except_id`, the cluster itself) uses in that LAN, which is refused naming `taken_attr`
    (by default the address's own attribute)."""
    dc, lan = private_lan(ctx, attr, datacenter_id, lan_id, location, lan_attr=lan_attr)
    ifaces = {
        where: host_address(where, cidr, reserved=tuple(reserved), prefixes=prefixes, whole_network=whole_network)
        for where, cidr in addresses.items()
    }
    if ifaces:
        taken = lan_addresses(clusters, endpoints, dc.id, lan.id, except_id)
        for where, iface in ifaces.items():
            refuse_taken(taken_attr or where, iface, taken)
    return dc, lan, list(ifaces.values())


def connection_endpoints(row: Row) -> list[tuple[str, str, str | None]]:
    """The endpoint of a cluster with one `connection` {datacenterId, lanId, primaryInstanceAddress}."""
    c = row.props.get("connection")
    return [(c["datacenterId"], c["lanId"], c.get("primaryInstanceAddress"))] if c else []


# -- catalogues and recovery points ----------------------------------------------------------------------


def catalogue(ctx: Ctx, kind: Kind, entries: dict[str, dict]) -> list[Row]:
    """What the service offers (versions, locations), as rows of `kind` (id -> properties); never stored."""
    return computed_rows(ctx, kind, entries)


class RecoveryPoints:
    """The recovery points (backups, snapshots) a service keeps of its clusters' data, as rows of `kind`: one
    starts when the change that makes a cluster (or starts a new timeline of it) completes and is written
    until a later change ends it (latestRecoveryTargetTime null until then). A client sees it from its start;
    with `retention_days` given at its start, until so many days after its end."""

    def __init__(self, kind: Kind, active_field: str | None = None):
        self.kind = kind
        self.active_field = active_field  # a property true while the point is written ("isActive")

    def start(
        self,
        ctx: Ctx,
        change: Change,
        cluster: Row,
        props: dict,
        retention_days: int | None = None,
        keep: dict | None = None,
    ) -> Row:
        """A point of `cluster` from when `change` completes; it goes if the change fails. `keep`: internal
        values kept with it (never shown)."""
        starts = change.req["done_at"]
        props = {
            "clusterId": cluster.id,
            **props,
            "earliestRecoveryTargetTime": clock.iso_precise(starts),
            "latestRecoveryTargetTime": None,
        }
        if self.active_field:
            props[self.active_field] = True
        point = new_row(ctx, self.kind, None, props)  # in its creation state, unless its kind is stateless
        point.x.update(keep or {}, startsAt=starts, retentionDays=retention_days)
        ctx.store.insert(point)
        change.effect("delete", key(point), on_fail=True)
        return point

    def end(self, ctx: Ctx, change: Change, cluster_id: str) -> None:
        """The cluster's current points end when `change` completes."""
        ended: dict[str, Any] = {"latestRecoveryTargetTime": clock.iso_precise(change.req["done_at"])}
        if self.active_field:
            ended[self.active_field] = False
        for point in self.current(ctx, cluster_id):
            change.effect("props", key(point), set=ended)

    def of(self, ctx: Ctx, cluster_id: str | None = None) -> list[Row]:
        """Every point kept (of one cluster, or all), begun or not."""
        rows = ctx.store.list(ctx.tenant, self.kind.name, "", scope=ctx.api.location)
        return [r for r in rows if cluster_id is None or r.props.get("clusterId") == cluster_id]

    def current(self, ctx: Ctx, cluster_id: str) -> list[Row]:
        """The points of the cluster still being written (or about to be)."""
        return [r for r in self.of(ctx, cluster_id) if not r.props.get("latestRecoveryTargetTime")]

    def visible(self, ctx: Ctx, cluster_id: str | None = None) -> list[Row]:
        """The points a client sees: begun, and not past their retention."""
        out = []
        for row in self.of(ctx, cluster_id):
            if row.x["startsAt"] > ctx.now:
                continue
            ended, days = row.props.get("latestRecoveryTargetTime"), row.x.get("retentionDays")
            if ended and days and parse_time("latestRecoveryTargetTime", ended) + days * 86400 < ctx.now:
                continue
            out.append(row)
        return out

    def window(self, ctx: Ctx, point: Row) -> tuple[float, float]:
        """The times a point can restore to."""
        ended = point.props.get("latestRecoveryTargetTime")
        return (
            parse_time("earliestRecoveryTargetTime", point.props["earliestRecoveryTargetTime"]),
            parse_time("latestRecoveryTargetTime", ended) if ended else ctx.now,
        )

    def target(
        self, ctx: Ctx, attr: str, value: str, points: list[Row], skew: float = 0.0, *, whole_seconds: bool = False
    ) -> float:
        """The point in time `value` names, which must lie in the window of one of `points` (a client's clock
        may run `skew` seconds ahead; `whole_seconds`: a window opens at the whole second of its start, for
        clients that drop the fraction of the time they were shown)."""
        when = parse_time(attr, value)
        for point in points:
            start, end = self.window(ctx, point)
            if (math.floor(start) if whole_seconds else start) <= when <= end + skew:
                return when
        raise invalid(attr, f"lies outside every recovery window of the {self.kind.type}s ('{value}')")


# -- the v1 APIs (PostgreSQL v1, MongoDB): their clusters, instance logs, the API's own versions -----------


# the metadata a v1 API's cluster has (PostgreSQL v1, MariaDB v1)
V1_CLUSTER_METADATA = (
    "createdDate",
    "createdBy",
    "createdByUserId",
    "lastModifiedDate",
    "lastModifiedBy",
    "lastModifiedByUserId",
    "state",
)


def v1_cluster(
    product: Product,
    new: Callable[[Ctx, dict], dict],
    changed: Callable[[Ctx, dict, Row], dict],
    **options: Any,
) -> Kind:
    """A v1 API's cluster kind: BUSY while it is created or changed, its properties checked by `new(ctx, props)`
    or `changed(ctx, props, old)`, `filter.name` matching its displayName; a DELETE answers the cluster as it
    now is (DESTROYING), and a repeated one is that deletion."""

    def prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
        return new(ctx, props) if old is None else changed(ctx, props, old)

    return PKind(
        product,
        "cluster",
        "cluster",
        "clusters",
        creating="BUSY",
        updating="BUSY",
        prepare=prepare,
        filter_names={"name": "displayName"},
        idempotent_delete=True,
        delete_renders=True,
        **options,
    )


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


def logs_reply(
    ctx: Ctx,
    instances: int,
    running: bool,
    name: Callable[[int], str],
    lines: Callable[[int, float, float, bool, int], list],
) -> Reply:
    """A cluster's logs: per instance, `lines(i, start, end, forward, limit)` of the window asked for; none
    while the cluster is being created (nothing has run yet)."""
    start, end = log_window(ctx)
    forward, limit = (ctx.q("direction") or "BACKWARD") == "FORWARD", ctx.q_int("limit", 100)
    return Reply(
        200,
        {
            "instances": [
                {"name": name(i), "messages": lines(i, start, end, forward, limit) if running else []}
                for i in range(instances)
            ]
        },
    )


def api_versions(product: Product, versions: list[dict]) -> None:
    """Serves /infos/version (the newest) and /infos/versions: the API's own versions."""
    product.handler("infosVersionGet")(lambda ctx: Reply(200, dict(versions[-1])))
    product.handler("infosVersionsGet")(lambda ctx: Reply(200, [dict(v) for v in versions]))


# -- a cluster's own users and databases (PostgreSQL v1, MongoDB) ----------------------------------------


def live_cluster(cluster_kind: Kind, cluster: Row) -> Row:
    """A cluster whose users and databases can still be changed (422 while it is being deleted)."""
    if cluster.meta.get("state") == cluster_kind.states.destroying:
        raise unprocessable(f"cluster '{cluster.id}' is being deleted")
    return cluster


def new_member_name(ctx: Ctx, kind: Kind, cluster: Row, attr: str, name: str) -> str:
    """The name of a new user or database of `cluster`: unique within that cluster only, so two clusters
    that ask for the same name each get it, as separate servers would."""
    if ctx.store.get(ctx.tenant, kind.name, cluster.id, name) is not None:
        raise invalid(attr, f"names an existing {kind.type} of cluster {cluster.id} ('{name}')")
    return name


def cluster_member(
    product: Product,
    cluster: Kind,
    name: str,
    segment: str,
    key: str,
    delete: Callable | None = None,
    **options: Any,
) -> Kind:
    """A cluster's user or database: keyed by its name (`key`) within its cluster, no state of its own,
    written at once; deleting one of a cluster being deleted is refused (then `delete`, the kind's own
    rules and effects, if any)."""

    def deleted(ctx: Ctx, row: Row, change: Change) -> None:
        live_cluster(cluster, load(ctx, cluster, row.parent))
        if delete is not None:
            delete(ctx, row, change)

    return PKind(
        product,
        name,
        name,
        segment,
        parent=cluster,
        creating="AVAILABLE",
        stateless=True,
        id_property=key,
        delete=deleted,
        **options,
    )


def cluster_users(product: Product, cluster: Kind, prepare: Callable, view: Callable, **options: Any) -> Kind:
    """A cluster's database users, keyed by username; the password (its hash or verifier) is never shown."""
    return cluster_member(
        product, cluster, "user", "users", "username", internal=("password",), prepare=prepare, view=view, **options
    )
