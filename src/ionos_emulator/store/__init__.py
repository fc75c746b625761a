"""Storage: one table shape for every resource type, behind one small interface.

`open_store(url_or_dir)` picks the backend; today SQLite (embedded, WAL) is the only one.
"""
from __future__ import annotations

from .base import Row, Store
from .sqlite import SqliteStore


def open_store(data_dir: str) -> Store:
    return SqliteStore(data_dir)


__all__ = ["Row", "Store", "open_store"]
