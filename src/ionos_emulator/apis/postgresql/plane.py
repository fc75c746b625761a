"""Where a DBaaS PostgreSQL cluster (of either API) meets the real server of dataplanes/postgres.py.

A change that creates or changes a cluster carries a `postgresql.dataplane` effect: when the lifecycle
completes the change (the cluster turns AVAILABLE), the effect makes the cluster's role and database
exist with the current password; deleting a cluster drops them when the deletion completes. The effect
marks the cluster inside the store's settle transaction and talks to the server once that has committed
(`dataplanes.after_commit`), on its own connection; it never raises (a refusal turns the cluster FAILED
with the reason), so a bad or silent server holds neither settling nor other writers.

With `--dataplanes local` each cluster gets a private server of its own instead (dataplanes/local/, the
same interface). Without either (`--postgres-url`, IONOS_EMULATOR_POSTGRES_URL) no effect is queued and a
cluster is bookkeeping only; `note()` says so wherever an API can show it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import TypedDict

from ...dataplanes import Outcome, after_commit, local
from ...dataplanes.local.postgres import KIND
from ...dataplanes.postgres import Server, scram_verifier
from ...engine.change import Change, key
from ...engine.lifecycle import Effect, FollowUp
from ...gateway.context import Ctx
from ...settings import Settings
from ...store import Row, Store
from .timeline import Backups

log = logging.getLogger("ionos_emulator.postgresql")

EFFECT = "postgresql.dataplane"
BOOKKEEPING = (
    "bookkeeping only: the emulator has no PostgreSQL server configured (--postgres-url), "
    "so no database exists for this cluster"
)

_servers: dict[str, Server] = {}
_warned = False


def server_url(settings: Settings) -> str:
    return getattr(settings, "postgres_url", "") or os.environ.get("IONOS_EMULATOR_POSTGRES_URL", "")


def _server(url: str) -> Server:
    if url not in _servers:
        _servers[url] = Server(url)
    return _servers[url]


# the data plane's work when a cluster change completes, declared by both PostgreSQL APIs (every app that
# mounts them installs it, with or without a server: a change queued while one was configured still completes)
EFFECTS: dict[str, Callable[[Settings], Effect]] = {
    EFFECT: lambda settings: functools.partial(_apply, server_for(settings))
}


def server_for(settings: Settings) -> Server | local.Fleet | None:
    """The clusters' private servers (--dataplanes local), else the configured shared server, if any."""
    url = server_url(settings)
    return local.fleet(KIND, settings) or (_server(url) if url else None)


def server(ctx: Ctx) -> Server | local.Fleet | None:
    return server_for(ctx.settings)


# -- what the APIs call --------------------------------------------------------------------------------


def login(username: str, password: str, database: str) -> dict:
    """The cluster's initial user as kept in the row's internal part: a verifier, never the password."""
    return {"username": username, "database": database, "verifier": scram_verifier(password)}


def provision(ctx: Ctx, change: Change, row: Row) -> None:
    """Inside a change that creates or changes `row`: its role and database follow when it completes."""
    global _warned
    if server(ctx) is not None:
        change.effect(EFFECT, key(row), action="sync", busy=row.meta.get("state"))
        return
    row.x["dataplane"] = {"note": BOOKKEEPING}
    if not _warned:
        _warned = True
        log.warning("DBaaS PostgreSQL: %s", BOOKKEEPING.replace("this cluster", "any cluster"))
    log.info("PostgreSQL cluster %s is bookkeeping only", row.id)


def deprovision(ctx: Ctx, change: Change, row: Row) -> None:
    """Inside a change that deletes `row`: its databases and roles go when the deletion completes."""
    if server(ctx) is not None:
        change.effect(EFFECT, key(row), action="drop")
    elif (row.x.get("dataplane") or {}).get("role"):
        log.warning(
            "PostgreSQL cluster %s had role '%s' on a server that is no longer configured; left there",
            row.id,
            row.x["dataplane"]["role"],
        )


class ClusterHooks(TypedDict):
    after: Callable[[Ctx, Row, Change], None]
    delete: Callable[[Ctx, Row, Change], None]


def cluster_hooks(backups: Backups) -> ClusterHooks:
    """The `after` and `delete` hooks of either API's cluster kind: its instances start once its creation
    completes; its backups and its role and database here follow its changes and its end."""

    def after(ctx: Ctx, row: Row, change: Change) -> None:
        row.x.setdefault("readyAt", change.req["done_at"])
        backups.follow(ctx, change, row)
        provision(ctx, change, row)
        ctx.store.update(row)

    def delete(ctx: Ctx, row: Row, change: Change) -> None:
        backups.end(ctx, change, row.id)
        deprovision(ctx, change, row)

    return ClusterHooks(after=after, delete=delete)


def placement(row: Row) -> dict | None:
    """{host, port, role, database} once the cluster exists on the server."""
    plane = row.x.get("dataplane") or {}
    return plane if plane.get("role") else None


def note(row: Row) -> str | None:
    """What a client should know about the cluster's data plane, in one sentence."""
    plane = row.x.get("dataplane") or {}
    if plane.get("role"):
        return (
            f"served by the PostgreSQL server at {plane['host']}:{plane['port']}: database "
            f'"{plane["database"]}", login role "{plane["role"]}"'
        )
    return plane.get("error") or plane.get("note")


# -- the effect ----------------------------------------------------------------------------------------


def _apply(srv: Server | local.Fleet | None, store: Store, eff: dict, ts: float) -> FollowUp | None:
    if eff.get("action") == "drop":
        if srv is None:
            log.warning("PostgreSQL cluster %s: no server configured any more; its objects were not dropped", eff["id"])
            return None
        # inside the transaction, as the deletion: once a client sees the cluster gone, so are its objects
        _drop(srv, eff["id"])
        return None
    row = store.get(eff["tenant"], eff["kind"], eff["parent"], eff["id"])
    if row is None or row.meta.get("state") == "DESTROYING":
        return None  # deleted before this change completed
    if srv is None:
        row.x["dataplane"] = {"note": BOOKKEEPING}
        store.update(row)
        return None
    return after_commit(store, eff, row, functools.partial(_ensure, srv, row))


def _drop(srv: Server | local.Fleet, cluster_id: str) -> None:
    try:
        log.info("PostgreSQL cluster %s: dropped %s", cluster_id, srv.drop_cluster(cluster_id))
    except Exception as e:  # the cluster is gone from the API either way
        log.warning("PostgreSQL cluster %s: dropping its databases and roles failed: %s", cluster_id, e)


def _ensure(srv: Server | local.Fleet, row: Row) -> Outcome:
    """The cluster's role and database on the server; the outcome, a placement or the server's refusal."""
    cred = row.x["login"]
    try:
        where = srv.ensure_cluster(row.id, cred["username"], cred["verifier"], cred["database"])
        host, port = srv.where(row.id)
        plane = {"host": host, "port": port, "role": where.role, "database": where.database}
        return lambda r: r.x.__setitem__("dataplane", plane)
    except Exception as e:
        log.warning("PostgreSQL cluster %s: the server at %s refused: %s", row.id, srv.address, e)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        error = {"error": f"the PostgreSQL server at {srv.address} refused: {reason}"}

        def failed(r: Row) -> None:
            r.meta["state"] = "FAILED"
            r.x["dataplane"] = error

        return failed
