"""The one resource engine of every API.

A `Kind` declares one resource type of an API: where it sits (its URL segment and parent kind), how it is
rendered (its `Style`: the Cloud API's depth and /requests, or a product's state in metadata), and the
hooks that hold its rules. `bind()` gives every operation of a compiled spec whose path is made of declared
kinds the generic handler of its shape:

    GET    /<coll>            list    (paging, filters, orderBy: engine/listing.py)
    POST   /<coll>            create  -> hooks: prepare or create, then after
    GET    /<coll>/{id}       get
    PUT    /<coll>/{id}       replace (the Cloud API), or ensure: create under the client's id (products)
    PATCH  /<coll>/{id}       update  -> hooks: prepare or update, then after
    DELETE /<coll>/{id}       delete  -> hooks: delete

Nested paths (`/zones/{zoneId}/records/{recordId}`) load and check each parent first. An operation with a
handler of its own (registered by its API) is left alone.

Hooks (all optional):
    prepare(ctx, parent, props, old) -> props   validates the properties of a new (old None) or replaced resource
    create(ctx, parent, body, change) -> Row    builds and inserts the row itself (composite Cloud creates)
    inline(ctx, kind, row, body, change)        creates what the body carries inline with it (Cloud `entities`)
    update(ctx, row, props, replace, change)    applies new properties itself (replace: a PUT that drops
                                                what it leaves out; False for PATCH and the Cloud API's PUT)
    delete(ctx, row, change)                    rules and effects before a delete
    after(ctx, row, change)                     effects once a create or update is written (data planes)
    view(ctx, row) -> props                     properties as rendered (secrets left out, derived fields)
    created_view(ctx, row) -> props             the same in the reply that created it (a secret shown once)
    meta(ctx, row) -> dict                      metadata added at read time
    rows(ctx, parent) -> [Row]                  a computed collection's items (catalogues), instead of stored rows

Declared options change one general rule each: `internal` properties go to the row's internal part,
`changeable_states` refuses a PUT or PATCH in any other state, `idempotent_delete` and `delete_renders`
shape DELETE; the rest (envelope, metadata fields, paging links, filters, ids, PATCH, stateless kinds)
are read by the product style.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..store import Row
from .errors import ApiError, conflict, invalid, unprocessable

if TYPE_CHECKING:
    from ..gateway.context import Ctx, Reply
    from .change import Change

Hook = Callable[..., Any]


class Style(Protocol):
    """How one family of APIs loads, renders and changes its resources."""

    put_creates: bool  # PUT to an unknown id creates the resource under that id ("ensure")
    put_replaces_all: bool  # PUT drops the properties it does not send (else it sets only those it sends)

    def load(self, ctx: Ctx, kind: Kind, parent: Row | None, id: str) -> Row: ...
    def check_access(self, ctx: Ctx, row: Row, *, write: bool) -> None: ...
    def check_create(self, ctx: Ctx, kind: Kind) -> None: ...
    def new_row(
        self, ctx: Ctx, kind: Kind, parent: Row | None, props: dict[str, Any], id: str | None = None
    ) -> Row: ...
    def change(self, ctx: Ctx, kind: Kind, scope_row: Row | None, deleting: bool = False) -> Change: ...
    def list_reply(self, ctx: Ctx, kind: Kind, parent: Row | None) -> Reply: ...
    def one_reply(self, ctx: Ctx, kind: Kind, row: Row, change: Change | None, status: int) -> Reply: ...
    def deleted_reply(self, ctx: Ctx, kind: Kind, change: Change | None) -> Reply: ...  # None: a repeated delete
    def update_props(self, ctx: Ctx, kind: Kind, row: Row, replace: bool) -> dict[str, Any]: ...


@dataclass(frozen=True)
class States:
    """The state names a kind goes through (metadata.state, or the field its style renders it as)."""

    creating: str = "BUSY"
    updating: str = "BUSY"
    destroying: str = "BUSY"
    ready: str = "AVAILABLE"


@dataclass(eq=False)
class Kind:
    name: str  # stored kind, unique in the emulator: "server", "dns.zone"
    type: str  # the rendered `type`, e.g. "firewall-rule"
    segment: str  # URL collection segment below the parent, e.g. "firewallrules"
    style: Style
    parent: str | None = None  # the parent kind's name; None at top level
    states: States = States()
    entities: tuple[str, ...] = ()
    paginated: bool = True
    seq_ids: bool = False  # ids "1", "2", ... per parent (Cloud API LANs)
    default_limit: int = 1000
    prepare: Hook | None = None
    create: Hook | None = None
    inline: Hook | None = None
    update: Hook | None = None
    delete: Hook | None = None
    after: Hook | None = None
    view: Hook | None = None
    meta: Hook | None = None
    # products: rows computed, not stored as they are listed (a catalogue; backups shown from their start)
    rows: Hook | None = None
    entity_rows: dict[str, Callable[..., tuple[Kind | None, list[Row]]]] = field(default_factory=dict)
    # group privilege a non-administrator needs to create one (e.g. "createInternetAccess"); None: any user
    create_privilege: str | None = None
    shareable: bool = False  # a top-level resource that groups can be given access to (um shares)
    absolute_href: bool = True  # products: DNS answers hrefs relative to the API ("/zones/<id>")
    state_field: str = "state"  # products: VPN, NFS and Monitoring render the state as "status"
    delete_body: Any = None  # what a DELETE answers (DNS: {})
    # products: no state, written at once in the request's transaction; its request record is stored already
    # DONE, nothing left to complete (DNS reverse records, MongoDB users, catalogues)
    stateless: bool = False
    # products: query filters a kind matches itself, param -> (ctx, rows, values) -> rows (the generic ones match
    # substrings of rendered fields)
    filters: dict[str, Callable[..., list[Row]]] = field(default_factory=dict)
    delete_renders: bool = False  # DELETE answers the resource as it now is (DESTROYING): the DBaaS v1 APIs
    idempotent_delete: bool = False  # a DELETE of what is already being deleted is that deletion: nothing new queued
    # states a PUT or PATCH may change it in (DBaaS clusters); in others: 409 where the spec has it, else 422
    changeable_states: tuple[str, ...] = ()
    internal: tuple[str, ...] = ()  # properties `prepare` derives that go to the row's internal part (logins)
    # -- read by the product style (apis/product.py)
    envelope: tuple[str, ...] = ("id", "type", "href", "metadata", "properties")  # what its schema has
    metadata_fields: tuple[str, ...] | None = None  # the metadata its schema has; None: all of it
    links_field: str = "_links"  # the paging links' name (MongoDB: "links")
    absolute_links: bool = False  # paging links absolute though hrefs are relative (CDN: its Links are URIs)
    filter_names: dict[str, str] = field(default_factory=dict)  # filter.<key> -> the property it matches
    id_property: str | None = None  # a new resource's id is this property (MongoDB users: the username)
    aliases: tuple[str, ...] = ()  # properties that find a computed item as well as its id (a version's "15")
    patchable: tuple[str, ...] | None = None  # properties a PATCH may send (others: 422); None: any
    # products: a non-administrator sees (lists, reads, changes) only the resources they created themselves
    # (Logging and Monitoring pipelines); administrators see all of the contract's
    creator_only: bool = False
    # products: the orderBy of a list that asks for none ("-createdDate": newest first, Logging and Monitoring)
    default_order: str | None = None
    # optional properties the real API renders even when the client never set them, with the value it shows
    # then (Cloud DNS: a zone's "description" is "", ionosctl dereferences it)
    rendered_defaults: dict[str, Any] = field(default_factory=dict)
    # a collection's page as this kind's API renders it, (ctx, kind, rows, path) -> dict, instead of offset/limit
    # with _links (Container Registry registries: `limit` and an opaque `pagination.token`)
    pager: Hook | None = None
    # properties as rendered in the reply of the request that created it, (ctx, row) -> props, instead of
    # `view`: a generated secret shown once (Container Registry token passwords)
    created_view: Hook | None = None
    flat_patch: bool = False  # a PATCH body is the properties themselves, not {"properties": ...}
    # properties a PATCH clears by sending null (elsewhere a null in a PATCH leaves the property as it is): a
    # token's expiryDate, which terraform-provider-ionoscloud sends as null to remove it
    patch_clears: tuple[str, ...] = ()
    members: Hook | None = None  # (ctx, row) -> more top-level members rendered (VM Auto Scaling's entities)
    ensure: bool = True  # products: a PUT of an unknown id creates it; False: a 404 (VM Auto Scaling)


class Registry:
    """The kinds of one API, by name and by (parent name, URL segment); built when the app is built."""

    def __init__(self, kinds: list[Kind] | tuple[Kind, ...] = ()) -> None:
        self.by_name: dict[str, Kind] = {}
        self.children: dict[tuple[str | None, str], Kind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: Kind) -> Kind:
        self.by_name[kind.name] = kind
        self.children[(kind.parent, kind.segment)] = kind
        return kind

    def child(self, parent: str | None, segment: str) -> Kind | None:
        return self.children.get((parent, segment))

    def __getitem__(self, name: str) -> Kind:
        return self.by_name[name]

    def get(self, name: str) -> Kind | None:
        return self.by_name.get(name)


Steps = list[tuple[Kind, str]]


# -- loading ------------------------------------------------------------------------------------------


def load_chain(ctx: Ctx, steps: Steps) -> list[Row]:
    """The rows a nested path names, parents first; everything inside a resource is reached through it,
    so one access check of the outermost covers the chain."""
    rows: list[Row] = []
    for kind, param in steps:
        rows.append(kind.style.load(ctx, kind, rows[-1] if rows else None, ctx.params[param]))
        if len(rows) == 1:
            kind.style.check_access(ctx, rows[0], write=ctx.method != "GET")
    return rows


def body_properties(ctx: Ctx, attr: str = "properties", body: Any = None) -> dict[str, Any]:
    """The `properties` object of a request body (the request's own unless `body` is given)."""
    body = ctx.body if body is None else body
    if not isinstance(body, dict):
        raise ApiError(400, "the request body needs a 'properties' object")
    if not isinstance(body.get("properties"), dict):
        raise invalid(attr, "is required", vdc="VDC-1-2")
    props: dict[str, Any] = body["properties"]
    return props


def path_of(kind: Kind, parent: Row | None, id: str) -> str:
    """The href path, below the API's base, of the resource `id` of `kind` (below `parent`'s if it has one)."""
    return f"{parent.path}/{kind.segment}/{id}" if parent else f"{kind.segment}/{id}"


# -- writing ------------------------------------------------------------------------------------------


def create_row(
    ctx: Ctx, kind: Kind, parent: Row | None, change: Change, id: str | None = None, body: Any = None
) -> Row:
    """A new resource from the request body (or `body`, one sent inline in it), through the kind's hooks;
    inserted through `change`, and with it what the body carries inline (hook `inline`)."""
    body = ctx.body if body is None else body
    if kind.create is not None:
        row: Row = kind.create(ctx, parent, body, change)
    else:
        props = body_properties(ctx, body=body)
        if kind.prepare is not None:
            props = kind.prepare(ctx, parent, props, None)
        row = change.created(kind, keep_internal(kind, kind.style.new_row(ctx, kind, parent, props, id)))
    if kind.inline is not None:
        kind.inline(ctx, kind, row, body, change)
    if kind.after is not None:
        kind.after(ctx, row, change)
    return row


def update_row(ctx: Ctx, kind: Kind, parent: Row | None, row: Row, change: Change, replace: bool) -> None:
    """New properties for an existing resource: PATCH merges them; PUT replaces them where the style's PUT
    drops what it leaves out (`put_replaces_all`: the products), else it merges them too (the Cloud API keeps
    what a PUT leaves out). Hooks see `replace` True only for a PUT that drops what it leaves out."""
    props = kind.style.update_props(ctx, kind, row, replace)
    replace = replace and kind.style.put_replaces_all
    check_changeable(ctx, kind, row)
    if kind.update is not None:
        kind.update(ctx, row, props, replace, change)
    else:
        if not replace:
            props = {**row.props, **props}
        if kind.prepare is not None:
            props = kind.prepare(ctx, parent, props, row)
        if kind.prepare is not None or replace:
            row.doc["properties"] = props
        else:
            row.props.update(props)
        keep_internal(kind, row)
    change.updated(kind, row)
    if kind.after is not None:
        kind.after(ctx, row, change)


def keep_internal(kind: Kind, row: Row) -> Row:
    """Moves the kind's internal properties out of what is rendered, into the row's internal part."""
    for name in kind.internal:
        if name in row.props:
            row.x[name] = row.props.pop(name)
    return row


def check_changeable(ctx: Ctx, kind: Kind, row: Row, doing: str = "changed") -> None:
    """A kind with `changeable_states` is changed (or restored, ...) only in one of them."""
    state = row.meta.get("state")
    if kind.changeable_states and state not in kind.changeable_states:
        message = f"{kind.type} '{row.id}' is {state}; it can be {doing} once it is {kind.states.ready}"
        raise conflict(message) if "409" in ctx.op.responses else unprocessable(message)


def delete_row(ctx: Ctx, kind: Kind, row: Row, change: Change) -> None:
    if kind.delete is not None:
        kind.delete(ctx, row, change)
    change.deleting(kind, row)


# -- the generic operations ----------------------------------------------------------------------------


def op_list(kind: Kind, steps: Steps) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        chain = load_chain(ctx, steps)
        return kind.style.list_reply(ctx, kind, chain[-1] if chain else None)

    return handler


def op_get(kind: Kind, steps: Steps) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        return kind.style.one_reply(ctx, kind, load_chain(ctx, steps)[-1], None, 200)

    return handler


def op_create(kind: Kind, steps: Steps) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        kind.style.check_create(ctx, kind)
        chain = load_chain(ctx, steps)
        parent = chain[-1] if chain else None
        with kind.style.change(ctx, kind, parent) as ch:
            row = create_row(ctx, kind, parent, ch)
        return kind.style.one_reply(ctx, kind, row, ch, 201)

    return handler


def op_put(kind: Kind, steps: Steps, id_param: str) -> Callable[[Ctx], Reply]:
    """Replaces the resource; where the style allows it, creates it under the client's id ("ensure")."""

    def handler(ctx: Ctx) -> Reply:
        chain = load_chain(ctx, steps)
        parent = chain[-1] if chain else None
        rid = ctx.params[id_param]
        if not (kind.style.put_creates and kind.ensure):
            row = kind.style.load(ctx, kind, parent, rid)
            if parent is None:
                kind.style.check_access(ctx, row, write=True)
            return _updated(ctx, kind, parent, row, replace=True)
        if isinstance(ctx.body, dict) and ctx.body.get("id") not in (None, rid):  # an ensure names one resource
            raise invalid("id", f"must be the id in the path ('{rid}'), got '{ctx.body['id']}'")
        existing = ctx.store.get(ctx.tenant, kind.name, parent.id if parent else "", rid)
        if existing is not None:
            if parent is None:  # the style may refuse an id taken elsewhere (a product: another location, 409)
                kind.style.check_access(ctx, existing, write=True)
            return _updated(ctx, kind, parent, kind.style.load(ctx, kind, parent, rid), replace=True)
        try:
            uuid.UUID(rid)
        except ValueError:
            raise ApiError(422, f"the id '{rid}' of a new {kind.type} must be a UUID") from None
        kind.style.check_create(ctx, kind)
        with kind.style.change(ctx, kind, parent) as ch:
            row = create_row(ctx, kind, parent, ch, rid)
        return kind.style.one_reply(ctx, kind, row, ch, 201)

    return handler


def op_patch(kind: Kind, steps: Steps) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        chain = load_chain(ctx, steps)
        return _updated(ctx, kind, chain[-2] if len(chain) > 1 else None, chain[-1], replace=False)

    return handler


def _updated(ctx: Ctx, kind: Kind, parent: Row | None, row: Row, *, replace: bool) -> Reply:
    with kind.style.change(ctx, kind, row) as ch:
        update_row(ctx, kind, parent, row, ch, replace)
    return kind.style.one_reply(ctx, kind, row, ch, 200)


def op_delete(kind: Kind, steps: Steps) -> Callable[[Ctx], Reply]:
    def handler(ctx: Ctx) -> Reply:
        row = load_chain(ctx, steps)[-1]
        ch: Change | None = None
        if not (kind.idempotent_delete and row.meta.get("state") == kind.states.destroying):
            with kind.style.change(ctx, kind, row, deleting=True) as ch:
                delete_row(ctx, kind, row, ch)
        if kind.delete_renders:
            return kind.style.one_reply(ctx, kind, row, ch, 202)
        return kind.style.deleted_reply(ctx, kind, ch)

    return handler


def bind(handlers: dict[str, Callable[[Ctx], Reply]], operations: Any, registry: Registry, strip: str = "") -> None:
    """Give every operation whose path is made of known kinds the generic handler of its shape, unless
    the API has a handler of its own for it (`strip`: the prefix every path begins with, not a kind)."""
    for op in operations:
        if op.id in handlers:
            continue
        steps, last, item_param = shape(registry, op.path[len(strip) :])
        if last is None:
            continue
        if item_param is None:
            fn = {"GET": op_list, "POST": op_create}.get(op.method)
            if fn is not None:
                handlers[op.id] = fn(last, steps)
            continue
        full = steps + [(last, item_param)]
        if op.method == "GET":
            handlers[op.id] = op_get(last, full)
        elif op.method == "PUT":
            handlers[op.id] = op_put(last, steps, item_param)
        elif op.method == "PATCH":
            handlers[op.id] = op_patch(last, full)
        elif op.method == "DELETE":
            handlers[op.id] = op_delete(last, full)


def shape(registry: Registry, path: str) -> tuple[Steps, Kind | None, str | None]:
    """'/datacenters/{d}/servers/{s}' -> ([(datacenter, 'd')], server, 's'); (.., None, ..) unless every
    collection segment is a declared kind."""
    segs = [s for s in path.strip("/").split("/") if s]
    steps: Steps = []
    parent: str | None = None
    i = 0
    while i < len(segs):
        kind = registry.child(parent, segs[i])
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
