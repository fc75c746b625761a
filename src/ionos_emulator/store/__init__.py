"""Storage: one table shape for every resource type, behind one small interface.

`open_store(data_dir, database)` picks the database: SQLite (embedded, WAL) in the data dir by default,
PostgreSQL when `database` is a postgresql:// URL (state shared by several processes or hosts). Either way
the store is a `SqlStore` (sql.py, every query once) over that database's dialect (sqlite.py, postgres.py).
`counts` is what the APIs count (base.Counts); a store that writes their rows must be opened with it (the app
does), one that only reads or empties the store need not.
"""

from __future__ import annotations

from .base import Counts, Row, Store
from .sql import SqlStore
from .sqlite import SqliteDialect


def open_store(data_dir: str, database: str = "", counts: Counts | None = None) -> Store:
    if database.startswith(("postgresql://", "postgres://")):
        # imported only when used: psycopg is optional
        from .postgres import AsyncChanges, PostgresDialect

        return SqlStore(
            lambda migrate: PostgresDialect(database, migrate), counts, peek_async=AsyncChanges(database).read
        )
    if database:
        raise ValueError(f"unsupported database URL {database!r} (use postgresql://... or nothing for SQLite)")
    return SqlStore(lambda migrate: SqliteDialect(data_dir, migrate), counts, peekable=True)


__all__ = ["Counts", "Row", "Store", "open_store"]
