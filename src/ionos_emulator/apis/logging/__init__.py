"""Logging Service (logging.<region>.ionos.com, SDK ionoscloud-logging 2.0.0; the spec file logging-0.0.1 has the
same paths): pipelines with their log streams (source, tag, protocol, destinations with a retention), a key
made by the key endpoint, and the contract's central logging. Each pipeline's HTTP source takes log lines at
its own host name with its key (dataplanes/ingest.py); the emulator keeps the last ones it received."""

from __future__ import annotations

import re

from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...store import Row
from .. import telemetry
from ..dbaas import regional_product

PRODUCT = regional_product("logging", "logging.{region}.ionos.com", "accessAndManageLogging")
PRODUCTS = [PRODUCT]

SOURCES = ("generic", "kubernetes", "docker", "systemd")
PROTOCOLS = ("http", "tcp")
DESTINATIONS = ("loki",)
RETENTION_DAYS = (0, 7, 14, 30)
TAG = re.compile(r"^[A-Za-z0-9]{3,20}$")
TCP_PORT = 9000  # the Fluent Bit forward output of the docs


def _one_of(attr: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise invalid(attr, f"must be one of {', '.join(str(a) for a in allowed)}, got '{value}'")


def log_streams(value) -> list[dict]:
    if value is None:
        return []
    out, tags = [], set()
    for i, log in enumerate(value):
        attr = f"properties.logs[{i}]"
        for name in ("source", "tag", "protocol", "destinations"):
            if log.get(name) in (None, ""):
                raise invalid(f"{attr}.{name}", "is required")
        _one_of(f"{attr}.source", log["source"], SOURCES)
        _one_of(f"{attr}.protocol", log["protocol"], PROTOCOLS)
        tag = str(log["tag"])
        if not TAG.match(tag):
            raise invalid(f"{attr}.tag", f"must be 3 to 20 letters and digits, got '{tag}'")
        if tag.lower() in tags:
            raise invalid(f"{attr}.tag", f"must be unique within the pipeline ('{tag}' is used twice)")
        tags.add(tag.lower())
        dests = []
        for j, dest in enumerate(log["destinations"]):
            dattr = f"{attr}.destinations[{j}]"
            for name in ("type", "retentionInDays"):
                if dest.get(name) is None:
                    raise invalid(f"{dattr}.{name}", "is required")
            _one_of(f"{dattr}.type", dest["type"], DESTINATIONS)
            _one_of(f"{dattr}.retentionInDays", dest["retentionInDays"], RETENTION_DAYS)
            dests.append({"type": dest["type"], "retentionInDays": dest["retentionInDays"]})
        out.append({"source": log["source"], "tag": tag, "protocol": log["protocol"], "destinations": dests})
    return out


def prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    return {"name": telemetry.pipeline_name(props), "logs": log_streams(props.get("logs"))}


def view(ctx: Ctx, row: Row) -> dict:
    props = dict(row.props)
    host = row.x.get("ingestHost")
    if host:
        props.update(httpAddress=host, tcpAddress=f"{host}:{TCP_PORT}")
    props["grafanaAddress"] = telemetry.grafana_endpoint(row.scope)
    if telemetry.created_now(ctx, row):
        props["key"] = telemetry.current_key(ctx, PRODUCT.name, row)
    return props


PIPELINE = telemetry.pipeline_kind(PRODUCT, "logs", prepare=prepare, view=view)
CENTRAL = telemetry.central_kind(PRODUCT, "centrallogging")
