"""The SQL store: every table and query once, over a small dialect per database (sqlite.py, postgres.py).

Queries are written with `?` placeholders (a dialect rewrites them to its own style), so none may hold a
literal `?` or `%`. What a dialect decides is listed in `Dialect`.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

import orjson

from .base import Counts, Row, Store

# The tables, with the column types a dialect names: {serial} the seq primary key, {int} a 64-bit integer,
# {real} a double, {blob} bytes, {ctext} text compared byte by byte (delete_tree's and kv_prefix's
# range scans rely on that order). Existing databases must keep opening: change nothing here lightly.
SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
  seq {serial},
  tenant {int} NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL,
  scope TEXT NOT NULL, link TEXT NOT NULL, path {ctext} NOT NULL, doc {blob} NOT NULL,
  UNIQUE (tenant, kind, parent, id)
);
CREATE INDEX IF NOT EXISTS resources_by_id ON resources (tenant, kind, id);
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (tenant, kind, parent, seq);
CREATE INDEX IF NOT EXISTS resources_by_scope ON resources (tenant, kind, scope);
CREATE INDEX IF NOT EXISTS resources_by_path ON resources (tenant, path);
CREATE INDEX IF NOT EXISTS resources_by_link ON resources (tenant, kind, link);
CREATE TABLE IF NOT EXISTS requests (
  seq {serial},
  id TEXT NOT NULL UNIQUE, tenant {int} NOT NULL, scope TEXT NOT NULL,
  created {real} NOT NULL, run_at {real} NOT NULL, done_at {real} NOT NULL,
  state TEXT NOT NULL, message TEXT, doc {blob} NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_due ON requests (state, done_at);
CREATE INDEX IF NOT EXISTS requests_by_tenant ON requests (tenant, seq);
CREATE TABLE IF NOT EXISTS kv (key {ctext} PRIMARY KEY, value {blob} NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
  tenant {int} NOT NULL, name TEXT NOT NULL, value {int} NOT NULL, PRIMARY KEY (tenant, name)
);
"""
TABLES = ("resources", "requests", "kv", "counters")
# The Auth API's tokens, in a table of their own that a dialect names (`Dialect.tokens`): SQLite keeps it in a
# database file of its own, so that a login's commits leave the data_version the response caches key on alone
# ({table}: its name in queries, {index} and {bare}: how CREATE INDEX names the index and the table).
TOKENS_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, doc {blob} NOT NULL);
CREATE INDEX IF NOT EXISTS {index} ON {bare} (user_id);
"""
LEGACY_TOKEN_KEYS = "token:"  # where tokens were kept before (kv `token:<kid>`): moved to their table on opening
# The counters row that says they were made from the rows for these counted kinds (tenant 0 is no contract):
# a data dir from before the table, or from before a kind was counted, is counted once when opened.
COUNTED = "counted:"
KEY_MAX = "\U0010ffff"  # above every character a key holds (its UTF-8 bytes too): a prefix's range ends there

CURSORS = 10_000  # page anchors remembered; cleared whole when full
_COLS = "seq, tenant, kind, id, parent, scope, link, path, doc"
_KEY = "tenant=? AND kind=? AND parent=? AND id=?"
_REQ = "SELECT seq, id, tenant, scope, created, run_at, done_at, state, doc, message FROM requests"
_REQ_CORE = ("id", "tenant", "scope", "created", "run_at", "done_at", "state", "message", "seq")


class Dialect(Protocol):
    """What differs between databases. It owns one connection (of one thread), opened in its constructor
    and, when asked to migrate, the schema made there (SCHEMA and TOKENS_SCHEMA rendered with its column
    types); the connection is in autocommit mode outside `write_transaction`. `sql` arguments use `?`
    placeholders."""

    tokens: str  # the name of the tokens table in queries

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Any] | None:
        """The first result row, or None."""
        ...

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Iterable[Sequence[Any]]:
        """The result rows (a dialect may stream them)."""
        ...

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        """Run an INSERT into a table with a `seq` key; the new row's seq."""
        ...

    def limit_offset(self, limit: int | None, offset: int) -> tuple[str, builtins.list[Any]]:
        """The clause appended to an ordered SELECT for LIMIT/OFFSET ('' for neither), and its arguments."""
        ...

    def write_transaction(self) -> AbstractContextManager[None]:
        """BEGIN a transaction holding the database's write lock (waiting for other writers), COMMIT at
        the end, ROLLBACK and re-raise on an exception."""
        ...

    def reset_statements(self) -> Sequence[str]:
        """The statements that empty every table (run inside a write transaction)."""
        ...

    def sync_sequences(self) -> None:
        """After rows were inserted with their own seqs: new rows get seqs after them."""
        ...

    def close(self) -> None: ...

    def changed(self) -> bool:
        """Whether anything was committed to the database (by any connection, this one's own writes
        included) since this connection last asked; True on the first call."""
        ...

    def checkpoint(self) -> None:
        """Moves what the write-ahead log holds into the database file, without waiting for anyone (SQLite; a
        no-op elsewhere): the ticker calls it, so no request's commit pays for it."""
        ...

    def data_version(self) -> int | None:
        """A number that moves with every commit of every OTHER connection that changed anything but the
        tokens, read without I/O; None where reading it is a round trip to a server (PostgreSQL)."""
        ...

    def tokens_version(self) -> int | None:
        """Such a number for the commits that changed tokens; None where the tokens are kept with the rest
        and `data_version` (or the one change counter) moves with them too."""
        ...


def _row(r: Sequence[Any]) -> Row:
    return Row(
        tenant=r[1], kind=r[2], id=r[3], parent=r[4], scope=r[5], link=r[6], path=r[7], doc=orjson.loads(r[8]), seq=r[0]
    )


def _req(r: Sequence[Any]) -> dict[str, Any]:
    d: dict[str, Any] = orjson.loads(r[8])
    d.update(
        seq=r[0], id=r[1], tenant=r[2], scope=r[3], created=r[4], run_at=r[5], done_at=r[6], state=r[7], message=r[9]
    )
    return d


def _is_token(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("user"), str)


def _where(
    tenant: int, kind: str, parent: str | None, scope: str | None, link: str | None
) -> tuple[str, builtins.list[Any]]:
    sql, args = "tenant=? AND kind=?", [tenant, kind]
    for col, val in (("parent", parent), ("scope", scope), ("link", link)):
        if val is not None:
            sql += f" AND {col}=?"
            args.append(val)
    return sql, args


class _PerThread(threading.local):
    dialect: Dialect | None = None
    depth = 0  # how deep in tx() this thread is


class SqlStore(Store):
    """The Store over a Dialect, safe to share between threads: each thread has its own connection (made
    by `connect` on its first call), so reads run side by side; write transactions are serialised in the
    process by a lock (and across processes by the dialect's own lock); nested tx() joins the outer one.

    `version()` is one counter for the process (not per connection), so a commit on one thread's
    connection moves it for every thread; the keyset anchors it tags are guarded by their own lock."""

    def __init__(
        self,
        connect: Callable[[bool], Dialect],
        counts: Counts | None = None,
        peekable: bool = False,
        peek_async: Callable[[], Awaitable[int | None]] | None = None,
    ):
        """`connect(migrate)` opens one connection; the first one made (migrate=True) also creates or
        migrates the schema, here rather than in the middle of a request. `counts`: what rows add to their
        tenant's counters (Store.counters). `peekable`: the dialect reads its `data_version` without I/O
        (`peek_version`); else `peek_async` reads a version on the event loop."""
        self._connect = connect
        self._counts = dict(counts or {})
        self._counted = COUNTED + ",".join(sorted(self._counts))
        self._peekable = peekable
        self._peek_async = peek_async
        self._probe: Dialect | None = None  # peek_version's own connection, which never writes
        self._mine = _PerThread()
        self._all: builtins.list[Dialect] = []  # every thread's connection, closed together
        self._all_lock = threading.Lock()
        self._writer = threading.Lock()  # one write transaction at a time in this process
        self._changes = 0  # Store.version: one for the process, every thread's connection moves it
        self._changes_lock = threading.Lock()
        # keyset paging: (tenant, kind, parent, offset) -> (store version, seq of the row before it)
        self._cursors: dict[tuple[int, str, str | None, int], tuple[int, int]] = {}
        self._cursors_lock = threading.Lock()
        self.dialect  # noqa: B018  (the first connection, which migrates)
        if (
            self._counts
            and self.dialect.fetchone("SELECT 1 FROM counters WHERE tenant=0 AND name=?", (self._counted,)) is None
        ):
            with self.tx():
                self._recount()
        if legacy := [(key, rec) for key, rec in self.kv_prefix(LEGACY_TOKEN_KEYS) if _is_token(rec)]:
            with self.tx():
                for key, rec in legacy:
                    self.token_put(rec)
                    self.kv_delete(key)

    @property
    def dialect(self) -> Dialect:
        """This thread's connection."""
        d = self._mine.dialect
        if d is None:
            with self._all_lock:
                d = self._mine.dialect = self._connect(not self._all)
                self._all.append(d)
        return d

    def _bump(self) -> None:
        with self._changes_lock:
            self._changes += 1

    # -- transactions -------------------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[None]:
        """Nested use joins the outer transaction; an exception rolls everything back."""
        mine = self._mine
        if mine.depth:
            mine.depth += 1
            try:
                yield
            finally:
                mine.depth -= 1
            return
        mine.depth = 1
        try:
            with self._writer, self.dialect.write_transaction():
                yield
        finally:
            mine.depth = 0
            self._bump()  # committed or rolled back: a version read inside it may not stand for it

    # -- resources ----------------------------------------------------------------------------------
    def get(self, tenant: int, kind: str, parent: str, id: str) -> Row | None:
        r = self.dialect.fetchone(
            f"SELECT {_COLS} FROM resources WHERE tenant=? AND kind=? AND parent=? AND id=?", (tenant, kind, parent, id)
        )
        return _row(r) if r else None

    def find(self, tenant: int, kind: str, id: str) -> Row | None:
        r = self.dialect.fetchone(
            f"SELECT {_COLS} FROM resources WHERE tenant=? AND kind=? AND id=?", (tenant, kind, id)
        )
        return _row(r) if r else None

    def list(
        self, tenant: int, kind: str, parent: str | None = None, *, scope: str | None = None, link: str | None = None
    ) -> builtins.list[Row]:
        where, args = _where(tenant, kind, parent, scope, link)
        return self._select(where, args)

    def page(self, tenant: int, kind: str, parent: str | None, offset: int, limit: int | None) -> builtins.list[Row]:
        """Keyset paging behind offset/limit: the page starts after the seq of the row before `offset` (its
        anchor), read through the (tenant, kind, parent, seq) index, so a last page costs what a first does.
        Anchors are remembered while the store is unchanged (each page leaves the next one's), for every
        thread; not inside a write transaction, whose view (its own uncommitted rows) is no one else's."""
        where, args = _where(tenant, kind, parent, None, None)
        shared = not self._mine.depth
        version = self.version()  # first: anchors read after it are at least as new as it says
        if offset <= 0:
            rows = self._select(where, args, 0, limit)
        else:
            anchor: int | None = None
            if shared:
                # each anchor carries the version it was read at (threads may interleave): another is not used
                with self._cursors_lock:
                    known = self._cursors.get((tenant, kind, parent, offset))
                anchor = known[1] if known is not None and known[0] == version else None
            if anchor is None:
                # the anchor itself: an index-only walk over seq values, no documents read
                skip, skip_args = self.dialect.limit_offset(1, offset - 1)
                sql = f"SELECT seq FROM resources WHERE {where} ORDER BY seq{skip}"
                r = self.dialect.fetchone(sql, args + skip_args)
                if r is None:
                    return []
                anchor = r[0]
                if shared:
                    self._remember(version, (tenant, kind, parent, offset), anchor)
            rows = self._select(f"{where} AND seq>?", [*args, anchor], 0, limit)
        if rows and shared:  # this page leaves the next one's anchor (also for a caller that asked one row more)
            self._remember(version, (tenant, kind, parent, offset + len(rows)), rows[-1].seq)
            if len(rows) > 1:
                self._remember(version, (tenant, kind, parent, offset + len(rows) - 1), rows[-2].seq)
        return rows

    def _remember(self, version: int, key: tuple[int, str, str | None, int], seq: int) -> None:
        with self._cursors_lock:
            if len(self._cursors) >= CURSORS:
                self._cursors.clear()
            self._cursors[key] = (version, seq)

    def _select(
        self, where: str, args: builtins.list[Any], offset: int = 0, limit: int | None = None
    ) -> builtins.list[Row]:
        page, page_args = self.dialect.limit_offset(limit, offset)
        sql = f"SELECT {_COLS} FROM resources WHERE {where} ORDER BY seq{page}"
        return [_row(r) for r in self.dialect.rows(sql, args + page_args)]

    def list_refs(self, tenant: int, kind: str, parent: str) -> builtins.list[tuple[str, str]]:
        """(id, path) of the children, in creation order, without their documents."""
        return [
            (r[0], r[1])
            for r in self.dialect.rows(
                "SELECT id, path FROM resources WHERE tenant=? AND kind=? AND parent=? ORDER BY seq",
                (tenant, kind, parent),
            )
        ]

    def count(self, tenant: int, kind: str, parent: str | None = None, *, scope: str | None = None) -> int:
        where, args = _where(tenant, kind, parent, scope, None)
        r = self.dialect.fetchone(f"SELECT count(*) FROM resources WHERE {where}", args)
        assert r is not None  # an aggregate always has a row
        n: int = r[0]
        return n

    def insert(self, row: Row) -> None:
        counted = row.kind in self._counts
        with self.tx() if counted else nullcontext():  # the row and its counters in one transaction
            row.seq = self.dialect.insert(
                "INSERT INTO resources (tenant, kind, id, parent, scope, link, path, doc) VALUES (?,?,?,?,?,?,?,?)",
                (row.tenant, row.kind, row.id, row.parent, row.scope, row.link, row.path, orjson.dumps(row.doc)),
            )
            if counted:
                self._add(row.tenant, self._adds(row.kind, row.doc))

    def update(self, row: Row) -> None:
        key = (row.tenant, row.kind, row.parent, row.id)
        counted = row.kind in self._counts
        with self.tx() if counted else nullcontext():
            old = self.dialect.fetchone(f"SELECT doc FROM resources WHERE {_KEY}", key) if counted else None
            doc = orjson.dumps(row.doc)
            self.dialect.execute(f"UPDATE resources SET link=?, doc=? WHERE {_KEY}", (row.link, doc, *key))
            if old is not None:  # what it adds now minus what it added
                self._add(row.tenant, self._adds(row.kind, row.doc), self._adds(row.kind, orjson.loads(old[0])))

    def delete_tree(self, row: Row) -> int:
        """Delete the row and everything whose path lies below it (a data center takes all it contains)."""
        key = (row.tenant, row.kind, row.parent, row.id)
        # the paths below "a/b" are the range ["a/b/", "a/b0"): "0" follows "/" in byte order
        prefix = row.path + "/"
        below, below_args = "tenant=? AND path >= ? AND path < ?", (row.tenant, prefix, prefix[:-1] + "0")
        parts = [(_KEY, key), *([(below, below_args)] if row.path else [])]
        with self.tx() if self._counts else nullcontext():
            if self._counts:  # what the rows about to go add comes off their counters
                kinds = ",".join("?" * len(self._counts))
                for where, args in parts:
                    sql = f"SELECT kind, doc FROM resources WHERE {where} AND kind IN ({kinds})"
                    for kind, doc in list(self.dialect.rows(sql, (*args, *self._counts))):
                        self._add(row.tenant, {}, self._adds(kind, orjson.loads(doc)))
            return sum(self.dialect.execute(f"DELETE FROM resources WHERE {where}", args) for where, args in parts)

    # -- counters (Store.counters): kept in the transaction of the row writes ------------------------
    def counters(self, tenant: int) -> dict[str, int]:
        return {
            name: value
            for name, value in self.dialect.rows("SELECT name, value FROM counters WHERE tenant=?", (tenant,))
        }

    def _adds(self, kind: str, doc: Any) -> Mapping[str, int]:
        """What a row of `kind` with this document adds to its tenant's counters."""
        props = doc.get("properties") if isinstance(doc, dict) else None
        return self._counts[kind](props if isinstance(props, dict) else {})

    def _add(self, tenant: int, new: Mapping[str, int], old: Mapping[str, int] | None = None) -> None:
        for name in {*new, *(old or {})}:
            delta = new.get(name, 0) - (old or {}).get(name, 0)
            if delta:
                self.dialect.execute(
                    "INSERT INTO counters (tenant, name, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (tenant, name) DO UPDATE SET value = counters.value + excluded.value",
                    (tenant, name, delta),
                )

    def _recount(self) -> None:
        """The counters made again from the rows (inside tx()): on opening a data dir that has none yet, after
        an import."""
        sums: dict[tuple[int, str], int] = {}
        if self._counts:
            kinds = ",".join("?" * len(self._counts))
            for tenant, kind, doc in self.dialect.rows(
                f"SELECT tenant, kind, doc FROM resources WHERE kind IN ({kinds})", tuple(self._counts)
            ):
                for name, amount in self._adds(kind, orjson.loads(doc)).items():
                    sums[tenant, name] = sums.get((tenant, name), 0) + amount
        self.dialect.execute("DELETE FROM counters")
        sums[0, self._counted] = 1
        for (tenant, name), value in sums.items():
            self.dialect.execute("INSERT INTO counters (tenant, name, value) VALUES (?, ?, ?)", (tenant, name, value))

    def iter_all(self, tenant: int) -> Iterator[Row]:
        for r in self.dialect.rows(f"SELECT {_COLS} FROM resources WHERE tenant=? ORDER BY seq", (tenant,)):
            yield _row(r)

    # -- requests -----------------------------------------------------------------------------------
    def insert_request(self, req: dict[str, Any]) -> None:
        doc = {k: v for k, v in req.items() if k not in _REQ_CORE}
        req["seq"] = self.dialect.insert(
            "INSERT INTO requests (id, tenant, scope, created, run_at, done_at, state, message, doc) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (
                req["id"],
                req["tenant"],
                req["scope"],
                req["created"],
                req["run_at"],
                req["done_at"],
                req["state"],
                req.get("message"),
                orjson.dumps(doc),
            ),
        )

    def get_request(self, tenant: int, id: str) -> dict[str, Any] | None:
        r = self.dialect.fetchone(f"{_REQ} WHERE id=? AND tenant=?", (id, tenant))
        return _req(r) if r else None

    def list_requests(self, tenant: int) -> builtins.list[dict[str, Any]]:
        return [_req(r) for r in self.dialect.rows(f"{_REQ} WHERE tenant=? ORDER BY seq", (tenant,))]

    def due_requests(self, now: float, limit: int = 200) -> builtins.list[dict[str, Any]]:
        return [
            _req(r)
            for r in self.dialect.rows(
                f"{_REQ} WHERE state='PENDING' AND done_at<=? ORDER BY done_at, seq LIMIT ?", (now, limit)
            )
        ]

    def has_pending(self) -> bool:
        return self.dialect.fetchone("SELECT 1 FROM requests WHERE state='PENDING' LIMIT 1") is not None

    def finish_request(self, id: str, status: str, message: str | None) -> bool:
        """Exactly-once: only the caller that flips PENDING to the final state applies the effects."""
        return (
            self.dialect.execute(
                "UPDATE requests SET state=?, message=? WHERE id=? AND state='PENDING'", (status, message, id)
            )
            == 1
        )

    def last_pending_done_at(self, tenant: int, scope: str) -> float | None:
        r = self.dialect.fetchone(
            "SELECT max(done_at) FROM requests WHERE tenant=? AND scope=? AND state='PENDING'", (tenant, scope)
        )
        done_at: float | None = r[0] if r else None
        return done_at

    def next_due(self) -> float | None:
        r = self.dialect.fetchone("SELECT min(done_at) FROM requests WHERE state='PENDING'")
        done_at: float | None = r[0] if r else None
        return done_at

    def version(self) -> int:
        # one counter for the whole process: moved by this process's own commits as they end, and whenever
        # the connection sees a commit it has not seen (another process's, or a write outside tx())
        # (this thread's connection sees every other connection's commit, other threads' included)
        if self.dialect.changed():
            self._bump()
        return self._changes

    def peek_version(self) -> int | None:
        # a connection of its own that never writes: its data_version moves with every commit there is
        probe = self._probe_dialect()
        return probe.data_version() if probe is not None else None

    def peek_tokens_version(self) -> int | None:
        probe = self._probe_dialect()
        return probe.tokens_version() if probe is not None else None

    def _probe_dialect(self) -> Dialect | None:
        if not self._peekable:
            return None
        probe = self._probe
        if probe is None:
            with self._all_lock:
                if self._probe is None:
                    self._probe = self._connect(False)
                    self._all.append(self._probe)
                probe = self._probe
        return probe

    def checkpoint(self) -> None:
        self.dialect.checkpoint()

    async def peek_version_async(self) -> int | None:
        return await self._peek_async() if self._peek_async is not None else None

    # -- key/value (identity, keys, contract) -------------------------------------------------------
    def kv_get(self, key: str) -> Any:
        r = self.dialect.fetchone("SELECT value FROM kv WHERE key=?", (key,))
        return orjson.loads(r[0]) if r else None

    def kv_set(self, key: str, value: Any) -> None:
        self.dialect.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            (key, orjson.dumps(value)),
        )

    def kv_delete(self, key: str) -> None:
        self.dialect.execute("DELETE FROM kv WHERE key=?", (key,))

    def kv_prefix(self, prefix: str) -> builtins.list[tuple[str, Any]]:
        return [
            (k, orjson.loads(v))
            for k, v in self.dialect.rows(
                "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key", (prefix, prefix + "\uffff")
            )
        ]

    def kv_page(self, prefix: str, after: str = "", limit: int = 1000) -> builtins.list[tuple[str, Any]]:
        low, op = (after, ">") if after > prefix else (prefix, ">=")
        sql = f"SELECT key, value FROM kv WHERE key {op} ? AND key < ? ORDER BY key LIMIT ?"
        return [(k, orjson.loads(v)) for k, v in self.dialect.rows(sql, (low, prefix + KEY_MAX, limit))]

    # -- Auth API tokens ----------------------------------------------------------------------------
    def token_get(self, id: str) -> dict[str, Any] | None:
        r = self.dialect.fetchone(f"SELECT doc FROM {self.dialect.tokens} WHERE id=?", (id,))
        return orjson.loads(r[0]) if r else None

    def token_put(self, token: dict[str, Any]) -> None:
        self.dialect.execute(
            f"INSERT INTO {self.dialect.tokens} (id, user_id, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET user_id=excluded.user_id, doc=excluded.doc",
            (token["id"], token["user"], orjson.dumps(token)),
        )

    def token_delete(self, id: str) -> None:
        self.dialect.execute(f"DELETE FROM {self.dialect.tokens} WHERE id=?", (id,))

    def tokens_of(self, user: str) -> builtins.list[dict[str, Any]]:
        sql = f"SELECT doc FROM {self.dialect.tokens} WHERE user_id=? ORDER BY id"
        return [orjson.loads(doc) for (doc,) in self.dialect.rows(sql, (user,))]

    def reset(self) -> None:
        with self.tx():
            for statement in self.dialect.reset_statements():
                self.dialect.execute(statement)
            self._recount()  # no rows, so only the mark that the counters are kept

    # -- snapshots (snapshots.py) -------------------------------------------------------------------
    def export_tables(self) -> dict[str, builtins.list[Any]]:
        """Every row of every table, in one read transaction's view, documents as the JSON they hold."""
        tokens = self.dialect.tokens
        with self.tx():
            return {
                "resources": [
                    [*r[:8], orjson.loads(r[8])]
                    for r in self.dialect.rows(f"SELECT {_COLS} FROM resources ORDER BY seq")
                ],
                "requests": [[*r[:8], r[9], orjson.loads(r[8])] for r in self.dialect.rows(f"{_REQ} ORDER BY seq")],
                "kv": [[k, orjson.loads(v)] for k, v in self.dialect.rows("SELECT key, value FROM kv ORDER BY key")],
                "tokens": [orjson.loads(doc) for (doc,) in self.dialect.rows(f"SELECT doc FROM {tokens} ORDER BY id")],
            }

    def import_tables(self, tables: dict[str, builtins.list[Any]]) -> None:
        """Replaces everything with `tables` (export_tables' form), seqs kept, in one transaction."""
        with self.tx():
            for statement in self.dialect.reset_statements():
                self.dialect.execute(statement)
            for r in tables["resources"]:
                self.dialect.execute(
                    f"INSERT INTO resources ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?)", (*r[:8], orjson.dumps(r[8]))
                )
            for r in tables["requests"]:
                self.dialect.execute(
                    "INSERT INTO requests (seq, id, tenant, scope, created, run_at, done_at, state, message, doc) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (*r[:9], orjson.dumps(r[9])),
                )
            for key, value in tables["kv"]:
                if key.startswith(LEGACY_TOKEN_KEYS) and _is_token(value):  # a snapshot from before the tokens' table
                    self.token_put(value)
                else:
                    self.dialect.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (key, orjson.dumps(value)))
            for token in tables.get("tokens", []):
                self.token_put(token)
            self.dialect.sync_sequences()
            self._recount()  # a snapshot carries rows, not counters

    def close(self) -> None:
        with self._all_lock:
            dialects, self._all = self._all, []
        for d in dialects:
            d.close()
