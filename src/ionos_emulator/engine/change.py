"""One asynchronous change, shared by every API: a transaction, its request record, and the effects
that complete it when the lifecycle says it is due. APIs subclass it for their own conventions (the
Cloud API's 202 + Location and data center versions; the products' state names)."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .. import spec as specs
from ..store import Row
from . import clock, secrets
from .errors import ApiError

C = TypeVar("C", bound="Change")

if TYPE_CHECKING:
    from ..gateway.context import Ctx
    from ..identity import Principal
    from .resources import Kind


def key(row: Row) -> dict[str, Any]:
    """How an effect names its row; plain data, so a pending request survives a restart."""
    return {"tenant": row.tenant, "kind": row.kind, "parent": row.parent, "id": row.id}


def created_metadata(p: Principal, when: str) -> dict[str, str]:
    """Who created a resource and when, in the metadata fields the Cloud API and the products share (its last
    modification is its creation)."""
    return {
        "createdDate": when,
        "createdBy": p.email,
        "createdByUserId": p.user_id,
        "lastModifiedDate": when,
        "lastModifiedBy": p.email,
        "lastModifiedByUserId": p.user_id,
    }


def stamp(ctx: Ctx, row: Row, state: str | None = None) -> None:
    """Who changed the row and when, a new etag, and optionally its state (Cloud API metadata)."""
    p = ctx.principal
    row.meta.update(
        lastModifiedDate=clock.iso(ctx.now),
        lastModifiedBy=p.email,
        lastModifiedByUserId=p.user_id,
        etag=uuid.uuid4().hex,
    )
    if state:
        row.meta["state"] = state


def request_url(ctx: Ctx) -> str:
    """The URL a request was made to, as the client addressed it."""
    return ctx.api_base + ctx.path + (("?" + str(ctx.query)) if str(ctx.query) else "")


def refused(ctx: Ctx, error: ApiError) -> None:
    """A change the API refused: nothing of it was written, but the Activity Log shows it (an Error event), so a
    record of it is kept apart from the request records (the Cloud API's /requests lists accepted ones only)."""
    if ctx.caller is None or ctx.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    rid = str(uuid.uuid4())
    style = ctx.api.errors
    record = {
        "id": rid,
        "created": ctx.now,
        "api": ctx.api.name,
        "method": ctx.method,
        "url": request_url(ctx),
        "user": ctx.caller.email,
        "user_id": ctx.caller.user_id,
        "httpStatus": error.status,
        "errorCode": error.code_in(style),
        "message": error.text_in(style),
    }
    with ctx.store.tx():
        ctx.store.kv_set(f"refused:{ctx.tenant}:{ctx.now:017.6f}:{rid}", record)


class Change:
    busy_state = "BUSY"  # shown while an update runs
    destroying_state = "BUSY"  # shown while a delete runs
    ready_state = "AVAILABLE"

    def __init__(self, ctx: Ctx, kind: str, scope: str = "") -> None:
        self.ctx, self.kind, self.scope = ctx, kind, scope
        self._stack = ExitStack()
        self.req: dict[str, Any] = {}

    def __enter__(self: C) -> C:
        self._stack.enter_context(self.ctx.store.tx())
        self.begin()
        return self

    def begin(self) -> None:
        """The change's request record (stored when the change commits), with what the client asked."""
        ctx = self.ctx
        url = request_url(ctx)
        kept = ("content-type", "user-agent", "x-contract-number")
        hdrs = {k: v for k, v in ctx.headers.items() if k.lower() in kept}
        asked = {
            "api": ctx.api.name,  # the Cloud API's /requests lists its own, not the products'
            "method": ctx.method,
            "url": url,
            "path": ctx.path,
            # never a password, secret or key in clear: the record is shown at /requests (engine/secrets.py)
            "body": secrets.masked_body(ctx.raw_body, specs.load(ctx.api.spec_name).write_only_names(ctx.op)),
            "headers": hdrs,
            "user": ctx.principal.email,
            "user_id": ctx.principal.user_id,  # whose it is (/requests shows a non-administrator only theirs)
        }
        self.req = ctx.lifecycle.begin(ctx.tenant, self.scope, self.kind, asked)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Commits the change with its request record, or rolls it back; an exception always goes on (the store's
        transaction never swallows one), so what a `with` block assigns is assigned after it."""
        if exc_type is None:
            try:
                self.finish()
                self.ctx.lifecycle.commit(self.req)
            except BaseException as e:  # the request record could not be stored: roll the change back too
                self._stack.__exit__(type(e), e, e.__traceback__)
                raise
        self._stack.__exit__(exc_type, exc, tb)

    def finish(self) -> None:
        """Last effects before the request is stored (subclasses add their own)."""

    def stamp(self, row: Row, state: str | None = None) -> None:
        stamp(self.ctx, row, state)

    def effect(self, op: str, key: dict[str, Any], on_fail: bool = False, **kw: Any) -> None:
        self.req["on_fail" if on_fail else "effects"].append({"op": op, **key, **kw})

    def target(self, kind: Kind, row: Row) -> None:
        self.req["targets"].append({"id": row.id, "type": kind.type, "path": row.path})

    def created(self, kind: Kind, row: Row, final_state: str | None = None) -> Row:
        self.ctx.store.insert(row)
        self.target(kind, row)
        self.effect("state", key(row), state=final_state or self.ready_state)
        self.effect("delete", key(row), on_fail=True)
        return row

    def updated(self, kind: Kind, row: Row, final_state: str | None = None) -> None:
        self.stamp(row, self.busy_state)
        self.ctx.store.update(row)
        self.target(kind, row)
        self.effect("state", key(row), state=final_state or self.ready_state)
        self.effect("state", key(row), on_fail=True, state=final_state or self.ready_state)

    def deleting(self, kind: Kind, row: Row) -> None:
        self.stamp(row, self.destroying_state)
        self.ctx.store.update(row)
        self.target(kind, row)
        self.effect("delete", key(row))
        self.effect("state", key(row), on_fail=True, state=self.ready_state)
