"""What the DBaaS v2 cluster APIs share (MariaDB and In-Memory DB, API 2.0.0): regional clusters connected to a
private LAN of a Cloud API data center, the recovery points the service keeps for them (MariaDB backups,
In-Memory DB snapshots) and restores from them, the versions and the object-storage locations on offer, and
an optional real server behind the clusters (a data plane).

Conventions (api-behaviour.md §7): POST answers 201 with the cluster PROVISIONING, the lifecycle engine makes
it AVAILABLE; PUT ensures the cluster with a client-chosen id (201 created, 200 replaced; the full cluster,
absent attributes take defaults), the cluster is UPDATING meanwhile; DELETE answers 202 with it DESTROYING,
then 404. Absolute hrefs; offset/limit paging and filter.* on every list. Passwords are never shown.

Recovery points: a cluster gets one when it becomes AVAILABLE (earliestRecoveryTargetTime) and a new one when
its version is upgraded; the current one has latestRecoveryTargetTime null, a closed one (deleted cluster,
older version) the time it was closed. A restore creates a cluster from one (the data plane copies the data
the source cluster has on the server when the new one becomes AVAILABLE), or, sent in a PUT without a
source, restores the cluster in place (kept as a record only).

The data plane: when a product's server is configured, each change adds an effect that runs when the change
completes: the cluster's user (and database) are made real, a deleted cluster's are dropped. An effect that
fails leaves the cluster FAILED with the server's message in metadata.statusMessage.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from datetime import datetime, timezone
from functools import partial

from ...engine import clock
from ...engine.change import key
from ...engine.errors import ApiError
from ...engine.lifecycle import register_effect
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import (REGIONS, PKind, Product, ProductChange, invalid, load, new_row, page, private_lan, properties,
                       render, rows_of)

log = logging.getLogger("ionos_emulator")

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WINDOW_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
RETENTION_DAYS = 7           # what the service keeps when the client does not say
BUSY_STATES = ("PROVISIONING", "UPDATING", "DESTROYING")




def parse_time(attr: str, value: str) -> float:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise invalid(attr, f"must be an ISO 8601 date-time, got '{value}'") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def tidy(cluster: dict) -> dict:
    """A status message is shown with the FAILED state only."""
    if cluster["metadata"].get("state") != "FAILED":
        cluster["metadata"].pop("statusMessage", None)
    return cluster


def stateless(item: dict) -> dict:
    """Backups, snapshots, versions and locations carry no state."""
    item.get("metadata", {}).pop("state", None)
    return item


class ClusterService:
    """The clusters of one product and everything around them; the product module subclasses it with its
    properties (the hooks at the end) and its data plane."""

    recovery = "backup"                      # also the type and path segment; "snapshot" for In-Memory DB
    restore_attr = "restoreFromBackup"
    source_attr = "sourceBackupId"
    recovery_version_attr = "mariadbClusterVersion"   # the version a recovery point was taken of
    instance_keys: tuple[str, ...] = ("count", "cores", "ram")
    versions: dict[str, dict] = {}           # version -> {"status", "comment", "canUpgradeTo"}
    recovery_locations: tuple[str, ...] = ()
    reserved_networks: tuple[ipaddress.IPv4Network, ...] = ()
    dns_label = ""                           # <clusterId>.<dns_label>.<region>.ionos.com
    effect_name = ""                         # the lifecycle effect of the data plane

    def __init__(self, product: Product):
        self.product = product
        self.CLUSTER = PKind(product, "cluster", "cluster", "clusters", absolute_href=True, creating="PROVISIONING",
                             updating="UPDATING", meta=self.cluster_meta, view=self.cluster_view)
        self.RECOVERY = PKind(product, self.recovery, self.recovery, f"{self.recovery}s", absolute_href=True)
        self.LOCATION = PKind(product, f"{self.recovery}-location", f"{self.recovery}Location",
                              f"{self.recovery}-locations", absolute_href=True)
        self.VERSION = PKind(product, "version", "version", "versions", absolute_href=True)
        r = self.recovery
        for op_id, fn in (("clustersGet", self.list_clusters), ("clustersFindById", self.get_cluster),
                          ("clustersPost", self.post_cluster), ("clustersPut", self.put_cluster),
                          ("clustersDelete", self.delete_cluster),
                          (f"{r}sGet", self.list_recovery), (f"{r}sFindById", self.get_recovery),
                          (f"{r}locationsGet", self.list_locations), (f"{r}locationsFindById", self.get_location),
                          ("versionsGet", self.list_versions), ("versionsFindById", self.get_version)):
            self.product.handler(op_id)(fn)
        # the data plane's work when a change completes, installed in every emulator (with or without a
        # server: a change queued while one was configured must still complete)
        register_effect(self.effect_name, lambda emu: partial(self._apply, self.plane_server(emu.settings)))

    # -- the data plane ---------------------------------------------------------------------------------

    def server(self, ctx: Ctx):
        """The configured real server (None: bookkeeping only)."""
        return self.plane_server(ctx.settings)

    def _plane(self, ctx: Ctx, ch: ProductChange, row: Row, action: str, source: str | None = None) -> None:
        if self.server(ctx) is not None:
            ch.effect(self.effect_name, key(row), action=action, source=source)

    def _apply(self, server, store, eff: dict, ts: float) -> None:
        """The effect: make the cluster real (idempotent), or drop what a deleted one had."""
        if server is None:
            log.warning("%s: cluster %s: no server is configured any more; its %s on the data plane is skipped",
                        self.product.name, eff["id"], eff["action"])
            return
        if eff["action"] == "drop":
            try:
                server.drop_cluster(eff["id"])
            except Exception as e:  # the cluster is gone either way; what is left on the server is reported
                log.warning("%s: dropping cluster %s on the data plane failed: %s", self.product.name, eff["id"], e)
            return
        row = store.get(eff["tenant"], eff["kind"], eff["parent"], eff["id"])
        if row is None or row.meta.get("state") == self.CLUSTER.states.destroying:
            return
        try:
            row.props.update(self.plane_ensure(server, row, eff.get("source")))
            row.meta.pop("statusMessage", None)
        except Exception as e:
            log.warning("%s: cluster %s on the data plane failed: %s", self.product.name, row.id, e)
            row.meta["state"] = "FAILED"
            row.meta["statusMessage"] = f"the data plane refused the change: {e}"
        store.update(row)

    # -- clusters: rendering ----------------------------------------------------------------------------

    def cluster_view(self, ctx: Ctx, row: Row) -> dict:
        props = dict(row.props)
        if isinstance(props.get("credentials"), dict):
            props["credentials"] = {k: v for k, v in props["credentials"].items() if k != "password"}
        return props

    def cluster_meta(self, ctx: Ctx, row: Row) -> dict:
        region = REGIONS.get(row.scope, row.scope.replace("/", "-"))
        return {"dnsName": f"{row.id}.{self.dns_label}.{region}.ionos.com"}

    def render_cluster(self, ctx: Ctx, row: Row) -> dict:
        return tidy(render(ctx, self.CLUSTER, row))

    # -- clusters: validation ---------------------------------------------------------------------------

    def validate(self, ctx: Ctx, p: dict, old: Row | None) -> tuple[dict, dict]:
        """The properties to store and the secrets (row.x) for a new cluster or a replacement of `old`."""
        name = p.get("name")
        if not name:
            raise invalid("properties.name", "is required")
        if not CLUSTER_NAME.match(name):
            raise invalid("properties.name", "must begin and end with a letter or digit and hold only letters, "
                                             f"digits, '-', '_' and '.', got '{name}'")
        out = {"name": name}
        if p.get("description") is not None:
            out["description"] = p["description"]
        out["version"] = self.version_of(p.get("version"), old.props["version"] if old else None)
        out["instances"] = self.instances_of(p.get("instances"), old.props["instances"] if old else None)
        out["connection"] = self.connection_of(ctx, p.get("connection"), old.id if old else "")
        out["maintenanceWindow"] = self.window_of(p.get("maintenanceWindow"), old)
        out["logsEnabled"] = bool(p.get("logsEnabled", False))
        out["metricsEnabled"] = bool(p.get("metricsEnabled", False))
        specific, secrets = self.product_props(ctx, p, old)
        out.update(specific)
        return out, secrets

    def version_of(self, wanted: str | None, current: str | None) -> str:
        if wanted is None:  # the recommended (newest) one for a new cluster; unchanged for a replacement
            return current or list(self.versions)[-1]
        if wanted not in self.versions:
            raise invalid("properties.version", f"must be one of {', '.join(self.versions)}, got '{wanted}'")
        if current and wanted != current and wanted not in self.versions[current]["canUpgradeTo"]:
            allowed = ", ".join(self.versions[current]["canUpgradeTo"]) or "none"
            raise invalid("properties.version", f"cannot change from '{current}' to '{wanted}' (upgrades from "
                                                f"'{current}': {allowed}; downgrades are not supported)")
        return wanted

    def instances_of(self, value: dict | None, current: dict | None) -> dict:
        if not isinstance(value, dict):
            raise invalid("properties.instances", "is required")
        for k in self.instance_keys:
            if value.get(k) is None:
                raise invalid(f"properties.instances.{k}", "is required")
        return {k: value[k] for k in self.instance_keys}

    def connection_of(self, ctx: Ctx, value: dict | None, cluster_id: str) -> dict:
        """An existing private LAN of a data center of this contract in this location, and a free host
        address of the LAN's network outside the ranges the service keeps for itself."""
        attr = "properties.connection"
        if not isinstance(value, dict):
            raise invalid(attr, "is required")
        for k in ("datacenterId", "lanId", "primaryInstanceAddress"):
            if not value.get(k):
                raise invalid(f"{attr}.{k}", "is required")
        dc, lan = private_lan(ctx, attr, value["datacenterId"], value["lanId"], ctx.api.location)
        address = value["primaryInstanceAddress"]
        try:
            iface = ipaddress.IPv4Interface(address)
        except ValueError:
            iface = None
        if iface is None or "/" not in address or not 8 <= iface.network.prefixlen <= 30:
            raise invalid(f"{attr}.primaryInstanceAddress", f"must be an IPv4 address and netmask in CIDR "
                                                            f"notation, e.g. 192.168.1.100/24, got '{address}'")
        if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
            raise invalid(f"{attr}.primaryInstanceAddress", f"must be a host address of its network ('{address}')")
        for net in self.reserved_networks:
            if iface.network.overlaps(net):
                raise invalid(f"{attr}.primaryInstanceAddress", f"lies in {net}, a range the service keeps for "
                                                                f"itself ('{address}')")
        for other in ctx.store.list(ctx.tenant, self.CLUSTER.name):
            c = other.props.get("connection") or {}
            if (other.id != cluster_id and (c.get("datacenterId"), c.get("lanId")) == (dc.id, lan.id)
                    and ipaddress.IPv4Interface(c["primaryInstanceAddress"]).ip == iface.ip):
                raise invalid(f"{attr}.primaryInstanceAddress", f"uses {iface.ip}, taken by cluster {other.id} "
                                                                "in this LAN")
        return {"datacenterId": dc.id, "lanId": lan.id, "primaryInstanceAddress": address}

    @staticmethod
    def window_of(value: dict | None, old: Row | None) -> dict:
        if value is None:  # the service picks one, and keeps it
            if old is not None:
                return old.props["maintenanceWindow"]
            n = uuid.uuid4().int
            return {"dayOfTheWeek": DAYS[n % 7], "time": f"{(n >> 8) % 24:02d}:00:00"}
        if not value.get("dayOfTheWeek"):
            raise invalid("properties.maintenanceWindow.dayOfTheWeek", "is required")
        if not WINDOW_TIME.match(str(value.get("time", ""))):
            raise invalid("properties.maintenanceWindow.time", f"must be a time of day HH:MM:SS, got "
                                                               f"'{value.get('time')}'")
        return {"dayOfTheWeek": value["dayOfTheWeek"], "time": value["time"]}

    def recovery_location_of(self, attr: str, value: str | None) -> str:
        if value is None:
            return self.recovery_locations[0]
        if value not in self.recovery_locations:
            raise invalid(attr, f"must be one of {', '.join(self.recovery_locations)}, got '{value}'")
        return value

    # -- restores ---------------------------------------------------------------------------------------

    def restore_source(self, ctx: Ctx, p: dict, props: dict) -> Row | None:
        """The recovery point a new cluster is created from (None: an empty cluster)."""
        r = p.get(self.restore_attr)
        if not r:
            return None
        attr = f"properties.{self.restore_attr}"
        sid = r.get(self.source_attr)
        if not sid:
            raise invalid(f"{attr}.{self.source_attr}", "is required to create a cluster from a "
                                                        f"{self.recovery}")
        source = ctx.store.get(ctx.tenant, self.RECOVERY.name, "", sid)
        if source is None or source.scope != ctx.api.location or not self.recovery_ready(ctx, source):
            raise invalid(f"{attr}.{self.source_attr}", f"names no {self.recovery} in {ctx.api.location} ('{sid}')")
        if r.get("recoveryTargetDatetime"):
            self.check_target(ctx, f"{attr}.recoveryTargetDatetime", r["recoveryTargetDatetime"], [source])
        taken = source.props[self.recovery_version_attr]
        if props["version"] != taken and props["version"] not in self.versions.get(taken, {}).get("canUpgradeTo", ()):
            raise invalid("properties.version", f"must be '{taken}' (the {self.recovery}'s) or an upgrade of it, "
                                                f"got '{props['version']}'")
        self.restore_fits(source, props)
        return source

    def restore_in_place(self, ctx: Ctx, p: dict, row: Row) -> str | None:
        """The point in time a PUT restores the cluster to (None: no restore)."""
        r = p.get(self.restore_attr)
        if not r:
            return None
        attr = f"properties.{self.restore_attr}"
        if r.get(self.source_attr):
            raise invalid(f"{attr}.{self.source_attr}", "is not valid for an in-place restore; the cluster's own "
                                                        f"{self.recovery}s are used")
        if not r.get("recoveryTargetDatetime"):
            raise invalid(f"{attr}.recoveryTargetDatetime", "is required for an in-place restore")
        self.check_target(ctx, f"{attr}.recoveryTargetDatetime", r["recoveryTargetDatetime"],
                          self.recovery_points(ctx, row.id))
        return r["recoveryTargetDatetime"]

    def check_target(self, ctx: Ctx, attr: str, value: str, points: list[Row]) -> None:
        when = parse_time(attr, value)
        for point in points:
            start = parse_time(attr, point.props["earliestRecoveryTargetTime"])
            end = point.props.get("latestRecoveryTargetTime")
            if start <= when <= (parse_time(attr, end) if end else ctx.now):
                return
        raise invalid(attr, f"lies outside every recovery window of the {self.recovery}s ('{value}')")

    # -- recovery points (backups, snapshots) -----------------------------------------------------------

    def recovery_ready(self, ctx: Ctx, row: Row) -> bool:
        return row.x.get("readyAt", 0) <= ctx.now

    def recovery_points(self, ctx: Ctx, cluster_id: str, open_only: bool = False) -> list[Row]:
        return [r for r in rows_of(ctx, self.RECOVERY) if r.props.get("clusterId") == cluster_id
                and not (open_only and r.props.get("latestRecoveryTargetTime"))]

    def open_recovery(self, ctx: Ctx, ch: ProductChange, cluster: Row) -> None:
        """A recovery point that starts when the change completes and runs until it is closed."""
        queued, running = ctx.lifecycle.timing.durations(self.CLUSTER.name)
        ready_at = ctx.now + queued + running
        props = {"clusterId": cluster.id, "clusterName": cluster.props["name"],
                 "earliestRecoveryTargetTime": clock.iso_precise(ready_at), "latestRecoveryTargetTime": None,
                 **self.recovery_props(cluster)}
        point = new_row(ctx, self.RECOVERY, None, props)
        point.meta.pop("state", None)
        point.x["readyAt"] = ready_at
        ctx.store.insert(point)
        ch.effect("delete", key(point), on_fail=True)

    def close_recovery(self, ctx: Ctx, ch: ProductChange, cluster: Row) -> None:
        for point in self.recovery_points(ctx, cluster.id, open_only=True):
            ch.effect("props", key(point), set={"latestRecoveryTargetTime": clock.iso_precise(ctx.now)})

    # -- clusters: operations ---------------------------------------------------------------------------

    def list_clusters(self, ctx: Ctx) -> Reply:
        body = page(ctx, self.CLUSTER, rows_of(ctx, self.CLUSTER), self.CLUSTER.segment)
        body["items"] = [tidy(i) for i in body["items"]]
        return Reply(200, body)

    def get_cluster(self, ctx: Ctx) -> Reply:
        return Reply(200, self.render_cluster(ctx, load(ctx, self.CLUSTER, ctx.params["clusterId"])))

    def post_cluster(self, ctx: Ctx) -> Reply:
        return Reply(201, self.render_cluster(ctx, self.create(ctx, properties(ctx))))

    def put_cluster(self, ctx: Ctx) -> Reply:
        rid = ctx.params["clusterId"]
        p = properties(ctx)
        if ctx.body.get("id") not in (None, rid):
            raise invalid("id", f"must be the id in the path ('{rid}') or absent, got '{ctx.body['id']}'")
        row = ctx.store.get(ctx.tenant, self.CLUSTER.name, "", rid)
        if row is None:
            try:
                uuid.UUID(rid)
            except ValueError:
                raise invalid("clusterId", f"must be a UUID to create a cluster under it, got '{rid}'") from None
            return Reply(201, self.render_cluster(ctx, self.create(ctx, p, rid)))
        if row.scope != ctx.api.location:
            raise ApiError(409, f"cluster '{rid}' exists in {row.scope}, not in {ctx.api.location}", "409")
        return Reply(200, self.render_cluster(ctx, self.replace(ctx, row, p)))

    def delete_cluster(self, ctx: Ctx) -> Reply:
        row = load(ctx, self.CLUSTER, ctx.params["clusterId"])
        if row.meta.get("state") != self.CLUSTER.states.destroying:  # deleting twice is one deletion
            with ProductChange(ctx, self.CLUSTER) as ch:
                ch.deleting(self.CLUSTER, row)
                self.close_recovery(ctx, ch, row)
                self._plane(ctx, ch, row, "drop")
        return Reply(202, None)

    def create(self, ctx: Ctx, p: dict, rid: str | None = None) -> Row:
        props, secrets = self.validate(ctx, p, None)
        source = self.restore_source(ctx, p, props)
        with ProductChange(ctx, self.CLUSTER) as ch:
            row = new_row(ctx, self.CLUSTER, None, props, rid)
            row.x.update(secrets)
            if source is not None:
                row.x["restoredFrom"] = {self.source_attr: source.id,
                                         "recoveryTargetDatetime": p[self.restore_attr].get("recoveryTargetDatetime")}
            ch.created(self.CLUSTER, row)
            self.open_recovery(ctx, ch, row)
            self._plane(ctx, ch, row, "ensure", source.props["clusterId"] if source is not None else None)
        return row

    def replace(self, ctx: Ctx, row: Row, p: dict) -> Row:
        state = row.meta.get("state")
        if state in BUSY_STATES:
            raise ApiError(409, f"cluster '{row.id}' is {state}; it can be changed once it is AVAILABLE", "409")
        props, secrets = self.validate(ctx, p, row)
        restore_to = self.restore_in_place(ctx, p, row)
        upgraded = props["version"] != row.props["version"]
        with ProductChange(ctx, self.CLUSTER) as ch:
            row.doc["properties"] = props
            row.x.update(secrets)
            if restore_to:
                row.x.setdefault("restores", []).append({"recoveryTargetDatetime": restore_to,
                                                         "requested": clock.iso_precise(ctx.now)})
            ch.updated(self.CLUSTER, row)
            if upgraded:  # a new version starts a new recovery point
                self.close_recovery(ctx, ch, row)
                self.open_recovery(ctx, ch, row)
            self._plane(ctx, ch, row, "ensure")
        return row

    # -- recovery points, locations, versions -----------------------------------------------------------

    def list_recovery(self, ctx: Ctx) -> Reply:
        rows = [r for r in rows_of(ctx, self.RECOVERY) if self.recovery_ready(ctx, r)]
        body = page(ctx, self.RECOVERY, rows, self.RECOVERY.segment)
        body["items"] = [stateless(i) for i in body["items"]]
        return Reply(200, body)

    def get_recovery(self, ctx: Ctx) -> Reply:
        rid = ctx.params[f"{self.recovery}Id"]
        row = load(ctx, self.RECOVERY, rid)
        if not self.recovery_ready(ctx, row):
            raise ApiError(404, f"{self.recovery} '{rid}' was not found", "404")
        return Reply(200, stateless(render(ctx, self.RECOVERY, row)))

    def catalogue(self, ctx: Ctx, kind: PKind, entries: dict[str, dict]) -> list[Row]:
        return [Row(tenant=ctx.tenant, kind=kind.name, id=name, scope=ctx.api.location,
                    path=f"{kind.segment}/{name}", doc={"properties": props, "metadata": {}})
                for name, props in entries.items()]

    def locations(self, ctx: Ctx) -> list[Row]:
        return self.catalogue(ctx, self.LOCATION, {loc: {"location": loc} for loc in self.recovery_locations})

    def version_rows(self, ctx: Ctx) -> list[Row]:
        return self.catalogue(ctx, self.VERSION, {v: {"version": v, **info} for v, info in self.versions.items()})

    def list_catalogue(self, ctx: Ctx, kind: PKind, rows: list[Row]) -> Reply:
        body = page(ctx, kind, rows, kind.segment)
        body["items"] = [stateless(i) for i in body["items"]]
        return Reply(200, body)

    def get_catalogue(self, ctx: Ctx, kind: PKind, rows: list[Row], wanted: str) -> Reply:
        row = next((r for r in rows if r.id == wanted), None)
        if row is None:
            raise ApiError(404, f"{kind.type} '{wanted}' was not found", "404")
        return Reply(200, stateless(render(ctx, kind, row)))

    def list_locations(self, ctx: Ctx) -> Reply:
        return self.list_catalogue(ctx, self.LOCATION, self.locations(ctx))

    def get_location(self, ctx: Ctx) -> Reply:
        return self.get_catalogue(ctx, self.LOCATION, self.locations(ctx), ctx.params[f"{self.recovery}LocationId"])

    def list_versions(self, ctx: Ctx) -> Reply:
        return self.list_catalogue(ctx, self.VERSION, self.version_rows(ctx))

    def get_version(self, ctx: Ctx) -> Reply:
        return self.get_catalogue(ctx, self.VERSION, self.version_rows(ctx), ctx.params["versionId"])

    # -- hooks of the product ---------------------------------------------------------------------------

    def product_props(self, ctx: Ctx, p: dict, old: Row | None) -> tuple[dict, dict]:
        """The product's own properties (credentials, backup/snapshot settings, ...) and secrets."""
        return {}, {}

    def recovery_props(self, cluster: Row) -> dict:
        """The product's own properties of a new recovery point of `cluster`."""
        return {}

    def restore_fits(self, source: Row, props: dict) -> None:
        """Refuses a restore of `source` into a cluster with these properties (422)."""

    def plane_server(self, settings):
        """The configured real server, or None."""
        return None

    def plane_ensure(self, server, row: Row, source_cluster: str | None) -> dict:
        """Makes the cluster real on the server; returns the properties that changed (names in use)."""
        return {}
