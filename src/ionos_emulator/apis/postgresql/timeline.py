"""Backups of a cluster, as both APIs keep them: one backup per timeline, begun when the cluster becomes
available and continuously written until a new timeline starts (a major upgrade, a restore) or the cluster
is deleted; then it stays restorable for the cluster's retention period. Backups are bookkeeping only:
no data is copied, a restore changes no database on the server."""
from __future__ import annotations

from collections.abc import Callable

from ...engine import clock
from ...engine.change import key
from ...engine.resources import Kind
from ...gateway.context import Ctx
from ...store import Row
from ..product import new_row, rows_of
from .common import parse_time

DEFAULT_RETENTION_DAYS = 7


def covers(cluster: Row, version: str) -> list:
    """What one backup covers: one major version of the cluster, from one in-place restore on."""
    return [version, (cluster.x.get("restoredTo") or {}).get("at")]


def start(ctx: Ctx, kind: Kind, cluster: Row, starts: float, *, version: str, location: str,
          retention_days: int | None, version_field: str) -> Row:
    props = {"clusterId": cluster.id, version_field: version, "isActive": True,
             "earliestRecoveryTargetTime": clock.iso_precise(starts), "location": location}
    row = new_row(ctx, kind, None, props)
    row.x.update(startsAt=starts, retentionDays=retention_days or DEFAULT_RETENTION_DAYS,
                 covers=covers(cluster, version))
    ctx.store.insert(row)
    return row


def follow(ctx: Ctx, change, kind: Kind, cluster: Row, version: str, begin: Callable[..., Row]) -> None:
    """Inside a change that creates, changes or restores the cluster: its first backup begins when it becomes
    available (and goes if the creation fails); a major upgrade or an in-place restore ends the current
    backup now and begins the next (`begin(ctx, cluster, starts)` makes one)."""
    current = [r for r in rows_of(ctx, kind) if r.props["clusterId"] == cluster.id and r.props["isActive"]]
    if not current:
        change.effect("delete", key(begin(ctx, cluster, change.req["done_at"])), on_fail=True)
    elif current[0].x.get("covers") != covers(cluster, version):
        end(ctx, kind, cluster.id, ctx.now)
        begin(ctx, cluster, change.req["done_at"])


def visible(ctx: Ctx, kind: Kind, cluster_id: str | None = None) -> list[Row]:
    """The backups a client sees: begun, and not past their retention once they ended."""
    out = []
    for row in rows_of(ctx, kind):
        if cluster_id is not None and row.props["clusterId"] != cluster_id:
            continue
        if row.x["startsAt"] > ctx.now:
            continue
        ended = row.props.get("latestRecoveryTargetTime")
        if ended and parse_time("latestRecoveryTargetTime", ended) + row.x["retentionDays"] * 86400 < ctx.now:
            continue
        out.append(row)
    return out


def window(ctx: Ctx, backup: Row) -> tuple[float, float]:
    """The times a backup can restore to."""
    ended = backup.props.get("latestRecoveryTargetTime")
    return backup.x["startsAt"], parse_time("latestRecoveryTargetTime", ended) if ended else ctx.now


def end(ctx: Ctx, kind: Kind, cluster_id: str, at: float) -> None:
    """A new timeline ends the current backup now."""
    for row in rows_of(ctx, kind):
        if row.props["clusterId"] == cluster_id and row.props["isActive"]:
            row.props.update(isActive=False, latestRecoveryTargetTime=clock.iso_precise(at))
            ctx.store.update(row)


def end_with(ctx: Ctx, change, kind: Kind, cluster_id: str) -> None:
    """Inside a change that deletes the cluster: its backup ends when the deletion completes."""
    ended = clock.iso_precise(change.req["done_at"])
    for row in rows_of(ctx, kind):
        if row.props["clusterId"] == cluster_id and row.props["isActive"]:
            change.effect("props", key(row), set={"isActive": False, "latestRecoveryTargetTime": ended})
