"""Where a DBaaS PostgreSQL cluster (of either API) meets the real server of dataplanes/postgres.py.

A change that creates or changes a cluster carries a `postgresql.dataplane` effect: when the lifecycle
completes the change (the cluster turns AVAILABLE), the effect makes the cluster's role and database
exist with the current password; deleting a cluster drops them when the deletion completes. The effect
marks the cluster inside the store's settle transaction and talks to the server once that has committed
(`dataplanes.after_commit`), on its own connection; it never raises (a refusal turns the cluster FAILED
with the reason), so a bad or silent server holds neither settling nor other writers.

A v1 cluster's further users and databases (v1.py) carry the same effect, naming their cluster: once their
change has committed, the user's login role (with its password) or the database (owned by its owner's role)
is made, changed or dropped on the cluster's server; a refusal turns their cluster FAILED, as they have no
state of their own. A cluster's own sync makes them all again.

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


# -- a v1 cluster's further users and databases ------------------------------------------------------------

USER_KIND = "postgresql-v1.user"  # the stored kinds (apis/postgresql/v1.py declares them)
DATABASE_KIND = "postgresql-v1.database"


def member_hooks(cluster_kind: str, what: str) -> dict[str, Callable[[Ctx, Row, Change], None]]:
    """The `after` and `delete` effects of a v1 cluster's user or database (`what`): its role or database on
    the cluster's server follows when the change has committed (a user's PATCH: its new password)."""

    def queue(ctx: Ctx, row: Row, change: Change, action: str) -> None:
        if server(ctx) is not None:
            cluster = {"tenant": row.tenant, "kind": cluster_kind, "parent": "", "id": row.parent}
            change.effect(EFFECT, key(row), action=action, cluster=cluster)

    return {
        "after": lambda ctx, row, change: queue(ctx, row, change, what),
        "delete": lambda ctx, row, change: queue(ctx, row, change, f"drop-{what}"),
    }


def _members(srv: Server, store: Store, cluster: Row) -> None:
    """Every further user and database of the cluster, made real (when the cluster itself is made or changed)."""
    for user in store.list(cluster.tenant, USER_KIND, cluster.id):
        _ensure_user(srv, store, cluster, user)
    for db in store.list(cluster.tenant, DATABASE_KIND, cluster.id):
        _ensure_database(srv, store, cluster, db)


def _ensure_user(srv: Server, store: Store, cluster: Row, user: Row) -> str:
    role = srv.ensure_user(cluster.id, user.id, user.x["password"])
    if (user.x.get("dataplane") or {}).get("role") != role:
        user.x["dataplane"] = {"role": role}
        store.update(user)
    return role


def _ensure_database(srv: Server, store: Store, cluster: Row, db: Row) -> None:
    owner = db.props["owner"]
    if owner == cluster.x["login"]["username"]:
        role = cluster.x["dataplane"]["role"]
    else:
        user = store.get(cluster.tenant, USER_KIND, cluster.id, owner)
        if user is None:
            raise RuntimeError(f"the owner '{owner}' of database '{db.id}' is no user of the cluster")
        role = _ensure_user(srv, store, cluster, user)
    name = srv.ensure_database(cluster.id, db.id, role)
    if (db.x.get("dataplane") or {}).get("database") != name:
        db.x["dataplane"] = {"database": name}
        store.update(db)


def _apply_member(srv: Server | local.Fleet, store: Store, eff: dict) -> None:
    cluster = store.get(eff["cluster"]["tenant"], eff["cluster"]["kind"], "", eff["cluster"]["id"])
    if cluster is None or cluster.meta.get("state") == "DESTROYING" or placement(cluster) is None:
        return  # gone with its cluster, or made when the cluster itself is (its change is still to complete)
    action = eff["action"]
    try:
        there = srv.server(cluster.id)
        if action.startswith("drop-"):
            dropped = (there.drop_user if action == "drop-user" else there.drop_database)(cluster.id, eff["id"])
            log.info("PostgreSQL cluster %s: %s '%s' dropped (%s)", cluster.id, action[5:], eff["id"], dropped)
            return
        row = store.get(eff["tenant"], eff["kind"], eff["parent"], eff["id"])
        if row is None:
            return  # deleted again since; its own drop follows
        if action == "user":
            _ensure_user(there, store, cluster, row)
        else:
            _ensure_database(there, store, cluster, row)
    except Exception as e:
        log.warning(
            "PostgreSQL cluster %s: the server at %s refused %s '%s': %s", cluster.id, srv.address, action, eff["id"], e
        )
        cluster.meta["state"] = "FAILED"
        cluster.x["dataplane"] = {
            **cluster.x["dataplane"],
            "error": f"the PostgreSQL server at {srv.address} refused the {action.replace('-', ' of ')} "
            f"'{eff['id']}': {_reason(e)}",
        }
        store.update(cluster)


def _reason(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def placement(row: Row) -> dict | None:
    """{host, port, role, database} once the cluster exists on the server."""
    plane = row.x.get("dataplane") or {}
    return plane if plane.get("role") else None


def note(row: Row) -> str | None:
    """What a client should know about the cluster's data plane, in one sentence."""
    plane = row.x.get("dataplane") or {}
    if plane.get("role") and not plane.get("error"):
        return (
            f"served by the PostgreSQL server at {plane['host']}:{plane['port']}: database "
            f'"{plane["database"]}", login role "{plane["role"]}"'
        )
    return plane.get("error") or plane.get("note")


# -- the effect ----------------------------------------------------------------------------------------


def _apply(srv: Server | local.Fleet | None, store: Store, eff: dict, ts: float) -> FollowUp | None:
    if "cluster" in eff:  # a v1 cluster's further user or database
        if srv is not None:
            _apply_member(srv, store, eff)
        return None
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
    return after_commit(store, eff, row, functools.partial(_ensure, srv, store, row))


def _drop(srv: Server | local.Fleet, cluster_id: str) -> None:
    try:
        log.info("PostgreSQL cluster %s: dropped %s", cluster_id, srv.drop_cluster(cluster_id))
    except Exception as e:  # the cluster is gone from the API either way
        log.warning("PostgreSQL cluster %s: dropping its databases and roles failed: %s", cluster_id, e)


def _ensure(srv: Server | local.Fleet, store: Store, row: Row) -> Outcome:
    """The cluster's role and database on the server (outside the write lock); the outcome writes the
    placement and makes the cluster's further users and databases real (v1), or the server's refusal."""
    cred = row.x["login"]
    try:
        where = srv.ensure_cluster(row.id, cred["username"], cred["verifier"], cred["database"])
        host, port = srv.where(row.id)
    except Exception as e:
        return _refused(srv, row.id, e)
    plane = {"host": host, "port": port, "role": where.role, "database": where.database}

    def served(r: Row) -> None:
        r.x["dataplane"] = plane
        try:  # their rows are written in the outcome's transaction
            _members(srv.server(r.id), store, r)
        except Exception as e:
            _refused(srv, r.id, e)(r)

    return served


def _refused(srv: Server | local.Fleet, cluster_id: str, e: Exception) -> Outcome:
    log.warning("PostgreSQL cluster %s: the server at %s refused: %s", cluster_id, srv.address, e)
    error = f"the PostgreSQL server at {srv.address} refused: {_reason(e)}"

    def failed(r: Row) -> None:
        r.meta["state"] = "FAILED"
        r.x["dataplane"] = {**{k: v for k, v in (r.x.get("dataplane") or {}).items() if k != "error"}, "error": error}

    return failed
