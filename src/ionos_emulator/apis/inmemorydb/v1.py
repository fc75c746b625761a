"""DBaaS In-Memory DB v1 (API 1.0.0 at the root of in-memory-db.<region>.ionos.com), the first generation of
the API served by __init__.py at /v2: the same clusters as replica sets (`/replicasets`, PUT to create or
replace one under the client's id), their snapshots and restores from them, in their first shape:
`displayName`, `replicas` with `resources` {cores, ram, storage}, `connections` a list of one
{datacenterId, lanId, cidr}, a password in plain text or hashed, `backup.location` for the snapshots, an
`initialSnapshotId` to start from, restores as resources of a snapshot.

Every rule is the v2 one (InMemoryDB in __init__.py): v1 properties are read in the v2 shape, checked by the
same service, stored in that shape and rendered in the v1 shape; what an error names is translated back.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...engine import clock
from ...engine.change import Change
from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import first_generation
from ..mariadb.v1 import translated_errors, v1_connections, v2_connection
from ..product import PKind, Product, ProductChange, load
from . import InMemoryDB

PRODUCT: Product = first_generation("inmemorydb", "in-memory-db.{region}.ionos.com")

# what a v2 error names -> the v1 attribute (most specific first)
ATTRIBUTES = (
    ("properties.instances.count", "properties.replicas"),
    ("properties.instances.cores", "properties.resources.cores"),
    ("properties.instances.ram", "properties.resources.ram"),
    ("properties.instances", "properties.replicas"),
    ("properties.connection.primaryInstanceAddress", "properties.connections[0].cidr"),
    ("properties.connection", "properties.connections[0]"),
    ("properties.name", "properties.displayName"),
    ("properties.snapshot.location", "properties.backup.location"),
    ("properties.restoreFromSnapshot.sourceSnapshotId", "properties.initialSnapshotId"),
)


def hashed(password) -> Any:
    """v1 takes the password in plain text or as v2 does (a SHA-256 hash)."""
    if isinstance(password, str):
        return {"algorithm": "SHA-256", "hash": hashlib.sha256(password.encode()).hexdigest()}
    return password


def as_v2(p: dict, created: bool) -> dict:
    """v1 properties (a PUT sends them all) in the v2 shape."""
    resources = p.get("resources") or {}
    out: dict[str, Any] = {
        "name": p.get("displayName"),
        "version": p.get("version"),
        "instances": {"count": p.get("replicas"), "cores": resources.get("cores"), "ram": resources.get("ram")},
        "persistenceMode": p.get("persistenceMode"),
        "evictionPolicy": p.get("evictionPolicy"),
        "snapshot": {"location": (p.get("backup") or {}).get("location")},
    }
    if p.get("maintenanceWindow") is not None:
        out["maintenanceWindow"] = p["maintenanceWindow"]
    if p.get("connections"):
        out["connection"] = v2_connection(p["connections"][0])
    creds = p.get("credentials")
    if isinstance(creds, dict):
        out["credentials"] = {**creds, "password": hashed(creds.get("password"))}
    if created and p.get("initialSnapshotId"):
        out["restoreFromSnapshot"] = {"sourceSnapshotId": p["initialSnapshotId"]}
    return out


class InMemoryDBv1(InMemoryDB):
    cluster_type, cluster_segment, cluster_param = "replicaset", "replicasets", "replicasetId"
    free_form_name = True
    effect_name = "inmemorydb-v1.dataplane"
    cluster_options = {
        "creating": "BUSY",
        "updating": "BUSY",
        "destroying": "BUSY",
        "filter_names": {"name": "displayName"},
    }

    def __init__(self, product: Product):
        self.cluster_options = {**self.cluster_options, "view": self.cluster_view}
        self.recovery_options = {"view": lambda ctx, row: {}, "meta": self.snapshot_meta}
        super().__init__(product)

    def prepare(self, ctx: Ctx, parent: Row | None, p: dict, old: Row | None) -> dict:
        with translated_errors(ATTRIBUTES):
            return super().prepare(ctx, parent, as_v2(p, old is None), old)

    def restore_request(self, body_props: dict, created: bool) -> dict:
        return as_v2(body_props, created).get(self.restore_attr) or {}

    def password_hash(self, credentials: dict) -> str | None:
        return super().password_hash({**credentials, "password": hashed(credentials.get("password"))})

    def cluster_meta(self, ctx: Ctx, row: Row) -> dict:
        meta = super().cluster_meta(ctx, row)
        if "statusMessage" in meta:  # v1 names it `message`
            meta["message"] = meta.pop("statusMessage")
        return meta

    def cluster_view(self, ctx: Ctx, row: Row) -> dict:
        p, i, c = row.props, row.props["instances"], row.props["connection"]
        out = {
            "displayName": p["name"],
            "version": p["version"],
            "replicas": i["count"],
            # storage follows RAM (a guess: as much disk as memory, for the snapshots)
            "resources": {"cores": i["cores"], "ram": i["ram"], "storage": i["ram"]},
            "persistenceMode": p["persistenceMode"],
            "evictionPolicy": p["evictionPolicy"],
            "connections": v1_connections(c),
            "credentials": {"username": p["credentials"]["username"]},
            "maintenanceWindow": p["maintenanceWindow"],
            "backup": {"location": p["snapshot"]["location"]},
        }
        if row.x.get("restoredFrom"):
            out["initialSnapshotId"] = row.x["restoredFrom"][self.source_attr]
        return out

    def snapshot_meta(self, ctx: Ctx, row: Row) -> dict:
        return {
            "state": "AVAILABLE",
            "replicasetId": row.props["clusterId"],
            "datacenterId": row.props["datacenterId"],
            "snapshotTime": row.props["earliestRecoveryTargetTime"],
        }


SERVICE = InMemoryDBv1(PRODUCT)


# -- restores: a snapshot's data put back into a replica set of its data center ----------------------------


def prepare_restore(ctx: Ctx, snapshot: Row, p: dict, old: Row | None) -> dict:
    target = load(ctx, SERVICE.CLUSTER, p["replicasetId"])
    if target.props["connection"]["datacenterId"] != snapshot.props["datacenterId"]:
        raise invalid(
            "properties.replicasetId",
            f"names a replica set in another data center than snapshot {snapshot.id}'s",
        )
    with translated_errors(ATTRIBUTES):
        SERVICE.restore_fits(snapshot, target.props)
    return {k: p[k] for k in ("replicasetId", "displayName", "description") if p.get(k) is not None}


def restored(ctx: Ctx, row: Row, ch: Change) -> None:
    """The replica set is BUSY while the snapshot's data is put back."""
    target = load(ctx, SERVICE.CLUSTER, row.props["replicasetId"])
    with ProductChange(ctx, SERVICE.CLUSTER) as change:
        target.x.setdefault("restores", []).append({"snapshotId": row.parent, "restore": row.id})
        change.updated(SERVICE.CLUSTER, target)
    row.x["restoreTime"] = clock.iso_precise(ctx.now)
    ctx.store.update(row)


RESTORE = PKind(
    PRODUCT,
    "restore",
    "restore",
    "restores",
    parent=SERVICE.RECOVERY,
    creating="BUSY",
    absolute_href=True,
    prepare=prepare_restore,
    after=restored,
    meta=lambda ctx, row: {"restoredSnapshotId": row.parent, "restoreTime": row.x.get("restoreTime")},
    filter_names={"name": "displayName"},
)
