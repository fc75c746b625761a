"""PostgreSQL backend: shared state for several emulator processes or hosts.

Same table shapes as SQLite. Writers serialise with a transaction-scoped advisory lock, the counterpart of
SQLite's BEGIN IMMEDIATE: a change reads and writes its rows without another process's change
interleaving, so sequential ids stay distinct and concurrent PATCHes lose nothing. Reads take no lock.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import orjson
import psycopg

from .base import Row, Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
  seq BIGSERIAL PRIMARY KEY,
  tenant BIGINT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL,
  scope TEXT NOT NULL, link TEXT NOT NULL, path TEXT COLLATE "C" NOT NULL, doc BYTEA NOT NULL,
  UNIQUE (tenant, kind, parent, id)
);
CREATE INDEX IF NOT EXISTS resources_by_id ON resources (tenant, kind, id);
CREATE INDEX IF NOT EXISTS resources_by_scope ON resources (tenant, kind, scope);
CREATE INDEX IF NOT EXISTS resources_by_path ON resources (tenant, path);
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (tenant, kind, parent, seq);
CREATE TABLE IF NOT EXISTS requests (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE, tenant BIGINT NOT NULL, scope TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL, run_at DOUBLE PRECISION NOT NULL, done_at DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL, message TEXT, doc BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_due ON requests (state, done_at);
CREATE INDEX IF NOT EXISTS requests_by_tenant ON requests (tenant, seq);
CREATE TABLE IF NOT EXISTS kv (key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL);
"""

_COLS = "seq, tenant, kind, id, parent, scope, link, path, doc"
_REQ = "SELECT seq, id, tenant, scope, created, run_at, done_at, state, doc, message FROM requests"
TX_LOCK = 0x10A05  # advisory lock key space of the emulator: (TX_LOCK, tenant)


def _row(r) -> Row:
    return Row(tenant=r[1], kind=r[2], id=r[3], parent=r[4], scope=r[5], link=r[6], path=r[7],
               doc=orjson.loads(r[8]), seq=r[0])


def _req(r) -> dict:
    d = orjson.loads(r[8])
    d.update(seq=r[0], id=r[1], tenant=r[2], scope=r[3], created=r[4], run_at=r[5], done_at=r[6],
             state=r[7], message=r[9])
    return d


class PostgresStore(Store):
    def __init__(self, url: str):
        self.url = url
        self.db = psycopg.connect(url, autocommit=True)
        with self.db.transaction():
            # several processes may start together: one creates the schema, the others wait for it
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (TX_LOCK,))
            self.db.execute(SCHEMA)
        self._depth = 0

    def _x(self, sql: str, args=()):
        return self.db.execute(sql, args)

    @contextmanager
    def tx(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self.db.transaction():
                # one writer per data set at a time, across every process (see the module docstring)
                self._x("SELECT pg_advisory_xact_lock(%s)", (TX_LOCK,))
                yield
        finally:
            self._depth = 0

    # -- resources ------------------------------------------------------------------------------
    def get(self, tenant, kind, parent, id):
        r = self._x(f"SELECT {_COLS} FROM resources WHERE tenant=%s AND kind=%s AND parent=%s AND id=%s",
                    (tenant, kind, parent, id)).fetchone()
        return _row(r) if r else None

    def find(self, tenant, kind, id):
        r = self._x(f"SELECT {_COLS} FROM resources WHERE tenant=%s AND kind=%s AND id=%s",
                    (tenant, kind, id)).fetchone()
        return _row(r) if r else None

    def _where(self, tenant, kind, parent, scope, link):
        sql, args = "tenant=%s AND kind=%s", [tenant, kind]
        for col, val in (("parent", parent), ("scope", scope), ("link", link)):
            if val is not None:
                sql += f" AND {col}=%s"
                args.append(val)
        return sql, args

    def list(self, tenant, kind, parent=None, *, scope=None, link=None, offset=0, limit=None):
        where, args = self._where(tenant, kind, parent, scope, link)
        sql = f"SELECT {_COLS} FROM resources WHERE {where} ORDER BY seq"
        if limit is not None:
            sql += " LIMIT %s"
            args.append(limit)
        if offset:
            sql += " OFFSET %s"
            args.append(offset)
        return [_row(r) for r in self._x(sql, args)]

    def list_refs(self, tenant, kind, parent):
        return self._x("SELECT id, path FROM resources WHERE tenant=%s AND kind=%s AND parent=%s ORDER BY seq",
                       (tenant, kind, parent)).fetchall()

    def count(self, tenant, kind, parent=None, *, scope=None):
        where, args = self._where(tenant, kind, parent, scope, None)
        return self._x(f"SELECT count(*) FROM resources WHERE {where}", args).fetchone()[0]

    def insert(self, row: Row) -> None:
        row.seq = self._x(
            "INSERT INTO resources (tenant, kind, id, parent, scope, link, path, doc) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING seq",
            (row.tenant, row.kind, row.id, row.parent, row.scope, row.link, row.path, orjson.dumps(row.doc))
        ).fetchone()[0]

    def update(self, row: Row) -> None:
        self._x("UPDATE resources SET link=%s, doc=%s WHERE tenant=%s AND kind=%s AND parent=%s AND id=%s",
                (row.link, orjson.dumps(row.doc), row.tenant, row.kind, row.parent, row.id))

    def delete_tree(self, row: Row) -> int:
        n = self._x("DELETE FROM resources WHERE tenant=%s AND kind=%s AND parent=%s AND id=%s",
                    (row.tenant, row.kind, row.parent, row.id)).rowcount
        if row.path:
            prefix = row.path + "/"
            n += self._x("DELETE FROM resources WHERE tenant=%s AND path >= %s AND path < %s",
                         (row.tenant, prefix, prefix[:-1] + "0")).rowcount
        return n

    def iter_all(self, tenant):
        for r in self._x(f"SELECT {_COLS} FROM resources WHERE tenant=%s ORDER BY seq", (tenant,)).fetchall():
            yield _row(r)

    # -- requests -------------------------------------------------------------------------------
    def insert_request(self, req: dict) -> None:
        core = ("id", "tenant", "scope", "created", "run_at", "done_at", "state", "message", "seq")
        doc = {k: v for k, v in req.items() if k not in core}
        req["seq"] = self._x(
            "INSERT INTO requests (id, tenant, scope, created, run_at, done_at, state, message, doc) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING seq",
            (req["id"], req["tenant"], req["scope"], req["created"], req["run_at"], req["done_at"],
             req["state"], req.get("message"), orjson.dumps(doc))).fetchone()[0]

    def get_request(self, tenant, id):
        r = self._x(f"{_REQ} WHERE id=%s AND tenant=%s", (id, tenant)).fetchone()
        return _req(r) if r else None

    def list_requests(self, tenant):
        return [_req(r) for r in self._x(f"{_REQ} WHERE tenant=%s ORDER BY seq", (tenant,)).fetchall()]

    def due_requests(self, now, limit=200):
        return [_req(r) for r in self._x(
            f"{_REQ} WHERE state='PENDING' AND done_at<=%s ORDER BY done_at, seq LIMIT %s", (now, limit)).fetchall()]

    def has_pending(self) -> bool:
        return self._x("SELECT 1 FROM requests WHERE state='PENDING' LIMIT 1").fetchone() is not None

    def finish_request(self, id, status, message):
        return self._x("UPDATE requests SET state=%s, message=%s WHERE id=%s AND state='PENDING'",
                       (status, message, id)).rowcount == 1

    def last_pending_done_at(self, tenant, scope):
        r = self._x("SELECT max(done_at) FROM requests WHERE tenant=%s AND scope=%s AND state='PENDING'",
                    (tenant, scope)).fetchone()
        return r[0] if r else None

    # -- key/value ------------------------------------------------------------------------------
    def kv_get(self, key: str) -> Any:
        r = self._x("SELECT value FROM kv WHERE key=%s", (key,)).fetchone()
        return orjson.loads(r[0]) if r else None

    def kv_set(self, key: str, value: Any) -> None:
        self._x("INSERT INTO kv (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (key, orjson.dumps(value)))

    def kv_delete(self, key: str) -> None:
        self._x("DELETE FROM kv WHERE key=%s", (key,))

    def kv_prefix(self, prefix: str) -> list[tuple[str, Any]]:
        return [(k, orjson.loads(v)) for k, v in self._x(
            "SELECT key, value FROM kv WHERE key >= %s AND key < %s ORDER BY key",
            (prefix, prefix + "\uffff")).fetchall()]

    def reset(self) -> None:
        with self.tx():
            self._x("TRUNCATE resources, requests, kv")

    def close(self) -> None:
        self.db.close()
