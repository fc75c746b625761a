"""DBaaS PostgreSQL v1 (api.ionos.com/databases/postgresql), the older API of the same service: clusters whose
location is their data center's, their backups, in-place restores, instance logs, PostgreSQL versions and
the API's own versions.

Conventions of this API: creating answers 200 with the cluster BUSY, it turns AVAILABLE through the lifecycle
engine; PATCH changes (BUSY again); DELETE answers 200 with the cluster DESTROYING, then 404. Resources carry
no href (clients build URLs from ids). Sizes are in MB. The initial user's database is named like the user
(libpq's default database), on the configured server (plane.py); `properties.dnsName` and the logs say where.
"""
from __future__ import annotations

import re

from ...engine import clock
from ...engine.change import key
from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import REGIONS, PKind, Product, ProductChange, load, new_row, page, properties, render, rows_of
from . import logs, plane, timeline
from .common import (VERSIONS, address_of, check_backup_location, check_recovery_time, check_username,
                     check_version, invalid, maintenance_window, network, parse_time, upgrades_of)

PRODUCT = Product(name="postgresql-v1", spec_name="postgresql-v1", config_name="psql", host="api.ionos.com",
                  privilege="manageDBaaS")


def bind(op_id: str):
    return plane.bind(PRODUCT, op_id)

API_VERSIONS = [{"name": "v1", "swaggerUrl": "dbaas-postgres-v1.yaml"}]
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
RESERVED_RANGES = ("10.233.64.0/18", "10.233.0.0/18", "10.233.114.0/24")
CHANGEABLE = ("displayName", "postgresVersion", "instances", "cores", "ram", "storageSize", "maintenanceWindow",
              "connections")


def cluster_view(ctx: Ctx, row: Row) -> dict:
    where = plane.placement(row)
    region = REGIONS.get(row.props["location"], row.props["location"].replace("/", "-"))
    return {**row.props, "dnsName": where["host"] if where else f"pg-{row.id[:8]}.postgresql.{region}.ionos.com"}


def backup_view(ctx: Ctx, row: Row) -> dict:
    """In MB, growing with the WAL written since the backup began."""
    hours = max(0.0, (ctx.now - row.x["startsAt"]) / 3600)
    props = {k: v for k, v in row.props.items() if k != "latestRecoveryTargetTime"}
    return {"id": row.id, **props, "size": 16 + int(min(hours, 24 * 365))}


# absolute: the pagination links are URIs (the resources' own hrefs are dropped, see shaped())
CLUSTER = PKind(PRODUCT, "cluster", "cluster", "clusters", absolute_href=True, creating="BUSY", updating="BUSY",
                destroying="DESTROYING", view=cluster_view)
BACKUP = PKind(PRODUCT, "backup", "backup", "backups", absolute_href=True, creating="AVAILABLE", view=backup_view)


def shaped(body, kind: PKind = CLUSTER):
    """This API's resources carry no href, and the metadata its schema has."""
    keep = ("createdDate", "state") if kind is BACKUP else (
        "createdDate", "createdBy", "createdByUserId", "lastModifiedDate", "lastModifiedBy", "lastModifiedByUserId",
        "state")
    for item in ([body] if "items" not in body else body["items"]):
        item.pop("href", None)
        item["metadata"] = {k: v for k, v in item["metadata"].items() if k in keep}
    body.pop("href", None)
    return body


def require_ready(row: Row, doing: str) -> None:
    if row.meta.get("state") not in (CLUSTER.states.ready, "FAILED"):
        raise ApiError(422, f"cluster '{row.id}' is {row.meta.get('state')}; it can be {doing} once it is AVAILABLE")


def sync_mode(mode: str, instances: int) -> str:
    if mode != "ASYNCHRONOUS" and instances < 2:
        raise invalid("properties.synchronizationMode", f"{mode} needs at least 2 instances (a standby confirms "
                                                        "every commit)")
    return mode


def connection(ctx: Ctx, value: dict, location: str, cluster_id: str = "") -> dict:
    attr = "properties.connections[0]"
    taken = {address_of(c["cidr"]): r.id for r in rows_of(ctx, CLUSTER) if r.id != cluster_id
             for c in r.props["connections"]
             if (c["datacenterId"], c["lanId"]) == (value["datacenterId"], value["lanId"])}
    dc, lan = network(ctx, attr, value["datacenterId"], value["lanId"], location, value["cidr"], "cidr",
                      RESERVED_RANGES, taken)
    return {"datacenterId": dc.id, "lanId": lan.id, "cidr": value["cidr"]}


def display_name(value: str) -> str:
    if not value.strip():
        raise invalid("properties.displayName", "must not be empty")
    return value


def start_backup(ctx: Ctx, cluster: Row, starts: float) -> Row:
    return timeline.start(ctx, BACKUP, cluster, starts, version=cluster.props["postgresVersion"],
                          location=cluster.props["backupLocation"], retention_days=None, version_field="version")


def find_backup(ctx: Ctx, backup_id: str) -> Row | None:
    return next((b for b in timeline.visible(ctx, BACKUP) if b.id == backup_id), None)


# -- clusters -------------------------------------------------------------------------------------------

@bind("clustersGet")
def list_clusters(ctx: Ctx) -> Reply:
    by_name = lambda r: {"properties": {"name": r.props.get("displayName")}}  # noqa: E731  (filter.name)
    return Reply(200, shaped(page(ctx, CLUSTER, rows_of(ctx, CLUSTER), CLUSTER.segment, view=by_name)))


@bind("clustersPost")
def create_cluster(ctx: Ctx) -> Reply:
    p = properties(ctx)
    location = p["location"]
    if location not in REGIONS:
        raise invalid("properties.location", f"must be one of {', '.join(REGIONS)}, got '{location}'")
    cred = p["credentials"]
    check_username("properties.credentials.username", cred["username"], USERNAME,
                   "1 to 63 letters, digits, '_' and '-', starting with a letter or digit")
    props = {"displayName": display_name(p["displayName"]),
             "postgresVersion": check_version("properties.postgresVersion", p["postgresVersion"]),
             "location": location,
             "backupLocation": check_backup_location("properties.backupLocation", p.get("backupLocation"), location),
             "instances": p["instances"], "cores": p["cores"], "ram": p["ram"], "storageSize": p["storageSize"],
             "storageType": p["storageType"],
             "connections": [connection(ctx, p["connections"][0], location)],
             "maintenanceWindow": maintenance_window("properties.maintenanceWindow", p.get("maintenanceWindow")),
             "synchronizationMode": sync_mode(p["synchronizationMode"], p["instances"])}
    source = None
    if p.get("fromBackup"):
        backup = find_backup(ctx, p["fromBackup"]["backupId"])
        if backup is None:
            raise invalid("properties.fromBackup.backupId", f"names no backup ('{p['fromBackup']['backupId']}')")
        when = check_recovery_time("properties.fromBackup.recoveryTargetTime",
                                   p["fromBackup"].get("recoveryTargetTime"), *timeline.window(ctx, backup))
        source = {"backupId": backup.id, "recoveryTargetTime": when}
    row = new_row(ctx, CLUSTER, None, props)
    # the database is named like the user: what libpq connects to when a client names no database
    row.x["login"] = plane.login(cred["username"], cred["password"], cred["username"])
    if source:
        row.x["restoredFrom"] = source
    with ProductChange(ctx, CLUSTER) as ch:
        row.x["readyAt"] = ch.req["done_at"]  # its instances start (and log) from then on
        ch.created(CLUSTER, row)
        backup = start_backup(ctx, row, ch.req["done_at"])
        ch.effect("delete", key(backup), on_fail=True)
        plane.provision(ctx, ch, row)
        ctx.store.update(row)
    return Reply(200, shaped(render(ctx, CLUSTER, row)))


@bind("clustersFindById")
def get_cluster(ctx: Ctx) -> Reply:
    return Reply(200, shaped(render(ctx, CLUSTER, load(ctx, CLUSTER, ctx.params["clusterId"]))))


@bind("clustersPatch")
def patch_cluster(ctx: Ctx) -> Reply:
    row = load(ctx, CLUSTER, ctx.params["clusterId"])
    sent = {k: v for k, v in properties(ctx).items() if v is not None}
    for name in sent:
        if name not in CHANGEABLE:
            raise invalid(f"properties.{name}", "cannot be changed")
    require_ready(row, "changed")
    props = dict(row.props)
    if "displayName" in sent:
        props["displayName"] = display_name(sent["displayName"])
    if "postgresVersion" in sent:
        props["postgresVersion"] = check_version("properties.postgresVersion", sent["postgresVersion"],
                                                 row.props["postgresVersion"])
    if sent.get("storageSize", props["storageSize"]) < props["storageSize"]:
        raise invalid("properties.storageSize", f"can only grow (it is {props['storageSize']} MB)")
    props.update({k: sent[k] for k in ("instances", "cores", "ram", "storageSize") if k in sent})
    sync_mode(props["synchronizationMode"], props["instances"])
    if "maintenanceWindow" in sent:
        props["maintenanceWindow"] = maintenance_window("properties.maintenanceWindow", sent["maintenanceWindow"])
    if sent.get("connections"):  # an empty list leaves the connection as it is
        props["connections"] = [connection(ctx, sent["connections"][0], props["location"], row.id)]
    upgraded = props["postgresVersion"] != row.props["postgresVersion"]
    with ProductChange(ctx, CLUSTER) as ch:
        row.doc["properties"] = props
        ch.updated(CLUSTER, row)
        if upgraded:  # a major upgrade starts a new timeline
            timeline.end(ctx, BACKUP, row.id, ctx.now)
            start_backup(ctx, row, ch.req["done_at"])
        plane.provision(ctx, ch, row)
        ctx.store.update(row)
    return Reply(200, shaped(render(ctx, CLUSTER, row)))


@bind("clustersDelete")
def delete_cluster(ctx: Ctx) -> Reply:
    row = load(ctx, CLUSTER, ctx.params["clusterId"])
    if row.meta.get("state") != CLUSTER.states.destroying:  # deleting twice is one deletion
        with ProductChange(ctx, CLUSTER) as ch:
            ch.deleting(CLUSTER, row)
            timeline.end_with(ctx, ch, BACKUP, row.id)
            plane.deprovision(ctx, ch, row)
    return Reply(200, shaped(render(ctx, CLUSTER, row)))


# -- backups and restores -----------------------------------------------------------------------------

def backup_page(ctx: Ctx, rows: list[Row], path: str) -> dict:
    return shaped(page(ctx, BACKUP, rows, path), BACKUP)


@bind("clustersBackupsGet")
def list_all_backups(ctx: Ctx) -> Reply:
    return Reply(200, backup_page(ctx, timeline.visible(ctx, BACKUP), "clusters/backups"))


@bind("clustersBackupsFindById")
def get_backup(ctx: Ctx) -> Reply:
    backup = find_backup(ctx, ctx.params["backupId"])
    if backup is None:
        raise ApiError(404, f"backup '{ctx.params['backupId']}' was not found", "404")
    return Reply(200, shaped(render(ctx, BACKUP, backup), BACKUP))


@bind("clusterBackupsGet")
def list_cluster_backups(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    return Reply(200, backup_page(ctx, timeline.visible(ctx, BACKUP, cluster.id), f"{cluster.path}/backups"))


@bind("clusterRestorePost")
def restore(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    backup = find_backup(ctx, ctx.body["backupId"])
    if backup is None:
        raise ApiError(404, f"backup '{ctx.body['backupId']}' was not found", "404")
    if int(backup.props["version"]) > int(cluster.props["postgresVersion"]):
        raise invalid("backupId", f"holds PostgreSQL {backup.props['version']} data, newer than the cluster's "
                                  f"{cluster.props['postgresVersion']}")
    when = check_recovery_time("recoveryTargetTime", ctx.body.get("recoveryTargetTime"), *timeline.window(ctx, backup))
    require_ready(cluster, "restored")
    with ProductChange(ctx, CLUSTER) as ch:  # BUSY while the data is put back, then AVAILABLE
        cluster.x["restoredTo"] = {"backupId": backup.id, "recoveryTargetTime": when, "at": clock.iso_precise(ctx.now)}
        ch.updated(CLUSTER, cluster)
        timeline.end(ctx, BACKUP, cluster.id, ctx.now)
        start_backup(ctx, cluster, ch.req["done_at"])
    return Reply(202, None)


# -- logs ---------------------------------------------------------------------------------------------

LOG_WINDOW = 30 * 24 * 3600.0


@bind("clusterLogsGet")
def cluster_logs(ctx: Ctx) -> Reply:
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    now = ctx.now
    end = parse_time("end", ctx.q("end")) if ctx.q("end") else now
    start = parse_time("start", ctx.q("start")) if ctx.q("start") else now - LOG_WINDOW
    if end > now + 60:
        raise ApiError(422, "query parameter 'end' must not be later than now")
    if start < now - LOG_WINDOW - 60:
        raise ApiError(422, "query parameter 'start' must not be more than 30 days ago")
    if start >= end:
        raise ApiError(422, "query parameter 'start' must be before 'end'")
    ready = cluster.x.get("readyAt")
    running = ready is not None and ready <= now  # a cluster still being created has written nothing yet
    return Reply(200, {"instances": [
        {"name": logs.instance_name(cluster.id, i),
         "messages": logs.instance_lines(cluster.id, i, cluster.props["postgresVersion"], ready, plane.note(cluster),
                                         start, min(end, now), (ctx.q("direction") or "BACKWARD") == "FORWARD",
                                         ctx.q_int("limit", 100)) if running else []}
        for i in range(cluster.props["instances"])]})


# -- catalogue ----------------------------------------------------------------------------------------

@bind("postgresVersionsGet")
def list_versions(ctx: Ctx) -> Reply:
    return Reply(200, {"data": [{"name": v} for v in VERSIONS]})


@bind("clusterPostgresVersionsGet")
def cluster_versions(ctx: Ctx) -> Reply:
    current = load(ctx, CLUSTER, ctx.params["clusterId"]).props["postgresVersion"]
    return Reply(200, {"data": [{"name": v} for v in [current, *upgrades_of(current)]]})


@bind("infosVersionGet")
def api_version(ctx: Ctx) -> Reply:
    return Reply(200, dict(API_VERSIONS[-1]))


@bind("infosVersionsGet")
def api_versions(ctx: Ctx) -> Reply:
    return Reply(200, [dict(v) for v in API_VERSIONS])
