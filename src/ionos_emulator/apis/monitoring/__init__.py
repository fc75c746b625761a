"""Monitoring Service (monitoring.<region>.ionos.com, spec monitoring-0.0.1; no official Python SDK): pipelines
(ensured by PUT), a key made by the key endpoint, and the contract's central monitoring. Each pipeline's
Prometheus remote-write endpoint takes samples at its own host name with its key (dataplanes/ingest.py)."""

from __future__ import annotations

from ...engine.errors import limit_exceeded
from ...gateway.context import Ctx
from ...store import Row
from .. import telemetry
from ..dbaas import regional_product

PRODUCT = regional_product("monitoring", "monitoring.{region}.ionos.com", "accessAndManageMonitoring")
PRODUCTS = [PRODUCT]

PIPELINES_MAX = 10  # the docs: "The maximum number of pipelines you are allowed to create. The default value is 10"


def prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    name = telemetry.pipeline_name(props)  # at most 20 characters, as Logging's (guess)
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


PIPELINE = telemetry.pipeline_kind(PRODUCT, "metrics", state_field="status", prepare=prepare, meta=meta)
CENTRAL = telemetry.central_kind(PRODUCT, "centralmonitoring")
