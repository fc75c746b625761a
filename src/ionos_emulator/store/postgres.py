"""PostgreSQL dialect: shared state for several emulator processes or hosts.

Same table shapes as SQLite. Writers serialise with a transaction-scoped advisory lock, the counterpart of
SQLite's BEGIN IMMEDIATE: a change reads and writes its rows without another process's change
interleaving, so sequential ids stay distinct and concurrent PATCHes lose nothing. Reads take no lock.

The database may go away (a restart, a failover): a statement that finds the connection lost answers 503
(`unavailable`, in the API's envelope; a transaction it was part of is rolled back, so nothing half-done was
acknowledged), and the next statement connects again, so the emulator recovers by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.rows import TupleRow

from ..engine.errors import unavailable
from .sql import SCHEMA, TABLES, TOKENS_SCHEMA

_T = TypeVar("_T")

COLUMN_TYPES = {
    "serial": "BIGSERIAL PRIMARY KEY",
    "int": "BIGINT",
    "real": "DOUBLE PRECISION",
    "blob": "BYTEA",
    "ctext": 'TEXT COLLATE "C"',
}  # "C": byte order whatever the database's locale
TX_LOCK = 0x10A05  # the emulator's advisory lock: one writer at a time for the whole database
CONNECT_TIMEOUT = 3  # seconds: a database that is away answers 503 soon rather than holding the request
# The change counter every writer bumps inside its own transaction (Store.version, Dialect.changed), so it
# becomes visible with the change itself, never before it. A table of PostgreSQL only: SQLite has PRAGMA data_version.
CHANGES = """
CREATE TABLE IF NOT EXISTS changes (one INTEGER PRIMARY KEY CHECK (one = 1), n BIGINT NOT NULL);
INSERT INTO changes VALUES (1, 0) ON CONFLICT DO NOTHING;
"""
BUMP = "UPDATE changes SET n = n + 1 WHERE one = 1"


class PostgresDialect:
    tokens = "tokens"  # beside the other tables: its writes move the one change counter as theirs do

    def __init__(self, url: str, migrate: bool = True):
        self.url = url
        self._sql: dict[str, str] = {}
        self._in_tx = False  # inside write_transaction: its own BUMP covers every statement
        self._seen: int | None = None  # the change counter at the last changed()
        # the first connection must succeed (the emulator does not start without its database); a later
        # thread's first one may meet a database that is away: it answers 503 and connects next time
        self._db: psycopg.Connection[TupleRow] | None = None
        if migrate:
            db = self.db
            with db.transaction():
                # several processes may start together: one creates the schema, the others wait for it
                db.execute("SELECT pg_advisory_xact_lock(%s)", (TX_LOCK,))
                db.execute(SCHEMA.format(**COLUMN_TYPES))  # no arguments: several statements in one go
                tokens = dict(table=self.tokens, index="tokens_by_user", bare=self.tokens)
                db.execute(TOKENS_SCHEMA.format(**tokens, **COLUMN_TYPES))
                db.execute(CHANGES)

    @property
    def db(self) -> psycopg.Connection[TupleRow]:
        """The connection, made again when the last one was lost."""
        if self._db is None or self._db.closed or self._db.broken:
            if self._db is not None:
                self._db.close()
            self._seen = None  # a new connection: whatever the counter says is news to it
            self._db = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        return self._db

    def _q(self, sql: str) -> str:
        q = self._sql.get(sql)
        if q is None:
            q = self._sql[sql] = sql.replace("?", "%s")
        return q

    def _x(self, sql: str, args: Sequence[Any], read: Callable[[psycopg.Cursor[TupleRow]], _T]) -> _T:
        q = self._q(sql)
        return _reachable(lambda: read(self.db.execute(q, args)))

    def _write(self, sql: str, args: Sequence[Any], read: Callable[[psycopg.Cursor[TupleRow]], _T]) -> _T:
        """A write: inside write_transaction as it is; outside, in a transaction of its own that also bumps
        the change counter, so the counter moves with the change (on a connection made again, too)."""
        if self._in_tx:
            return self._x(sql, args, read)
        q = self._q(sql)

        def run() -> _T:
            db = self.db
            with db.transaction():
                # the counter's row first, as write_transaction takes it: a writer holding it and waiting for
                # a row this statement locked could not be waited for in turn (no deadlock between the two)
                db.execute(BUMP)
                return read(db.execute(q, args))

        return _reachable(run)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self._write(sql, args, lambda c: c.rowcount)

    def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Any] | None:
        return self._x(sql, args, lambda c: c.fetchone())

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[TupleRow]:
        return self._x(sql, args, lambda c: c.fetchall())

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        r = self._write(sql + " RETURNING seq", args, lambda c: c.fetchone())
        assert r is not None
        seq: int = r[0]
        return seq

    def limit_offset(self, limit: int | None, offset: int) -> tuple[str, list[Any]]:
        sql, args = "", []
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        if offset:
            sql += " OFFSET ?"
            args.append(offset)
        return sql, args

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        try:
            db = self.db
            with db.transaction():
                # one writer per data set at a time, across every process (see the module docstring)
                db.execute("SELECT pg_advisory_xact_lock(%s)", (TX_LOCK,))
                db.execute(BUMP)  # readers of Store.version see this transaction once it commits
                self._in_tx = True
                try:
                    yield
                finally:
                    self._in_tx = False
        except psycopg.OperationalError:  # lost at BEGIN, inside or at COMMIT: rolled back, not acknowledged
            raise unavailable() from None

    def changed(self) -> bool:
        r = self._x("SELECT n FROM changes WHERE one = 1", (), lambda c: c.fetchone())
        assert r is not None
        if r[0] == self._seen:
            return False
        self._seen = r[0]
        return True

    def checkpoint(self) -> None:
        pass  # the server's own business

    def data_version(self) -> None:
        return None  # a query to the server: not for the event loop

    def tokens_version(self) -> None:
        return None

    def reset_statements(self) -> list[str]:
        return [f"TRUNCATE {', '.join((*TABLES, self.tokens))}"]  # not `changes`: the counter only grows

    def sync_sequences(self) -> None:
        for table in ("resources", "requests"):
            next_seq = f"COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1"
            self.db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), {next_seq}, false)")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


class AsyncChanges:
    """The change counter read from the event loop (`Store.peek_version_async`) over an async connection of
    its own, so the loop never waits on the database; None when the database is away (the request then goes
    to the pool, where its own statements answer 503).

    Requests that ask while a read is in flight share the next one: it is sent after they all asked, so it
    sees every change acknowledged before any of them (one round trip for all, not one each in a queue)."""

    def __init__(self, url: str):
        self.url = url
        self._db: psycopg.AsyncConnection[TupleRow] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[int | None] | None = None  # the read that has not been sent yet
        self._reading = False

    async def read(self) -> int | None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a connection belongs to the loop it was made on (tests run one per request)
            self._db, self._loop, self._next, self._reading = None, loop, None, False
        if self._next is None:
            self._next = loop.create_future()
        shared = self._next
        if not self._reading:
            self._reading = True
            loop.create_task(self._send_reads())
        return await asyncio.shield(shared)

    async def _send_reads(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                value = await self._read_once()
                if not waiting.done():
                    waiting.set_result(value)
        finally:
            self._reading = False

    async def _read_once(self) -> int | None:
        try:
            db = self._db
            if db is None or db.closed or db.broken:
                db = await psycopg.AsyncConnection.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
                self._db = db
            cur = await db.execute("SELECT n FROM changes WHERE one = 1")
            row = await cur.fetchone()
        except Exception:  # away, broken, anything: no version, and the request goes to the pool
            self._db = None
            return None
        return int(row[0]) if row else None

    async def close(self) -> None:
        if self._db is not None and self._loop is asyncio.get_running_loop():
            await self._db.close()
        self._db = None


def _reachable(run: Callable[[], _T]) -> _T:
    """`run()`, with a lost database (the connection broken, or no connection to be had) answered as 503."""
    try:
        return run()
    except psycopg.OperationalError:
        raise unavailable() from None
