"""DBaaS PostgreSQL, the current API (2.0; SDK ionoscloud-dbaas-postgres 3.x) on postgresql.<region>.ionos.com:
clusters, each in the location of its host and connected to a private LAN of a Cloud API data center; their
backups; the backup locations and PostgreSQL versions on offer.

Conventions: POST answers 201 with the cluster PROVISIONING; PUT ensures (201 when it creates under the
client's id, 200 when it replaces: UPDATING until the change completes); DELETE answers 202 without a body,
the cluster DESTROYING, then 404. A cluster's initial user and database become real on the configured
PostgreSQL server (plane.py); `metadata.dnsName` and `metadata.statusMessage` say where.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from ...engine import clock
from ...engine.errors import invalid
from ...engine.resources import Kind
from ...gateway.context import Ctx
from ...store import Row
from .. import dbaas
from ..dbaas import cluster_name, maintenance_window, required
from ..product import REGIONS, PKind, Product, rows_of
from . import plane
from .common import (
    BACKUP_LOCATIONS,
    VERSION_COMMENTS,
    VERSIONS,
    check_backup_location,
    check_username,
    check_version,
    stable_id,
    upgrades_of,
)
from .timeline import DEFAULT_RETENTION_DAYS, Backups, backup_kind

PRODUCT = Product(
    name="postgresql",
    spec_name="postgresql",
    config_name="psqlv2",
    locations=("de/txl", "de/fra", "fr/par", "es/vit", "gb/lhr", "gb/bhx", "us/las", "us/mci", "us/ewr"),
    host="postgresql.{region}.ionos.com",
    privilege=dbaas.PRIVILEGE,
    effects=plane.EFFECTS,
)


def dns_name(row: Row) -> str:
    where = plane.placement(row)
    return where["host"] if where else f"pg-{row.id[:8]}.postgresql.{REGIONS.get(row.scope, 'de-txl')}.ionos.com"


def cluster_meta(ctx: Ctx, row: Row) -> dict:
    out = {"dnsName": dns_name(row)}
    message = plane.note(row)
    if message:
        out["statusMessage"] = message
    return out


USERNAME = re.compile(r"^[A-Za-z0-9_]{2,16}$")
DATABASE = re.compile(r"^[A-Za-z0-9_]{2,63}$")
PASSWORD_SPECIALS = "@$!%*?&"
POOLERS = ("DISABLED", "TRANSACTION", "SESSION")
RESERVED_NETWORKS = (IPv4Network("10.208.0.0/12"),)


# -- clusters: checks -----------------------------------------------------------------------------------


def check_password(attr: str, password: str) -> str:
    missing = [
        what
        for what, ok in (
            ("8 to 63 characters", 8 <= len(password) <= 63),
            ("a lowercase letter", any(c.islower() for c in password)),
            ("an uppercase letter", any(c.isupper() for c in password)),
            ("a digit", any(c.isdigit() for c in password)),
            (f"one of {PASSWORD_SPECIALS}", any(c in PASSWORD_SPECIALS for c in password)),
        )
        if not ok
    ]
    if missing:
        raise invalid(attr, f"must have {', '.join(missing)}")
    return password


def credentials(p: dict, old: Row | None) -> tuple[dict, dict | None]:
    """The initial user as shown ({username, database}) and its login to store when it is new or changes."""
    attr, cred = "properties.credentials", p.get("credentials")
    if old is None:
        if cred is None:
            raise invalid(attr, "is required")
        required(cred, attr, ("username", "password", "database"))
        check_username(f"{attr}.username", cred["username"], USERNAME, "2 to 16 letters, digits and underscores")
        if not DATABASE.match(cred["database"]):
            raise invalid(
                f"{attr}.database", f"must be 2 to 63 letters, digits and underscores, got '{cred['database']}'"
            )
        check_password(f"{attr}.password", cred["password"])
        return (
            {"username": cred["username"], "database": cred["database"]},
            plane.login(cred["username"], cred["password"], cred["database"]),
        )
    shown = dict(old.props["credentials"])
    if cred is None:  # the initial user outlives a replace that does not mention it
        return shown, None
    for name in ("username", "database"):
        if cred.get(name) is not None and cred[name] != shown[name]:
            raise invalid(f"{attr}.{name}", f"cannot be changed (it is '{shown[name]}')")
    if cred.get("password") is None:
        return shown, None
    check_password(f"{attr}.password", cred["password"])
    return shown, plane.login(shown["username"], cred["password"], old.x["login"]["database"])


def cluster_props(ctx: Ctx, p: dict, old: Row | None) -> dict:
    """The checked properties of a cluster to create (old is None) or to replace, with its new login if any."""
    required(p, "properties", ("name", "version", "instances", "connection"))
    props: dict = {"name": cluster_name("properties.name", p["name"])}
    if p.get("description") is not None:
        props["description"] = p["description"]
    props["version"] = check_version("properties.version", p["version"], old.props["version"] if old else None)
    inst = p["instances"]
    required(inst, "properties.instances", ("count", "cores", "ram", "storageSize"))
    if old and inst["storageSize"] < old.props["instances"]["storageSize"]:
        raise invalid(
            "properties.instances.storageSize", f"can only grow (it is {old.props['instances']['storageSize']} GB)"
        )
    props["instances"] = {k: inst[k] for k in ("count", "cores", "ram", "storageSize")}
    mode = p.get("replicationMode") or "ASYNCHRONOUS"
    if mode == "STRICTLY_SYNCHRONOUS" and inst["count"] < 2:
        raise invalid(
            "properties.replicationMode",
            "STRICTLY_SYNCHRONOUS needs at least 2 instances (a standby confirms every commit)",
        )
    props["replicationMode"] = mode
    conn, attr = p["connection"], "properties.connection"
    required(conn, attr, ("datacenterId", "lanId"))
    address = conn.get("primaryInstanceAddress")
    dc, lan, _ = dbaas.connect(
        ctx,
        attr,
        conn["datacenterId"],
        conn["lanId"],
        ctx.api.location,
        {} if address is None else {f"{attr}.primaryInstanceAddress": address},
        clusters=rows_of(ctx, CLUSTER),
        endpoints=dbaas.connection_endpoints,
        except_id=old.id if old else "",
        reserved=RESERVED_NETWORKS,
    )
    props["connection"] = {"datacenterId": dc.id, "lanId": lan.id}
    if address is not None:
        props["connection"]["primaryInstanceAddress"] = address
    props["maintenanceWindow"] = maintenance_window(
        "properties.maintenanceWindow", p.get("maintenanceWindow"), old.props["maintenanceWindow"] if old else None
    )
    pooler = p.get("connectionPooler") or "DISABLED"
    if pooler not in POOLERS:
        raise invalid("properties.connectionPooler", f"must be one of {', '.join(POOLERS)}, got '{pooler}'")
    props["connectionPooler"] = pooler
    props["logsEnabled"] = bool(p.get("logsEnabled", False))
    props["metricsEnabled"] = bool(p.get("metricsEnabled", False))
    backup = p.get("backup") or {}
    if old is None:
        location = check_backup_location("properties.backup.location", backup.get("location"), ctx.api.location)
    else:
        location = old.props["backup"]["location"]
        if backup.get("location") not in (None, location):
            raise invalid("properties.backup.location", f"cannot be changed (it is '{location}')")
    props["backup"] = {"location": location, "retentionDays": backup.get("retentionDays") or DEFAULT_RETENTION_DAYS}
    props["credentials"], login = credentials(p, old)
    if login:
        props["login"] = login
    return props


# -- backups: one per timeline (timeline.py), listed while they are restorable --------------------------

# the open end of the current backup is not shown (the schema's latestRecoveryTargetTime is not nullable)
BACKUP = backup_kind(
    PRODUCT,
    rows=lambda ctx, parent: backups(ctx),
    view=lambda ctx, row: {k: v for k, v in row.props.items() if v is not None},
)
BACKUPS = Backups(
    BACKUP,
    "version",
    lambda cluster: {
        "postgresClusterVersion": cluster.props["version"],
        "location": cluster.props["backup"]["location"],
    },
    retention=lambda cluster: cluster.props["backup"]["retentionDays"],
)


def backups(ctx: Ctx, cluster_id: str | None = None) -> list[Row]:
    return BACKUPS.visible(ctx, cluster_id)


def restore_source(ctx: Ctx, value: dict | None, version: str) -> dict | None:
    """restoreFromBackup of a new cluster: another (possibly deleted) cluster's backup, up to a point in time."""
    if value is None:
        return None
    attr = "properties.restoreFromBackup"
    if not value.get("sourceBackupId"):
        raise invalid(
            f"{attr}.sourceBackupId",
            "is required to create a cluster from a backup (an in-place restore is for an existing cluster)",
        )
    backup = next((b for b in backups(ctx) if b.id == value["sourceBackupId"]), None)
    if backup is None:
        raise invalid(f"{attr}.sourceBackupId", f"names no backup in {ctx.api.location} ('{value['sourceBackupId']}')")
    if int(version) < int(backup.props["postgresClusterVersion"]):
        raise invalid(
            "properties.version",
            f"must be at least the backup's PostgreSQL {backup.props['postgresClusterVersion']}, got '{version}'",
        )
    when = BACKUPS.recovery_time(ctx, f"{attr}.recoveryTargetDatetime", value.get("recoveryTargetDatetime"), [backup])
    return {"backupId": backup.id, "recoveryTargetDatetime": when}


def in_place_restore(ctx: Ctx, cluster: Row, value: dict | None) -> dict | None:
    """restoreFromBackup of an existing cluster: its own backups, back to a point in time."""
    if value is None:
        return None
    attr = "properties.restoreFromBackup"
    if value.get("sourceBackupId"):
        raise invalid(
            f"{attr}.sourceBackupId",
            "is only valid when a cluster is created; an in-place restore takes the cluster's own backups",
        )
    if not value.get("recoveryTargetDatetime"):
        raise invalid(f"{attr}.recoveryTargetDatetime", "is required for an in-place restore")
    own = backups(ctx, cluster.id)
    if not own:
        raise invalid(attr, f"cluster '{cluster.id}' has no backup yet")
    when = BACKUPS.recovery_time(ctx, f"{attr}.recoveryTargetDatetime", value["recoveryTargetDatetime"], own)
    return {"recoveryTargetDatetime": when, "at": clock.iso_precise(ctx.now)}


# -- clusters -----------------------------------------------------------------------------------------


def prepare_cluster(ctx: Ctx, parent, p: dict, old: Row | None) -> dict:
    props = cluster_props(ctx, p, old)
    value = p.get("restoreFromBackup")
    restore = restore_source(ctx, value, props["version"]) if old is None else in_place_restore(ctx, old, value)
    if restore:
        props["restoredFrom" if old is None else "restoredTo"] = restore
    return props


CLUSTER = PKind(
    PRODUCT,
    "cluster",
    "cluster",
    "clusters",
    absolute_href=True,
    updating="UPDATING",
    meta=cluster_meta,
    prepare=prepare_cluster,
    **plane.cluster_hooks(BACKUPS),
    internal=("login", "restoredFrom", "restoredTo"),
    changeable_states=("AVAILABLE", "FAILED"),
    idempotent_delete=True,
)


# -- the catalogue (offered by the service: no state, no creator; found by id or by name) --------------


def catalogue_kind(name: str, type: str, segment: str, name_field: str, entries: dict[str, dict]) -> Kind:
    """A kind whose items are the same for every contract, by stable id."""
    kind: Kind = PKind(
        PRODUCT,
        name,
        type,
        segment,
        absolute_href=True,
        metadata_fields=(),
        aliases=(name_field,),
        rows=lambda ctx, parent: dbaas.catalogue(ctx, kind, entries),
    )
    return kind


BACKUP_LOCATION = catalogue_kind(
    "backuplocation",
    "backupLocation",
    "backup-locations",
    "location",
    {stable_id("backup-location", loc): {"location": loc} for loc in BACKUP_LOCATIONS},
)
VERSION = catalogue_kind(
    "version",
    "postgresVersion",
    "versions",
    "version",
    {
        stable_id("version", v): {
            "version": v,
            "status": status,
            "comment": VERSION_COMMENTS[status],
            "canUpgradeTo": upgrades_of(v),
        }
        for v, status in VERSIONS.items()
    },
)
