"""What the DBaaS v2 cluster APIs share (MariaDB and In-Memory DB, API 2.0.0): regional clusters connected to a
private LAN of a Cloud API data center, the recovery points the service keeps for them (MariaDB backups,
In-Memory DB snapshots) and restores from them, the versions and the object-storage locations on offer, and
an optional real server behind the clusters (a data plane).

Conventions (api-behaviour.md §7): POST answers 201 with the cluster PROVISIONING, the lifecycle engine makes
it AVAILABLE; PUT ensures the cluster with a client-chosen id (201 created, 200 replaced; the full cluster,
absent attributes take defaults), the cluster is UPDATING meanwhile; DELETE answers 202 with it DESTROYING,
then 404 (deleting twice is one deletion). Absolute hrefs; offset/limit paging and filter.* on every list.
Passwords are never shown. All of it is served by the resource engine; this module holds the hooks.

Recovery points: a cluster gets one when it becomes AVAILABLE (earliestRecoveryTargetTime) and a new one when
its version is upgraded; the current one has latestRecoveryTargetTime null, a closed one (deleted cluster,
older version) the time it was closed. A restore creates a cluster from one (the data plane copies the data
the source cluster has on the server when the new one becomes AVAILABLE), or, sent in a PUT without a
source, restores the cluster in place (kept as a record only).

The data plane: when a product's server is configured (or with --dataplanes local, a private server per
cluster: dataplanes/local/), each change adds an effect that runs when the change
completes: the cluster's user (and database) are made real, a deleted cluster's are dropped (talking to the
server once the settle transaction has committed: dataplanes.after_commit); once real, the
cluster's metadata shows the server's host as dnsName and host:port in statusMessage. An effect that
fails leaves the cluster FAILED with the server's message in metadata.statusMessage (shown while it is FAILED).
"""

from __future__ import annotations

import logging
from functools import partial
from ipaddress import IPv4Network
from typing import Any

from ...dataplanes import after_commit
from ...engine import clock
from ...engine.change import Change, key
from ...engine.errors import invalid
from ...engine.resources import Kind
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import (
    RecoveryPoints,
    catalogue,
    cluster_name,
    connect,
    connection_endpoints,
    maintenance_window,
    refuse_busy,
    required,
)
from ..product import REGIONS, PKind, Product, load, rows_of

log = logging.getLogger("ionos_emulator")

RETENTION_DAYS = 7  # what the service keeps when the client does not say
FAILED = "FAILED"


class ClusterService:
    """The clusters of one product and everything around them, declared as kinds of the resource engine with
    the rules in their hooks; the product module subclasses it with its properties (the hooks at the end)
    and its data plane."""

    recovery = "backup"  # also the type and path segment; "snapshot" for In-Memory DB
    restore_attr = "restoreFromBackup"
    source_attr = "sourceBackupId"
    recovery_version_attr = "mariadbClusterVersion"  # the version a recovery point was taken of
    instance_keys: tuple[str, ...] = ("count", "cores", "ram")
    versions: dict[str, dict] = {}  # version -> {"status", "comment", "canUpgradeTo"}
    recovery_locations: tuple[str, ...] = ()
    reserved_networks: tuple[IPv4Network, ...] = ()
    dns_label = ""  # <clusterId>.<dns_label>.<region>.ionos.com
    effect_name = ""  # the lifecycle effect of the data plane
    plane_label = ""  # the server's name in messages
    cluster_type, cluster_segment, cluster_param = "cluster", "clusters", "clusterId"  # In-Memory DB v1: replicasets
    free_form_name = False  # the v1 APIs' displayName may be any text (cluster_name)
    # options of its kinds beyond the shared ones: an API generation's states, envelope and view
    cluster_options: dict[str, Any] = {}
    recovery_options: dict[str, Any] = {}
    # its kinds, made by __init__ (the catalogues' rows hooks refer to them)
    CLUSTER: Kind
    RECOVERY: Kind
    points: RecoveryPoints
    LOCATION: Kind
    VERSION: Kind

    def __init__(self, product: Product):
        self.product = product
        r = self.recovery
        self.CLUSTER = PKind(
            product,
            "cluster",
            self.cluster_type,
            self.cluster_segment,
            **{
                "absolute_href": True,
                "updating": "UPDATING",
                "idempotent_delete": True,
                "prepare": self.prepare,
                "after": self.after,
                "delete": self.delete,
                "meta": self.cluster_meta,
                **self.cluster_options,
            },
        )
        # recovery points and the catalogues carry no state
        self.RECOVERY = PKind(
            product,
            r,
            r,
            f"{r}s",
            absolute_href=True,
            stateless=True,
            rows=lambda ctx, parent: self.points.visible(ctx),
            **self.recovery_options,
        )
        self.points = RecoveryPoints(self.RECOVERY)
        self.LOCATION = PKind(
            product,
            f"{r}-location",
            f"{r}Location",
            f"{r}-locations",
            absolute_href=True,
            stateless=True,
            rows=lambda ctx, parent: catalogue(
                ctx, self.LOCATION, {loc: {"location": loc} for loc in self.recovery_locations}
            ),
        )
        self.VERSION = PKind(
            product,
            "version",
            "version",
            "versions",
            absolute_href=True,
            stateless=True,
            rows=lambda ctx, parent: catalogue(
                ctx, self.VERSION, {v: {"version": v, **info} for v, info in self.versions.items()}
            ),
        )
        # the data plane's work when a change completes, installed in every emulator (with or without a
        # server: a change queued while one was configured must still complete)
        product.effects[self.effect_name] = lambda settings: partial(self._apply, self.plane_server(settings))

    # -- the data plane ---------------------------------------------------------------------------------

    def plane(self, ctx: Ctx, ch: Change, row: Row, action: str, source: str | None = None) -> None:
        """The cluster's work on the configured real server when `ch` completes (none: bookkeeping only)."""
        if self.plane_server(ctx.settings) is not None:
            ch.effect(self.effect_name, key(row), action=action, source=source, busy=row.meta.get("state"))

    def _apply(self, server, store, eff: dict, ts: float):
        """The effect: make the cluster real (idempotent), its server calls once the settle transaction has
        committed (dataplanes.after_commit); or drop what a deleted one had."""
        if server is None:
            log.warning(
                "%s: cluster %s: no server is configured any more; its %s on the data plane is skipped",
                self.product.name,
                eff["id"],
                eff["action"],
            )
            return None
        if eff["action"] == "drop":  # inside the transaction: once a client sees the cluster gone, so is its user
            self._drop(server, eff["id"])
            return None
        row = store.get(eff["tenant"], eff["kind"], eff["parent"], eff["id"])
        states = self.CLUSTER.states
        # one being deleted is left alone (its drop follows), unless its API shows deletion and change alike
        if row is None or (row.meta.get("state") == states.destroying != states.creating):
            return None
        return after_commit(store, eff, row, partial(self._ensure, server, row, eff.get("source")))

    def _drop(self, server, cluster_id: str) -> None:
        try:
            server.drop_cluster(cluster_id)
        except Exception as e:  # the cluster is gone either way; what is left on the server is reported
            log.warning("%s: dropping cluster %s on the data plane failed: %s", self.product.name, cluster_id, e)

    def _ensure(self, server, row: Row, source: str | None):
        try:
            props = self.plane_ensure(server, row, source)
            served = list(server.where(row.id))
        except Exception as e:
            log.warning("%s: cluster %s on the data plane failed: %s", self.product.name, row.id, e)
            message = f"the data plane refused the change: {e}"

            def failed(r: Row) -> None:
                r.meta["state"] = FAILED
                r.x["statusMessage"] = message

            return failed

        def served_by(r: Row) -> None:
            r.props.update(props)
            r.x["served"] = served
            r.x.pop("statusMessage", None)

        return served_by

    # -- clusters: the hooks of the engine --------------------------------------------------------------

    def cluster_meta(self, ctx: Ctx, row: Row) -> dict:
        region = REGIONS.get(row.scope, row.scope.replace("/", "-"))
        meta = {"dnsName": f"{row.id}.{self.dns_label}.{region}.ionos.com"}
        if row.meta.get("state") == FAILED and row.x.get("statusMessage"):  # the reason shows with the state
            meta["statusMessage"] = row.x["statusMessage"]
        elif row.x.get("served"):  # the real server a client connects to (the API has no port attribute)
            host, port = row.x["served"]
            meta["dnsName"], meta["statusMessage"] = host, f"served by the {self.plane_label} server at {host}:{port}"
        return meta

    def prepare(self, ctx: Ctx, parent: Row | None, p: dict, old: Row | None) -> dict:
        """The properties to store for a new cluster (old None) or a replacement of `old`."""
        rid = ctx.params.get(self.cluster_param)
        if rid and ctx.body.get("id") not in (None, rid):
            raise invalid("id", f"must be the id in the path ('{rid}') or absent, got '{ctx.body['id']}'")
        if old is not None:
            refuse_busy(self.CLUSTER, old)
        out: dict[str, Any] = {"name": cluster_name("properties.name", p.get("name"), free_form=self.free_form_name)}
        if p.get("description") is not None:
            out["description"] = p["description"]
        out["version"] = self.version_of(p.get("version"), old.props["version"] if old else None)
        out["instances"] = self.instances_of(p.get("instances"), old.props["instances"] if old else None)
        out["connection"] = self.connection_of(ctx, p.get("connection"), old.id if old else "")
        out["maintenanceWindow"] = maintenance_window(
            "properties.maintenanceWindow", p.get("maintenanceWindow"), old.props["maintenanceWindow"] if old else None
        )
        out["logsEnabled"] = bool(p.get("logsEnabled", False))
        out["metricsEnabled"] = bool(p.get("metricsEnabled", False))
        out.update(self.product_props(ctx, p, old))
        if old is None:
            self.restore_source(ctx, p, out)
        else:
            self.restore_in_place(ctx, p, old)
        return out

    def after(self, ctx: Ctx, row: Row, ch: Change) -> None:
        """What a written cluster keeps aside (its login, what it was restored from), its recovery point, and
        its data plane."""
        p = ctx.body["properties"]
        restore, source = self.restore_request(p, "requested" not in row.x), None
        row.x.setdefault("requested", dict(row.props["credentials"]))  # the names asked for at creation
        hashed = self.password_hash(p.get("credentials") if isinstance(p.get("credentials"), dict) else {})
        if hashed:
            row.x["passwordHash"] = hashed
        if restore.get(self.source_attr):  # a new cluster from a recovery point (prepare checked it)
            source = load(ctx, self.RECOVERY, restore[self.source_attr])
            row.x["restoredFrom"] = {
                self.source_attr: source.id,
                "recoveryTargetDatetime": restore.get("recoveryTargetDatetime"),
            }
        elif restore:  # the cluster itself, back to a point in time
            row.x.setdefault("restores", []).append(
                {"recoveryTargetDatetime": restore["recoveryTargetDatetime"], "requested": clock.iso_precise(ctx.now)}
            )
        ctx.store.update(row)
        version = row.props["version"]
        if all(pt.props[self.recovery_version_attr] != version for pt in self.points.current(ctx, row.id)):
            self.points.end(ctx, ch, row.id)  # a new cluster, or a new version: a new recovery point
            self.points.start(ctx, ch, row, {"clusterName": row.props["name"], **self.recovery_props(row)})
        self.plane(ctx, ch, row, "ensure", source.props["clusterId"] if source is not None else None)

    def delete(self, ctx: Ctx, row: Row, ch: Change) -> None:
        self.points.end(ctx, ch, row.id)
        self.plane(ctx, ch, row, "drop")

    # -- clusters: validation ---------------------------------------------------------------------------

    def version_of(self, wanted: str | None, current: str | None) -> str:
        if wanted is None:  # the recommended (newest) one for a new cluster; unchanged for a replacement
            return current or list(self.versions)[-1]
        if wanted not in self.versions:
            raise invalid("properties.version", f"must be one of {', '.join(self.versions)}, got '{wanted}'")
        if current and wanted != current and wanted not in self.versions[current]["canUpgradeTo"]:
            allowed = ", ".join(self.versions[current]["canUpgradeTo"]) or "none"
            raise invalid(
                "properties.version",
                f"cannot change from '{current}' to '{wanted}' (upgrades from "
                f"'{current}': {allowed}; downgrades are not supported)",
            )
        return wanted

    def instances_of(self, value: dict | None, current: dict | None) -> dict:
        if not isinstance(value, dict):
            raise invalid("properties.instances", "is required")
        required(value, "properties.instances", self.instance_keys)
        return {k: value[k] for k in self.instance_keys}

    def connection_of(self, ctx: Ctx, value: dict | None, cluster_id: str) -> dict:
        """An existing private LAN of a data center of this contract in this location, and a free host
        address of the LAN's network outside the ranges the service keeps for itself."""
        attr = "properties.connection"
        if not isinstance(value, dict):
            raise invalid(attr, "is required")
        required(value, attr, ("datacenterId", "lanId", "primaryInstanceAddress"))
        address = value["primaryInstanceAddress"]
        dc, lan, _ = connect(
            ctx,
            attr,
            value["datacenterId"],
            value["lanId"],
            ctx.api.location,
            {f"{attr}.primaryInstanceAddress": address},
            clusters=rows_of(ctx, self.CLUSTER),
            endpoints=connection_endpoints,
            except_id=cluster_id,
            reserved=self.reserved_networks,
            whole_network=True,
        )
        return {"datacenterId": dc.id, "lanId": lan.id, "primaryInstanceAddress": address}

    def recovery_location_of(self, attr: str, value: str | None) -> str:
        if value is None:
            return self.recovery_locations[0]
        if value not in self.recovery_locations:
            raise invalid(attr, f"must be one of {', '.join(self.recovery_locations)}, got '{value}'")
        return value

    # -- restores ---------------------------------------------------------------------------------------

    def restore_source(self, ctx: Ctx, p: dict, props: dict) -> None:
        """Checks the recovery point a new cluster is created from, if any."""
        r = p.get(self.restore_attr)
        if not r:
            return
        attr = f"properties.{self.restore_attr}"
        sid = r.get(self.source_attr)
        if not sid:
            raise invalid(f"{attr}.{self.source_attr}", f"is required to create a cluster from a {self.recovery}")
        source = next((pt for pt in self.points.visible(ctx) if pt.id == sid), None)
        if source is None:
            raise invalid(f"{attr}.{self.source_attr}", f"names no {self.recovery} in {ctx.api.location} ('{sid}')")
        if r.get("recoveryTargetDatetime"):
            self.points.target(ctx, f"{attr}.recoveryTargetDatetime", r["recoveryTargetDatetime"], [source])
        taken = source.props[self.recovery_version_attr]
        if props["version"] != taken and props["version"] not in self.versions.get(taken, {}).get("canUpgradeTo", ()):
            raise invalid(
                "properties.version",
                f"must be '{taken}' (the {self.recovery}'s) or an upgrade of it, got '{props['version']}'",
            )
        self.restore_fits(source, props)

    def restore_in_place(self, ctx: Ctx, p: dict, row: Row) -> None:
        """Checks the point in time a PUT restores the cluster to, if any."""
        r = p.get(self.restore_attr)
        if not r:
            return
        attr = f"properties.{self.restore_attr}"
        if r.get(self.source_attr):
            raise invalid(
                f"{attr}.{self.source_attr}",
                f"is not valid for an in-place restore; the cluster's own {self.recovery}s are used",
            )
        if not r.get("recoveryTargetDatetime"):
            raise invalid(f"{attr}.recoveryTargetDatetime", "is required for an in-place restore")
        self.points.target(
            ctx, f"{attr}.recoveryTargetDatetime", r["recoveryTargetDatetime"], self.points.visible(ctx, row.id)
        )

    # -- hooks of the product ---------------------------------------------------------------------------

    def restore_request(self, body_props: dict, created: bool) -> dict:
        """What the request's body asks to restore from ({} nothing), in the shape `restore_attr` has; `created`:
        the body made the cluster."""
        return body_props.get(self.restore_attr) or {}

    def product_props(self, ctx: Ctx, p: dict, old: Row | None) -> dict:
        """The product's own properties (credentials, backup/snapshot settings, ...), checked."""
        return {}

    def password_hash(self, credentials: dict) -> str | None:
        """The hash of the password the (checked) credentials send, kept aside; None: none sent."""
        return None

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
