"""The Cloud API v6 style of the resource engine: kinds, depth rendering, privileges, and changes that
complete through /requests. Family modules (compute, network, ...) declare kinds with their rules; the
engine (engine/resources.py) binds the operations.

Depth (api-behaviour.md §3.1): a single resource is always rendered in full, its entity collections
at the requested level; a collection consumes one level:
    item(r, 0) = reference {id,type,href};  item(r, n) = full(r, n-1)
    full(r, n).entities.<name> = bare collection reference if n == 0, else {..., items: [item(c, n-1)]}
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ...engine import clock, listing, resources
from ...engine.change import Change as BaseChange
from ...engine.change import created_metadata, key, stamp  # noqa: F401  (used by the families)
from ...engine.errors import ApiError, forbidden, not_found, not_implemented
from ...engine.resources import Registry, Steps, load_chain, path_of
from ...gateway.context import Ctx, Handler, Reply
from ...store import Row


class CloudStyle:
    """Cloud API v6: absolute hrefs, depth, /requests with 202 + Location, privileges and shares."""

    put_creates = False
    put_replaces_all = False

    def load(self, ctx: Ctx, kind: resources.Kind, parent: Row | None, id: str) -> Row:
        return load(ctx, kind, parent, id)

    def check_access(self, ctx: Ctx, row: Row, *, write: bool) -> None:
        check_access(ctx, row, write=write)

    def check_create(self, ctx: Ctx, kind: resources.Kind) -> None:
        if kind.create is None:
            raise not_implemented(f"creating {kind.type} is not implemented by the emulator")
        if kind.create_privilege:
            require(ctx, kind.create_privilege, f"creating a {kind.type}")

    def new_row(self, ctx: Ctx, kind: resources.Kind, parent: Row | None, props: dict, id: str | None = None) -> Row:
        return new_row(ctx, kind, parent, props, id)

    def change(self, ctx: Ctx, kind: resources.Kind, scope_row: Row | None, deleting: bool = False) -> Change:
        # a data center's own deletion is not queued behind the changes inside it
        scope = "" if deleting and scope_row is not None and scope_row.kind == "datacenter" else _scope_of(scope_row)
        return Change(ctx, kind.name, scope)

    def list_reply(self, ctx: Ctx, kind: resources.Kind, parent: Row | None) -> Reply:
        parent_id = parent.id if parent else ""
        path = f"{parent.path}/{kind.segment}" if parent else kind.segment
        coll_id = f"{parent.id}/{kind.segment}" if parent else None
        everything_visible = parent is not None or ctx.principal.admin
        if kind.paginated and everything_visible and not listing.needs_scan(ctx.query):
            # the common case pages in the store: latency stays flat however many rows there are
            offset, limit = listing.page_params(ctx.query, kind.default_limit)
            # one row more than the page tells whether a next page exists, without counting them all
            rows = ctx.store.page(ctx.tenant, kind.name, parent_id, offset, limit + 1)
            total = offset + len(rows)
            return Reply(200, page_body(ctx, kind, rows[:limit], path, coll_id, offset, limit, total))
        rows = ctx.store.list(ctx.tenant, kind.name, parent_id)
        if not everything_visible:
            rows = [r for r in rows if visible(ctx, r)]
        return Reply(200, collection(ctx, kind, rows, path, coll_id))

    def one_reply(self, ctx: Ctx, kind: resources.Kind, row: Row, change: BaseChange | None, status: int) -> Reply:
        if isinstance(change, Change):
            return change.accepted(full(ctx, kind, row, ctx.depth))
        return single(ctx, kind, row)

    def deleted_reply(self, ctx: Ctx, kind: resources.Kind, change: BaseChange | None) -> Reply:
        assert isinstance(change, Change)
        return change.accepted(None)

    def update_props(self, ctx: Ctx, kind: resources.Kind, row: Row, replace: bool) -> dict:
        # PUT sends the whole resource {"properties": {...}}; PATCH sends the properties object itself
        if replace:
            return props_of(ctx.body)
        if not isinstance(ctx.body, dict):
            raise ApiError(422, "[VDC-1-2] the request body must be an object of properties")
        return ctx.body


CLOUD = CloudStyle()
REGISTRY = Registry()


def create_entities(ctx: Ctx, kind: Kind, row: Row, body: Any, ch: BaseChange) -> None:
    """Composite creation: the `entities` a POST carries, at any depth its schema allows, are created with
    their parent in the same change, each through its own kind's create hook (the registry's child of the
    parent kind under the entity's name, its own inline entities in turn). Entities follow the order the
    kind declares them in (a data center's LANs before the servers whose NICs name them); those the kind's
    create hook builds itself (`own_entities`) are left to it, references to existing resources go to the
    kind's `attach` hook, and anything else sent inline is a 422, never silently dropped."""
    entities = body.get("entities") if isinstance(body, dict) else None
    if entities is None:
        return
    if not isinstance(entities, dict):
        raise ApiError(422, "[VDC-1-1] attribute 'entities' must be an object", "100")
    for name in sorted(entities, key=lambda n: kind.entities.index(n) if n in kind.entities else len(kind.entities)):
        coll = entities[name]
        items = coll.get("items") if isinstance(coll, dict) else None
        if name in kind.own_entities or coll is None or not items:
            continue
        where = f"entities.{name}.items"
        child = REGISTRY.child(kind.name, name)
        attach = kind.attach.get(name)
        if attach is None and (name not in kind.entities or child is None or child.create is None):
            raise ApiError(422, f"[VDC-1-1] attribute '{where}': {name} cannot be created inline in a {kind.type}")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ApiError(422, f"[VDC-1-1] attribute '{where}' must be a list of {name}", "100")
        for item in items:
            if attach is not None:
                attach(ctx, row, item, ch)
                continue
            assert child is not None
            if child.create_privilege:
                require(ctx, child.create_privilege, f"creating a {child.type}")
            resources.create_row(ctx, child, row, ch, body=item)


@dataclass(eq=False)
class Kind(resources.Kind):
    """A Cloud API kind: rendered with depth and entities, changed through /requests; a POST creates the
    entities it carries inline (`create_entities`), except those its create hook builds (`own_entities`)
    and references to existing resources, which `attach[name](ctx, row, item, change)` connects."""

    style: resources.Style = CLOUD
    inline: resources.Hook | None = create_entities
    own_entities: tuple[str, ...] = ()
    attach: dict[str, resources.Hook] = field(default_factory=dict)


_K = TypeVar("_K", bound=resources.Kind)


def register(kind: _K) -> _K:
    """Adds `kind` to the Cloud API registry; returns it as given (a family keeps its own Kind's type)."""
    REGISTRY.add(kind)
    return kind


def register_shareable(name: str, type: str, segment: str, create_privilege: str | None, **options: Any) -> Kind:
    """Declares and registers a top-level resource that groups can be given access to (um shares); a
    non-administrator needs the group privilege `create_privilege` to create one (None: any user). Listed
    whole unless `paginated=True`: of these the Cloud API pages only data centers and IP blocks."""
    options.setdefault("paginated", False)
    return register(Kind(name, type, segment, create_privilege=create_privilege, shareable=True, **options))


def stored(row: Row | None, what: str) -> Row:
    """A row the store must hold because another row refers to it (a parent, the data center of a scope):
    a miss is a broken store, not a client error."""
    if row is None:
        raise LookupError(f"{what} is not in the store")
    return row


def _scope_of(row: Row | None) -> str:
    if row is None:
        return ""
    return row.id if row.kind == "datacenter" else row.scope


# -- rendering --------------------------------------------------------------------------------------


def ref(ctx: Ctx, kind: resources.Kind, row: Row) -> dict:
    return {"id": row.id, "type": kind.type, "href": ctx.href(row.path)}


def full(ctx: Ctx, kind: resources.Kind, row: Row, level: int) -> dict:
    out = {
        "id": row.id,
        "type": kind.type,
        "href": ctx.href(row.path),
        "metadata": dict(row.meta),
        "properties": kind.view(ctx, row) if kind.view else dict(row.props),
    }
    if kind.entities:
        out["entities"] = {name: entity(ctx, kind, row, name, level) for name in kind.entities}
    return out


def item(ctx: Ctx, kind: resources.Kind, row: Row, level: int) -> dict:
    return ref(ctx, kind, row) if level <= 0 else full(ctx, kind, row, level - 1)


def entity(ctx: Ctx, kind: resources.Kind, row: Row, name: str, level: int) -> dict:
    coll: dict[str, Any] = {"id": f"{row.id}/{name}", "type": "collection", "href": ctx.href(f"{row.path}/{name}")}
    if level <= 0:
        return coll
    child = REGISTRY.child(kind.name, name)
    if level == 1 and child is not None and name not in kind.entity_rows:
        # references only: ids and paths from the index, no documents to decode (depth=1 is the hot path)
        coll["items"] = [
            {"id": rid, "type": child.type, "href": ctx.href(path)}
            for rid, path in ctx.store.list_refs(ctx.tenant, child.name, row.id)
        ]
        return coll
    child_kind, rows = entity_children(ctx, kind, row, name)
    coll["items"] = [item(ctx, child_kind, r, level - 1) for r in rows] if child_kind else []
    return coll


def entity_children(ctx: Ctx, kind: resources.Kind, row: Row, name: str) -> tuple[resources.Kind | None, list[Row]]:
    special = kind.entity_rows.get(name)
    if special is not None:
        return special(ctx, row)
    child = REGISTRY.child(kind.name, name)
    if child is None:  # a family not modelled yet: an honest empty collection
        return None, []
    return child, ctx.store.list(ctx.tenant, child.name, row.id)


def collection(
    ctx: Ctx, kind: resources.Kind, rows: list[Row], href_path: str, coll_id: str | None = None, view=None
) -> dict:
    """A top-level or nested collection reply with filters, orderBy, maxResults and (if paginated) paging."""
    page, offset, limit, total = listing.select(
        rows, view or (lambda r: r.doc), ctx.query, paginated=kind.paginated, default_limit=kind.default_limit
    )
    return page_body(ctx, kind, page, href_path, coll_id, offset, limit, total)


def page_body(
    ctx: Ctx,
    kind: resources.Kind,
    page: list[Row],
    href_path: str,
    coll_id: str | None,
    offset: int | None,
    limit: int | None,
    total: int,
) -> dict:
    href = ctx.href(href_path)
    out: dict[str, Any] = {
        "id": coll_id or href_path,
        "type": "collection",
        "href": href,
        "items": [item(ctx, kind, r, ctx.depth) for r in page],
    }
    if kind.paginated:
        assert offset is not None and limit is not None, "a paginated kind's listing is paged"
        out.update(offset=offset, limit=limit, _links=listing.links(href, offset, limit, total))
    return out


def single(ctx: Ctx, kind: resources.Kind, row: Row, status: int = 200, headers: dict | None = None) -> Reply:
    body = full(ctx, kind, row, ctx.depth)
    hdrs = dict(headers or {})
    if ctx.q("depth") is None and row.meta.get("etag"):
        hdrs.setdefault("ETag", row.meta["etag"])
    return Reply(status, body, hdrs)


def computed_collection(
    kind: resources.Kind, chain: Steps, rows: Callable[[Ctx, Row], list[Row]], id_param: str, where: str
) -> tuple[Handler, Handler]:
    """The list and get handlers of a collection under the last row of `chain` whose items `rows` computes
    from that row instead of the store holding them there (the GPUs of a server, the NICs in a LAN); an id
    not among them is a 404 saying `where` it was looked for ("of server", "in LAN")."""

    def owner(ctx: Ctx) -> Row:
        return load_chain(ctx, chain)[-1]

    def list_handler(ctx: Ctx) -> Reply:
        row = owner(ctx)
        return Reply(
            200, collection(ctx, kind, rows(ctx, row), f"{row.path}/{kind.segment}", f"{row.id}/{kind.segment}")
        )

    def get_handler(ctx: Ctx) -> Reply:
        row = owner(ctx)
        for child in rows(ctx, row):
            if child.id == ctx.params[id_param]:
                return single(ctx, kind, child)
        raise ApiError(404, f"Resource does not exist: {kind.type} {ctx.params[id_param]} {where} {row.id}", "309")

    return list_handler, get_handler


# -- loading ----------------------------------------------------------------------------------------


def load(ctx: Ctx, kind: resources.Kind, parent: Row | None, id: str) -> Row:
    row = ctx.store.get(ctx.tenant, kind.name, parent.id if parent else "", id)
    if row is None:
        raise not_found(f"Resource does not exist: {kind.type} {id}")
    return row


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


def deletion(ctx: Ctx, kind: resources.Kind, row: Row) -> Reply:
    """Deletes `row` (outside any data center) through a request: 202 with its Location; the lifecycle
    removes the row when the request is done."""
    with Change(ctx, kind.name) as ch:
        ch.deleting(kind, row)
    return ch.accepted(None)


def _dc_key(ctx: Ctx, dc_id: str) -> dict:
    return {"tenant": ctx.tenant, "kind": "datacenter", "parent": "", "id": dc_id}


def new_row(
    ctx: Ctx,
    kind: resources.Kind,
    parent: Row | None,
    props: dict,
    id: str | None = None,
    *,
    state: str = "BUSY",
    scope: str | None = None,
) -> Row:
    rid = id or str(uuid.uuid4())
    if scope is None:
        scope = parent.id if parent is not None and parent.kind == "datacenter" else (parent.scope if parent else "")
    return Row(
        tenant=ctx.tenant,
        kind=kind.name,
        id=rid,
        parent=parent.id if parent else "",
        scope=scope,
        path=path_of(kind, parent, rid),
        doc={
            "properties": props,
            "metadata": {
                "etag": uuid.uuid4().hex,
                **created_metadata(ctx.principal, clock.iso(ctx.now)),
                "state": state,
            },
        },
    )


def catalogue_row(ctx: Ctx, kind: resources.Kind, entry: dict, metadata: dict | None = None) -> Row:
    """A seeded catalogue entry (a location, public image or template) as a row that is never stored; its
    metadata is the entry's own with an etag derived from the id, unless `metadata` is given."""
    meta = metadata if metadata is not None else {**entry["metadata"], "etag": entry["id"].replace("-", "")}
    return Row(
        tenant=ctx.tenant,
        kind=kind.name,
        id=entry["id"],
        path=f"{kind.segment}/{entry['id']}",
        doc={"properties": entry["properties"], "metadata": meta},
    )


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


def apply_props(
    row: Row, props: dict, replace: bool, *, mutable: tuple[str, ...] | None = None, immutable: tuple[str, ...] = ()
) -> None:
    """Sets the given mutable properties; what the client left out stays as it is (PUT and PATCH alike, as the
    real Cloud API does). Changing an immutable property is a 422 naming it."""
    for name in immutable:
        if name in props and props[name] != row.props.get(name):
            raise ApiError(422, f"[VDC-1-3] attribute 'properties.{name}' cannot be changed")
    for name, value in props.items():
        if name in immutable or (mutable is not None and name not in mutable):
            continue
        row.props[name] = value
