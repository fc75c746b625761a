"""Shared Cloud API rules: contract usage and limits, address pools, MAC addresses, locations."""

from __future__ import annotations

import ipaddress
import random

from ...engine.errors import ApiError
from ...gateway.context import Ctx
from . import catalogue


def fail(message: str, code: str = "100", vdc: str = "VDC-5-1000") -> ApiError:
    return ApiError(422, f"[{vdc}] {message}", code)


def location_of(ctx: Ctx, loc_id: str) -> dict:
    """The location (the catalogue's own entry: read it, copy what is kept)."""
    loc = catalogue.shared_location(loc_id)
    if loc is None:
        raise fail(f"The location '{loc_id}' does not exist", vdc="VDC-1-2")
    return loc


def _server_counts(p: dict) -> dict[str, int]:
    if p.get("vmState") == "SHUTOFF":  # a stopped server frees its cores and RAM
        return {}
    return {"coresProvisioned": int(p.get("cores") or 0), "ramProvisioned": int(p.get("ram") or 0)}


def _volume_counts(p: dict) -> dict[str, int]:
    vt = p.get("type")
    key = "hddVolumeProvisioned" if vt == "HDD" else "dasVolumeProvisioned" if vt == "DAS" else "ssdVolumeProvisioned"
    return {key: int(float(p.get("size") or 0) * 1024)}


# What each row adds to its contract's usage (the ApiModule's `counts`): the store keeps the sums with every
# write, so a create's limit check reads a few counters instead of decoding every server of the contract.
COUNTS = {
    "server": _server_counts,
    "volume": _volume_counts,
    "ipblock": lambda p: {"reservedIpsOnContract": len(p.get("ips") or [])},
    "networkloadbalancer": lambda p: {"nlbProvisioned": 1},
    "natgateway": lambda p: {"natGatewayProvisioned": 1},
    "k8s": lambda p: {"k8sClustersProvisioned": 1},
}
USAGE = (
    "coresProvisioned",
    "ramProvisioned",
    "hddVolumeProvisioned",
    "ssdVolumeProvisioned",
    "dasVolumeProvisioned",
    "reservedIpsOnContract",
    "k8sClustersProvisioned",
    "nlbProvisioned",
    "natGatewayProvisioned",
)


def usage(ctx: Ctx) -> dict:
    """Live counters of the contract, as /contracts shows them in resourceLimits (but reservedIpsInUse)."""
    counters = ctx.store.counters(ctx.tenant)
    return {name: counters.get(name, 0) for name in USAGE}


def reserved_ips_in_use(ctx: Ctx) -> int:
    """The reserved addresses that NICs use: set logic over every NIC and IP block, for the contracts view only."""
    used = {ip for n in ctx.store.list(ctx.tenant, "nic") for ip in (n.props.get("ips") or [])}
    return sum(1 for b in ctx.store.list(ctx.tenant, "ipblock") for ip in (b.props.get("ips") or []) if ip in used)


def limits(ctx: Ctx) -> dict:
    return ctx.identity.contract(ctx.tenant)["resourceLimits"]


def check_server_size(
    ctx: Ctx, loc: dict, cpu_family: str | None, cores: int, ram: int, extra_cores: int = 0, extra_ram: int = 0
) -> None:
    """Per-server limits of the contract and the location's CPU family, then the contract totals."""
    lim = limits(ctx)
    if cores > lim["coresPerServer"]:
        raise fail(
            f"The number of cores ({cores}) exceeds the limit per server ({lim['coresPerServer']})", vdc="VDC-14-1"
        )
    if ram > lim["ramPerServer"]:
        raise fail(f"The RAM ({ram} MB) exceeds the limit per server ({lim['ramPerServer']} MB)", vdc="VDC-14-2")
    arch = [a for a in loc["properties"]["cpuArchitecture"] if cpu_family in (None, a["cpuFamily"])]
    if arch and cores > max(a["maxCores"] for a in arch):
        raise fail(f"The number of cores ({cores}) exceeds what the CPU family offers in {loc['id']}")
    if arch and ram > max(a["maxRam"] for a in arch):
        raise fail(f"The RAM ({ram} MB) exceeds what the CPU family offers in {loc['id']}")
    u = usage(ctx)
    if u["coresProvisioned"] + extra_cores > lim["coresPerContract"]:
        raise fail(
            f"The contract's core limit ({lim['coresPerContract']}) would be exceeded ({u['coresProvisioned']} in use)",
            vdc="VDC-14-3",
        )
    if u["ramProvisioned"] + extra_ram > lim["ramPerContract"]:
        raise fail(
            f"The contract's RAM limit ({lim['ramPerContract']} MB) would be exceeded "
            f"({u['ramProvisioned']} MB in use)",
            vdc="VDC-14-4",
        )


def check_storage(ctx: Ctx, vtype: str, size_gb: float, extra_gb: float | None = None) -> None:
    lim = limits(ctx)
    mb = int(size_gb * 1024)
    per_volume, per_contract, used_key = (
        ("hddLimitPerVolume", "hddLimitPerContract", "hddVolumeProvisioned")
        if vtype == "HDD"
        else ("ssdLimitPerVolume", "ssdLimitPerContract", "ssdVolumeProvisioned")
    )
    if mb > lim[per_volume]:
        raise fail(
            f"The volume size ({size_gb:g} GB) exceeds the limit per volume ({lim[per_volume] // 1024} GB)",
            vdc="VDC-14-5",
        )
    add = int((size_gb if extra_gb is None else extra_gb) * 1024)
    if vtype != "DAS" and usage(ctx)[used_key] + add > lim[per_contract]:
        raise fail(
            f"The contract's storage limit for {vtype} ({lim[per_contract] // 1024} GB) would be exceeded",
            vdc="VDC-14-6",
        )


def allocate_public_ips(ctx: Ctx, n: int) -> list[str]:
    """Public addresses unique across the whole emulator, from the documentation ranges (--public-ip-ranges;
    RFC 5737 by default), so no address handed out routes to a real host: the next ones after the last handed
    out, skipping those still held by any contract (freed ones come round again)."""
    pool = [ip for net in public_ranges(ctx.settings.public_ip_ranges) for ip in net.hosts()]
    held = _public_ips_held(ctx)
    start = int(ctx.store.kv_get("ip:public") or 0)
    out: list[str] = []
    for step in range(len(pool)):
        i = (start + step) % len(pool)
        ip = str(pool[i])
        if ip not in held:
            out.append(ip)
            if len(out) == n:
                ctx.store.kv_set("ip:public", i + 1)
                return out
    raise fail(
        f"No {n} public IP addresses are free in the emulator's ranges ({ctx.settings.public_ip_ranges})", vdc="VDC-8-7"
    )


def public_ranges(spec: str) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(part.strip()) for part in spec.split(",") if part.strip()]


def _public_ips_held(ctx: Ctx) -> set[str]:
    """Every public address a resource of any contract holds (IP blocks, NICs on public LANs, legacy load
    balancers, Kubernetes nodes)."""
    held: set[str] = set()
    for contract in ctx.identity.contracts():
        tenant = int(contract["contractNumber"])
        for kind, field in (("ipblock", "ips"), ("nic", "ips"), ("loadbalancer", "ip"), ("k8snode", "publicIP")):
            for row in ctx.store.list(tenant, kind):
                value = row.props.get(field)
                held.update(value if isinstance(value, list) else [value] if value else [])
    return held


def private_cidr(ctx: Ctx) -> str:
    counter = int(ctx.store.kv_get("ip:lan") or 0)
    ctx.store.kv_set("ip:lan", counter + 1)
    return f"10.{7 + counter // 254 % 240}.{counter % 254 + 1}.0/24"


# IPv6 blocks come from the documentation range (RFC 3849), never from real addresses
IPV6_RANGE = ipaddress.IPv6Network("2001:db8::/32")


def datacenter_ipv6_cidr(ctx: Ctx) -> str:
    """A data center's own /56, unique across the emulator (a counter in the store)."""
    counter = int(ctx.store.kv_get("ip:v6dc") or 0)
    ctx.store.kv_set("ip:v6dc", counter + 1)
    start = int(IPV6_RANGE.network_address) + (counter % 2**24) * 2 ** (128 - 56)
    return str(ipaddress.IPv6Network((start, 56)))


def ipv6_block(wanted, within: str | None, prefix: int, taken: set[str], attr: str, what: str) -> str:
    """A /`prefix` inside `within` not in `taken`: the first free one for "AUTO", else the one the client
    chose, which must be such a block (422 naming `attr`)."""
    if within is None:
        raise fail(f"attribute '{attr}' can only be set once the {what} has an IPv6 CIDR block", vdc="VDC-1-1")
    outer = ipaddress.IPv6Network(within)
    if isinstance(wanted, str) and wanted.upper() == "AUTO":
        for block in outer.subnets(new_prefix=prefix):
            if str(block) not in taken:
                return str(block)
        raise fail(f"the {what}'s IPv6 CIDR block {within} has no free /{prefix} left", vdc="VDC-1-4")
    try:
        block = ipaddress.IPv6Network(wanted)
    except (TypeError, ValueError):
        raise fail(f"attribute '{attr}' must be an IPv6 CIDR block or AUTO, not {wanted!r}", vdc="VDC-1-1") from None
    if block.prefixlen != prefix or not block.subnet_of(outer):
        raise fail(f"attribute '{attr}': {block} is not a /{prefix} inside the {what}'s {within}", vdc="VDC-1-4")
    if str(block) in taken:
        raise fail(f"attribute '{attr}': {block} is already in use", vdc="VDC-1-4")
    return str(block)


def mac() -> str:
    return "02:01:" + ":".join(f"{random.randrange(256):02x}" for _ in range(4))


def as_int(value, attr: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise fail(f"attribute '{attr}' must be an integer", vdc="VDC-1-1")
    return int(value)
