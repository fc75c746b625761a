"""CDN (cdn.de-fra.ionos.com): distributions of a domain (its certificate from Certificate Manager) with
routing rules that name an upstream host, caching, WAF, a rate-limit class and geo restrictions, and the
edge's IP ranges. A request whose Host is a distribution's domain (or under /_cdn/<domain>/ on the
emulator's port) is served from the upstream of its longest matching rule through a small cache
(dataplanes/cdn.py)."""

from __future__ import annotations

import hashlib
import ipaddress
import uuid

from ...engine.change import Change
from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...settings import Settings
from ...store import Row
from .. import webhosts
from ..product import PKind, Product, computed_rows, spec_locations

PRODUCT = Product(
    name="cdn",
    spec_name="cdn",
    config_name="cdn",
    locations=spec_locations("cdn") or ("",),
    host="cdn.{region}.ionos.com",
    privilege="accessAndManageCdn",
)
PRODUCTS = [PRODUCT]

# The edge the distributions are served from: the last two addresses of the emulator's last public range
# (documentation addresses by default, routed nowhere) and one of the IPv6 documentation range. Distributions
# share them, as a CDN's domains share its edge: the data plane tells them apart by Host.
EDGE_IPV6 = ipaddress.IPv6Address("2001:db8:cd::1")


def edge_ipv4(settings: Settings) -> list[str]:
    last = [ipaddress.IPv4Network(p.strip()) for p in settings.public_ip_ranges.split(",") if p.strip()][-1]
    if last.num_addresses >= 4:
        return [str(last.broadcast_address - 2), str(last.broadcast_address - 1)]
    return [str(last.network_address)]


def endpoint_ips(settings: Settings, distribution_id: str) -> tuple[str, str]:
    """The edge addresses a distribution is reached at: one of the edge's, always the same for one id."""
    v4 = edge_ipv4(settings)
    n = int.from_bytes(hashlib.sha256(distribution_id.encode()).digest()[:8], "big")
    return v4[n % len(v4)], str(EDGE_IPV6)


def _meta(ctx: Ctx, row: Row) -> dict:
    """The addresses show once the distribution is AVAILABLE (the spec's note on IpAddresses)."""
    if row.meta.get("state") != "AVAILABLE":
        return {}
    v4, v6 = endpoint_ips(ctx.settings, row.id)
    return {"publicEndpointIpv4": v4, "publicEndpointIpv6": v6}


def check_distribution(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    domain = webhosts.domain_name("properties.domain", props.get("domain"))
    webhosts.check_free(ctx, "properties.domain", domain, old.id if old else None)
    props["domain"] = domain
    if props.get("certificateId") is not None:
        webhosts.certificate(ctx, "properties.certificateId", props["certificateId"])
    prefixes: set[str] = set()
    for i, rule in enumerate(props.get("routingRules") or []):
        attr = f"properties.routingRules[{i}]"
        if rule["prefix"] in prefixes:
            raise invalid(f"{attr}.prefix", f"names '{rule['prefix']}' twice")
        prefixes.add(rule["prefix"])
        up = rule["upstream"]
        up["host"] = webhosts.domain_name(f"{attr}.upstream.host", up.get("host"))
        geo = up.get("geoRestrictions")
        if geo is not None and "allowList" in geo and "blockList" in geo:
            raise invalid(f"{attr}.upstream.geoRestrictions", "holds an allowList or a blockList, not both")
    return props


def claim_domain(ctx: Ctx, row: Row, change: Change) -> None:
    webhosts.claim(ctx, row, [row.props["domain"]])


# The state enum of distributions has no DESTROYING: a deletion shows BUSY until the distribution is gone.
DISTRIBUTION = PKind(
    PRODUCT,
    "distribution",
    "distribution",
    "distributions",
    creating="BUSY",
    updating="BUSY",
    destroying="BUSY",
    prepare=check_distribution,
    after=claim_domain,
    meta=_meta,
    absolute_links=True,
)


def _ips(ctx: Ctx, parent: Row | None) -> list[Row]:
    """The edge's addresses, one resource each, with ids that stay the same."""
    entries = {}
    for family, ip in [("ipv4", ip) for ip in edge_ipv4(ctx.settings)] + [("ipv6", str(EDGE_IPV6))]:
        rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ionos-emulator:cdn:edge:{ip}"))
        entries[rid] = {"type": family, "cidr": ip, "description": "Content Distribution."}
    return computed_rows(ctx, IP, entries)


IP = PKind(PRODUCT, "ip", "edgeserveripinfo", "ips", stateless=True, rows=_ips, metadata_fields=(), absolute_links=True)
