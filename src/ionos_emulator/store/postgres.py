"""PostgreSQL dialect: shared state for several emulator processes or hosts.

Same table shapes as SQLite. Writers serialise with a transaction-scoped advisory lock, the counterpart of
SQLite's BEGIN IMMEDIATE: a change reads and writes its rows without another process's change
interleaving, so sequential ids stay distinct and concurrent PATCHes lose nothing. Reads take no lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from .sql import SCHEMA, TABLES

COLUMN_TYPES = {
    "serial": "BIGSERIAL PRIMARY KEY",
    "int": "BIGINT",
    "real": "DOUBLE PRECISION",
    "blob": "BYTEA",
    "ctext": 'TEXT COLLATE "C"',
}  # "C": byte order whatever the database's locale
TX_LOCK = 0x10A05  # the emulator's advisory lock: one writer at a time for the whole database


class PostgresDialect:
    def __init__(self, url: str):
        self.url = url
        self.db: psycopg.Connection[TupleRow] = psycopg.connect(url, autocommit=True)
        self._sql: dict[str, str] = {}
        with self.db.transaction():
            # several processes may start together: one creates the schema, the others wait for it
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (TX_LOCK,))
            self.db.execute(SCHEMA.format(**COLUMN_TYPES))  # no arguments: several statements in one go

    def _x(self, sql: str, args: Sequence[Any]) -> psycopg.Cursor[TupleRow]:
        q = self._sql.get(sql)
        if q is None:
            q = self._sql[sql] = sql.replace("?", "%s")
        return self.db.execute(q, args)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self._x(sql, args).rowcount

    def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Any] | None:
        return self._x(sql, args).fetchone()

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[TupleRow]:
        return self._x(sql, args).fetchall()

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        r = self._x(sql + " RETURNING seq", args).fetchone()
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
        with self.db.transaction():
            # one writer per data set at a time, across every process (see the module docstring)
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (TX_LOCK,))
            yield

    def reset_statements(self) -> list[str]:
        return [f"TRUNCATE {', '.join(TABLES)}"]

    def sync_sequences(self) -> None:
        for table in ("resources", "requests"):
            next_seq = f"COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1"
            self.db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), {next_seq}, false)")

    def close(self) -> None:
        self.db.close()
