"""API Gateway (apigateway.de-txl.ionos.com): gateways with custom domains (their certificates from Certificate
Manager) and routes with their upstreams. Each gateway answers at its public endpoint's host name, at its
custom domains and under /_gateway/<id>/ on the emulator's port: requests are proxied to the upstreams of the
route their path and method match (dataplanes/apigateway.py)."""

from __future__ import annotations

import hashlib
from typing import Any

from ...engine.change import Change
from ...engine.errors import invalid, unprocessable
from ...gateway.context import Ctx
from ...store import Row
from .. import webhosts
from ..product import REGIONS, PKind, Product, spec_locations

PRODUCT = Product(
    name="apigateway",
    spec_name="apigateway",
    config_name="apigateway",
    locations=spec_locations("apigateway") or ("",),
    host="apigateway.{region}.ionos.com",
    privilege="accessAndManageApiGateway",
)
PRODUCTS = [PRODUCT]

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "CONNECT", "TRACE")
ROUTE_TYPES = ("http", "grpc")
SCHEMES = ("http", "https", "grpc", "grpcs")
LOAD_BALANCERS = ("roundrobin", "least_conn")
MAX_CUSTOM_DOMAINS = 5
NEWEST_FIRST = "-createdDate"  # the lists' orderBy default (the API reference)
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _label(seed: str) -> str:
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    out = ""
    for _ in range(12):
        n, d = divmod(n, 36)
        out += ALPHABET[d]
    return out


def public_endpoint(tenant: int, gateway_id: str, location: str) -> str:
    """The host name a gateway answers on, shaped as the real one: `<12>-ag.<12>.apigateway.<region>.ionos.com`
    (the first label from the gateway, the second from the contract)."""
    region = REGIONS.get(location, location.replace("/", "-"))
    return f"{_label(gateway_id)}-ag.{_label(str(tenant))}.{PRODUCT.host.format(region=region)}"


def _endpoint_meta(ctx: Ctx, row: Row) -> dict:
    gateway_id = row.parent or row.id  # a route shows its gateway's endpoint
    return {"publicEndpoint": public_endpoint(row.tenant, gateway_id, row.scope)}


def _flag(props: dict, name: str) -> None:
    if props.get(name) is None:
        props[name] = False


# -- gateways -----------------------------------------------------------------------------------------


def check_gateway(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    if not isinstance(props.get("name"), str) or not props["name"].strip():
        raise invalid("properties.name", "is required")
    _flag(props, "logs")
    _flag(props, "metrics")
    domains = props.get("customDomains")
    if domains is None:
        props.pop("customDomains", None)
        return props
    if len(domains) > MAX_CUSTOM_DOMAINS:
        raise invalid("properties.customDomains", f"holds at most {MAX_CUSTOM_DOMAINS} domains")
    seen: set[str] = set()
    for i, domain in enumerate(domains):
        attr = f"properties.customDomains[{i}]"
        name = webhosts.domain_name(f"{attr}.name", domain.get("name"))
        if name in seen:
            raise invalid(f"{attr}.name", f"names '{name}' twice")
        seen.add(name)
        webhosts.check_free(ctx, f"{attr}.name", name, old.id if old else None)
        if domain.get("certificateId") is not None:
            webhosts.certificate(ctx, f"{attr}.certificateId", domain["certificateId"])
        domain["name"] = name
    return props


def gateway_hosts(row: Row) -> list[str]:
    return [public_endpoint(row.tenant, row.id, row.scope)] + [d["name"] for d in row.props.get("customDomains", [])]


def claim_gateway(ctx: Ctx, row: Row, change: Change) -> None:
    webhosts.claim(ctx, row, gateway_hosts(row))


GATEWAY = PKind(
    PRODUCT,
    "gateway",
    "gateway",
    "gateways",
    state_field="status",
    prepare=check_gateway,
    after=claim_gateway,
    meta=_endpoint_meta,
    default_order=NEWEST_FIRST,
)


# -- routes -------------------------------------------------------------------------------------------


def _choice(attr: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise invalid(attr, f"must be one of {', '.join(allowed)}, got '{value}'")
    return str(value)


def check_upstream(attr: str, up: dict) -> dict:
    if not isinstance(up.get("host"), str) or not up["host"].strip():
        raise invalid(f"{attr}.host", "is required")
    up["host"] = host = up["host"].strip()
    if not webhosts.is_address(host) and not all(
        webhosts.LABEL.match(label) for label in host.lower().rstrip(".").split(".")
    ):
        raise invalid(f"{attr}.host", f"must be a host name or an IP address, got '{host}'")
    up["scheme"] = _choice(f"{attr}.scheme", up.get("scheme"), SCHEMES, "http")
    up["loadbalancer"] = _choice(f"{attr}.loadbalancer", up.get("loadbalancer"), LOAD_BALANCERS, "roundrobin")
    port: int = 80 if up.get("port") is None else up["port"]
    if not 1 <= port <= 65535:
        raise invalid(f"{attr}.port", f"must be between 1 and 65535, got {port}")
    up["port"] = port
    weight: int = 100 if up.get("weight") is None else up["weight"]
    if weight < 0:
        raise invalid(f"{attr}.weight", f"must not be negative, got {weight}")
    up["weight"] = weight
    return up


def check_route(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    if parent is not None and parent.meta.get("state") == GATEWAY.states.destroying:
        raise unprocessable(f"gateway '{parent.id}' is being deleted")
    if not isinstance(props.get("name"), str) or not props["name"].strip():
        raise invalid("properties.name", "is required")
    props["type"] = _choice("properties.type", props.get("type"), ROUTE_TYPES, "http")
    paths = props.get("paths")
    if not paths:
        raise invalid("properties.paths", "is required")
    for i, path in enumerate(paths):
        if not path.startswith("/"):
            raise invalid(f"properties.paths[{i}]", f"must start with '/', got '{path}'")
        if "*" in path[:-1]:
            raise invalid(f"properties.paths[{i}]", f"may hold '*' only at its end, got '{path}'")
    methods = props.get("methods")
    if not methods:
        raise invalid("properties.methods", "is required")
    props["methods"] = [_choice(f"properties.methods[{i}]", m.upper(), METHODS, "GET") for i, m in enumerate(methods)]
    if props.get("websocket") is None:
        props["websocket"] = False
    upstreams = props.get("upstreams")
    if not upstreams:
        raise invalid("properties.upstreams", "is required")
    props["upstreams"] = [check_upstream(f"properties.upstreams[{i}]", up) for i, up in enumerate(upstreams)]
    if not any(up["weight"] for up in props["upstreams"]):
        raise invalid("properties.upstreams", "need one upstream with a weight above 0")
    return props


ROUTE = PKind(
    PRODUCT,
    "route",
    "route",
    "routes",
    parent=GATEWAY,
    state_field="status",
    prepare=check_route,
    meta=_endpoint_meta,
    default_order=NEWEST_FIRST,
)
