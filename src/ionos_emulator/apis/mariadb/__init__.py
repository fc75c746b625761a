"""DBaaS MariaDB (API 2.0.0 at mariadb.<region>.ionos.com/v2, SDK ionoscloud-dbaas-mariadb 3.0.0): clusters with
an initial user and database, their backups and restores from them, backup locations and versions. What it
shares with In-Memory DB is in dbaas.py.

The initial user's username and database are fixed at creation; a PUT may change the password. With a
MariaDB server configured (--mariadb-url, IONOS_EMULATOR_MARIADB_URL; dataplanes/mariadb.py) an AVAILABLE
cluster is a real database and a user holding every privilege on it, and credentials.username/database show
the names they have there; without one the API keeps the books only.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from ...catalogue import load
from ...dataplanes import local
from ...dataplanes import mariadb as dataplane
from ...dataplanes.local.mariadb import KIND
from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import regional_product, required
from .dbaas import RETENTION_DAYS, ClusterService

PRODUCT = regional_product("mariadb", host="mariadb.{region}.ionos.com")
PRODUCTS = [PRODUCT]

IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
RESERVED_USERNAMES = {"mariadb", "admin", "standby", "root", "mysql"}
SYSTEM_DATABASES = {"mysql", "information_schema", "performance_schema", "sys"}


class MariaDB(ClusterService):
    recovery = "backup"
    restore_attr, source_attr = "restoreFromBackup", "sourceBackupId"
    recovery_version_attr = "mariadbClusterVersion"
    instance_keys = ("count", "cores", "ram", "storageSize")
    versions = {
        "10.6": {
            "status": "DEPRECATED",
            "comment": "community support ends in July 2026",
            "canUpgradeTo": ["10.11", "11.4"],
        },
        "10.11": {"status": "SUPPORTED", "comment": "", "canUpgradeTo": ["11.4"]},
        "11.4": {"status": "RECOMMENDED", "comment": "", "canUpgradeTo": []},
    }
    # the real Object Storage locations, de (the default) first (catalogue/dbaas.json)
    recovery_locations = tuple(load("dbaas")["object_storage"])
    reserved_networks = tuple(
        IPv4Network(n) for n in ("10.208.0.0/12", "10.233.0.0/18", "10.233.64.0/18", "192.168.230.0/24")
    )
    dns_label = "mariadb"
    effect_name = "mariadb.dataplane"
    plane_label = "MariaDB"

    def instances_of(self, value: dict | None, current: dict | None) -> dict:
        out = super().instances_of(value, current)
        if current and out["storageSize"] < current["storageSize"]:
            raise invalid(
                "properties.instances.storageSize",
                f"can only grow (from {current['storageSize']} GB, got {out['storageSize']})",
            )
        return out

    def product_props(self, ctx: Ctx, p: dict, old: Row | None) -> dict:
        creds = p.get("credentials")
        if old is None:
            if not isinstance(creds, dict):
                raise invalid("properties.credentials", "is required")
            required(creds, "properties.credentials", ("username", "password", "database"))
            username, database = creds["username"], creds["database"]
            if not IDENTIFIER.match(username) or username.lower() in RESERVED_USERNAMES:
                raise invalid(
                    "properties.credentials.username",
                    f"must hold only letters, digits and '_' and not be one kept for the platform, got '{username}'",
                )
            if not IDENTIFIER.match(database) or database.lower() in SYSTEM_DATABASES:
                raise invalid(
                    "properties.credentials.database",
                    f"must hold only letters, digits and '_' and not be a system database, got '{database}'",
                )
            shown = {"username": username, "database": database}
        else:
            shown = dict(old.props["credentials"])
            if isinstance(creds, dict):
                for k in ("username", "database"):  # either name the client asked for or the one in use
                    if creds.get(k) not in (None, old.x["requested"][k], shown[k]):
                        raise invalid(f"properties.credentials.{k}", f"cannot be changed (is '{shown[k]}')")
        backup = p.get("backup") or {}
        return {
            "credentials": shown,
            "backup": {
                "location": self.recovery_location_of("properties.backup.location", backup.get("location")),
                "retentionDays": backup.get("retentionDays") or RETENTION_DAYS,
            },
        }

    def password_hash(self, credentials: dict) -> str | None:
        return dataplane.native_hash(credentials["password"]) if credentials.get("password") else None

    def recovery_props(self, cluster: Row) -> dict:
        return {"mariadbClusterVersion": cluster.props["version"], "location": cluster.props["backup"]["location"]}

    def plane_server(self, settings):
        url = dataplane.server_url(settings)
        return local.fleet(KIND, settings) or (dataplane.Server(url) if url else None)

    def plane_ensure(self, server: dataplane.Server | local.Fleet, row: Row, source_cluster: str | None) -> dict:
        asked = row.x["requested"]
        placed = server.ensure_cluster(
            row.id, asked["username"], row.x["passwordHash"], asked["database"], copy_from=source_cluster
        )
        return {"credentials": {"username": placed.username, "database": placed.database}}


SERVICE = MariaDB(PRODUCT)

from . import v1  # noqa: E402  (the first generation of the API, at the host's root; it builds on MariaDB)

PRODUCTS.append(v1.PRODUCT)
