"""SQLite dialect (the embedded default): WAL journal, one connection, explicit transactions.

Each thread of the store has its own connection (readers run side by side in WAL mode); writes take
BEGIN IMMEDIATE so that several processes sharing the file serialise cleanly.

The Auth API's tokens live in a second file, attached to every connection as `auth`: each database file has
its own data_version, so a login (a token made, tokens deleted) leaves the one of the main file alone, and
with it every answer the response caches keep. In WAL mode a commit is atomic per file, not across both:
the one transaction that writes both (the first login also keeps the signing key) commits the main file
first, so a crash between the two loses only the token, which no client had been given.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .sql import SCHEMA, TABLES, TOKENS_SCHEMA

MAIN_FILE, TOKENS_FILE = "emulator.sqlite3", "auth.sqlite3"
FILES = tuple(f"{name}{suffix}" for name in (MAIN_FILE, TOKENS_FILE) for suffix in ("", "-wal", "-shm"))
SCHEMAS = ("main", "auth")  # the attached names of the two files
WAL_BACKSTOP_PAGES = 10_000  # about 40 MB of WAL
COLUMN_TYPES = {
    "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "int": "INTEGER",
    "real": "REAL",
    "blob": "BLOB",
    "ctext": "TEXT",
}  # SQLite compares TEXT byte by byte (BINARY) already


class SqliteDialect:
    tokens = "auth.tokens"

    def __init__(self, data_dir: str, migrate: bool = True):
        os.makedirs(data_dir, exist_ok=True)
        self.path = os.path.join(data_dir, MAIN_FILE)
        # autocommit outside explicit transactions; wait up to 30 s for another process's write lock
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("ATTACH DATABASE ? AS auth", (os.path.join(data_dir, TOKENS_FILE),))
        for schema in SCHEMAS:
            self.db.execute(f"PRAGMA {schema}.journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (the WAL is in the OS before COMMIT returns);
            # only an operating-system crash could lose the last commits.
            self.db.execute(f"PRAGMA {schema}.synchronous=NORMAL")
        # the emulator's ticker checkpoints the WAL off the request path (`checkpoint`); a commit checkpoints
        # only as a backstop (no ticker: in-process use), after WAL_BACKSTOP_PAGES rather than SQLite's 1,000
        self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        if migrate:
            self.db.executescript(SCHEMA.format(**COLUMN_TYPES))
            self.db.executescript(
                TOKENS_SCHEMA.format(table=self.tokens, index="auth.tokens_by_user", bare="tokens", **COLUMN_TYPES)
            )
        self._seen = (-1, -1, -1)  # (data_version, tokens_version, total_changes) at the last changed()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self.db.execute(sql, args).rowcount

    def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Any] | None:
        r: Sequence[Any] | None = self.db.execute(sql, args).fetchone()
        return r

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Iterable[Sequence[Any]]:
        return self.db.execute(sql, args)  # streamed from the cursor

    def insert(self, sql: str, args: Sequence[Any]) -> int:
        # lastrowid rather than RETURNING, which needs SQLite 3.35
        seq = self.db.execute(sql, args).lastrowid
        assert seq is not None
        return seq

    def limit_offset(self, limit: int | None, offset: int) -> tuple[str, list[Any]]:
        # SQLite has no OFFSET without LIMIT; LIMIT -1 is "no limit"
        if limit is not None or offset:
            return " LIMIT ? OFFSET ?", [-1 if limit is None else limit, offset]
        return "", []

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at BEGIN (a deferred BEGIN would take it at the first write and
        # could fail there with SQLITE_BUSY after reading)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def changed(self) -> bool:
        # a data_version differs from its last reading once another connection has committed to its file (it
        # may go down as well as up), total_changes grows with every row this connection changes
        seen = (self.data_version(), self.tokens_version(), self.db.total_changes)
        if seen == self._seen:
            return False
        self._seen = seen
        return True

    def checkpoint(self) -> None:
        # PASSIVE: copies what no reader still needs into the database file, never waits for a reader or writer
        for schema in SCHEMAS:
            self.db.execute(f"PRAGMA {schema}.wal_checkpoint(PASSIVE)").fetchone()

    def data_version(self) -> int:
        return int(self.db.execute("PRAGMA main.data_version").fetchone()[0])

    def tokens_version(self) -> int:
        return int(self.db.execute("PRAGMA auth.data_version").fetchone()[0])

    def reset_statements(self) -> list[str]:
        return [f"DELETE FROM {t}" for t in (*TABLES, self.tokens)]

    def sync_sequences(self) -> None:
        pass  # AUTOINCREMENT follows the largest seq inserted

    def close(self) -> None:
        self.db.close()
