"""LANs, NICs, firewall rules and IP blocks (api-behaviour.md §6.5)."""

from __future__ import annotations

import ipaddress
import re

from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from .compute import DATACENTER, MAX_DEVICES, free_device_and_slot, handler
from .model import (
    Change,
    Kind,
    apply_props,
    computed_collection,
    full,
    load_chain,
    new_row,
    next_seq_id,
    props_of,
    register,
    register_shareable,
    require,
    stored,
)
from .rules import allocate_public_ips, as_int, fail, ipv6_block, limits, location_of, mac, private_cidr, usage

# -- LANs -------------------------------------------------------------------------------------------


def _lan_ipv6(ctx: Ctx, dc, wanted, own_id: str = "") -> str | None:
    """A LAN's /64: null (no IPv6), "AUTO" (the first free one of the data center's /56) or one chosen inside
    it, unique among the data center's LANs."""
    if wanted is None:
        return None
    taken = {
        str(lan.props.get("ipv6CidrBlock")) for lan in ctx.store.list(ctx.tenant, "lan", dc.id) if lan.id != own_id
    }
    return ipv6_block(wanted, dc.props.get("ipv6CidrBlock"), 64, taken, "properties.ipv6CidrBlock", "data center")


def _lan_props(ctx: Ctx, dc, p: dict) -> dict:
    public = bool(p.get("public", False))
    return {
        "name": p.get("name", ""),
        "public": public,
        "ipFailover": list(p.get("ipFailover") or []),
        "ipv4CidrBlock": None if public else private_cidr(ctx),
        "ipv6CidrBlock": _lan_ipv6(ctx, dc, p.get("ipv6CidrBlock")),
        **({"pcc": p["pcc"]} if p.get("pcc") else {}),
    }


def create_lan(ctx: Ctx, dc, body, ch: Change):
    p = props_of(body)
    if p.get("public"):
        require(ctx, "createInternetAccess", "a public LAN")
    props = _lan_props(ctx, dc, p)
    row = new_row(ctx, LAN, dc, props, id=next_seq_id(ctx, dc, "lan_seq"))
    return ch.created(LAN, row)


def create_lan_implicitly(ctx: Ctx, dc, lan_id: int, ch: Change):
    """'If the LAN ID does not exist, it will be implicitly created' (a private LAN with that id)."""
    row = new_row(ctx, LAN, dc, _lan_props(ctx, dc, {}), id=str(lan_id))
    if int(dc.x.get("lan_seq", 0)) < lan_id:
        dc.x["lan_seq"] = lan_id
        ctx.store.update(dc)
    return ch.created(LAN, row)


def update_lan(ctx: Ctx, row, props, replace, ch):
    if props.get("public") and not row.props.get("public"):
        require(ctx, "createInternetAccess", "making a LAN public")
    if "public" in props and bool(props["public"]) != row.props.get("public"):
        row.props["ipv4CidrBlock"] = None if props["public"] else private_cidr(ctx)
    for f in props.get("ipFailover") or []:
        nics = [n for n in _lan_nic_rows(ctx, row) if n.id == f.get("nicUuid")]
        if not nics or f.get("ip") not in (nics[0].props.get("ips") or []):
            raise fail(f"IP failover entry {f} must name a NIC in this LAN and one of its IPs", vdc="VDC-7-1")
    ipv6_changed = "ipv6CidrBlock" in props and props["ipv6CidrBlock"] != row.props.get("ipv6CidrBlock")
    if ipv6_changed:
        dc = stored(ctx.store.get(ctx.tenant, "datacenter", "", row.parent), f"data center of LAN {row.id}")
        props = {**props, "ipv6CidrBlock": _lan_ipv6(ctx, dc, props["ipv6CidrBlock"], row.id)}
    apply_props(row, props, replace, mutable=("name", "public", "ipFailover", "pcc", "ipv6CidrBlock"))
    if ipv6_changed:  # the LAN's NICs get (or lose) a /80 and an address of the LAN's new block
        for nic in _lan_nic_rows(ctx, row):
            nic.props.update(_nic_ipv6(ctx, row, {}, nic.id))
            ch.updated(NIC, nic)


def delete_lan(ctx: Ctx, row, ch):
    if _lan_nic_rows(ctx, row):
        raise fail(f"LAN {row.id} is still in use by NICs; remove them first", "200", vdc="VDC-7-2")
    for user in lan_users(ctx, row):
        raise fail(f"LAN {row.id} is still used by {user.kind} {user.id}; remove it first", "200", vdc="VDC-7-3")


def lan_users(ctx: Ctx, lan) -> list:
    """NAT gateways and load balancers of the data center that are connected to the LAN."""
    users = [
        g
        for g in ctx.store.list(ctx.tenant, "natgateway", lan.parent)
        if any(str(e.get("id")) == lan.id for e in g.props.get("lans") or [])
    ]
    for kind in ("networkloadbalancer", "applicationloadbalancer"):
        users += [
            lb
            for lb in ctx.store.list(ctx.tenant, kind, lan.parent)
            if lan.id in (str(lb.props.get("listenerLan")), str(lb.props.get("targetLan")))
        ]
    return users


def _lan_nic_rows(ctx: Ctx, lan):
    return [n for n in ctx.store.list(ctx.tenant, "nic", scope=lan.parent) if str(n.props.get("lan")) == lan.id]


def _lan_nics(ctx: Ctx, lan):
    return NIC, _lan_nic_rows(ctx, lan)


LAN = register(
    Kind(
        "lan",
        "lan",
        "lans",
        parent="datacenter",
        entities=("nics",),
        seq_ids=True,
        create=create_lan,
        update=update_lan,
        delete=delete_lan,
        entity_rows={"nics": _lan_nics},
    )
)


# -- NICs -------------------------------------------------------------------------------------------


def _assign_ips(ctx: Ctx, lan, wanted: list | None) -> list[str]:
    if wanted:
        for ip in wanted:
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                raise fail(f"'{ip}' is not a valid IPv4 address", vdc="VDC-8-1") from None
        if lan.props.get("public"):
            # a public address must come from a block reserved in the data center's own location
            dc = ctx.store.get(ctx.tenant, "datacenter", "", lan.parent)
            loc = dc.props.get("location") if dc else None
            owned = {
                i
                for b in ctx.store.list(ctx.tenant, "ipblock")
                if b.props.get("location") == loc
                for i in b.props.get("ips") or []
            }
            foreign = [ip for ip in wanted if ip not in owned]
            if foreign:
                raise fail(f"IP {foreign[0]} is not reserved in an IP block of this contract in {loc}", vdc="VDC-8-2")
        return list(wanted)
    if lan.props.get("public"):
        return allocate_public_ips(ctx, 1)
    net = ipaddress.IPv4Network(lan.props["ipv4CidrBlock"])
    n = int(lan.x.get("host_seq", 10)) + 1
    lan.x["host_seq"] = n
    ctx.store.update(lan)
    return [str(net.network_address + n)]


MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def _chosen_mac(value) -> str | None:
    """A MAC address the client chose on create (the real API takes it, though the spec marks it read-only)."""
    if value is None:
        return None
    if not MAC.fullmatch(str(value).lower()):
        raise fail(f"attribute 'properties.mac' is not a MAC address: '{value}'", vdc="VDC-8-4")
    return str(value).lower()


def _nic_ipv6(ctx: Ctx, lan, p: dict, own_id: str = "") -> dict:
    """A NIC's IPv6 on an IPv6 LAN: its own /80 of the LAN's /64 (the first free one unless chosen) and one
    address in it unless `ipv6Ips` chooses them; on a LAN without IPv6 none of these can be set."""
    lan_block = lan.props.get("ipv6CidrBlock")
    if lan_block is None:
        for attr in ("ipv6CidrBlock", "ipv6Ips", "dhcpv6"):
            if p.get(attr) not in (None, []):
                raise fail(f"attribute 'properties.{attr}' needs a LAN with an IPv6 CIDR block", vdc="VDC-1-1")
        return {"ipv6CidrBlock": None, "ipv6Ips": [], "dhcpv6": None}
    taken = {str(n.props.get("ipv6CidrBlock")) for n in _lan_nic_rows(ctx, lan) if n.id != own_id}
    block = ipv6_block(p.get("ipv6CidrBlock") or "AUTO", lan_block, 80, taken, "properties.ipv6CidrBlock", "LAN")
    net = ipaddress.IPv6Network(block)
    ips = list(p.get("ipv6Ips") or [str(net.network_address + 1)])
    for ip in ips:
        try:
            inside = ipaddress.IPv6Address(ip) in net
        except (TypeError, ValueError):
            inside = False
        if not inside:
            raise fail(f"attribute 'properties.ipv6Ips': {ip!r} is not an IPv6 address in the NIC's {block}", "100")
    return {"ipv6CidrBlock": block, "ipv6Ips": ips, "dhcpv6": bool(p.get("dhcpv6", True))}


def create_nic_row(ctx: Ctx, dc, server, p: dict, ch: Change):
    if "lan" not in p:
        raise fail("attribute 'properties.lan' is required", vdc="VDC-1-2")
    lan_id = as_int(p["lan"], "properties.lan")
    if lan_id < 1:
        raise fail("attribute 'properties.lan' must be at least 1", vdc="VDC-1-4")
    lan = ctx.store.get(ctx.tenant, "lan", dc.id, str(lan_id)) or create_lan_implicitly(ctx, dc, lan_id, ch)
    device, slot = free_device_and_slot(ctx, server, "nic")
    props = {
        "name": p.get("name", ""),
        "mac": _chosen_mac(p.get("mac")) or mac(),
        "ips": _assign_ips(ctx, lan, p.get("ips")),
        "dhcp": bool(p.get("dhcp", True)),
        **_nic_ipv6(ctx, lan, p),
        "lan": lan_id,
        "firewallActive": bool(p.get("firewallActive", False)),
        "firewallType": p.get("firewallType", "INGRESS"),
        "deviceNumber": device,
        "pciSlot": slot,
        "vnet": p.get("vnet"),
    }
    props = {k: v for k, v in props.items() if v is not None or k in ("ipv6CidrBlock", "dhcpv6")}
    row = new_row(ctx, NIC, server, props, scope=dc.id)
    return ch.created(NIC, row)


def create_nic(ctx: Ctx, server, body, ch: Change):
    dc = stored(ctx.store.get(ctx.tenant, "datacenter", "", server.parent), f"data center of server {server.id}")
    devices = len(ctx.store.list(ctx.tenant, "volume", dc.id, link=server.id)) + ctx.store.count(
        ctx.tenant, "nic", server.id
    )
    if devices + 1 > MAX_DEVICES:
        raise fail(f"A server can have at most {MAX_DEVICES} volumes and NICs together", vdc="VDC-5-1005")
    return create_nic_row(ctx, dc, server, props_of(body), ch)


def update_nic(ctx: Ctx, row, props, replace, ch):
    dc = stored(ctx.store.get(ctx.tenant, "datacenter", "", row.scope), f"data center of NIC {row.id}")
    lan_id = row.props["lan"]
    if "lan" in props:
        lan_id = as_int(props["lan"], "properties.lan")
        if lan_id < 1:
            raise fail("attribute 'properties.lan' must be at least 1", vdc="VDC-1-4")
        props = {**props, "lan": lan_id}
    if "ips" in props or lan_id != row.props["lan"]:
        # validated or assigned once, against the LAN the NIC ends up in: null or [] (and a move without
        # ips) ask for an automatic address as on create (spec: NicProperties.ips); an address handed out
        # automatically must not then be checked against the reserved blocks
        lan = ctx.store.get(ctx.tenant, "lan", dc.id, str(lan_id)) or create_lan_implicitly(ctx, dc, lan_id, ch)
        props = {**props, "ips": _assign_ips(ctx, lan, props.get("ips"))}
    if "lan" in props or any(attr in props for attr in ("ipv6CidrBlock", "ipv6Ips", "dhcpv6")):
        lan = stored(ctx.store.get(ctx.tenant, "lan", dc.id, str(lan_id)), f"LAN {lan_id}")
        kept = {} if lan_id != row.props["lan"] else {a: row.props.get(a) for a in ("ipv6CidrBlock", "dhcpv6")}
        props = {**props, **_nic_ipv6(ctx, lan, {**kept, **props}, row.id)}
    apply_props(
        row,
        props,
        replace,
        mutable=("name", "ips", "dhcp", "ipv6Ips", "ipv6CidrBlock", "dhcpv6", "lan", "firewallActive", "firewallType"),
        immutable=("mac",),
    )


NIC = register(
    Kind(
        "nic",
        "nic",
        "nics",
        parent="server",
        entities=("flowlogs", "firewallrules", "securitygroups"),
        create=create_nic,
        update=update_nic,
    )
)


lan_nics, lan_nic = computed_collection(
    NIC, [(DATACENTER, "datacenterId"), (LAN, "lanId")], _lan_nic_rows, "nicId", "in LAN"
)
handler("datacentersLansNicsGet")(lan_nics)
handler("datacentersLansNicsFindById")(lan_nic)


@handler("datacentersLansNicsPost")
def lan_attach_nic(ctx: Ctx) -> Reply:
    """Moves an existing NIC (given by id) of a server in this data center into the LAN."""
    dc, lan = load_chain(ctx, [(DATACENTER, "datacenterId"), (LAN, "lanId")])
    nic_id = (ctx.body or {}).get("id")
    nic = next((n for n in ctx.store.list(ctx.tenant, "nic", scope=dc.id) if n.id == nic_id), None)
    if nic is None:
        raise ApiError(404, f"Resource does not exist: nic {nic_id}", "309")
    with Change(ctx, "nic", dc.id) as ch:
        if str(nic.props.get("lan")) != lan.id:
            nic.props["lan"] = int(lan.id)
            nic.props["ips"] = _assign_ips(ctx, lan, None)
        ch.updated(NIC, nic)
    return ch.accepted(full(ctx, NIC, nic, ctx.depth))


# -- firewall rules ---------------------------------------------------------------------------------


def _rule_props(p: dict, old: dict | None = None) -> dict:
    merged = {**(old or {}), **p}
    proto = merged.get("protocol")
    if not proto:
        raise fail("attribute 'properties.protocol' is required", vdc="VDC-1-2")
    start, end = merged.get("portRangeStart"), merged.get("portRangeEnd")
    if proto in ("TCP", "UDP"):
        if (start is None) != (end is None):
            raise fail("portRangeStart and portRangeEnd must be given together", vdc="VDC-6-1")
        if start is not None and start > end:
            raise fail("portRangeStart must not be greater than portRangeEnd", vdc="VDC-6-2")
    elif start is not None or end is not None:
        raise fail(f"port ranges apply to TCP and UDP only, not {proto}", vdc="VDC-6-3")
    if proto not in ("ICMP", "ICMPv6") and (merged.get("icmpType") is not None or merged.get("icmpCode") is not None):
        raise fail("icmpType and icmpCode apply to ICMP only", vdc="VDC-6-4")
    version = merged.get("ipVersion")
    for attr in ("sourceIp", "targetIp"):
        if merged.get(attr):
            try:
                addr = ipaddress.ip_network(merged[attr], strict=False)
            except ValueError:
                raise fail(f"attribute 'properties.{attr}' is not an IP address", vdc="VDC-6-5") from None
            found = "IPv4" if addr.version == 4 else "IPv6"
            if version and version != found:
                raise fail(f"attribute 'properties.{attr}' does not match ipVersion {version}", vdc="VDC-6-6")
            version = found
    if proto == "ICMPv6":
        version = "IPv6"
    props = {
        "name": merged.get("name", ""),
        "protocol": proto,
        "sourceMac": merged.get("sourceMac"),
        "ipVersion": version or "IPv4",
        "sourceIp": merged.get("sourceIp"),
        "targetIp": merged.get("targetIp"),
        "icmpCode": merged.get("icmpCode"),
        "icmpType": merged.get("icmpType"),
        "type": merged.get("type", "INGRESS"),
    }
    if start is not None:  # the port range is not nullable in the model: absent rather than null
        props.update(portRangeStart=start, portRangeEnd=end)
    return props


def create_rule(ctx: Ctx, nic, body, ch: Change):
    return ch.created(FIREWALL_RULE, new_row(ctx, FIREWALL_RULE, nic, _rule_props(props_of(body)), scope=nic.scope))


def update_rule(ctx: Ctx, row, props, replace, ch):
    if "protocol" in props and props["protocol"] != row.props.get("protocol"):
        raise fail("attribute 'properties.protocol' cannot be changed", vdc="VDC-1-3")
    # PUT and PATCH start from the current rule
    row.doc["properties"] = _rule_props(props, row.props)


FIREWALL_RULE = register(
    Kind("firewallrule", "firewall-rule", "firewallrules", parent="nic", create=create_rule, update=update_rule)
)


# -- IP blocks --------------------------------------------------------------------------------------


def create_ipblock(ctx: Ctx, parent, body, ch: Change):
    p = props_of(body)
    loc = location_of(ctx, p.get("location", ""))
    size = as_int(p.get("size"), "properties.size")
    if size < 1:
        raise fail("attribute 'properties.size' must be at least 1", vdc="VDC-1-4")
    lim, used = limits(ctx)["reservableIps"], usage(ctx)["reservedIpsOnContract"]
    if used + size > lim:
        raise fail(f"The contract's limit of {lim} reservable IPs would be exceeded ({used} reserved)", vdc="VDC-14-7")
    props = {
        "ips": allocate_public_ips(ctx, size),
        "location": loc["id"],
        "size": size,
        "name": p.get("name", ""),
        "ipConsumers": [],
    }
    return ch.created(IPBLOCK, new_row(ctx, IPBLOCK, None, props))


def update_ipblock(ctx: Ctx, row, props, replace, ch):
    apply_props(row, props, replace, mutable=("name",), immutable=("location", "size"))


def delete_ipblock(ctx: Ctx, row, ch):
    consumers = _consumers(ctx, row)
    if consumers:
        raise fail(
            f"IP block is in use: IP {consumers[0]['ip']} is used by NIC {consumers[0]['nicId']}", "200", vdc="VDC-8-3"
        )
    ips = set(row.props.get("ips") or [])
    for kind, attr in (
        ("natgateway", "publicIps"),
        ("networkloadbalancer", "ips"),
        ("applicationloadbalancer", "ips"),
        ("loadbalancer", "ip"),
    ):
        for user in ctx.store.list(ctx.tenant, kind):
            value = user.props.get(attr)
            taken = ips & set(value if isinstance(value, list) else [value])
            if taken:
                raise fail(
                    f"IP block is in use: IP {sorted(taken)[0]} is used by {kind} {user.id}", "200", vdc="VDC-8-3"
                )


def _consumers(ctx: Ctx, block) -> list[dict]:
    ips = set(block.props.get("ips") or [])
    out = []
    for nic in ctx.store.list(ctx.tenant, "nic"):
        for ip in nic.props.get("ips") or []:
            if ip in ips:
                server = ctx.store.get(ctx.tenant, "server", nic.scope, nic.parent)
                dc = ctx.store.get(ctx.tenant, "datacenter", "", nic.scope)
                out.append(
                    {
                        "ip": ip,
                        "mac": nic.props.get("mac"),
                        "nicId": nic.id,
                        "serverId": nic.parent,
                        "serverName": server.props.get("name") if server else None,
                        "datacenterId": nic.scope,
                        "datacenterName": dc.props.get("name") if dc else None,
                        "k8sNodePoolUuid": None,
                        "k8sClusterUuid": None,
                    }
                )
    return out


IPBLOCK = register_shareable(
    "ipblock",
    "ipblock",
    "ipblocks",
    "reserveIp",  # IP_BLOCK_RESERVE; groups can share blocks
    paginated=True,
    create=create_ipblock,
    update=update_ipblock,
    delete=delete_ipblock,
    default_limit=100,  # the spec's default for GET /ipblocks
    # ipConsumers is derived at read time from the NICs that use the block's addresses
    view=lambda ctx, row: {**row.props, "ipConsumers": _consumers(ctx, row)},
)
