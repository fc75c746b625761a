"""Monitoring Service (monitoring.<region>.ionos.com, spec monitoring-0.0.1; no official Python SDK): pipelines
(ensured by PUT), a key made by the key endpoint, and the contract's central monitoring. Each pipeline's
Prometheus remote-write endpoint takes samples at its own host name with its key (dataplanes/ingest.py)."""

from __future__ import annotations

from ...engine.errors import invalid, limit_exceeded
from ...gateway.context import Ctx
from ...store import Row
from .. import telemetry
from ..product import PKind, Product, spec_locations

PRODUCT = Product(
    name="monitoring",
    spec_name="monitoring",
    config_name="monitoring",
    locations=spec_locations("monitoring"),
    host="monitoring.{region}.ionos.com",
    privilege="accessAndManageMonitoring",
)
PRODUCTS = [PRODUCT]

NAME_MAX = 20  # as Logging's pipelines (guess)
PIPELINES_MAX = 10  # the docs: "The maximum number of pipelines you are allowed to create. The default value is 10"


def prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    name = props.get("name")
    if not name or not str(name).strip():
        raise invalid("properties.name", "is required")
    if len(name) > NAME_MAX:
        raise invalid("properties.name", f"must be at most {NAME_MAX} characters long, got {len(name)}")
    if old is None and ctx.store.count(ctx.tenant, PIPELINE.name, scope=ctx.api.location) >= PIPELINES_MAX:
        raise limit_exceeded(f"at most {PIPELINES_MAX} monitoring pipelines can be created in {ctx.api.location}")
    return {"name": name}


def meta(ctx: Ctx, row: Row) -> dict:
    out = {"grafanaEndpoint": telemetry.grafana_endpoint(row.scope)}
    host = row.x.get("ingestHost")
    if host:
        out["httpEndpoint"] = f"https://{host}"
    if telemetry.created_now(ctx, row):
        out["key"] = telemetry.current_key(ctx, PRODUCT.name, row)
    return out


after, delete = telemetry.pipeline_hooks(PRODUCT.name, "metrics", "monitoring")
PIPELINE = PKind(
    PRODUCT,
    "pipeline",
    "pipeline",
    "pipelines",
    absolute_href=True,
    creator_only=True,
    state_field="status",
    prepare=prepare,
    meta=meta,
    after=after,
    delete=delete,
)
telemetry.key_handler(PRODUCT, PIPELINE, PRODUCT.name)


def central_meta(ctx: Ctx, row: Row) -> dict:
    return {"grafanaEndpoint": telemetry.grafana_endpoint(row.scope)}


CENTRAL = telemetry.central_kind(PRODUCT, "centralmonitoring", central_meta)
