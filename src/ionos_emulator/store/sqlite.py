"""SQLite backend (the embedded default): WAL journal, one connection, explicit transactions.

The emulator serves requests on one event loop per process, so one connection is enough; writes take
BEGIN IMMEDIATE so that several processes sharing the file serialise cleanly.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator

import orjson

from .base import Row, Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL,
  scope TEXT NOT NULL, link TEXT NOT NULL, path TEXT NOT NULL, doc BLOB NOT NULL,
  UNIQUE (tenant, kind, parent, id)
);
CREATE INDEX IF NOT EXISTS resources_by_id ON resources (tenant, kind, id);
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (tenant, kind, parent, seq);
CREATE INDEX IF NOT EXISTS resources_by_scope ON resources (tenant, kind, scope);
CREATE INDEX IF NOT EXISTS resources_by_path ON resources (tenant, path);
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE, tenant INTEGER NOT NULL, scope TEXT NOT NULL,
  created REAL NOT NULL, run_at REAL NOT NULL, done_at REAL NOT NULL,
  state TEXT NOT NULL, message TEXT, doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_due ON requests (state, done_at);
CREATE INDEX IF NOT EXISTS requests_by_tenant ON requests (tenant, seq);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""

_COLS = "seq, tenant, kind, id, parent, scope, link, path, doc"


def _row(r) -> Row:
    return Row(tenant=r[1], kind=r[2], id=r[3], parent=r[4], scope=r[5], link=r[6], path=r[7],
               doc=orjson.loads(r[8]), seq=r[0])


def _req(r) -> dict:
    d = orjson.loads(r[8])
    d.update(seq=r[0], id=r[1], tenant=r[2], scope=r[3], created=r[4], run_at=r[5], done_at=r[6],
             state=r[7])
    return d


class SqliteStore(Store):
    def __init__(self, data_dir: str):
        os.makedirs(data_dir, exist_ok=True)
        self.path = os.path.join(data_dir, "emulator.sqlite3")
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (the WAL is in the OS before COMMIT returns);
        # only an operating-system crash could lose the last commits.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._depth = 0

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[None]:
        """Nested use joins the outer transaction; an exception rolls everything back."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    # -- resources ------------------------------------------------------------------------------
    def get(self, tenant, kind, parent, id):
        r = self.db.execute(f"SELECT {_COLS} FROM resources WHERE tenant=? AND kind=? AND parent=? AND id=?",
                            (tenant, kind, parent, id)).fetchone()
        return _row(r) if r else None

    def find(self, tenant, kind, id):
        r = self.db.execute(f"SELECT {_COLS} FROM resources WHERE tenant=? AND kind=? AND id=?",
                            (tenant, kind, id)).fetchone()
        return _row(r) if r else None

    def _where(self, tenant, kind, parent, scope, link):
        sql, args = "tenant=? AND kind=?", [tenant, kind]
        for col, val in (("parent", parent), ("scope", scope), ("link", link)):
            if val is not None:
                sql += f" AND {col}=?"
                args.append(val)
        return sql, args

    def list(self, tenant, kind, parent=None, *, scope=None, link=None, offset=0, limit=None):
        where, args = self._where(tenant, kind, parent, scope, link)
        sql = f"SELECT {_COLS} FROM resources WHERE {where} ORDER BY seq"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            args += [-1 if limit is None else limit, offset]
        return [_row(r) for r in self.db.execute(sql, args)]

    def list_refs(self, tenant, kind, parent):
        """(id, path) of the children, in creation order, without their documents."""
        return self.db.execute("SELECT id, path FROM resources WHERE tenant=? AND kind=? AND parent=? ORDER BY seq",
                               (tenant, kind, parent)).fetchall()

    def count(self, tenant, kind, parent=None, *, scope=None):
        where, args = self._where(tenant, kind, parent, scope, None)
        return self.db.execute(f"SELECT count(*) FROM resources WHERE {where}", args).fetchone()[0]

    def insert(self, row: Row) -> None:
        cur = self.db.execute(
            "INSERT INTO resources (tenant, kind, id, parent, scope, link, path, doc) VALUES (?,?,?,?,?,?,?,?)",
            (row.tenant, row.kind, row.id, row.parent, row.scope, row.link, row.path, orjson.dumps(row.doc)))
        row.seq = cur.lastrowid

    def update(self, row: Row) -> None:
        self.db.execute("UPDATE resources SET link=?, doc=? WHERE tenant=? AND kind=? AND parent=? AND id=?",
                        (row.link, orjson.dumps(row.doc), row.tenant, row.kind, row.parent, row.id))

    def delete_tree(self, row: Row) -> int:
        """Delete the row and everything whose path lies below it (a data center takes all it contains)."""
        n = self.db.execute("DELETE FROM resources WHERE tenant=? AND kind=? AND parent=? AND id=?",
                            (row.tenant, row.kind, row.parent, row.id)).rowcount
        if row.path:
            prefix = row.path + "/"
            n += self.db.execute("DELETE FROM resources WHERE tenant=? AND path >= ? AND path < ?",
                                 (row.tenant, prefix, prefix[:-1] + "0")).rowcount
        return n

    def iter_all(self, tenant):
        for r in self.db.execute(f"SELECT {_COLS} FROM resources WHERE tenant=? ORDER BY seq", (tenant,)):
            yield _row(r)

    # -- requests -------------------------------------------------------------------------------
    def insert_request(self, req: dict) -> None:
        core = ("id", "tenant", "scope", "created", "run_at", "done_at", "state", "message", "seq")
        doc = {k: v for k, v in req.items() if k not in core}
        cur = self.db.execute(
            "INSERT INTO requests (id, tenant, scope, created, run_at, done_at, state, message, doc) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (req["id"], req["tenant"], req["scope"], req["created"], req["run_at"], req["done_at"],
             req["state"], req.get("message"), orjson.dumps(doc)))
        req["seq"] = cur.lastrowid

    _REQ = "SELECT seq, id, tenant, scope, created, run_at, done_at, state, doc, message FROM requests"

    def _req(self, r) -> dict:
        d = _req(r)
        d["message"] = r[9]
        return d

    def get_request(self, tenant, id):
        r = self.db.execute(f"{self._REQ} WHERE id=? AND tenant=?", (id, tenant)).fetchone()
        return self._req(r) if r else None

    def list_requests(self, tenant):
        return [self._req(r) for r in self.db.execute(f"{self._REQ} WHERE tenant=? ORDER BY seq", (tenant,))]

    def due_requests(self, now, limit=200):
        return [self._req(r) for r in self.db.execute(
            f"{self._REQ} WHERE state='PENDING' AND done_at<=? ORDER BY done_at, seq LIMIT ?", (now, limit))]

    def has_pending(self) -> bool:
        return self.db.execute("SELECT 1 FROM requests WHERE state='PENDING' LIMIT 1").fetchone() is not None

    def finish_request(self, id, status, message):
        """Exactly-once: only the caller that flips PENDING to the final state applies the effects."""
        return self.db.execute("UPDATE requests SET state=?, message=? WHERE id=? AND state='PENDING'",
                               (status, message, id)).rowcount == 1

    def last_pending_done_at(self, tenant, scope):
        r = self.db.execute("SELECT max(done_at) FROM requests WHERE tenant=? AND scope=? AND state='PENDING'",
                            (tenant, scope)).fetchone()
        return r[0] if r else None

    # -- key/value (identity, keys, contract) ---------------------------------------------------
    def kv_get(self, key: str) -> Any:
        r = self.db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return orjson.loads(r[0]) if r else None

    def kv_set(self, key: str, value: Any) -> None:
        self.db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, orjson.dumps(value)))

    def kv_delete(self, key: str) -> None:
        self.db.execute("DELETE FROM kv WHERE key=?", (key,))

    def kv_prefix(self, prefix: str) -> list[tuple[str, Any]]:
        return [(k, orjson.loads(v)) for k, v in self.db.execute(
            "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key", (prefix, prefix + "\uffff"))]

    def reset(self) -> None:
        with self.tx():
            for t in ("resources", "requests", "kv"):
                self.db.execute(f"DELETE FROM {t}")

    def close(self) -> None:
        self.db.close()
