"""DBaaS MongoDB v1 (api.ionos.com/databases/mongodb), control plane only: replica-set clusters connected to a
private LAN of a Cloud API data center, their users, snapshots, in-place restores and instance logs, the
template catalogue and the API versions.

Conventions of this API (api-behaviour.md §7): creating answers 200 with the cluster BUSY, it turns
AVAILABLE through the lifecycle engine; PATCH changes, DELETE answers 200 with the cluster DESTROYING, then
404. Its resources carry no href (clients build URLs from ids) and its pagination links are `links`.
Users are synchronous and have no state; their password is write-only.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import random
import re
import uuid
from datetime import datetime, timezone

from ...engine import clock
from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import (PKind, Product, ProductChange, create, invalid, load, new_row, page, private_lan, properties,
                       render, replace, rows_of, success)
from . import logs
from .catalogue import (API_VERSIONS, INSTANCE_COUNTS, LOCATIONS, MONGODB_VERSIONS, TEMPLATES, TEMPLATES_BY_ID,
                        is_downgrade)

PRODUCT = Product(name="mongodb", spec_name="mongodb", config_name="mongo", host="api.ionos.com",
                  privilege="manageDBaaS")
PRODUCTS = [PRODUCT]




# -- clusters: validation -------------------------------------------------------------------------------

# Addresses the service keeps for itself (the spec names this range).
RESERVED_NETWORKS = [ipaddress.IPv4Network("10.233.114.0/24")]
WINDOW_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def template_of(template_id: str) -> dict:
    template = TEMPLATES_BY_ID.get(template_id)
    if template is None:
        raise invalid("properties.templateID", f"names no template ('{template_id}'); GET /templates lists them")
    return template


def check_instances(instances: int, template: dict) -> None:
    if instances not in INSTANCE_COUNTS:
        raise invalid("properties.instances", f"must be one of {', '.join(map(str, INSTANCE_COUNTS))}, got {instances}")
    if template["properties"]["edition"] == "playground" and instances != 1:
        raise invalid("properties.instances", "must be 1 for a playground template")


def display_name(value: str) -> str:
    if not value.strip():
        raise invalid("properties.displayName", "must not be empty")
    return value


def maintenance_window(value: dict | None) -> dict:
    if value is None:  # the service picks one
        return {"dayOfTheWeek": random.choice(DAYS), "time": f"{random.randrange(24):02d}:00:00"}
    if not WINDOW_TIME.match(value["time"]):
        raise invalid("properties.maintenanceWindow.time", f"must be a time of day HH:MM:SS, got '{value['time']}'")
    return {"dayOfTheWeek": value["dayOfTheWeek"], "time": value["time"]}


def connections_of(ctx: Ctx, value: list, location: str, instances: int, cluster_id: str = "") -> list[dict]:
    """The one connection: an existing private LAN of a data center in the cluster's location, and one
    address per instance, all in one /24 network."""
    conn, attr = value[0], "properties.connections[0]"
    dc, lan = private_lan(ctx, attr, conn["datacenterId"], conn["lanId"], location)
    cidrs = conn["cidrList"]
    if len(cidrs) != instances:
        raise invalid(f"{attr}.cidrList", f"must hold one address per instance ({instances}), got {len(cidrs)}")
    ips = []
    for i, cidr in enumerate(cidrs):
        try:
            iface = ipaddress.IPv4Interface(cidr)
        except ValueError:
            raise invalid(f"{attr}.cidrList[{i}]", f"must be an IPv4 address with a /24 prefix, got '{cidr}'") from None
        if "/" not in cidr or iface.network.prefixlen != 24:
            raise invalid(f"{attr}.cidrList[{i}]", f"must be an IPv4 address with a /24 prefix, got '{cidr}'")
        if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
            raise invalid(f"{attr}.cidrList[{i}]", f"must be a host address, not the network's first or last "
                                                   f"('{cidr}')")
        if any(iface.ip in net for net in RESERVED_NETWORKS):
            raise invalid(f"{attr}.cidrList[{i}]", f"lies in a reserved range ({RESERVED_NETWORKS[0]})")
        ips.append(iface)
    if len({ip.network for ip in ips}) > 1:
        raise invalid(f"{attr}.cidrList", "must lie in one /24 network")
    if len({ip.ip for ip in ips}) != len(ips):
        raise invalid(f"{attr}.cidrList", "must not repeat an address")
    wanted = {str(ip.ip) for ip in ips}
    for other in rows_of(ctx, CLUSTER):
        for c in other.props.get("connections") or []:
            if other.id == cluster_id or (c["datacenterId"], c["lanId"]) != (dc.id, lan.id):
                continue
            taken = wanted & {str(ipaddress.IPv4Interface(x).ip) for x in c["cidrList"]}
            if taken:
                raise invalid(f"{attr}.cidrList", f"uses {sorted(taken)[0]}, taken by cluster {other.id} in this LAN")
    return [{"datacenterId": dc.id, "lanId": lan.id, "cidrList": list(cidrs)}]


def new_cluster(ctx: Ctx, _parent, p: dict) -> dict:
    template = template_of(p["templateID"])
    if p["mongoDBVersion"] not in MONGODB_VERSIONS:
        raise invalid("properties.mongoDBVersion", f"must be one of {', '.join(MONGODB_VERSIONS)}, "
                                                   f"got '{p['mongoDBVersion']}'")
    check_instances(p["instances"], template)
    if p["location"] not in LOCATIONS:
        raise invalid("properties.location", f"must be one of {', '.join(LOCATIONS)}, got '{p['location']}'")
    return {"displayName": display_name(p["displayName"]), "mongoDBVersion": p["mongoDBVersion"],
            "location": p["location"], "instances": p["instances"],
            "connections": connections_of(ctx, p["connections"], p["location"], p["instances"]),
            "maintenanceWindow": maintenance_window(p.get("maintenanceWindow")), "templateID": template["id"]}


# -- clusters: rendering ------------------------------------------------------------------------------

def ready(row: Row, now: float) -> bool:
    """Whether the cluster has finished its creation (it then has instances, logs and snapshots)."""
    return row.x.get("readyAt") is not None and row.x["readyAt"] < now


def cluster_view(ctx: Ctx, row: Row) -> dict:
    region = row.props["location"].replace("/", "-")
    return {**row.props, "connectionString": f"mongodb+srv://m-{row.id}.mongodb.{region}.ionos.com"}


def cluster_health(ctx: Ctx, row: Row) -> dict:
    state = row.meta.get("state")
    if state == "FAILED":
        return {"health": "UNHEALTHY"}
    if state == "DESTROYING" or not ready(row, ctx.now):
        return {"health": "UNKNOWN"}
    return {"health": "HEALTHY"}  # AVAILABLE, or BUSY with a change to a running replica set


# absolute_href: only the pagination links show it (they are URIs); the resources' hrefs are removed below
CLUSTER = PKind(PRODUCT, "cluster", "cluster", "clusters", absolute_href=True, creating="BUSY", updating="BUSY",
                destroying="DESTROYING", prepare=lambda ctx, parent, p, old: new_cluster(ctx, parent, p) if old is None else p, view=cluster_view, meta=cluster_health)
USER = PKind(PRODUCT, "user", "user", "users", parent=CLUSTER, absolute_href=True, creating="AVAILABLE")
SNAPSHOT = PKind(PRODUCT, "snapshot", "snapshot", "snapshots", parent=CLUSTER, absolute_href=True)
TEMPLATE = PKind(PRODUCT, "template", "template", "templates", absolute_href=True)


def hrefless(body):
    """This API's resources carry no href and its pagination links are called `links`."""
    if isinstance(body, dict):
        body.pop("href", None)
        if "_links" in body:
            body["links"] = body.pop("_links")
        for item in body.get("items") or ():
            item.pop("href", None)
    return body


def bind(op_id: str):
    def deco(fn):
        def handler(ctx: Ctx) -> Reply:
            reply = fn(ctx)
            hrefless(reply.body)
            return reply
        handler.__name__ = fn.__name__
        PRODUCT.handler(op_id)(handler)
        return fn
    return deco


def require_available(row: Row, doing: str) -> None:
    if row.meta.get("state") != CLUSTER.states.ready:
        raise ApiError(422, f"cluster '{row.id}' is {row.meta.get('state')}; it can be {doing} once it is AVAILABLE")


# -- clusters: operations -----------------------------------------------------------------------------

@bind("clustersGet")
def list_clusters(ctx: Ctx) -> Reply:
    # filter.name matches the displayName
    by_name = lambda r: {"properties": {"name": r.props.get("displayName")}}  # noqa: E731
    return Reply(200, page(ctx, CLUSTER, rows_of(ctx, CLUSTER), CLUSTER.segment, view=by_name))


@bind("clustersPost")
def create_cluster(ctx: Ctx) -> Reply:
    row = create(ctx, CLUSTER, None, properties(ctx))
    # the moment the lifecycle makes it AVAILABLE: its instances start, log and take snapshots from then on
    queued, running = ctx.lifecycle.timing.durations(CLUSTER.name)
    row.x.update(createdAt=ctx.now, readyAt=ctx.now + queued + running)
    ctx.store.update(row)
    return Reply(success(ctx, 200), render(ctx, CLUSTER, row))


@bind("clustersFindById")
def get_cluster(ctx: Ctx) -> Reply:
    return Reply(200, render(ctx, CLUSTER, load(ctx, CLUSTER, ctx.params["clusterId"])))


PATCHABLE = ("displayName", "maintenanceWindow", "instances", "connections", "templateID")


@bind("clustersPatch")
def patch_cluster(ctx: Ctx) -> Reply:
    row = load(ctx, CLUSTER, ctx.params["clusterId"])
    sent = {k: v for k, v in properties(ctx).items() if v is not None}
    for name in sent:
        if name not in PATCHABLE:
            raise invalid(f"properties.{name}", "cannot be changed")
    require_available(row, "changed")
    props = dict(row.props)
    if "displayName" in sent:
        props["displayName"] = display_name(sent["displayName"])
    if "maintenanceWindow" in sent:
        props["maintenanceWindow"] = maintenance_window(sent["maintenanceWindow"])
    template = template_of(props["templateID"])
    if "templateID" in sent:
        new = template_of(sent["templateID"])
        if is_downgrade(template, new):
            raise invalid("properties.templateID", f"would go down from '{template['properties']['name']}' to "
                                                   f"'{new['properties']['name']}'; templates only grow")
        props["templateID"], template = new["id"], new
    if "instances" in sent:
        if sent["instances"] < props["instances"]:
            raise invalid("properties.instances", f"cannot go down from {props['instances']} to {sent['instances']}")
        props["instances"] = sent["instances"]
    check_instances(props["instances"], template)
    if sent.get("connections"):  # an empty list leaves the connection as it is
        props["connections"] = connections_of(ctx, sent["connections"], props["location"], props["instances"], row.id)
    elif len(props["connections"][0]["cidrList"]) != props["instances"]:
        raise invalid("properties.connections", f"must be sent with one address per instance ({props['instances']})")
    row = replace(ctx, CLUSTER, row, props)
    return Reply(success(ctx, 200), render(ctx, CLUSTER, row))


@bind("clustersDelete")
def delete_cluster(ctx: Ctx) -> Reply:
    row = load(ctx, CLUSTER, ctx.params["clusterId"])
    if row.meta.get("state") != CLUSTER.states.destroying:  # deleting twice is one deletion
        with ProductChange(ctx, CLUSTER) as ch:
            ch.deleting(CLUSTER, row)
    return Reply(success(ctx, 200), render(ctx, CLUSTER, row))


# -- users (synchronous, keyed by username within their cluster) ---------------------------------------

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$")
# roles that span every database exist only in the admin database
CLUSTER_WIDE_ROLES = {"clusterMonitor", "readAnyDatabase", "readWriteAnyDatabase", "dbAdminAnyDatabase"}


def roles_of(value: list | None, attr: str) -> list[dict]:
    out: list[dict] = []
    for i, entry in enumerate(value or []):
        role, db = entry.get("role"), entry.get("database")
        if not role:
            raise invalid(f"{attr}[{i}].role", "is required")
        if not db:
            raise invalid(f"{attr}[{i}].database", "is required")
        if role in CLUSTER_WIDE_ROLES and db != "admin":
            raise invalid(f"{attr}[{i}].database", f"must be 'admin' for the role '{role}', got '{db}'")
        if {"role": role, "database": db} not in out:
            out.append({"role": role, "database": db})
    return out


def password_hash(password: str) -> str:
    salt = os.urandom(8)
    return f"sha256${salt.hex()}${hashlib.sha256(salt + password.encode()).hexdigest()}"


def user_view(doc: dict) -> dict:
    """A rendered user as this API shows it: no id, no state, and never the (write-only) password."""
    meta = doc["metadata"]
    return {"type": "user", "metadata": {k: meta.get(k) for k in ("createdDate", "createdBy", "createdByUserId")},
            "properties": {"username": doc["properties"]["username"],
                           "roles": doc["properties"].get("roles", [])}}


def live_cluster(ctx: Ctx) -> Row:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    if cluster.meta.get("state") == CLUSTER.states.destroying:
        raise ApiError(422, f"cluster '{cluster.id}' is being deleted")
    return cluster


def load_user(ctx: Ctx, cluster: Row) -> Row:
    return load(ctx, USER, ctx.params["username"], cluster)


@bind("clustersUsersGet")
def list_users(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    body = page(ctx, USER, rows_of(ctx, USER, cluster), f"{cluster.path}/{USER.segment}")
    body["items"] = [user_view(item) for item in body["items"]]
    return Reply(200, body)


@bind("clustersUsersPost")
def create_user(ctx: Ctx) -> Reply:
    cluster = live_cluster(ctx)
    p = properties(ctx)
    name = p["username"]
    if not USERNAME.match(name):
        raise invalid("properties.username", "must be 1 to 63 letters, digits and . _ @ -, starting with a letter "
                                             f"or digit, got '{name}'")
    if ctx.store.get(ctx.tenant, USER.name, cluster.id, name) is not None:
        raise invalid("properties.username", f"names an existing user of cluster {cluster.id} ('{name}')")
    row = new_row(ctx, USER, cluster, {"username": name, "roles": roles_of(p.get("roles"), "properties.roles")},
                  id=name)
    row.x["password"] = password_hash(p["password"])
    ctx.store.insert(row)
    return Reply(success(ctx, 200), user_view(render(ctx, USER, row)))


@bind("clustersUsersFindById")
def get_user(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    return Reply(200, user_view(render(ctx, USER, load_user(ctx, cluster))))


@bind("clustersUsersPatch")
def patch_user(ctx: Ctx) -> Reply:
    cluster = live_cluster(ctx)
    row = load_user(ctx, cluster)
    p = {k: v for k, v in properties(ctx).items() if v is not None}
    if "roles" in p:
        row.props["roles"] = roles_of(p["roles"], "properties.roles")
    if "password" in p:
        row.x["password"] = password_hash(p["password"])
    row.meta.update(lastModifiedDate=clock.iso_precise(ctx.now), lastModifiedBy=ctx.principal.email,
                    lastModifiedByUserId=ctx.principal.user_id)
    ctx.store.update(row)
    return Reply(success(ctx, 200), user_view(render(ctx, USER, row)))


@bind("clustersUsersDelete")
def delete_user(ctx: Ctx) -> Reply:
    cluster = live_cluster(ctx)
    row = load_user(ctx, cluster)
    ctx.store.delete_tree(row)
    return Reply(success(ctx, 200), user_view(render(ctx, USER, row)))


# -- snapshots and restores ---------------------------------------------------------------------------

SNAPSHOT_EVERY = 24 * 3600.0  # one a day, the first when the cluster becomes ready
SNAPSHOTS_KEPT = 7


def snapshots_of(ctx: Ctx, cluster: Row) -> list[Row]:
    """The cluster's snapshots, oldest first; derived from when it became ready, so nothing is stored."""
    if not ready(cluster, ctx.now):
        return []
    newest = int((ctx.now - cluster.x["readyAt"]) // SNAPSHOT_EVERY)
    out = []
    for k in range(max(0, newest - SNAPSHOTS_KEPT + 1), newest + 1):
        sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ionos-emulator:mongodb:{cluster.id}:snapshot:{k}"))
        props = {"version": cluster.props["mongoDBVersion"], "size": 12 + 3 * k,  # MB of data, growing
                 "creationTime": clock.iso(cluster.x["readyAt"] + k * SNAPSHOT_EVERY)}
        out.append(Row(tenant=ctx.tenant, kind=SNAPSHOT.name, id=sid, parent=cluster.id,
                       path=f"{cluster.path}/{SNAPSHOT.segment}/{sid}", doc={"properties": props, "metadata": {}}))
    return out


@bind("clustersSnapshotsGet")
def list_snapshots(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    body = page(ctx, SNAPSHOT, snapshots_of(ctx, cluster), f"{cluster.path}/{SNAPSHOT.segment}")
    body["items"] = [{"type": "snapshot", "id": i["id"], "properties": i["properties"]} for i in body["items"]]
    return Reply(200, body)


@bind("clustersRestorePost")
def restore(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    snapshot_id = ctx.body["snapshotId"]
    if snapshot_id not in {s.id for s in snapshots_of(ctx, cluster)}:
        raise ApiError(404, f"snapshot '{snapshot_id}' of cluster '{cluster.id}' was not found", "404")
    require_available(cluster, "restored")
    with ProductChange(ctx, CLUSTER) as ch:  # BUSY while the data is put back, then AVAILABLE
        cluster.x["restoredFrom"] = {"snapshotId": snapshot_id, "at": clock.iso_precise(ctx.now)}
        ch.updated(CLUSTER, cluster)
    return Reply(success(ctx, 202), None)


# -- logs ---------------------------------------------------------------------------------------------

LOG_WINDOW = 30 * 24 * 3600.0
CLOCK_SKEW = 60.0  # a client's "now" may run a little ahead of ours


def query_time(ctx: Ctx, name: str, default: float) -> float:
    raw = ctx.q(name)
    if raw is None:
        return default
    try:  # a '+' of an offset that was not percent-encoded arrives as a space
        dt = datetime.fromisoformat(raw.strip().replace(" ", "+"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()
    except (ValueError, OverflowError):
        raise ApiError(422, f"query parameter '{name}' must be an RFC 3339 date-time, got '{raw}'") from None


@bind("clustersLogsGet")
def cluster_logs(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    now = ctx.now
    end = query_time(ctx, "end", now)
    start = query_time(ctx, "start", now - LOG_WINDOW)
    if end > now + CLOCK_SKEW:
        raise ApiError(422, "query parameter 'end' must not be later than now")
    if start < now - LOG_WINDOW - CLOCK_SKEW:
        raise ApiError(422, "query parameter 'start' must not be more than 30 days ago")
    if start >= end:
        raise ApiError(422, "query parameter 'start' must be before 'end'")
    forward = (ctx.q("direction") or "BACKWARD") == "FORWARD"
    limit = ctx.q_int("limit", 100)
    running = ready(cluster, now)  # a cluster still being created has written nothing yet
    return Reply(200, {"instances": [
        {"name": logs.instance_name(cluster.id, i),
         "messages": logs.instance_lines(cluster.id, i, cluster.props["mongoDBVersion"], cluster.x["createdAt"],
                                         cluster.x["readyAt"], start, min(end, now), forward, limit)
         if running else []}
        for i in range(cluster.props["instances"])]})


# -- catalogue ----------------------------------------------------------------------------------------

@bind("templatesGet")
def list_templates(ctx: Ctx) -> Reply:
    rows = [Row(tenant=ctx.tenant, kind=TEMPLATE.name, id=t["id"], path=f"{TEMPLATE.segment}/{t['id']}",
                doc={"properties": dict(t["properties"]), "metadata": {}}) for t in TEMPLATES]
    body = page(ctx, TEMPLATE, rows, TEMPLATE.segment)
    body["items"] = [{"type": "template", "id": i["id"], "properties": i["properties"]} for i in body["items"]]
    return Reply(200, body)


@bind("infosVersionGet")
def api_version(ctx: Ctx) -> Reply:
    return Reply(200, dict(API_VERSIONS[-1]))


@bind("infosVersionsGet")
def api_versions(ctx: Ctx) -> Reply:
    return Reply(200, [dict(v) for v in API_VERSIONS])
