"""Backups of a cluster, as both APIs keep them: recovery points (apis/dbaas.py), one per timeline, begun when
the cluster becomes available and continuously written until a new timeline starts (a major upgrade, an
in-place restore) or the cluster is deleted; then it stays restorable for the cluster's retention period.
Backups are bookkeeping only: no data is copied, a restore changes no database on the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...engine import clock
from ...engine.change import Change
from ...engine.resources import Kind
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import CLOCK_SKEW, RecoveryPoints
from ..product import PKind, Product

DEFAULT_RETENTION_DAYS = 7


def backup_kind(product: Product, **options: Any) -> Kind:
    """Either API's backup kind: the collection `backups`, absolute hrefs, AVAILABLE from the moment it begins."""
    return PKind(product, "backup", "backup", "backups", absolute_href=True, creating="AVAILABLE", **options)


class Backups(RecoveryPoints):
    """One API's backups (`kind`): `version_field` names the cluster's PostgreSQL version, `props(cluster)`
    gives the API's own properties of a new backup of it (its version and location), `retention(cluster)` the
    days a backup is kept once it ended."""

    def __init__(
        self,
        kind: Kind,
        version_field: str,
        props: Callable[[Row], dict],
        retention: Callable[[Row], int] = lambda cluster: DEFAULT_RETENTION_DAYS,
    ):
        super().__init__(kind, active_field="isActive")
        self.version_field, self.props, self.retention = version_field, props, retention

    def covers(self, cluster: Row) -> list:
        """What one backup covers: one major version of the cluster, from one in-place restore on."""
        return [cluster.props[self.version_field], (cluster.x.get("restoredTo") or {}).get("at")]

    def follow(self, ctx: Ctx, change: Change, cluster: Row) -> None:
        """Inside a change that creates, changes or restores the cluster: its first backup begins when it
        becomes available; a major upgrade or an in-place restore ends the current backup then and begins the
        next (a backup begun by a change that fails goes)."""
        covers = self.covers(cluster)
        if any(point.x.get("covers") == covers for point in self.current(ctx, cluster.id)):
            return
        self.end(ctx, change, cluster.id)
        self.start(ctx, change, cluster, self.props(cluster), self.retention(cluster), keep={"covers": covers})

    def recovery_time(self, ctx: Ctx, attr: str, value: str | None, points: list[Row]) -> str | None:
        """The point in time to recover to (None: the latest), within one of `points`' windows."""
        if value is None:
            return None
        return clock.iso_precise(self.target(ctx, attr, value, points, CLOCK_SKEW, whole_seconds=True))
