"""The product APIs' shared conventions (api-behaviour.md §7): regional hosts and path prefixes, the
resource envelope {id, type, href, metadata, properties}, a state field in metadata that goes
PROVISIONING -> AVAILABLE through the lifecycle engine and DESTROYING -> gone on delete, PUT as
create-or-replace with a client-chosen id, offset/limit paging and filters, the IONOS error envelope.

A product package declares a `Product` (where it is served) and `PKind`s (its resources), and binds
operationIds to the generic handlers here or to its own.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import QueryParams

from .. import spec as specs
from ..engine import clock, errors, listing
from ..engine.change import Change, created_metadata
from ..engine.errors import PRODUCT as PRODUCT_ERRORS
from ..engine.errors import ApiError, conflict
from ..engine.lifecycle import Effect
from ..engine.resources import Kind, Registry, States, bind, body_properties, path_of
from ..gateway.context import ApiModule, Ctx, Reply
from ..settings import Settings
from ..store import Row

if TYPE_CHECKING:
    pass

# Location ids and the host label the regional product hosts use for them.
REGIONS = {
    "de/fra": "de-fra",
    "de/txl": "de-txl",
    "es/vit": "es-vit",
    "fr/par": "fr-par",
    "gb/lhr": "gb-lhr",
    "gb/bhx": "gb-bhx",
    "us/las": "us-las",
    "us/ewr": "us-ewr",
    "us/mci": "us-mci",
}


def spec_locations(spec_name: str) -> tuple[str, ...]:
    """The locations whose regional hosts (https://<product>.<region>.ionos.com/...) the official SDK of
    the compiled spec lists."""
    hosts = [urlsplit(s["url"]).hostname or "" for s in specs.head(spec_name).servers]
    regions = {h.split(".")[1] for h in hosts if h.count(".") >= 3}
    return tuple(loc for loc, region in REGIONS.items() if region in regions)


@dataclass
class Product:
    """Where one product API is served. Regional products get one mount per location."""

    name: str  # our path segment, e.g. "dns" -> /dns/de-fra/...
    spec_name: str  # compiled spec in spec/data
    config_name: str  # product name in the IONOS config file (dns, psql, mariadb, ...)
    locations: tuple[str, ...] = ("",)  # "" = a global product
    host: str = ""  # real host, "{region}" filled in: "dns.{region}.ionos.com"
    privilege: str | None = None  # group flag a non-administrator needs (accessAndManageDns, ...)
    handlers: dict = field(default_factory=dict)
    # our path segment where it differs from the name: two generations of one product side by side
    # (MariaDB v1 at /mariadb/<region>, v2 at /mariadb/<region>/v2)
    path: str = ""
    # the prefix every path of its spec begins with, where the spec's server names none (Certificate Manager
    # v1's "/certificatemanager/..." on api.ionos.com): served as the API's base, so its kinds are found by
    # path shape and its hrefs keep it
    path_base: str = ""
    registry: Registry = field(default_factory=Registry)  # its kinds (PKind adds them)
    # lifecycle effects of its own (data-plane work when a change completes): name -> factory(settings) -> effect,
    # installed in every app that mounts the product, so a change queued before a restart still completes
    effects: dict[str, Callable[[Settings], Effect]] = field(default_factory=dict)
    errors: errors.ErrorStyle = PRODUCT_ERRORS  # how its errors are spelled (the OpenAI-compatible API: OpenAI's)

    def handler(self, op_id: str):
        """Registers the handler of an operation the engine cannot serve by path shape."""

        def deco(fn: Callable[[Ctx], Reply]):
            self.handlers[op_id] = fn
            return fn

        return deco

    def modules(self) -> list[ApiModule]:
        spec = specs.head(self.spec_name)  # the whole spec is loaded on the API's first request (gateway/mounts.py)
        base = spec.base_path
        own = self.path_base
        bind(self.handlers, spec.operations, self.registry, strip=own)
        out = []
        for loc in self.locations:
            region = REGIONS.get(loc, loc.replace("/", "-"))
            segment = self.path or self.name
            if loc:
                prefix = f"/{segment}/{region}{base}"
            elif self.path:  # a global product's second generation beside the first (Container Registry 1.0)
                prefix = f"/{self.path.strip('/')}"
            else:
                prefix = base if base and base != "/" else (own or f"/{segment}")
            hosts = {self.host.format(region=region): base or own} if self.host else {}
            out.append(
                ApiModule(
                    name=self.name,
                    prefix=prefix,
                    spec_name=self.spec_name,
                    handlers=dict(self.handlers),
                    location=loc,
                    hosts=hosts,
                    product=self.config_name,
                    privilege=self.privilege,
                    errors=self.errors,
                    effects=dict(self.effects),
                    path_base=own,
                )
            )
        return out


class ProductStyle:
    """The product APIs: the state in metadata, polled on the resource itself (no /requests), absolute or
    relative hrefs, offset/limit paging with _links, PUT as create-or-replace under the client's id, the
    2xx status each operation's spec declares."""

    put_creates = True
    put_replaces_all = True

    def load(self, ctx: Ctx, kind: Kind, parent: Row | None, id: str) -> Row:
        return load(ctx, kind, id, parent)

    def check_access(self, ctx: Ctx, row: Row, *, write: bool) -> None:
        """The product privilege is checked for the whole API by the gateway; a contract's rows are all its own,
        but a regional product's id lives in one location: writing it in another is a conflict."""
        if write and row.scope != ctx.api.location:
            raise conflict(f"the id '{row.id}' is taken in {row.scope}, not in {ctx.api.location}")

    def check_create(self, ctx: Ctx, kind: Kind) -> None:
        pass

    def new_row(self, ctx: Ctx, kind: Kind, parent: Row | None, props: dict, id: str | None = None) -> Row:
        return new_row(ctx, kind, parent, props, id)

    def change(self, ctx: Ctx, kind: Kind, scope_row: Row | None, deleting: bool = False) -> ProductChange:
        return DirectChange(ctx, kind) if kind.stateless else ProductChange(ctx, kind)

    def list_reply(self, ctx: Ctx, kind: Kind, parent: Row | None) -> Reply:
        path = f"{parent.path}/{kind.segment}" if parent else kind.segment
        ctx, rows = filtered(ctx, kind.filters, kind.rows(ctx, parent) if kind.rows else rows_of(ctx, kind, parent))
        return Reply(200, (kind.pager or page)(ctx, kind, rows, path))

    def one_reply(self, ctx: Ctx, kind: Kind, row: Row, change: Change | None, status: int) -> Reply:
        created = change is not None and status == 201
        return Reply(success(ctx, status) if change is not None else 200, render(ctx, kind, row, created=created))

    def deleted_reply(self, ctx: Ctx, kind: Kind, change: Change | None) -> Reply:
        return Reply(success(ctx, 202), kind.delete_body)

    def update_props(self, ctx: Ctx, kind: Kind, row: Row, replace: bool) -> dict:
        if kind.flat_patch and not replace:  # {"scopes": [...]}, not {"properties": {...}}
            if not isinstance(ctx.body, dict):
                raise ApiError(400, "the request body must be a JSON object")
            props = dict(ctx.body)
        else:
            props = body_properties(ctx)
        if replace:
            return props
        # a PATCH leaves what it sends as null, unless null clears it
        props = {k: v for k, v in props.items() if v is not None or k in kind.patch_clears}
        refused = [name for name in props if kind.patchable is not None and name not in kind.patchable]
        if refused:
            raise errors.invalid(f"properties.{refused[0]}", "cannot be changed")
        return props


STYLE = ProductStyle()


def PKind(  # noqa: N802  (reads as the declaration it makes)
    product: Product,
    name: str,
    type: str,
    segment: str,
    *,
    parent: Kind | None = None,
    creating: str = "PROVISIONING",
    updating: str = "PROVISIONING",
    destroying: str = "DESTROYING",
    ready: str = "AVAILABLE",
    default_limit: int = 100,
    absolute_href: bool = False,
    **hooks: Any,
) -> Kind:
    """A product kind, stored as "<product>.<name>" and registered with its product."""
    kind = Kind(
        f"{product.name}.{name}",
        type,
        segment,
        style=STYLE,
        parent=parent.name if parent else None,
        states=States(creating, updating, destroying, ready),
        default_limit=default_limit,
        absolute_href=absolute_href,
        **hooks,
    )
    product.registry.add(kind)
    return kind


class ProductChange(Change):
    """A product change: no /requests resource, clients poll the resource's own state."""

    def __init__(self, ctx: Ctx, kind: Kind):
        super().__init__(ctx, kind.name, scope=ctx.api.location)
        self.pkind = kind
        self.busy_state = kind.states.updating
        self.destroying_state = kind.states.destroying
        self.ready_state = kind.states.ready

    def stamp(self, row: Row, state: str | None = None) -> None:
        p = self.ctx.principal
        row.meta.update(
            lastModifiedDate=clock.iso_precise(self.ctx.now), lastModifiedBy=p.email, lastModifiedByUserId=p.user_id
        )
        if state:
            row.meta["state"] = state


class DirectChange(ProductChange):
    """A change of a stateless kind: written at once in the request's transaction. Its request record is stored
    already DONE (nothing is left to complete; the Activity Log reads it like any other), unless a hook added an
    effect (a data plane's work: a DBaaS v1 user's role): that runs once the transaction has committed, when the
    lifecycle settles the record. A forced failure (/_emulator/failures) does not apply: what is written at once
    cannot fail later."""

    def finish(self) -> None:
        self.req.pop("fail", None)  # a failure rule is not used up here
        self.req.pop("fail_rule", None)
        if not self.req["effects"]:
            self.req.update(state="DONE", run_at=self.req["created"], done_at=self.req["created"])

    def created(self, kind, row: Row, final_state: str | None = None) -> Row:
        self.ctx.store.insert(row)
        self.target(kind, row)
        return row

    def updated(self, kind, row: Row, final_state: str | None = None) -> None:
        self.stamp(row)
        self.ctx.store.update(row)
        self.target(kind, row)

    def deleting(self, kind, row: Row) -> None:
        self.target(kind, row)
        self.ctx.store.delete_tree(row)


# -- rendering ----------------------------------------------------------------------------------------


def href(ctx: Ctx, kind: Kind, row: Row) -> str:
    return ctx.href(row.path) if kind.absolute_href else "/" + row.path


def render(ctx: Ctx, kind: Kind, row: Row, *, created: bool = False) -> dict:
    meta = {k: v for k, v in row.meta.items() if k != "state"}
    if not kind.stateless:
        meta[kind.state_field] = row.meta.get("state")
    if kind.meta:
        meta.update(kind.meta(ctx, row))
    if kind.metadata_fields is not None:
        meta = {k: meta[k] for k in kind.metadata_fields if k in meta}
    view = kind.created_view if created and kind.created_view else kind.view
    props = {**kind.rendered_defaults, **(view(ctx, row) if view else row.props)}
    out = {"id": row.id, "type": kind.type, "href": href(ctx, kind, row), "metadata": meta, "properties": props}
    out = {k: v for k, v in out.items() if k in kind.envelope}
    return {**out, **kind.members(ctx, row)} if kind.members else out


def filter_view(ctx: Ctx, kind: Kind, row: Row) -> dict:
    """What a list's generic filters look at: the resource as rendered, plus the kind's filter names."""
    out = render(ctx, kind, row)
    props = out.setdefault("properties", {})
    for name, prop in kind.filter_names.items():
        props[name] = props.get(prop)
    return out


def page(ctx: Ctx, kind: Kind, rows: list[Row], path: str) -> dict:
    page_rows, offset, limit, total = listing.select(
        rows,
        lambda r: filter_view(ctx, kind, r),
        ctx.query,
        paginated=True,
        default_limit=kind.default_limit,
        default_order=kind.default_order,
    )
    coll_href = ctx.href(path) if kind.absolute_href else "/" + path
    out: dict = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.tenant}/{path}")), "type": "collection"}
    if "href" in kind.envelope:  # a collection has an href where its resources have one
        out["href"] = coll_href
    out.update(items=[render(ctx, kind, r) for r in page_rows], offset=offset, limit=limit)
    links_href = ctx.href(path) if kind.absolute_links else coll_href
    out[kind.links_field] = listing.links(links_href, offset, limit, total)
    return out


def filtered(ctx: Ctx, filters: dict, rows: list[Row]) -> tuple[Ctx, list[Row]]:
    """Applies the filters a kind matches itself (Kind.filters); the generic ones see the rest of the query."""
    if not any(param in ctx.query for param in filters):
        return ctx, rows
    for param, keep in filters.items():
        values = [v for raw in ctx.query.getlist(param) for v in raw.split(",") if v.strip()]
        if values:
            rows = keep(ctx, rows, values)
    rest = QueryParams([(k, v) for k, v in ctx.query.multi_items() if k not in filters])
    return dataclasses.replace(ctx, query=rest), rows


def success(ctx: Ctx, wanted: int) -> int:
    """The 2xx status the spec gives the operation (the products differ: 200, 201 or 202): the one wanted
    (201 for a creation, 200 for a replacement) where the spec lists it, else the spec's first."""
    codes = sorted(int(c) for c in ctx.op.responses if c.isdigit() and c.startswith("2"))
    if wanted in codes or not codes:
        return wanted
    return codes[0]


# -- storage ------------------------------------------------------------------------------------------


def computed_rows(ctx: Ctx, kind: Kind, entries: dict[str, dict], parent: Row | None = None) -> list[Row]:
    """The rows of a kind computed as it is read and never stored (catalogues, MongoDB's daily snapshots), from
    id -> properties in that order, below `parent` if the kind has one."""
    return [
        Row(
            tenant=ctx.tenant,
            kind=kind.name,
            id=rid,
            parent=parent.id if parent else "",
            scope=ctx.api.location,
            path=path_of(kind, parent, rid),
            doc={"properties": props, "metadata": {}},
        )
        for rid, props in entries.items()
    ]


def new_row(ctx: Ctx, kind: Kind, parent: Row | None, props: dict, id: str | None = None) -> Row:
    rid = id or (props[kind.id_property] if kind.id_property else str(uuid.uuid4()))
    path = path_of(kind, parent, rid)
    loc = ctx.api.location or "global"
    return Row(
        tenant=ctx.tenant,
        kind=kind.name,
        id=rid,
        parent=parent.id if parent else "",
        scope=ctx.api.location,
        path=path,
        doc={
            "properties": props,
            "metadata": {
                **created_metadata(ctx.principal, clock.iso_precise(ctx.now)),
                "resourceURN": f"ionos:{ctx.api.name}:{loc}:{ctx.tenant}:{path}",
                **({} if kind.stateless else {"state": kind.states.creating}),
            },
        },
    )


def rows_of(ctx: Ctx, kind: Kind, parent: Row | None = None) -> list[Row]:
    """The stored rows of a kind in this location (a kind with a `rows` hook shows what that computes)."""
    rows = ctx.store.list(ctx.tenant, kind.name, parent.id if parent else None, scope=ctx.api.location)
    return [r for r in rows if sees(ctx, kind, r)] if kind.creator_only else rows


def sees(ctx: Ctx, kind: Kind, row: Row) -> bool:
    """A `creator_only` kind's resource is seen by administrators and by the user who created it."""
    p = ctx.principal
    return not kind.creator_only or p.admin or row.meta.get("createdByUserId") == p.user_id


def load(ctx: Ctx, kind: Kind, id: str, parent: Row | None = None) -> Row:
    if kind.rows:  # computed: found among its items, by id or by what it stands for
        row = next((r for r in kind.rows(ctx, parent) if id in (r.id, *(r.props.get(a) for a in kind.aliases))), None)
    else:
        row = ctx.store.get(ctx.tenant, kind.name, parent.id if parent else "", id)
        if row is not None and (row.scope != ctx.api.location or not sees(ctx, kind, row)):  # not here, or not theirs
            row = None
    if row is None:
        raise ApiError(404, f"{kind.type} '{id}' was not found", "404")
    return row
