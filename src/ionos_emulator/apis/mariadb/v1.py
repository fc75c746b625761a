"""DBaaS MariaDB v1 (API 0.1.0 at the root of mariadb.<region>.ionos.com, SDK ionoscloud-dbaas-mariadb 2.x),
the first generation of the API served by __init__.py at /v2: the same clusters and backups, with their
first shape: `displayName`, `mariadbVersion`, `instances` a number with `cores`, `ram` and `storageSize`
beside it, `connections` a list of one {datacenterId, lanId, cidr}, no database in the credentials (the
user gets one named like it), `fromBackup` to create from a backup, PATCH to change one, DELETE answering the
cluster, backups with their base backups.

Every rule is the v2 one (MariaDB in __init__.py): v1 properties are read in the v2 shape, checked by the
same service, stored in that shape and rendered in the v1 shape; what an error names is translated back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...engine.errors import ApiError, invalid, not_found
from ...engine.resources import check_changeable
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..dbaas import V1_CLUSTER_METADATA, first_generation
from ..product import Product, ProductChange, load, page
from . import MariaDB

PRODUCT: Product = first_generation("mariadb", "mariadb.{region}.ionos.com")

INSTANCE_KEYS = {"cores": "cores", "ram": "ram", "storageSize": "storageSize"}
# what a v2 error names -> the v1 attribute (most specific first)
ATTRIBUTES = (
    ("properties.instances.count", "properties.instances"),
    ("properties.instances.cores", "properties.cores"),
    ("properties.instances.ram", "properties.ram"),
    ("properties.instances.storageSize", "properties.storageSize"),
    ("properties.connection.primaryInstanceAddress", "properties.connections[0].cidr"),
    ("properties.connection", "properties.connections[0]"),
    ("properties.version", "properties.mariadbVersion"),
    ("properties.name", "properties.displayName"),
    ("properties.fromBackup.recoveryTargetDatetime", "properties.fromBackup.recoveryTargetTime"),
)
ATTRIBUTE = re.compile(r"^attribute '([^']+)'")


@contextmanager
def translated_errors(attributes: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """An error of the v2 rules names the v1 attribute (`attributes`: v2 -> v1, most specific first)."""
    try:
        yield
    except ApiError as e:
        m = ATTRIBUTE.match(e.message)
        if m:
            attr = m.group(1)
            for v2, v1 in attributes:
                if attr == v2 or attr.startswith(v2 + "."):
                    e.message = f"attribute '{v1 + attr[len(v2) :]}'{e.message[m.end() :]}"
                    e.args = (e.message,)
                    break
        raise


def v2_connection(c: dict) -> dict:
    """A v1 connection {datacenterId, lanId, cidr} as v2's {datacenterId, lanId, primaryInstanceAddress}."""
    return {"datacenterId": c["datacenterId"], "lanId": c["lanId"], "primaryInstanceAddress": c["cidr"]}


def v1_connections(c: dict) -> list[dict]:
    """A stored v2 connection as v1's list of one."""
    return [{"datacenterId": c["datacenterId"], "lanId": c["lanId"], "cidr": c["primaryInstanceAddress"]}]


def as_v2(p: dict, old: dict | None = None) -> dict:
    """v1 properties (or v1 changes merged over the stored v2 ones, `old`) in the v2 shape."""
    out: dict[str, Any] = {k: v for k, v in p.items() if k not in ("displayName", "mariadbVersion", "connections")}
    out["name"] = p.get("displayName", p.get("name"))
    out["version"] = p.get("mariadbVersion", p.get("version"))
    current = p["instances"] if isinstance(p.get("instances"), dict) else (old or {}).get("instances", {})
    out["instances"] = {
        "count": p["instances"] if isinstance(p.get("instances"), int) else current.get("count"),
        **{v2: out.pop(v1, current.get(v2)) for v1, v2 in INSTANCE_KEYS.items()},
    }
    if p.get("connections"):
        out["connection"] = v2_connection(p["connections"][0])
    creds = p.get("credentials")
    if isinstance(creds, dict) and "database" not in creds:  # a guess: the user's database is named like it
        out["credentials"] = {**creds, "database": creds.get("username")}
    backup = p.get("fromBackup")
    if isinstance(backup, dict):
        out["fromBackup"] = {
            "backupId": backup.get("backupId"),
            "recoveryTargetDatetime": backup.get("recoveryTargetTime"),
        }
    return out


class MariaDBv1(MariaDB):
    restore_attr, source_attr = "fromBackup", "backupId"
    free_form_name = True
    effect_name = "mariadb-v1.dataplane"
    cluster_options = {
        "creating": "BUSY",
        "updating": "BUSY",
        "envelope": ("id", "metadata", "properties"),
        "metadata_fields": V1_CLUSTER_METADATA,
        "delete_renders": True,
        "filter_names": {"name": "displayName"},
        "patchable": ("mariadbVersion", "instances", "cores", "ram", "storageSize", "displayName", "maintenanceWindow"),
    }

    def __init__(self, product: Product):
        self.cluster_options = {**self.cluster_options, "view": self.cluster_view}
        self.recovery_options = {"envelope": ("id", "properties"), "view": self.backup_view}
        super().__init__(product)

    def prepare(self, ctx: Ctx, parent: Row | None, p: dict, old: Row | None) -> dict:
        with translated_errors(ATTRIBUTES):
            return super().prepare(ctx, parent, as_v2(p, old.props if old else None), old)

    def cluster_meta(self, ctx: Ctx, row: Row) -> dict:
        return {}  # the DNS name is a property in v1

    def cluster_view(self, ctx: Ctx, row: Row) -> dict:
        p, i, c = row.props, row.props["instances"], row.props["connection"]
        return {
            "displayName": p["name"],
            "mariadbVersion": p["version"],
            "dnsName": super().cluster_meta(ctx, row)["dnsName"],
            "instances": i["count"],
            "cores": i["cores"],
            "ram": i["ram"],
            "storageSize": i["storageSize"],
            "connections": v1_connections(c),
            "maintenanceWindow": p["maintenanceWindow"],
            "backup": {"location": p["backup"]["location"]},
        }

    def backup_view(self, ctx: Ctx, row: Row) -> dict:
        """A v1 backup: its cluster's, with the base backup taken when it began (size in MB, a guess)."""
        began = row.props["earliestRecoveryTargetTime"]
        return {
            "clusterId": row.props["clusterId"],
            "earliestRecoveryTargetTime": began,
            "location": row.props["location"],
            "size": 16,
            "baseBackups": [{"created": began, "size": 16}],
        }


SERVICE = MariaDBv1(PRODUCT)


@PRODUCT.handler("clusterBackupsGet")
def cluster_backups(ctx: Ctx) -> Reply:
    cluster = load(ctx, SERVICE.CLUSTER, ctx.params["clusterId"])
    return Reply(200, page(ctx, SERVICE.RECOVERY, SERVICE.points.visible(ctx, cluster.id), f"{cluster.path}/backups"))


@PRODUCT.handler("clustersRestore")
def restore(ctx: Ctx) -> Reply:
    """Restores the cluster in place from one of its backups (to a point in time in it, or its latest)."""
    cluster = load(ctx, SERVICE.CLUSTER, ctx.params["clusterId"])
    backups = SERVICE.points.visible(ctx, cluster.id)
    backup = next((b for b in backups if b.id == ctx.body["backupId"]), None)
    if backup is None:
        raise not_found(f"backup '{ctx.body['backupId']}' of cluster '{cluster.id}' was not found")
    when = ctx.body.get("recoveryTargetTime")
    if when:
        SERVICE.points.target(ctx, "recoveryTargetTime", when, [backup])
    if backup.props["clusterId"] != cluster.id:
        raise invalid("backupId", f"is a backup of another cluster ('{backup.props['clusterId']}')")
    check_changeable(ctx, SERVICE.CLUSTER, cluster, "restored")
    with ProductChange(ctx, SERVICE.CLUSTER) as ch:  # BUSY while the data is put back
        cluster.x.setdefault("restores", []).append({"backupId": backup.id, "recoveryTargetTime": when})
        ch.updated(SERVICE.CLUSTER, cluster)
    return Reply(202, None)
