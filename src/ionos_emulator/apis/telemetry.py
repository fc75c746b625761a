"""What the Logging and Monitoring APIs share: regional pipelines whose ingest endpoint (a host name of its own)
takes data with the pipeline's key, the key endpoint that makes a new key (the old one stops working at once),
and the contract's central service in each location (one resource, switched on and off with PUT).

A key is shown once: in the response of the request that created the pipeline and in that of the key endpoint
(docs/fidelity.md, "Logging, Monitoring and Network File Storage"). It is never stored: it is an HMAC of the
pipeline's id and key generation under a secret the store keeps, so every worker checks it alike. The ingest
side (dataplanes/ingest.py) finds a pipeline by its host name through the index written here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from ..engine import clock
from ..engine.change import Change
from ..engine.errors import invalid, not_found
from ..engine.resources import Kind
from ..gateway.context import Ctx, Reply
from ..store import Row, Store
from .product import REGIONS, DirectChange, PKind, Product, computed_rows, load, new_row, render

NAME_MAX = 20  # characters of a pipeline's name (the Logging SDK: "Must be not more that 20 characters long")
SECRET_KEY = "ingest:secret"  # kv: the secret every pipeline key is derived from
KEY_LENGTH = 24  # characters, as the spec's example key


def region_of(location: str) -> str:
    return REGIONS.get(location, location.replace("/", "-"))


def _secret(store: Store) -> bytes:
    value = store.kv_get(SECRET_KEY)
    if not value:
        with store.tx():  # one secret for every worker: the first to write it wins
            value = store.kv_get(SECRET_KEY)
            if not value:
                value = secrets.token_hex(32)
                store.kv_set(SECRET_KEY, value)
    return bytes.fromhex(str(value))


def pipeline_key(store: Store, api: str, pipeline_id: str, generation: int) -> str:
    """The key of generation `generation` of a pipeline (a new key: the next generation)."""
    digest = hmac.new(_secret(store), f"{api}:{pipeline_id}:{generation}".encode(), hashlib.sha256).hexdigest()
    return digest[:KEY_LENGTH]


def key_matches(store: Store, api: str, row: Row, given: str | None) -> bool:
    if not given:
        return False
    expected = pipeline_key(store, api, row.id, int(row.x.get("keyGeneration", 0)))
    return hmac.compare_digest(given.encode(), expected.encode())


def contract_label(tenant: int) -> str:
    return hashlib.sha256(f"contract:{tenant}".encode()).hexdigest()[:12]


def ingest_host(row: Row, role: str, product: str) -> str:
    """The pipeline's own host name, as the real service shapes it
    (<12 hex>-logs.<12 hex>.logging.de-txl.ionos.com): the pipeline, then the contract."""
    return (
        f"{row.id.replace('-', '')[:12]}-{role}.{contract_label(row.tenant)}.{product}.{region_of(row.scope)}.ionos.com"
    )


def grafana_endpoint(location: str) -> str:
    return f"https://grafana.logging.{region_of(location)}.ionos.com"


# -- the ingest index (kv): host name -> pipeline, pipeline -> where its data is kept ----------------


def index_key(api: str, pipeline_id: str) -> str:
    return f"ingest:pipeline:{api}:{pipeline_id}"


def host_key(host: str) -> str:
    return f"ingest:host:{host.lower()}"


def data_key(api: str, pipeline_id: str) -> str:
    return f"ingest:data:{api}:{pipeline_id}"


def register(ctx: Ctx, api: str, row: Row, host: str) -> None:
    ctx.store.kv_set(index_key(api, row.id), {"tenant": row.tenant, "kind": row.kind, "host": host})
    ctx.store.kv_set(host_key(host), {"api": api, "id": row.id})


def unregister(ctx: Ctx, api: str, row: Row) -> None:
    entry = ctx.store.kv_get(index_key(api, row.id))
    if isinstance(entry, dict):
        ctx.store.kv_delete(host_key(str(entry.get("host", ""))))
    for k in (index_key(api, row.id), data_key(api, row.id)):
        ctx.store.kv_delete(k)


def created_now(ctx: Ctx, row: Row) -> bool:
    """The request being answered created `row` (its key is shown then, and only then)."""
    return ctx.method in ("POST", "PUT") and row.meta.get("createdDate") == clock.iso_precise(ctx.now)


def current_key(ctx: Ctx, api: str, row: Row) -> str:
    return pipeline_key(ctx.store, api, row.id, int(row.x.get("keyGeneration", 0)))


def key_handler(product: Product, kind: Kind) -> None:
    """POST /pipelines/{pipelineId}/key: a new key, shown once; the previous one is revoked at once."""

    @product.handler("pipelinesKeyPost")
    def new_key(ctx: Ctx) -> Reply:
        row = load(ctx, kind, ctx.params["pipelineId"])
        kind.style.check_access(ctx, row, write=True)
        if row.meta.get("state") == kind.states.destroying:
            raise not_found(f"{kind.type} '{row.id}' is being deleted")
        row.x["keyGeneration"] = int(row.x.get("keyGeneration", 0)) + 1
        ctx.store.update(row)
        return Reply(201, {"key": current_key(ctx, product.name, row)})


# -- the central service: one resource per contract and location ------------------------------------


def central_id(tenant: int, location: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ionos-emulator:central:{tenant}:{location}"))


def central_kind(product: Product, type: str) -> Kind:
    """The contract's central service here: listed and read as one resource that always exists (disabled
    until a PUT enables it), changed by PUT to its id; another id is not found."""

    def rows(ctx: Ctx, parent: Row | None) -> list[Row]:
        rid = central_id(ctx.tenant, ctx.api.location)
        stored = ctx.store.get(ctx.tenant, kind.name, "", rid)
        if stored is not None:
            return [stored]
        return computed_rows(ctx, kind, {rid: {"enabled": False}})

    def meta(ctx: Ctx, row: Row) -> dict[str, Any]:
        return {"grafanaEndpoint": grafana_endpoint(row.scope)}

    kind = PKind(product, "central", type, "central", absolute_href=True, stateless=True, rows=rows, meta=meta)

    @product.handler("centralPut")
    def put(ctx: Ctx) -> Reply:
        current = load(ctx, kind, ctx.params["centralId"])  # 404 for any id but the contract's
        enabled = bool((ctx.body.get("properties") or {}).get("enabled", False))
        with DirectChange(ctx, kind) as ch:
            stored = ctx.store.get(ctx.tenant, kind.name, "", current.id)
            if stored is None:
                stored = new_row(ctx, kind, None, {"enabled": enabled}, current.id)
                ch.created(kind, stored)
            else:
                stored.props["enabled"] = enabled
                ch.updated(kind, stored)
        return Reply(200, render(ctx, kind, stored))

    return kind


def pipeline_name(props: dict) -> str:
    name = props.get("name")
    if not name or not str(name).strip():
        raise invalid("properties.name", "is required")
    if len(name) > NAME_MAX:
        raise invalid("properties.name", f"must be at most {NAME_MAX} characters long, got {len(name)}")
    return str(name)


def pipeline_kind(product: Product, role: str, **options: Any) -> Kind:
    """A product's pipelines: private to the sub-user who made one; a new one gets its ingest host
    (<id>-<role>.<contract>.<product>.<region>.ionos.com) and first key, registered for the ingest side; a
    deleted one stops taking data at once and its data is dropped. With the key endpoint."""
    api = product.name

    def after(ctx: Ctx, row: Row, change: Change) -> None:
        if "ingestHost" not in row.x:
            row.x["ingestHost"] = ingest_host(row, role, api)
            row.x["keyGeneration"] = 0
            ctx.store.update(row)
            register(ctx, api, row, row.x["ingestHost"])

    def delete(ctx: Ctx, row: Row, change: Change) -> None:
        unregister(ctx, api, row)

    kind = PKind(
        product, "pipeline", "pipeline", "pipelines", absolute_href=True, creator_only=True, after=after,
        delete=delete, default_order="-createdDate", **options,
    )  # fmt: skip
    key_handler(product, kind)
    return kind
