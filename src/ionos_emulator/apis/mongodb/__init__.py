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
import re
import uuid
from typing import Any

from ...engine import clock
from ...engine.change import Change
from ...engine.errors import invalid, not_found
from ...engine.resources import Kind, check_changeable
from ...gateway.context import Ctx, Reply
from ...store import Row
from .. import dbaas
from ..dbaas import api_versions, cluster_name, connect, logs_reply, maintenance_window, required
from ..postgresql.common import check_backup_location
from ..product import PKind, Product, ProductChange, computed_rows, load, rows_of
from . import logs
from .catalogue import (
    API_VERSIONS,
    CLUSTER_TYPES,
    EDITIONS,
    ENTERPRISE_SIZES,
    INSTANCE_COUNTS,
    LOCATIONS,
    MONGODB_VERSIONS,
    SHARDS,
    TEMPLATES,
    TEMPLATES_BY_ID,
    is_downgrade,
)

PRODUCT = Product(
    name="mongodb", spec_name="mongodb", config_name="mongo", host="api.ionos.com", privilege=dbaas.PRIVILEGE
)
PRODUCTS = [PRODUCT]

# This API's resources carry no href (its paging links, named `links`, are URIs).
NO_HREF: dict[str, Any] = {
    "absolute_href": True,
    "envelope": ("id", "type", "metadata", "properties"),
    "links_field": "links",
}


# -- clusters: validation -------------------------------------------------------------------------------

# Addresses the service keeps for itself (the spec names this range).
RESERVED_NETWORKS = (ipaddress.IPv4Network("10.233.114.0/24"),)
WINDOW_ATTR = "properties.maintenanceWindow"


def template_of(template_id: str) -> dict:
    template = TEMPLATES_BY_ID.get(template_id)
    if template is None:
        raise invalid("properties.templateID", f"names no template ('{template_id}'); GET /templates lists them")
    return template


def check_instances(instances: int, edition: str) -> None:
    counts = INSTANCE_COUNTS[edition]
    if instances not in counts:
        raise invalid(
            "properties.instances",
            f"must be one of {', '.join(map(str, counts))} for the {edition} edition, got {instances}",
        )


def check_choice(name: str, value: str, choices) -> str:
    if value not in choices:
        raise invalid(f"properties.{name}", f"must be one of {', '.join(choices)}, got '{value}'")
    return value


def sizing(p: dict, old: dict | None = None) -> dict:
    """What sizes the cluster: a template (playground and business), or for the enterprise edition its cores,
    RAM (MB), storage (MB) and storage type, sent directly; an enterprise cluster may be sharded."""
    edition = p.get("edition") and check_choice("edition", p["edition"], EDITIONS)
    if (edition or (old or {}).get("edition")) == "enterprise":
        if p.get("templateID"):
            raise invalid(
                "properties.templateID",
                "must not be sent for the enterprise edition (cores, ram, storageSize and storageType size it)",
            )
        required(p, "properties", ENTERPRISE_SIZES)
        out = {"edition": "enterprise", **{k: p[k] for k in ENTERPRISE_SIZES}}
        out["type"] = check_choice("type", p.get("type") or "replicaset", CLUSTER_TYPES)
        if out["type"] == "sharded-cluster":
            shards = p.get("shards")
            if shards is None or not SHARDS[0] <= shards <= SHARDS[1]:
                raise invalid(
                    "properties.shards", f"must be {SHARDS[0]} to {SHARDS[1]} for a sharded-cluster, got {shards}"
                )
            if old and shards < old.get("shards", shards):
                raise invalid("properties.shards", f"cannot go down from {old['shards']} to {shards}")
            out["shards"] = shards
        if old and out["type"] != old["type"]:
            raise invalid("properties.type", f"cannot change from '{old['type']}' to '{out['type']}'")
        return out
    if not p.get("templateID"):
        raise invalid("properties.templateID", "is required for the playground and business editions")
    template = template_of(p["templateID"])["properties"]
    if edition not in (None, template["edition"], (old or {}).get("edition")):
        raise invalid("properties.edition", f"must be the template's ('{template['edition']}'), got '{edition}'")
    if p.get("type") not in (None, "replicaset"):
        raise invalid("properties.type", "must be 'replicaset': only the enterprise edition has sharded clusters")
    return {"edition": template["edition"], "type": "replicaset", "templateID": p["templateID"]}


def extras(p: dict, location: str) -> dict:
    """The backup location (the nearest when none is named) and the BI Connector switch."""
    backup = p.get("backup") or {}
    return {
        "backup": {"location": check_backup_location("properties.backup.location", backup.get("location"), location)},
        "biConnector": {"enabled": bool((p.get("biConnector") or {}).get("enabled", False))},
    }


def connections_of(ctx: Ctx, value: list, location: str, instances: int, cluster_id: str = "") -> list[dict]:
    """The one connection: an existing private LAN of a data center in the cluster's location, and one
    address per instance, all in one /24 network."""
    conn, attr = value[0], "properties.connections[0]"
    cidrs = conn["cidrList"]
    if len(cidrs) != instances:
        raise invalid(f"{attr}.cidrList", f"must hold one address per instance ({instances}), got {len(cidrs)}")
    dc, lan, ips = connect(
        ctx,
        attr,
        conn["datacenterId"],
        conn["lanId"],
        location,
        {f"{attr}.cidrList[{i}]": cidr for i, cidr in enumerate(cidrs)},
        clusters=rows_of(ctx, CLUSTER),
        endpoints=endpoints,
        except_id=cluster_id,
        reserved=RESERVED_NETWORKS,
        prefixes=(24, 24),
        taken_attr=f"{attr}.cidrList",
    )
    if len({ip.network for ip in ips}) > 1:
        raise invalid(f"{attr}.cidrList", "must lie in one /24 network")
    if len({ip.ip for ip in ips}) != len(ips):
        raise invalid(f"{attr}.cidrList", "must not repeat an address")
    return [{"datacenterId": dc.id, "lanId": lan.id, "cidrList": list(cidrs)}]


def endpoints(row: Row) -> list[tuple[str, str, str | None]]:
    return [(c["datacenterId"], c["lanId"], cidr) for c in row.props.get("connections") or [] for cidr in c["cidrList"]]


def new_cluster(ctx: Ctx, p: dict) -> dict:
    sizes = sizing(p)
    if p["mongoDBVersion"] not in MONGODB_VERSIONS:
        raise invalid(
            "properties.mongoDBVersion", f"must be one of {', '.join(MONGODB_VERSIONS)}, got '{p['mongoDBVersion']}'"
        )
    check_instances(p["instances"], sizes["edition"])
    check_choice("location", p["location"], LOCATIONS)
    return {
        "displayName": cluster_name("properties.displayName", p["displayName"], free_form=True),
        "mongoDBVersion": p["mongoDBVersion"],
        "location": p["location"],
        "instances": p["instances"],
        "connections": connections_of(ctx, p["connections"], p["location"], p["instances"]),
        "maintenanceWindow": maintenance_window(WINDOW_ATTR, p.get("maintenanceWindow")),
        **sizes,
        **extras(p, p["location"]),
    }


def changed_cluster(ctx: Ctx, p: dict, old: Row) -> dict:
    """A PATCH: the sent properties over the cluster's (the engine refused what cannot be changed)."""
    if p["displayName"] != old.props["displayName"]:
        cluster_name("properties.displayName", p["displayName"], free_form=True)
    p["maintenanceWindow"] = maintenance_window(WINDOW_ATTR, p["maintenanceWindow"])
    if p["mongoDBVersion"] != old.props["mongoDBVersion"] and p["mongoDBVersion"] not in upgrades_of(
        old.props["mongoDBVersion"]
    ):
        allowed = ", ".join(upgrades_of(old.props["mongoDBVersion"])) or "none"
        raise invalid(
            "properties.mongoDBVersion",
            f"cannot change from '{old.props['mongoDBVersion']}' to '{p['mongoDBVersion']}' (upgrades: {allowed}; "
            "one major release at a time, no downgrades)",
        )
    sizes = sizing(p, old.props)
    if "templateID" in sizes:
        template, new = template_of(old.props["templateID"]), template_of(sizes["templateID"])
        if is_downgrade(template, new):
            raise invalid(
                "properties.templateID",
                f"would go down from '{template['properties']['name']}' to "
                f"'{new['properties']['name']}'; templates only grow",
            )
    p.update(sizes, **extras(p, p["location"]))
    if p["instances"] < old.props["instances"]:
        raise invalid("properties.instances", f"cannot go down from {old.props['instances']} to {p['instances']}")
    check_instances(p["instances"], sizes["edition"])
    if not p["connections"]:  # an empty list leaves the connection as it is
        p["connections"] = old.props["connections"]
    if p["connections"] != old.props["connections"]:
        p["connections"] = connections_of(ctx, p["connections"], p["location"], p["instances"], old.id)
    elif len(p["connections"][0]["cidrList"]) != p["instances"]:
        raise invalid("properties.connections", f"must be sent with one address per instance ({p['instances']})")
    return p


def cluster_created(ctx: Ctx, row: Row, change: Change) -> None:
    """The moment the lifecycle makes it AVAILABLE: its instances start, log and take snapshots from then on."""
    if "readyAt" not in row.x:
        row.x.update(createdAt=ctx.now, readyAt=change.req["done_at"])
        ctx.store.update(row)


# -- clusters: rendering ------------------------------------------------------------------------------


def ready(row: Row, now: float) -> bool:
    """Whether the cluster has finished its creation (it then has instances, logs and snapshots)."""
    return row.x.get("readyAt") is not None and row.x["readyAt"] < now


def cluster_view(ctx: Ctx, row: Row) -> dict:
    region = row.props["location"].replace("/", "-")
    view = {**row.props, "connectionString": f"mongodb+srv://m-{row.id}.mongodb.{region}.ionos.com"}
    if view["biConnector"]["enabled"]:  # the host and port BI tools connect to (ionosctl's example shape)
        view["biConnector"] = {"enabled": True, "host": f"r1.m-{row.id}.mongodb.{region}.ionos.com", "port": "27015"}
    return view


def cluster_health(ctx: Ctx, row: Row) -> dict:
    state = row.meta.get("state")
    if state == "FAILED":
        return {"health": "UNHEALTHY"}
    if state == "DESTROYING" or not ready(row, ctx.now):
        return {"health": "UNKNOWN"}
    return {"health": "HEALTHY"}  # AVAILABLE, or BUSY with a change to a running replica set


CLUSTER = dbaas.v1_cluster(
    PRODUCT,
    new_cluster,
    changed_cluster,
    after=cluster_created,
    view=cluster_view,
    meta=cluster_health,
    patchable=(
        "displayName",
        "maintenanceWindow",
        "instances",
        "connections",
        "templateID",
        "mongoDBVersion",
        "edition",
        "type",
        "shards",
        "cores",
        "ram",
        "backup",
        "biConnector",
    ),
    changeable_states=("AVAILABLE",),
    **NO_HREF,
)


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


def prepare_user(ctx: Ctx, cluster: Row, p: dict, old: Row | None) -> dict:
    dbaas.live_cluster(CLUSTER, cluster)
    if old is None:
        name = p["username"]
        if not USERNAME.match(name):
            raise invalid(
                "properties.username",
                f"must be 1 to 63 letters, digits and . _ @ -, starting with a letter or digit, got '{name}'",
            )
        dbaas.new_member_name(ctx, USER, cluster, "properties.username", name)
    props = {
        "username": old.props["username"] if old else p["username"],
        "roles": roles_of(p.get("roles"), "properties.roles"),
    }
    if "password" in p:
        props["password"] = password_hash(p["password"])
    return props


# no id (the username is its key), no state; the password is write-only
USER = dbaas.cluster_users(
    PRODUCT,
    CLUSTER,
    prepare_user,
    lambda ctx, row: {"username": row.props["username"], "roles": row.props.get("roles", [])},
    **{**NO_HREF, "envelope": ("type", "metadata", "properties")},
    metadata_fields=("createdDate", "createdBy", "createdByUserId"),
    delete_renders=True,
)
COMPUTED = {**NO_HREF, "envelope": ("type", "id", "properties")}  # derived, not stored: no metadata
SNAPSHOT = PKind(
    PRODUCT,
    "snapshot",
    "snapshot",
    "snapshots",
    parent=CLUSTER,
    **COMPUTED,
    rows=lambda ctx, cluster: snapshots_of(ctx, cluster),
)
TEMPLATE: Kind = PKind(
    PRODUCT,
    "template",
    "template",
    "templates",
    **COMPUTED,
    rows=lambda ctx, parent: dbaas.catalogue(ctx, TEMPLATE, {t["id"]: dict(t["properties"]) for t in TEMPLATES}),
)


# -- snapshots and restores ---------------------------------------------------------------------------

SNAPSHOT_EVERY = 24 * 3600.0  # one a day, the first when the cluster becomes ready
SNAPSHOTS_KEPT = 7


def snapshots_of(ctx: Ctx, cluster: Row) -> list[Row]:
    """The cluster's snapshots, oldest first; derived from when it became ready, so nothing is stored."""
    if not ready(cluster, ctx.now):
        return []
    newest = int((ctx.now - cluster.x["readyAt"]) // SNAPSHOT_EVERY)
    entries = {}
    for k in range(max(0, newest - SNAPSHOTS_KEPT + 1), newest + 1):
        sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ionos-emulator:mongodb:{cluster.id}:snapshot:{k}"))
        entries[sid] = {
            "version": cluster.props["mongoDBVersion"],
            "size": 12 + 3 * k,  # MB of data, growing
            "creationTime": clock.iso(cluster.x["readyAt"] + k * SNAPSHOT_EVERY),
        }
    return computed_rows(ctx, SNAPSHOT, entries, cluster)


@PRODUCT.handler("clustersRestorePost")
def restore(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    snapshot_id = ctx.body["snapshotId"]
    if snapshot_id not in {s.id for s in snapshots_of(ctx, cluster)}:
        raise not_found(f"snapshot '{snapshot_id}' of cluster '{cluster.id}' was not found")
    check_changeable(ctx, CLUSTER, cluster, "restored")
    with ProductChange(ctx, CLUSTER) as ch:  # BUSY while the data is put back, then AVAILABLE
        cluster.x["restoredFrom"] = {"snapshotId": snapshot_id, "at": clock.iso_precise(ctx.now)}
        ch.updated(CLUSTER, cluster)
    return Reply(202, None)


# -- logs ---------------------------------------------------------------------------------------------


@PRODUCT.handler("clustersLogsGet")
def cluster_logs(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    return logs_reply(
        ctx,
        cluster.props["instances"],
        ready(cluster, ctx.now),
        lambda i: logs.instance_name(cluster.id, i),
        lambda i, *window: logs.instance_lines(
            cluster.id, i, cluster.props["mongoDBVersion"], cluster.x["createdAt"], cluster.x["readyAt"], *window
        ),
    )


# -- catalogue ----------------------------------------------------------------------------------------

# -- the MongoDB versions on offer, and those a cluster can go to -----------------------------------------


def upgrades_of(version: str) -> list[str]:
    """MongoDB upgrades one major release at a time (its feature compatibility version must follow)."""
    later = list(MONGODB_VERSIONS[MONGODB_VERSIONS.index(version) + 1 :]) if version in MONGODB_VERSIONS else []
    return later[:1]


def version_list(versions) -> Reply:
    return Reply(200, {"data": [{"name": v} for v in versions]})


PRODUCT.handler("versionsGet")(lambda ctx: version_list(MONGODB_VERSIONS))


@PRODUCT.handler("clustersVersionsGet")
def cluster_versions(ctx: Ctx) -> Reply:
    current = load(ctx, CLUSTER, ctx.params["clusterId"]).props["mongoDBVersion"]
    return version_list([current, *upgrades_of(current)])


api_versions(PRODUCT, API_VERSIONS)
