"""The storage interface and the row every resource is stored as."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    seq     the store's insertion counter (set by Store.insert); every listing is ordered by it
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
    def props(self) -> dict[str, Any]:
        part: dict[str, Any] = self.doc.setdefault("properties", {})
        return part

    @property
    def meta(self) -> dict[str, Any]:
        part: dict[str, Any] = self.doc.setdefault("metadata", {})
        return part

    @property
    def x(self) -> dict[str, Any]:
        part: dict[str, Any] = self.doc.setdefault("x", {})
        return part


# What a row of a kind adds to its tenant's counters: kind -> function(properties) -> {counter: amount}. An API
# declares it (ApiModule.counts); the store keeps the sums (Store.counters) with every write of such a row.
Counts = Mapping[str, Callable[[dict[str, Any]], Mapping[str, int]]]


class Store(Protocol):
    """What the engine needs from a database.

    Tenancy: every resource and request call is scoped by `tenant` (a contract number); a row of
    another tenant is never returned, counted, changed or deleted. Exceptions: `due_requests`,
    `finish_request` and `has_pending` work across tenants (the settling loop serves every contract),
    and the key/value and token calls are global (keys carry their own prefixes, e.g. "contract:<n>").

    Ordering: every list of rows or requests is in insertion order (ascending `seq`), except
    `due_requests` (by `done_at`, then `seq`) and `kv_prefix` (by key).

    Transactions: `tx()` is a context manager around one write transaction.
      * Writers are serialised: entering the outermost tx() waits until no other writer (another
        process or host sharing the database) holds the write lock, and keeps it until the end, so a
        read-modify-write inside one tx() cannot interleave with another's.
      * Nesting: a tx() inside a tx() joins the outer one; only the outermost commits, once.
      * Rollback: an exception leaving the outermost tx() rolls back everything written in it and is
        re-raised. (An exception leaving an inner tx() that the code inside the outer one catches
        does not roll anything back by itself.)
      * Counters: every insert, update and delete_tree of a row of a counted kind moves the tenant's
        counters by what the row adds now minus what it added before, in the same transaction (a call
        outside tx() opens one of its own for both), so they are right after every commit, whichever
        process wrote.
      * The writing methods (insert, update, delete_tree, insert_request, finish_request, kv_set,
        kv_delete, token_put, token_delete) belong inside tx(); called outside one, each statement commits
        on its own and is not serialised with other writers' read-modify-writes. `reset` opens its own tx().
      * Reads work inside and outside tx(); outside they see the latest committed state.

    Threads: one store may be used from many threads at once (the request pool); a transaction
    belongs to the thread that opened it.
    """

    # -- resources ----------------------------------------------------------------------------------
    def get(self, tenant: int, kind: str, parent: str, id: str) -> Row | None:
        """The row (tenant, kind, parent, id), or None."""
        ...

    def find(self, tenant: int, kind: str, id: str) -> Row | None:
        """A row of that kind and id under any parent, or None (if several parents hold the id,
        which one is unspecified)."""
        ...

    def list(
        self, tenant: int, kind: str, parent: str | None = None, *, scope: str | None = None, link: str | None = None
    ) -> builtins.list[Row]:
        """The tenant's rows of `kind`, filtered by parent, scope and link where given (None: any),
        in ascending seq."""
        ...

    def page(self, tenant: int, kind: str, parent: str | None, offset: int, limit: int | None) -> builtins.list[Row]:
        """The rows of `kind` under `parent` (None: any) as `list` gives them, `offset` skipped, at most
        `limit` (None: all): one indexed read, however many rows there are."""
        ...

    def list_refs(self, tenant: int, kind: str, parent: str) -> builtins.list[tuple[str, str]]:
        """(id, path) of the rows of `kind` under `parent`, in ascending seq, without their documents."""
        ...

    def count(self, tenant: int, kind: str, parent: str | None = None, *, scope: str | None = None) -> int:
        """How many rows `list` would return with the same filters and no offset or limit."""
        ...

    def insert(self, row: Row) -> None:
        """Store a new row and set `row.seq`. Raises if (tenant, kind, parent, id) exists. Inside tx()."""
        ...

    def update(self, row: Row) -> None:
        """Overwrite the stored `link` and `doc` of the row (tenant, kind, parent, id); the other
        columns never change. No effect if it does not exist. Inside tx()."""
        ...

    def delete_tree(self, row: Row) -> int:
        """Delete the row and, if it has a path, every row of the tenant whose path lies below it
        (starts with `row.path + "/"`, any kind). Returns how many rows were deleted. Inside tx()."""
        ...

    def counters(self, tenant: int) -> dict[str, int]:
        """The tenant's counters: for each counter name, the sum of what its rows of the counted kinds add
        (the `counts` the store was opened with); a counter no row adds to is absent or 0."""
        ...

    def iter_all(self, tenant: int) -> Iterator[Row]:
        """Every row of the tenant, any kind, in ascending seq."""
        ...

    def tx(self) -> AbstractContextManager[None]:
        """A write transaction: writers serialised, nesting joins, an exception rolls back (see above)."""
        ...

    # -- async requests (Cloud API /requests) -------------------------------------------------------
    def insert_request(self, req: dict[str, Any]) -> None:
        """Store a request record and set `req["seq"]`. It needs id (unique), tenant, scope, created,
        run_at, done_at and state; message is optional; every other key is kept as its document.
        Inside tx()."""
        ...

    def get_request(self, tenant: int, id: str) -> dict[str, Any] | None:
        """The tenant's request with that id (its document plus seq, id, tenant, scope, created, run_at,
        done_at, state, message), or None."""
        ...

    def list_requests(self, tenant: int) -> builtins.list[dict[str, Any]]:
        """Every request of the tenant, in ascending seq."""
        ...

    def due_requests(self, now: float, limit: int = 200) -> builtins.list[dict[str, Any]]:
        """Up to `limit` PENDING requests of any tenant with done_at <= now, by done_at then seq."""
        ...

    def has_pending(self) -> bool:
        """Whether any request of any tenant is still PENDING."""
        ...

    def finish_request(self, id: str, status: str, message: str | None) -> bool:
        """Move the request from PENDING to `status` with `message`. True only for the one caller that
        made that move (exactly once across callers and processes): False if it was no longer PENDING
        or does not exist. The caller applies the request's effects only on True. Inside tx()."""
        ...

    def last_pending_done_at(self, tenant: int, scope: str) -> float | None:
        """The latest done_at of the tenant's PENDING requests in `scope`, or None if there are none."""
        ...

    def next_due(self) -> float | None:
        """The earliest done_at of any tenant's PENDING requests, or None if none is pending."""
        ...

    # -- change detection ---------------------------------------------------------------------------
    def version(self) -> int:
        """A number that changes whenever anything stored may have changed: a commit by this connection or
        by any other process sharing the database (it may also change when nothing did). Caches keyed by
        it are never stale: read it first, then what it guards."""
        ...

    def peek_version(self) -> int | None:
        """Another such number, read without I/O so the event loop may ask (SQLite: the data_version of a
        connection that never writes, moved by every commit of every connection and process); None where
        reading it is I/O (PostgreSQL). Not comparable with `version`."""
        ...

    def peek_tokens_version(self) -> int | None:
        """`peek_version` for the tokens, which that number leaves out where it can (SQLite: they are in a
        file of their own), so that logins do not move it; None where token changes move `peek_version`
        (or `peek_version_async`) as every other change does."""
        ...

    def checkpoint(self) -> None:
        """Moves the write-ahead log into the database file off the request path (SQLite; else nothing)."""
        ...

    async def peek_version_async(self) -> int | None:
        """Where `peek_version` is None: such a number read on the event loop without blocking it
        (PostgreSQL: the change counter over an async connection); None when it cannot be had."""
        ...

    # -- identity and settings: a global key/value map of JSON values -------------------------------
    def kv_get(self, key: str) -> Any:
        """The value stored under the key, or None."""
        ...

    def kv_set(self, key: str, value: Any) -> None:
        """Store (insert or replace) a JSON-serialisable value under the key. Inside tx()."""
        ...

    def kv_delete(self, key: str) -> None:
        """Remove the key if present. Inside tx()."""
        ...

    def kv_prefix(self, prefix: str) -> builtins.list[tuple[str, Any]]:
        """(key, value) of every key k with prefix <= k < prefix + U+FFFF (so every key that starts with
        `prefix` and continues below U+FFFF), by key in code-point order."""
        ...

    def kv_page(self, prefix: str, after: str = "", limit: int = 1000) -> builtins.list[tuple[str, Any]]:
        """Up to `limit` (key, value) of the keys that start with `prefix` and sort after `after` (all of the
        prefix's when `after` is not greater than it), by key in code-point order: one indexed range read, so
        a page costs the same however many keys share the prefix (S3 listings)."""
        ...

    # -- Auth API tokens: JSON documents with at least "id" and "user" ------------------------------
    def token_get(self, id: str) -> dict[str, Any] | None:
        """The token of that id, or None."""
        ...

    def token_put(self, token: dict[str, Any]) -> None:
        """Store (insert or replace) the token. Inside tx()."""
        ...

    def token_delete(self, id: str) -> None:
        """Remove the token if present. Inside tx()."""
        ...

    def tokens_of(self, user: str) -> builtins.list[dict[str, Any]]:
        """The user's tokens, by id (one indexed read, whoever else has tokens)."""
        ...

    def reset(self) -> None:
        """Delete every resource, request, key and token of every tenant, in one transaction of its own."""
        ...

    def export_tables(self) -> dict[str, builtins.list[Any]]:
        """Every resource, request, key and token, as plain data (a snapshot's store part)."""
        ...

    def import_tables(self, tables: dict[str, builtins.list[Any]]) -> None:
        """Replace everything with what export_tables gave, in one transaction: all or nothing (the counters
        made again from the rows)."""
        ...

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        ...
