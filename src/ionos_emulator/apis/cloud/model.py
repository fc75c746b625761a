"""The Cloud API v6 resource model: kinds, depth rendering, and the generic create/read/update/delete
that every family shares. Family modules (compute, network, ...) register kinds with their rules.

Depth (api-behaviour.md §3.1): a single resource is always rendered in full, its entity collections
at the requested level; a collection consumes one level:
    item(r, 0) = reference {id,type,href};  item(r, n) = full(r, n-1)
    full(r, n).entities.<name> = bare collection reference if n == 0, else {..., items: [item(c, n-1)]}
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

from ...engine import clock, listing
from ...engine.change import Change as BaseChange, key, stamp  # noqa: F401  (used by the families)
from ...engine.errors import ApiError, forbidden, not_found
from ...gateway.context import Ctx, Reply
from ...store import Row

Hook = Callable[..., object]


@dataclass(eq=False)
class Kind:
    name: str                   # stored kind, e.g. "firewallrule"
    type: str                   # rendered `type`, e.g. "firewall-rule"
    segment: str                # URL collection segment, e.g. "firewallrules"
    parent: str | None = None   # parent kind name; None at top level
    entities: tuple[str, ...] = ()
    paginated: bool = True
    seq_ids: bool = False       # ids "1", "2", ... per parent (LANs)
    default_limit: int = 1000
    create: Hook | None = None  # (ctx, parent_row, body, change) -> Row, inserted through change.created
    update: Hook | None = None  # (ctx, row, props, replace, change) -> None, validates and applies props
    delete: Hook | None = None  # (ctx, row, change) -> None, extra rules and effects before the delete
    entity_rows: dict[str, Callable[[Ctx, Row], tuple["Kind | None", list[Row]]]] = field(default_factory=dict)
    props_view: Callable[[Ctx, Row], dict] | None = None  # properties derived at read time
    # group privilege a non-administrator needs to create one (e.g. "createInternetAccess"); None: any user
    create_privilege: str | None = None
    shareable: bool = False     # a top-level resource that groups can be given access to (um shares)


KINDS: dict[str, Kind] = {}
CHILD: dict[tuple[str | None, str], Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    CHILD[(kind.parent, kind.segment)] = kind
    return kind


# -- rendering --------------------------------------------------------------------------------------

def ref(ctx: Ctx, kind: Kind, row: Row) -> dict:
    return {"id": row.id, "type": kind.type, "href": ctx.href(row.path)}


def full(ctx: Ctx, kind: Kind, row: Row, level: int) -> dict:
    out = {"id": row.id, "type": kind.type, "href": ctx.href(row.path), "metadata": dict(row.meta),
           "properties": kind.props_view(ctx, row) if kind.props_view else dict(row.props)}
    if kind.entities:
        out["entities"] = {name: entity(ctx, kind, row, name, level) for name in kind.entities}
    return out


def item(ctx: Ctx, kind: Kind, row: Row, level: int) -> dict:
    return ref(ctx, kind, row) if level <= 0 else full(ctx, kind, row, level - 1)


def entity(ctx: Ctx, kind: Kind, row: Row, name: str, level: int) -> dict:
    coll = {"id": f"{row.id}/{name}", "type": "collection", "href": ctx.href(f"{row.path}/{name}")}
    if level <= 0:
        return coll
    child = CHILD.get((kind.name, name))
    if level == 1 and child is not None and name not in kind.entity_rows:
        # references only: ids and paths from the index, no documents to decode (depth=1 is the hot path)
        coll["items"] = [{"id": rid, "type": child.type, "href": ctx.href(path)}
                         for rid, path in ctx.store.list_refs(ctx.tenant, child.name, row.id)]
        return coll
    child_kind, rows = entity_children(ctx, kind, row, name)
    coll["items"] = [item(ctx, child_kind, r, level - 1) for r in rows] if child_kind else []
    return coll


def entity_children(ctx: Ctx, kind: Kind, row: Row, name: str) -> tuple[Kind | None, list[Row]]:
    special = kind.entity_rows.get(name)
    if special is not None:
        return special(ctx, row)
    child = CHILD.get((kind.name, name))
    if child is None:  # a family not modelled yet: an honest empty collection
        return None, []
    return child, ctx.store.list(ctx.tenant, child.name, row.id)


def collection(ctx: Ctx, kind: Kind, rows: list[Row], href_path: str, coll_id: str | None = None,
               view=None) -> dict:
    """A top-level or nested collection reply with filters, orderBy, maxResults and (if paginated) paging."""
    page, offset, limit, total = listing.select(rows, view or (lambda r: r.doc), ctx.query,
                                                paginated=kind.paginated, default_limit=kind.default_limit)
    return page_body(ctx, kind, page, href_path, coll_id, offset, limit, total)


def page_body(ctx: Ctx, kind: Kind, page: list[Row], href_path: str, coll_id: str | None,
              offset: int | None, limit: int | None, total: int) -> dict:
    href = ctx.href(href_path)
    out = {"id": coll_id or href_path, "type": "collection", "href": href,
           "items": [item(ctx, kind, r, ctx.depth) for r in page]}
    if kind.paginated:
        out.update(offset=offset, limit=limit, _links=listing.links(href, offset, limit, total))
    return out


def single(ctx: Ctx, kind: Kind, row: Row, status: int = 200, headers: dict | None = None) -> Reply:
    body = full(ctx, kind, row, ctx.depth)
    hdrs = dict(headers or {})
    if ctx.q("depth") is None and row.meta.get("etag"):
        hdrs.setdefault("ETag", row.meta["etag"])
    return Reply(status, body, hdrs)


# -- loading ----------------------------------------------------------------------------------------

def load(ctx: Ctx, kind: Kind, parent: Row | None, id: str) -> Row:
    row = ctx.store.get(ctx.tenant, kind.name, parent.id if parent else "", id)
    if row is None:
        raise not_found(f"Resource does not exist: {kind.type} {id}")
    return row


def load_chain(ctx: Ctx, steps: list[tuple[Kind, str]]) -> list[Row]:
    rows: list[Row] = []
    for kind, param in steps:
        rows.append(load(ctx, kind, rows[-1] if rows else None, ctx.params[param]))
        if len(rows) == 1:  # everything inside a resource is reached through it: one check covers the chain
            check_access(ctx, rows[0], write=ctx.method != "GET")
    return rows


# -- privileges: checked here, in one place -----------------------------------------------------------

def share_of(ctx: Ctx, row: Row) -> dict | None:
    """The most generous share of `row` among the caller's groups, or None."""
    best = None
    for gid in ctx.principal.groups:
        group = ctx.store.get(ctx.tenant, "group", "", gid)
        share = group.x.get("shares", {}).get(row.id) if group else None
        if share and (best is None or share.get("editPrivilege")):
            best = share
    return best


def visible(ctx: Ctx, row: Row) -> bool:
    p = ctx.principal
    return p.admin or row.meta.get("createdByUserId") == p.user_id or share_of(ctx, row) is not None


def check_access(ctx: Ctx, row: Row, *, write: bool) -> None:
    """A user who is not an administrator reaches what they created and what is shared with one of their
    groups (changing it needs the share's editPrivilege); anything else does not exist for them."""
    p = ctx.principal
    if p.admin or row.meta.get("createdByUserId") == p.user_id:
        return
    share = share_of(ctx, row)
    if share is None:
        raise not_found(f"Resource does not exist: {row.kind} {row.id}")
    if write and not share.get("editPrivilege"):
        raise forbidden(f"Access Denied: the share of {row.kind} {row.id} does not include the edit privilege")


def require(ctx: Ctx, flag: str, what: str) -> None:
    if not ctx.principal.can(flag):
        raise forbidden(f"Access Denied: {what} needs the group privilege '{flag}'")


# -- changes ----------------------------------------------------------------------------------------

class Change(BaseChange):
    """A Cloud API change: completes through /requests, answers 202 with an absolute Location, and raises
    the version of the data center it happens in.

        with Change(ctx, "server", scope=dc.id) as ch:
            ch.created(SERVER, row)
        return ch.accepted(body)
    """

    def finish(self) -> None:
        if self.scope:
            self.effect("bump", _dc_key(self.ctx, self.scope))

    def accepted(self, body=None) -> Reply:
        return Reply(202, body, {"Location": self.ctx.href(f"requests/{self.req['id']}/status")})


def _dc_key(ctx: Ctx, dc_id: str) -> dict:
    return {"tenant": ctx.tenant, "kind": "datacenter", "parent": "", "id": dc_id}


def new_row(ctx: Ctx, kind: Kind, parent: Row | None, props: dict, id: str | None = None, *,
            state: str = "BUSY", scope: str | None = None) -> Row:
    rid = id or str(uuid.uuid4())
    path = f"{parent.path}/{kind.segment}/{rid}" if parent else f"{kind.segment}/{rid}"
    if scope is None:
        scope = parent.id if parent is not None and parent.kind == "datacenter" else (parent.scope if parent else "")
    p = ctx.principal
    ts = clock.iso(ctx.now)
    row = Row(tenant=ctx.tenant, kind=kind.name, id=rid, parent=parent.id if parent else "", scope=scope,
              path=path, doc={"properties": props, "metadata": {
                  "etag": uuid.uuid4().hex, "createdDate": ts, "createdBy": p.email, "createdByUserId": p.user_id,
                  "lastModifiedDate": ts, "lastModifiedBy": p.email, "lastModifiedByUserId": p.user_id,
                  "state": state}})
    return row


def next_seq_id(ctx: Ctx, parent: Row, counter: str) -> str:
    """Sequential ids per parent that are never reused (LAN "1", "2", ...); the counter lives in the parent."""
    n = int(parent.x.get(counter, 0)) + 1
    parent.x[counter] = n
    ctx.store.update(parent)
    return str(n)


def props_of(body, where: str = "properties") -> dict:
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise ApiError(422, f"[VDC-1-2] attribute '{where}' is required")
    return body["properties"]


# -- generic operations bound from the spec by path shape -------------------------------------------

def op_list(kind: Kind, steps):
    def handler(ctx: Ctx) -> Reply:
        chain = load_chain(ctx, steps)
        parent = chain[-1] if chain else None
        parent_id = parent.id if parent else ""
        path = f"{parent.path}/{kind.segment}" if parent else kind.segment
        coll_id = f"{parent.id}/{kind.segment}" if parent else None
        everything_visible = parent is not None or ctx.principal.admin
        if kind.paginated and everything_visible and not listing.needs_scan(ctx.query):
            # the common case pages in the store: latency stays flat however many rows there are
            offset, limit = listing.page_params(ctx.query, kind.default_limit)
            # one row more than the page tells whether a next page exists, without counting them all
            rows = ctx.store.list(ctx.tenant, kind.name, parent_id, offset=offset, limit=limit + 1)
            total = offset + len(rows)
            return Reply(200, page_body(ctx, kind, rows[:limit], path, coll_id, offset, limit, total))
        rows = ctx.store.list(ctx.tenant, kind.name, parent_id)
        if not everything_visible:
            rows = [r for r in rows if visible(ctx, r)]
        return Reply(200, collection(ctx, kind, rows, path, coll_id))
    return handler


def op_get(kind: Kind, steps):
    def handler(ctx: Ctx) -> Reply:
        return single(ctx, kind, load_chain(ctx, steps)[-1])
    return handler


def op_create(kind: Kind, steps):
    def handler(ctx: Ctx) -> Reply:
        if kind.create is None:
            raise ApiError(501, f"creating {kind.type} is not implemented by the emulator")
        if kind.create_privilege:
            require(ctx, kind.create_privilege, f"creating a {kind.type}")
        chain = load_chain(ctx, steps)
        parent = chain[-1] if chain else None
        scope = _scope_of(parent)
        with Change(ctx, kind.name, scope) as ch:
            row = kind.create(ctx, parent, ctx.body, ch)
        return ch.accepted(full(ctx, kind, row, ctx.depth))
    return handler


def op_update(kind: Kind, steps, replace: bool):
    def handler(ctx: Ctx) -> Reply:
        chain = load_chain(ctx, steps)
        row = chain[-1]
        # PUT sends the whole resource {"properties": {...}}; PATCH sends the properties object itself
        props = props_of(ctx.body) if replace else _patch_props(ctx.body)
        with Change(ctx, kind.name, _scope_of(row)) as ch:
            if kind.update is not None:
                kind.update(ctx, row, props, replace, ch)
            else:
                apply_props(row, props, replace)
            ch.updated(kind, row)
        return ch.accepted(full(ctx, kind, row, ctx.depth))
    return handler


def _patch_props(body) -> dict:
    if not isinstance(body, dict):
        raise ApiError(422, "[VDC-1-2] the request body must be an object of properties")
    return body


def op_delete(kind: Kind, steps):
    def handler(ctx: Ctx) -> Reply:
        chain = load_chain(ctx, steps)
        row = chain[-1]
        with Change(ctx, kind.name, _scope_of(row) if row.kind != "datacenter" else "") as ch:
            if kind.delete is not None:
                kind.delete(ctx, row, ch)
            ch.deleting(kind, row)
        return ch.accepted(None)
    return handler


def _scope_of(row: Row | None) -> str:
    if row is None:
        return ""
    return row.id if row.kind == "datacenter" else row.scope


def apply_props(row: Row, props: dict, replace: bool, *, mutable: tuple[str, ...] | None = None,
                immutable: tuple[str, ...] = ()) -> None:
    """PATCH merges the given properties; PUT replaces the mutable ones (absent ones fall back to defaults
    the family hook sets). Changing an immutable property is a 422 naming it."""
    for name in immutable:
        if name in props and props[name] != row.props.get(name):
            raise ApiError(422, f"[VDC-1-3] attribute 'properties.{name}' cannot be changed")
    for name, value in props.items():
        if name in immutable or (mutable is not None and name not in mutable):
            continue
        row.props[name] = value


def bind(api, spec) -> None:
    """Give every operation whose path is made of known kinds the generic handler of its shape."""
    for op in spec.operations:
        if op.id in api.handlers:
            continue
        steps, last_kind, item_param = _shape(op.path)
        if last_kind is None:
            continue
        m = op.method
        if item_param is None:
            fn = {"GET": op_list, "POST": op_create}.get(m)
            if fn:
                api.handlers[op.id] = fn(last_kind, steps)
        else:
            full_steps = steps + [(last_kind, item_param)]
            if m == "GET":
                api.handlers[op.id] = op_get(last_kind, full_steps)
            elif m in ("PUT", "PATCH"):
                api.handlers[op.id] = op_update(last_kind, full_steps, replace=(m == "PUT"))
            elif m == "DELETE":
                api.handlers[op.id] = op_delete(last_kind, full_steps)


def _shape(path: str):
    """'/datacenters/{d}/servers/{s}' -> ([(datacenter,'d')], server, 's'); (.., None, ..) if not all known."""
    segs = [s for s in path.strip("/").split("/") if s]
    steps: list[tuple[Kind, str]] = []
    parent: str | None = None
    i = 0
    while i < len(segs):
        kind = CHILD.get((parent, segs[i]))
        if kind is None:
            return [], None, None
        param = segs[i + 1][1:-1] if i + 1 < len(segs) and segs[i + 1].startswith("{") else None
        if i + 2 >= len(segs):
            return steps, kind, param
        if param is None:
            return [], None, None
        steps.append((kind, param))
        parent = kind.name
        i += 2
    return [], None, None
