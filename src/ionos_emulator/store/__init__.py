"""Storage: one table shape for every resource type, behind one small interface.

`open_store(data_dir, database)` picks the backend: SQLite (embedded, WAL) in the data dir by default,
PostgreSQL when `database` is a postgresql:// URL (state shared by several processes or hosts).
"""
from __future__ import annotations

from .base import Row, Store
from .sqlite import SqliteStore


def open_store(data_dir: str, database: str = "") -> Store:
    if database.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore  # imported only when used: psycopg is optional
        return PostgresStore(database)
    if database:
        raise ValueError(f"unsupported database URL {database!r} (use postgresql://... or nothing for SQLite)")
    return SqliteStore(data_dir)


__all__ = ["Row", "Store", "open_store"]
