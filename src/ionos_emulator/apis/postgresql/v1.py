"""DBaaS PostgreSQL v1 (api.ionos.com/databases/postgresql), the older API of the same service: clusters whose
location is their data center's, their backups, in-place restores, instance logs, PostgreSQL versions and
the API's own versions.

Conventions of this API: creating answers 200 with the cluster BUSY, it turns AVAILABLE through the lifecycle
engine; PATCH changes (BUSY again); DELETE answers 200 with the cluster DESTROYING, then 404. Resources carry
no href (clients build URLs from ids). Sizes are in MB. The initial user's database is named like the user
(libpq's default database), on the configured server (plane.py); `properties.dnsName` and the logs say where.
The cluster's further users and databases are written at once and made on that server once written.
"""

from __future__ import annotations

import math
import re
from ipaddress import IPv4Network

from ...engine import clock
from ...engine.change import Change
from ...engine.errors import invalid, not_found, unprocessable
from ...engine.resources import check_changeable
from ...gateway.context import Ctx, Reply
from ...store import Row
from .. import dbaas
from ..dbaas import (
    PRIVILEGE,
    V1_CLUSTER_METADATA,
    api_versions,
    cluster_name,
    connect,
    logs_reply,
    maintenance_window,
    v1_cluster,
)
from ..product import REGIONS, Product, ProductChange, load, page, render, rows_of
from . import logs, plane
from .common import VERSIONS, check_backup_location, check_username, check_version, upgrades_of
from .timeline import Backups, backup_kind

PRODUCT = Product(
    name="postgresql-v1",
    spec_name="postgresql-v1",
    config_name="psql",
    host="api.ionos.com",
    privilege=PRIVILEGE,
    effects=plane.EFFECTS,
)

API_VERSIONS = [{"name": "v1", "swaggerUrl": "dbaas-postgres-v1.yaml"}]
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
RESERVED_NETWORKS = tuple(IPv4Network(n) for n in ("10.233.64.0/18", "10.233.0.0/18", "10.233.114.0/24"))
# this API's resources carry no href (its paging links are URIs), and the metadata its schema has
ENVELOPE = ("id", "type", "metadata", "properties")
CLUSTER_METADATA = V1_CLUSTER_METADATA


def cluster_view(ctx: Ctx, row: Row) -> dict:
    where = plane.placement(row)
    region = REGIONS.get(row.props["location"], row.props["location"].replace("/", "-"))
    return {**row.props, "dnsName": where["host"] if where else f"pg-{row.id[:8]}.postgresql.{region}.ionos.com"}


def backup_view(ctx: Ctx, row: Row) -> dict:
    """In MB, growing with the WAL written since the backup began."""
    hours = max(0.0, (ctx.now - row.x["startsAt"]) / 3600)
    props = {k: v for k, v in row.props.items() if k != "latestRecoveryTargetTime"}
    return {"id": row.id, **props, "size": 16 + int(min(hours, 24 * 365))}


BACKUP = backup_kind(PRODUCT, view=backup_view, envelope=ENVELOPE, metadata_fields=("createdDate", "state"))
BACKUPS = Backups(
    BACKUP,
    "postgresVersion",
    lambda cluster: {"version": cluster.props["postgresVersion"], "location": cluster.props["backupLocation"]},
)


def sync_mode(mode: str, instances: int) -> str:
    if mode != "ASYNCHRONOUS" and instances < 2:
        raise invalid(
            "properties.synchronizationMode", f"{mode} needs at least 2 instances (a standby confirms every commit)"
        )
    return mode


def endpoints(row: Row) -> list[tuple[str, str, str | None]]:
    return [(c["datacenterId"], c["lanId"], c["cidr"]) for c in row.props["connections"]]


def connection(ctx: Ctx, value: dict, location: str, cluster_id: str = "") -> dict:
    attr = "properties.connections[0]"
    dc, lan, _ = connect(
        ctx,
        attr,
        value["datacenterId"],
        value["lanId"],
        location,
        {f"{attr}.cidr": value["cidr"]},
        clusters=rows_of(ctx, CLUSTER),
        endpoints=endpoints,
        except_id=cluster_id,
        reserved=RESERVED_NETWORKS,
    )
    return {"datacenterId": dc.id, "lanId": lan.id, "cidr": value["cidr"]}


def find_backup(ctx: Ctx, backup_id: str) -> Row | None:
    return next((b for b in BACKUPS.visible(ctx) if b.id == backup_id), None)


# -- clusters -------------------------------------------------------------------------------------------


def new_cluster(ctx: Ctx, p: dict) -> dict:
    location = p["location"]
    if location not in REGIONS:
        raise invalid("properties.location", f"must be one of {', '.join(REGIONS)}, got '{location}'")
    cred = p["credentials"]
    check_username(
        "properties.credentials.username",
        cred["username"],
        USERNAME,
        "1 to 63 letters, digits, '_' and '-', starting with a letter or digit",
    )
    props = {
        "displayName": cluster_name("properties.displayName", p["displayName"], free_form=True),
        "postgresVersion": check_version("properties.postgresVersion", p["postgresVersion"]),
        "location": location,
        "backupLocation": check_backup_location("properties.backupLocation", p.get("backupLocation"), location),
        "instances": p["instances"],
        "cores": p["cores"],
        "ram": p["ram"],
        "storageSize": p["storageSize"],
        "storageType": p["storageType"],
        "connections": [connection(ctx, p["connections"][0], location)],
        "maintenanceWindow": maintenance_window("properties.maintenanceWindow", p.get("maintenanceWindow")),
        "synchronizationMode": sync_mode(p["synchronizationMode"], p["instances"]),
        # kept as sent, as the real API echoes it (the Terraform provider compares it with its plan)
        **({"connectionPooler": p["connectionPooler"]} if p.get("connectionPooler") is not None else {}),
        # the database is named like the user: what libpq connects to when a client names no database
        "login": plane.login(cred["username"], cred["password"], cred["username"]),
    }
    if p.get("fromBackup"):
        backup = find_backup(ctx, p["fromBackup"]["backupId"])
        if backup is None:
            raise invalid("properties.fromBackup.backupId", f"names no backup ('{p['fromBackup']['backupId']}')")
        when = BACKUPS.recovery_time(
            ctx, "properties.fromBackup.recoveryTargetTime", p["fromBackup"].get("recoveryTargetTime"), [backup]
        )
        props["restoredFrom"] = {"backupId": backup.id, "recoveryTargetTime": when}
    return props


def changed_cluster(ctx: Ctx, p: dict, old: Row) -> dict:
    """A PATCH: the sent properties over the cluster's (the engine refused what cannot be changed)."""
    if p["displayName"] != old.props["displayName"]:
        cluster_name("properties.displayName", p["displayName"], free_form=True)
    check_version("properties.postgresVersion", p["postgresVersion"], old.props["postgresVersion"])
    if p["storageSize"] < old.props["storageSize"]:
        raise invalid("properties.storageSize", f"can only grow (it is {old.props['storageSize']} MB)")
    sync_mode(p["synchronizationMode"], p["instances"])
    p["maintenanceWindow"] = maintenance_window("properties.maintenanceWindow", p["maintenanceWindow"])
    if not p["connections"]:  # an empty list leaves the connection as it is
        p["connections"] = old.props["connections"]
    elif p["connections"] != old.props["connections"]:
        p["connections"] = [connection(ctx, p["connections"][0], p["location"], old.id)]
    return p


CLUSTER = v1_cluster(
    PRODUCT,
    new_cluster,
    changed_cluster,
    absolute_href=True,
    view=cluster_view,
    envelope=ENVELOPE,
    metadata_fields=CLUSTER_METADATA,
    **plane.cluster_hooks(BACKUPS),
    internal=("login", "restoredFrom"),
    changeable_states=("AVAILABLE", "FAILED"),
    patchable=(
        "displayName",
        "postgresVersion",
        "instances",
        "cores",
        "ram",
        "storageSize",
        "maintenanceWindow",
        "connections",
        "connectionPooler",
    ),
)


# -- the cluster's own users and databases (written at once, keyed by their names in their cluster) ---------

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
MEMBER = {
    "envelope": ("type", "id", "href", "metadata", "properties"),
    "metadata_fields": ("createdDate", "createdBy", "createdByUserId"),
    "absolute_href": True,
}


def prepare_user(ctx: Ctx, cluster: Row, p: dict, old: Row | None) -> dict:
    dbaas.live_cluster(CLUSTER, cluster)
    if old is not None:  # a PATCH changes the password only
        return {**old.props, **({"password": plane.scram_verifier(p["password"])} if p.get("password") else {})}
    name = check_username(
        "properties.username",
        p["username"],
        USERNAME,
        "1 to 63 letters, digits, '_' and '-', starting with a letter or digit",
    )
    if name == cluster.x["login"]["username"]:
        raise invalid("properties.username", f"names the initial user of cluster {cluster.id} ('{name}')")
    dbaas.new_member_name(ctx, USER, cluster, "properties.username", name)
    if not p.get("password"):
        raise invalid("properties.password", "is required for a new user")
    return {"username": name, "system": False, "password": plane.scram_verifier(p["password"])}


def system_users(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    """?system=false: only the users clients made (every user here is one)."""
    wanted = values[-1].lower() == "true"
    return [r for r in rows if bool(r.props.get("system")) == wanted]


def user_deleted(ctx: Ctx, row: Row, change: Change) -> None:
    """A user who owns a database stays (its role could not be dropped); then its role goes."""
    owned = sorted(d.id for d in ctx.store.list(ctx.tenant, DATABASE.name, row.parent) if d.props["owner"] == row.id)
    if owned:
        raise unprocessable(
            f"user '{row.id}' owns the database{'s' if len(owned) > 1 else ''} {', '.join(owned)} of cluster "
            f"{row.parent}; delete {'them' if len(owned) > 1 else 'it'} first"
        )
    USER_PLANE["delete"](ctx, row, change)


# each user is a login role of the cluster's server, each database one there owned by its owner's role
USER_PLANE = plane.member_hooks(CLUSTER.name, "user")
DATABASE_PLANE = plane.member_hooks(CLUSTER.name, "database")

USER = dbaas.cluster_users(
    PRODUCT,
    CLUSTER,
    prepare_user,
    lambda ctx, row: {"username": row.props["username"], "system": row.props.get("system", False)},
    filters={"system": system_users},
    patchable=("password",),
    after=USER_PLANE["after"],
    delete=user_deleted,
    **MEMBER,
)


def prepare_database(ctx: Ctx, cluster: Row, p: dict, old: Row | None) -> dict:
    dbaas.live_cluster(CLUSTER, cluster)
    name, owner = p["name"], p["owner"]
    if not NAME.match(name) or name.lower() in ("postgres", "template0", "template1"):
        raise invalid(
            "properties.name",
            f"must be 1 to 63 letters, digits, '_', '$' and '-', starting with a letter or '_', and not one "
            f"of the server's own databases, got '{name}'",
        )
    dbaas.new_member_name(ctx, DATABASE, cluster, "properties.name", name)
    owners = {cluster.x["login"]["username"], *(u.id for u in rows_of(ctx, USER, cluster))}
    if owner not in owners:
        raise invalid("properties.owner", f"names no user of cluster {cluster.id} ('{owner}')")
    return {"name": name, "owner": owner}


DATABASE = dbaas.cluster_member(
    PRODUCT,
    CLUSTER,
    "database",
    "databases",
    "name",
    prepare=prepare_database,
    after=DATABASE_PLANE["after"],
    delete=DATABASE_PLANE["delete"],
    **MEMBER,
)
assert (USER.name, DATABASE.name) == (plane.USER_KIND, plane.DATABASE_KIND)


# -- backups and restores -----------------------------------------------------------------------------


@PRODUCT.handler("clustersBackupsGet")
def list_all_backups(ctx: Ctx) -> Reply:
    return Reply(200, page(ctx, BACKUP, BACKUPS.visible(ctx), "clusters/backups"))


@PRODUCT.handler("clustersBackupsFindById")
def get_backup(ctx: Ctx) -> Reply:
    return Reply(200, render(ctx, BACKUP, backup_named(ctx, ctx.params["backupId"])))


@PRODUCT.handler("clusterBackupsGet")
def list_cluster_backups(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    return Reply(200, page(ctx, BACKUP, BACKUPS.visible(ctx, cluster.id), f"{cluster.path}/backups"))


def backup_named(ctx: Ctx, backup_id: str) -> Row:
    backup = find_backup(ctx, backup_id)
    if backup is None:
        raise not_found(f"backup '{backup_id}' was not found")
    return backup


@PRODUCT.handler("clusterRestorePost")
def restore(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    backup = backup_named(ctx, ctx.body["backupId"])
    if int(backup.props["version"]) > int(cluster.props["postgresVersion"]):
        raise invalid(
            "backupId",
            f"holds PostgreSQL {backup.props['version']} data, newer than the cluster's "
            f"{cluster.props['postgresVersion']}",
        )
    when = BACKUPS.recovery_time(ctx, "recoveryTargetTime", ctx.body.get("recoveryTargetTime"), [backup])
    check_changeable(ctx, CLUSTER, cluster, "restored")
    with ProductChange(ctx, CLUSTER) as ch:  # BUSY while the data is put back, then AVAILABLE, on a new timeline
        cluster.x["restoredTo"] = {"backupId": backup.id, "recoveryTargetTime": when, "at": clock.iso_precise(ctx.now)}
        ch.updated(CLUSTER, cluster)
        BACKUPS.follow(ctx, ch, cluster)
    return Reply(202, None)


# -- logs ---------------------------------------------------------------------------------------------


@PRODUCT.handler("clusterLogsGet")
def cluster_logs(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    ready: float = cluster.x.get("readyAt", math.inf)  # nothing has run before
    return logs_reply(
        ctx,
        cluster.props["instances"],
        ready <= ctx.now,
        lambda i: logs.instance_name(cluster.id, i),
        lambda i, *window: logs.instance_lines(
            cluster.id, i, cluster.props["postgresVersion"], ready, plane.note(cluster), *window
        ),
    )


# -- catalogue ----------------------------------------------------------------------------------------


# /versions and /clusters/{id}/versions are the upstream spec's newer names of the same lists


@PRODUCT.handler("versionsGet")
@PRODUCT.handler("postgresVersionsGet")
def list_versions(ctx: Ctx) -> Reply:
    return Reply(200, {"data": [{"name": v} for v in VERSIONS]})


@PRODUCT.handler("clustersVersionsGet")
@PRODUCT.handler("clusterPostgresVersionsGet")
def cluster_versions(ctx: Ctx) -> Reply:
    current = load(ctx, CLUSTER, ctx.params["clusterId"]).props["postgresVersion"]
    return Reply(200, {"data": [{"name": v} for v in [current, *upgrades_of(current)]]})


api_versions(PRODUCT, API_VERSIONS)
