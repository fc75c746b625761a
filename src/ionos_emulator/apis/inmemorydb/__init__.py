"""DBaaS In-Memory DB (API 2.0.0 at in-memory-db.<region>.ionos.com/v2, SDK ionoscloud-dbaas-inmemorydb 1.0.0):
Redis-compatible clusters with one user whose password the client sends pre-hashed (SHA-256 hex), their
snapshots and restores from them, snapshot locations and versions. The clusters, snapshots and restores
work as for MariaDB (apis/mariadb/dbaas.py).

The user's username is fixed at creation; a PUT may change the password hash. With a Redis server configured
(--redis-url, IONOS_EMULATOR_REDIS_URL; dataplanes/redis.py) an AVAILABLE cluster is a real ACL user that may
only touch the keys and channels under `<username>:` (credentials.username shows the name in use); with
--dataplanes local each cluster is a private redis-server of its own (dataplanes/local/redis.py) whose user
has every key, under the name it asked for; without either the API keeps the books only. Persistence mode
and eviction policy are recorded, not applied: a shared server has one of each.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import Any

from ...catalogue import load
from ...dataplanes import local
from ...dataplanes import redis as dataplane
from ...dataplanes.local.redis import KIND
from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import regional_product
from ..mariadb.dbaas import RETENTION_DAYS, ClusterService

PRODUCT = regional_product("inmemorydb", host="in-memory-db.{region}.ionos.com")
PRODUCTS = [PRODUCT]

USERNAME = re.compile(r"^[A-Za-z0-9_]+$")
RESERVED_USERNAMES = {"admin", "standby", "default"}
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
HASH_ALGORITHMS = {"sha256": "SHA-256", "sha-256": "SHA-256"}
DEFAULT_PERSISTENCE, DEFAULT_EVICTION = "RDB", "noeviction"


class InMemoryDB(ClusterService):
    recovery = "snapshot"
    restore_attr, source_attr = "restoreFromSnapshot", "sourceSnapshotId"
    recovery_version_attr = "clusterVersion"
    instance_keys = ("count", "cores", "ram")
    versions = {
        "7.2": {"status": "SUPPORTED", "comment": "", "canUpgradeTo": ["9.0"]},
        "9.0": {"status": "RECOMMENDED", "comment": "", "canUpgradeTo": []},
    }
    # the real Object Storage locations (catalogue/dbaas.json)
    recovery_locations = tuple(load("dbaas")["object_storage"])
    reserved_networks = tuple(IPv4Network(n) for n in ("10.210.0.0/16", "10.212.0.0/14"))
    dns_label = "in-memory-db"
    effect_name = "inmemorydb.dataplane"
    plane_label = "Redis"

    def instances_of(self, value: dict | None, current: dict | None) -> dict:
        out = super().instances_of(value, current)
        if current and out["ram"] < current["ram"]:  # storage follows RAM and cannot shrink
            raise invalid("properties.instances.ram", f"can only grow (from {current['ram']} GB, got {out['ram']})")
        return out

    @staticmethod
    def password_of(value) -> dict:
        attr = "properties.credentials.password"
        if not isinstance(value, dict) or not value.get("hash"):
            raise invalid(f"{attr}.hash", "is required")
        if not SHA256_HEX.match(value["hash"]):
            raise invalid(f"{attr}.hash", "must be the SHA-256 of the password as 64 lower-case hex digits")
        algorithm = HASH_ALGORITHMS.get(str(value.get("algorithm") or "SHA-256").lower())
        if algorithm is None:
            raise invalid(f"{attr}.algorithm", f"must be SHA-256, got '{value['algorithm']}'")
        return {"algorithm": algorithm, "hash": value["hash"]}

    def product_props(self, ctx: Ctx, p: dict, old: Row | None) -> dict:
        creds = p.get("credentials")
        if old is None:
            if not isinstance(creds, dict):
                raise invalid("properties.credentials", "is required")
            username = creds.get("username")
            if not username:
                raise invalid("properties.credentials.username", "is required")
            if not USERNAME.match(username) or username.lower() in RESERVED_USERNAMES:
                raise invalid(
                    "properties.credentials.username",
                    f"must hold only letters, digits and '_' and not be one kept for the platform, got '{username}'",
                )
            self.password_of(creds.get("password"))
            shown = {"username": username}
        else:
            shown = dict(old.props["credentials"])
            if isinstance(creds, dict):
                if creds.get("username") not in (None, old.x["requested"]["username"], shown["username"]):
                    raise invalid("properties.credentials.username", f"cannot be changed (is '{shown['username']}')")
                if creds.get("password") is not None:
                    self.password_of(creds["password"])
        snapshot = p.get("snapshot") or {}
        schedule: dict[str, Any] = {
            "location": self.recovery_location_of("properties.snapshot.location", snapshot.get("location")),
            "retentionDays": snapshot.get("retentionDays") or RETENTION_DAYS,
        }
        if snapshot.get("snapshotHours"):
            schedule["snapshotHours"] = sorted(set(snapshot["snapshotHours"]))
        return {
            "credentials": shown,
            "persistenceMode": p.get("persistenceMode") or DEFAULT_PERSISTENCE,
            "evictionPolicy": p.get("evictionPolicy") or DEFAULT_EVICTION,
            "snapshot": schedule,
        }

    def password_hash(self, credentials: dict) -> str | None:
        return self.password_of(credentials["password"])["hash"] if credentials.get("password") is not None else None

    def recovery_props(self, cluster: Row) -> dict:
        return {
            "datacenterId": cluster.props["connection"]["datacenterId"],
            "location": cluster.props["snapshot"]["location"],
            "clusterVersion": cluster.props["version"],
            "requiredSizeForRestore": float(cluster.props["instances"]["ram"]),
        }

    def restore_fits(self, source: Row, props: dict) -> None:
        if props["connection"]["datacenterId"] != source.props["datacenterId"]:
            raise invalid(
                "properties.connection.datacenterId",
                f"must be {source.props['datacenterId']}: snapshot {source.id} is not available in other data centers",
            )
        if props["instances"]["ram"] < source.props["requiredSizeForRestore"]:
            raise invalid(
                "properties.instances.ram",
                f"must be at least {source.props['requiredSizeForRestore']:g} GB to restore snapshot {source.id}",
            )

    def plane_server(self, settings):
        url = dataplane.server_url(settings)
        return local.fleet(KIND, settings) or (dataplane.Server(url) if url else None)

    def plane_ensure(self, server: dataplane.Server | local.Fleet, row: Row, source_cluster: str | None) -> dict:
        name = server.ensure_cluster(
            row.id, row.x["requested"]["username"], row.x["passwordHash"], copy_from=source_cluster
        )
        return {"credentials": {"username": name}}


SERVICE = InMemoryDB(PRODUCT)

from . import v1  # noqa: E402  (the first generation of the API, at the host's root; it builds on InMemoryDB)

PRODUCTS.append(v1.PRODUCT)
