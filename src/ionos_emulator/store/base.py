"""The storage interface and the row every resource is stored as."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(slots=True)
class Row:
    """One stored resource of any API.

    tenant  contract number that owns it (every call is scoped by it)
    kind    resource kind, e.g. "server"; also the rendered `type` unless the API maps it
    id      its id, unique within (tenant, kind, parent)
    parent  id of the containing resource ('' at top level)
    scope   the data center (or other top-level container) it lives in, '' if none; used for
            cross-links such as "NICs in LAN 2" and for ordering requests per data center
    link    one secondary relation, e.g. the server a volume is attached to ('' if none)
    path    href path below the API base, e.g. "datacenters/<dc>/servers/<id>"; deleting a row
            deletes every row whose path starts with it
    doc     {"properties": {...}, "metadata": {...}, "x": {...internal, never rendered...}}
    """

    tenant: int
    kind: str
    id: str
    parent: str = ""
    scope: str = ""
    link: str = ""
    path: str = ""
    doc: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

    @property
    def props(self) -> dict:
        return self.doc.setdefault("properties", {})

    @property
    def meta(self) -> dict:
        return self.doc.setdefault("metadata", {})

    @property
    def x(self) -> dict:
        return self.doc.setdefault("x", {})


class Store:
    """What the engine needs from a database. All calls are scoped by tenant except identity look-ups."""

    # resources
    def get(self, tenant: int, kind: str, parent: str, id: str) -> Row | None: ...
    def find(self, tenant: int, kind: str, id: str) -> Row | None: ...
    def list(self, tenant: int, kind: str, parent: str | None = None, *, scope: str | None = None,
             link: str | None = None, offset: int = 0, limit: int | None = None) -> list[Row]: ...
    def list_refs(self, tenant: int, kind: str, parent: str) -> list[tuple[str, str]]: ...
    def count(self, tenant: int, kind: str, parent: str | None = None, *, scope: str | None = None) -> int: ...
    def insert(self, row: Row) -> None: ...
    def update(self, row: Row) -> None: ...
    def delete_tree(self, row: Row) -> int: ...
    def tx(self) -> Any: ...

    # async requests (Cloud API /requests)
    def insert_request(self, req: dict) -> None: ...
    def get_request(self, tenant: int, id: str) -> dict | None: ...
    def list_requests(self, tenant: int) -> list[dict]: ...
    def due_requests(self, now: float, limit: int = 200) -> list[dict]: ...
    def finish_request(self, id: str, status: str, message: str | None) -> bool: ...
    def last_pending_done_at(self, tenant: int, scope: str) -> float | None: ...

    # identity and settings
    def kv_get(self, key: str) -> Any: ...
    def kv_set(self, key: str, value: Any) -> None: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...

    def iter_all(self, tenant: int) -> Iterator[Row]: ...
