"""Network services: NAT gateways and their rules, network and application load balancers with their
forwarding rules, target groups, legacy load balancers with balanced NICs, and flow logs (on NICs, NAT
gateways and both kinds of managed load balancer).

Every kind keeps its properties normalised by one function that validates a complete property set: POST
and PUT pass the body, PATCH passes the stored properties merged with the body, so the same rules hold
whichever way a resource is changed."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Set as AbstractSet

from ...engine.errors import ApiError
from ...engine.resources import Steps
from ...gateway.context import Ctx, Reply
from ...store import Row
from .compute import DATACENTER, handler
from .model import Change, Kind, apply_props, collection, full, load_chain, new_row, props_of, register, single, stored
from .network import NIC
from .rules import allocate_public_ips, as_int, fail, limits

MAX_NAT_LANS = 6  # "up to six private networks per NAT gateway"


# -- shared checks ----------------------------------------------------------------------------------


def _ipv4(value, attr: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except (ValueError, TypeError):
        raise fail(f"attribute '{attr}' must be an IPv4 address, not '{value}'", vdc="VDC-16-1") from None


def _subnet(value, attr: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=False)
    except (ValueError, TypeError):
        raise fail(f"attribute '{attr}' must be an IPv4 address or subnet, not '{value}'", vdc="VDC-16-2") from None
    return value


def _interface(value, attr: str, *, need_mask: bool) -> str:
    """An address with an optional (or required) prefix length, e.g. '10.1.1.2/24'."""
    if need_mask and "/" not in str(value):
        raise fail(f"attribute '{attr}' must carry a subnet mask, e.g. '10.1.1.5/24', not '{value}'", vdc="VDC-16-3")
    try:
        ipaddress.IPv4Interface(value)
    except (ValueError, TypeError):
        raise fail(
            f"attribute '{attr}' is not a valid IPv4 address with subnet mask: '{value}'", vdc="VDC-16-3"
        ) from None
    return value


def _in_range(value: int | None, low: int, high: int, attr: str) -> int | None:
    if value is None:
        return value
    if not low <= value <= high:
        raise fail(f"attribute '{attr}' must be between {low} and {high}, not {value}", vdc="VDC-16-4")
    return value


def _unique(values: list, attr: str) -> list:
    seen = set()
    for v in values:
        if v in seen:
            raise fail(f"attribute '{attr}' lists {v} twice", vdc="VDC-16-5")
        seen.add(v)
    return values


def _lan(ctx: Ctx, dc: Row, lan_id, attr: str) -> Row:
    n = as_int(lan_id, attr)
    lan = ctx.store.get(ctx.tenant, "lan", dc.id, str(n))
    if lan is None:
        raise fail(f"attribute '{attr}': LAN {n} does not exist in data center {dc.id}", vdc="VDC-16-6")
    return lan


def _private_lan(ctx: Ctx, dc: Row, lan_id, attr: str) -> Row:
    lan = _lan(ctx, dc, lan_id, attr)
    if lan.props.get("public") or not lan.props.get("ipv4CidrBlock"):
        raise fail(f"attribute '{attr}': LAN {lan.id} is public; a private LAN is needed", vdc="VDC-16-7")
    return lan


def _dc_of(ctx: Ctx, row: Row) -> Row:
    return stored(ctx.store.get(ctx.tenant, "datacenter", "", row.scope), f"data center of {row.kind} {row.id}")


def _host(ip: str) -> str:
    return str(ip).split("/")[0]


def _addresses_in_lan(ctx: Ctx, dc: Row, lan_id: str) -> set[str]:
    """Addresses already taken in a private LAN: NICs, NAT gateway interfaces, load balancer interfaces."""
    used = {
        ip
        for n in ctx.store.list(ctx.tenant, "nic", scope=dc.id)
        if str(n.props.get("lan")) == lan_id
        for ip in n.props.get("ips") or []
    }
    for gw in ctx.store.list(ctx.tenant, NAT_GATEWAY.name, dc.id):
        used |= {
            _host(ip)
            for entry in gw.props.get("lans") or []
            if str(entry["id"]) == lan_id
            for ip in entry.get("gatewayIps") or []
        }
    for kind in (NLB, ALB):
        for lb in ctx.store.list(ctx.tenant, kind.name, dc.id):
            if str(lb.props.get("targetLan")) == lan_id:
                used |= {_host(ip) for ip in lb.props.get("lbPrivateIps") or []}
            if str(lb.props.get("listenerLan")) == lan_id:
                used |= {_host(ip) for ip in lb.props.get("ips") or []}
    return used


def _free_address(ctx: Ctx, dc: Row, lan: Row, *, with_mask: bool, taken: AbstractSet[str] = frozenset()) -> str:
    """A free address of the LAN's subnet, from the top down (NICs are numbered from the bottom up)."""
    net = ipaddress.IPv4Network(lan.props["ipv4CidrBlock"])
    used = _addresses_in_lan(ctx, dc, lan.id) | set(taken)
    for host in reversed(list(net.hosts())):
        if str(host) not in used:
            return f"{host}/{net.prefixlen}" if with_mask else str(host)
    raise fail(f"LAN {lan.id} has no free address left", vdc="VDC-16-8")


def _reserved_ips(ctx: Ctx, location: str | None) -> set[str]:
    return {
        ip
        for b in ctx.store.list(ctx.tenant, "ipblock")
        if b.props.get("location") == location
        for ip in b.props.get("ips") or []
    }


def _public_ip_holders(ctx: Ctx, own_id: str) -> dict[str, str]:
    """Public addresses held by another NAT gateway, managed load balancer or NIC of the contract."""
    held: dict[str, str] = {}
    for kind, attr in ((NAT_GATEWAY, "publicIps"), (NLB, "ips"), (ALB, "ips")):
        for r in ctx.store.list(ctx.tenant, kind.name):
            if r.id != own_id:
                held.update({ip: f"{kind.type} {r.id}" for ip in r.props.get(attr) or []})
    for n in ctx.store.list(ctx.tenant, "nic"):
        held.update({ip: f"nic {n.id}" for ip in n.props.get("ips") or []})
    return held


def _check_public_ips(ctx: Ctx, dc: Row, ips: list[str], attr: str, own_id: str) -> None:
    """Public addresses must be reserved in an IP block in the data center's location and not used elsewhere."""
    loc = dc.props.get("location")
    reserved = _reserved_ips(ctx, loc)
    holders = _public_ip_holders(ctx, own_id)
    for ip in ips:
        if ip not in reserved:
            raise fail(
                f"attribute '{attr}': {ip} is not reserved in an IP block of this contract in {loc}", vdc="VDC-16-9"
            )
        if ip in holders:
            raise fail(f"attribute '{attr}': {ip} is already used by {holders[ip]}", vdc="VDC-16-10")


def _check_limit(ctx: Ctx, kind: Kind, limit_name: str) -> None:
    limit = int(limits(ctx).get(limit_name, 0))
    used = ctx.store.count(ctx.tenant, kind.name)
    if used + 1 > limit:
        raise fail(f"The contract's limit of {limit} for {kind.type} ({limit_name}) is reached", vdc="VDC-14-8")


def _normalised(props: dict, row: Row) -> dict:
    """What a change validates: the stored resource with what the client sent (PUT, like PATCH, keeps what
    it leaves out)."""
    return {**row.props, **props}


# -- NAT gateways -----------------------------------------------------------------------------------


def _nat_props(ctx: Ctx, dc: Row, p: dict, own_id: str = "", old: dict | None = None) -> dict:
    ips = _unique([str(_ipv4(ip, "properties.publicIps")) for ip in p.get("publicIps") or []], "properties.publicIps")
    if not ips:
        raise fail("attribute 'properties.publicIps' needs at least one reserved public IP", vdc="VDC-16-11")
    _check_public_ips(ctx, dc, ips, "properties.publicIps", own_id)
    lans = list(p.get("lans") or [])
    if len(lans) > MAX_NAT_LANS:
        raise fail(f"A NAT gateway connects at most {MAX_NAT_LANS} LANs", vdc="VDC-16-12")
    _unique([entry.get("id") for entry in lans], "properties.lans[].id")
    previous = {e["id"]: e.get("gatewayIps") for e in (old or {}).get("lans") or []}
    out_lans: list[dict] = []
    taken: set[str] = set()
    for entry in lans:
        lan = _private_lan(ctx, dc, entry.get("id"), "properties.lans[].id")
        gw_ips = entry.get("gatewayIps") or previous.get(int(lan.id))
        if gw_ips:
            gw_ips = [_interface(ip, "properties.lans[].gatewayIps", need_mask=False) for ip in gw_ips]
        else:  # generated in the LAN's subnet, with its mask
            gw_ips = [_free_address(ctx, dc, lan, with_mask=True, taken=taken)]
        taken |= {_host(ip) for ip in gw_ips}
        out_lans.append({"id": int(lan.id), "gatewayIps": gw_ips})
    return {"name": p.get("name", ""), "publicIps": ips, "lans": out_lans}


def create_nat_gateway(ctx: Ctx, dc: Row, body, ch: Change) -> Row:
    _check_limit(ctx, NAT_GATEWAY, "natGatewayLimitTotal")
    row = new_row(ctx, NAT_GATEWAY, dc, _nat_props(ctx, dc, props_of(body)))
    return ch.created(NAT_GATEWAY, row)


def update_nat_gateway(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
    new = _nat_props(ctx, _dc_of(ctx, row), _normalised(props, row), row.id, row.props)
    for rule in ctx.store.list(ctx.tenant, NAT_RULE.name, row.id):
        if rule.props["publicIp"] not in new["publicIps"]:
            raise fail(
                f"Public IP {rule.props['publicIp']} is still used by NAT gateway rule {rule.id}", vdc="VDC-16-13"
            )
    row.doc["properties"] = new


NAT_GATEWAY = register(
    Kind(
        "natgateway",
        "natgateway",
        "natgateways",
        parent="datacenter",
        entities=("rules", "flowlogs"),
        create=create_nat_gateway,
        update=update_nat_gateway,
        create_privilege="createInternetAccess",
    )
)


# -- NAT gateway rules ------------------------------------------------------------------------------


def _nat_rule_props(gateway: Row, p: dict) -> dict:
    public_ip = p.get("publicIp")
    if public_ip not in gateway.props.get("publicIps", []):
        raise fail(
            f"attribute 'properties.publicIp': {public_ip} is not one of the NAT gateway's public IPs", vdc="VDC-16-14"
        )
    protocol = p.get("protocol") or "ALL"
    props = {
        "name": p.get("name", ""),
        "type": p.get("type") or "SNAT",
        "protocol": protocol,
        "sourceSubnet": _subnet(p.get("sourceSubnet"), "properties.sourceSubnet"),
        "publicIp": public_ip,
    }
    if p.get("targetSubnet"):
        props["targetSubnet"] = _subnet(p["targetSubnet"], "properties.targetSubnet")
    ports = p.get("targetPortRange")
    if ports and (ports.get("start") is not None or ports.get("end") is not None):
        if protocol not in ("TCP", "UDP"):
            raise fail(f"A target port range applies to TCP and UDP rules only, not {protocol}", vdc="VDC-16-15")
        start, end = ports.get("start"), ports.get("end")
        if start is None or end is None:
            raise fail("targetPortRange needs both start and end", vdc="VDC-16-15")
        _in_range(start, 1, 65535, "properties.targetPortRange.start")
        _in_range(end, 1, 65535, "properties.targetPortRange.end")
        if start > end:
            raise fail("targetPortRange.start must not be greater than targetPortRange.end", vdc="VDC-16-15")
        props["targetPortRange"] = {"start": start, "end": end}
    return props


def create_nat_rule(ctx: Ctx, gateway: Row, body, ch: Change) -> Row:
    return ch.created(NAT_RULE, new_row(ctx, NAT_RULE, gateway, _nat_rule_props(gateway, props_of(body))))


def update_nat_rule(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
    gateway = stored(
        ctx.store.get(ctx.tenant, NAT_GATEWAY.name, row.scope, row.parent), f"NAT gateway of rule {row.id}"
    )
    row.doc["properties"] = _nat_rule_props(gateway, _normalised(props, row))


NAT_RULE = register(
    Kind(
        "natgatewayrule",
        "natgateway-rule",
        "rules",
        parent="natgateway",
        paginated=False,
        create=create_nat_rule,
        update=update_nat_rule,
    )
)


# -- network and application load balancers ---------------------------------------------------------


def _balancer_props(ctx: Ctx, dc: Row, p: dict, own_id: str = "") -> dict:
    listener = _lan(ctx, dc, p.get("listenerLan"), "properties.listenerLan")
    target = _private_lan(ctx, dc, p.get("targetLan"), "properties.targetLan")
    if listener.id == target.id:
        raise fail("listenerLan and targetLan must be different LANs", vdc="VDC-17-1")
    ips = _unique([str(_ipv4(ip, "properties.ips")) for ip in p.get("ips") or []], "properties.ips")
    if listener.props.get("public"):
        if not ips:
            raise fail(
                "A load balancer on a public listener LAN needs at least one reserved public IP in 'ips'",
                vdc="VDC-17-2",
            )
        _check_public_ips(ctx, dc, ips, "properties.ips", own_id)
    else:
        for ip in ips:
            if not ipaddress.IPv4Address(ip).is_private:
                raise fail(
                    f"attribute 'properties.ips': {ip} is not a private address, as the private "
                    f"listener LAN {listener.id} needs",
                    vdc="VDC-17-3",
                )
        ips = ips or [_free_address(ctx, dc, listener, with_mask=False)]
    private_ips = _unique(
        [_interface(ip, "properties.lbPrivateIps", need_mask=True) for ip in p.get("lbPrivateIps") or []],
        "properties.lbPrivateIps",
    )
    private_ips = private_ips or [_free_address(ctx, dc, target, with_mask=True)]
    props = {
        "name": p.get("name", ""),
        "listenerLan": int(listener.id),
        "ips": ips,
        "targetLan": int(target.id),
        "lbPrivateIps": private_ips,
        "centralLogging": bool(p.get("centralLogging", False)),
    }
    if p.get("loggingFormat"):
        props["loggingFormat"] = p["loggingFormat"]
    return props


def _balancer_create(kind: Kind, limit_name: str | None):
    def create(ctx: Ctx, dc: Row, body, ch: Change) -> Row:
        if limit_name:
            _check_limit(ctx, kind, limit_name)
        return ch.created(kind, new_row(ctx, kind, dc, _balancer_props(ctx, dc, props_of(body))))

    return create


def _balancer_update(rule_kind_name: str):
    def update(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
        merged = _normalised(props, row)
        for lan_attr, ips_attr in (("listenerLan", "ips"), ("targetLan", "lbPrivateIps")):
            if ips_attr not in props:  # addresses not named: kept in the same LAN, new ones in another LAN
                if merged.get(lan_attr) == row.props[lan_attr]:
                    merged[ips_attr] = row.props[ips_attr]
                else:
                    merged.pop(ips_attr, None)
        new = _balancer_props(ctx, _dc_of(ctx, row), merged, row.id)
        for rule in ctx.store.list(ctx.tenant, rule_kind_name, row.id):
            if rule.props["listenerIp"] not in new["ips"]:
                raise fail(
                    f"IP {rule.props['listenerIp']} is still the listener IP of forwarding rule {rule.id}",
                    vdc="VDC-17-4",
                )
        row.doc["properties"] = new

    return update


# ALBs have no contract limit field of their own; only NLBs count against nlbLimitTotal
NLB = register(
    Kind(
        "networkloadbalancer",
        "networkloadbalancer",
        "networkloadbalancers",
        parent="datacenter",
        entities=("flowlogs", "forwardingrules"),
    )
)
NLB.create = _balancer_create(NLB, "nlbLimitTotal")
NLB.update = _balancer_update("nlbforwardingrule")
ALB = register(
    Kind(
        "applicationloadbalancer",
        "applicationloadbalancer",
        "applicationloadbalancers",
        parent="datacenter",
        entities=("forwardingrules",),
    )
)
ALB.create = _balancer_create(ALB, None)
ALB.update = _balancer_update("albforwardingrule")


# -- forwarding rules -------------------------------------------------------------------------------


def _listener(ctx: Ctx, kind: Kind, lb: Row, p: dict, own_id: str) -> tuple[str, int | None]:
    ip, port = p.get("listenerIp"), p.get("listenerPort")
    if ip not in lb.props.get("ips", []):
        raise fail(
            f"attribute 'properties.listenerIp': {ip} is not one of the load balancer's IPs {lb.props.get('ips', [])}",
            vdc="VDC-17-5",
        )
    assert isinstance(ip, str), ip  # one of the balancer's own addresses
    _in_range(port, 1, 65535, "properties.listenerPort")
    for other in ctx.store.list(ctx.tenant, kind.name, lb.id):
        if other.id != own_id and (other.props["listenerIp"], other.props["listenerPort"]) == (ip, port):
            raise fail(f"Forwarding rule {other.id} already listens on {ip}:{port}", vdc="VDC-17-6")
    return ip, port


def _target(t: dict, attr: str) -> dict:
    _ipv4(t.get("ip"), f"{attr}.ip")
    _in_range(t.get("port"), 1, 65535, f"{attr}.port")
    _in_range(t.get("weight"), 0, 256, f"{attr}.weight")
    return {"ip": t["ip"], "port": t["port"], "weight": t["weight"], "proxyProtocol": t.get("proxyProtocol") or "none"}


def _unique_targets(targets: list[dict], attr: str) -> list[dict]:
    _unique([f"{t['ip']}:{t['port']}" for t in targets], attr)
    return targets


def _with_defaults(defaults: dict, given: dict | None) -> dict:
    """A nested settings object: the documented defaults overlaid with what was given (unknown keys dropped)."""
    return {k: (given or {}).get(k) if (given or {}).get(k) is not None else v for k, v in defaults.items()}


def _nlb_rule_props(ctx: Ctx, nlb: Row, p: dict, own_id: str = "") -> dict:
    ip, port = _listener(ctx, NLB_RULE, nlb, p, own_id)
    check = _with_defaults(
        {"clientTimeout": 50000, "connectTimeout": 5000, "targetTimeout": 50000, "retries": 3}, p.get("healthCheck")
    )
    _in_range(check["retries"], 0, 65535, "properties.healthCheck.retries")
    for name in ("clientTimeout", "connectTimeout", "targetTimeout"):
        _in_range(check[name], 0, 2**31 - 1, f"properties.healthCheck.{name}")
    targets = []
    for t in p.get("targets") or []:
        out = _target(t, "properties.targets[]")
        hc = _with_defaults({"check": False, "checkInterval": 2000, "maintenance": False}, t.get("healthCheck"))
        _in_range(hc["checkInterval"], 0, 2**31 - 1, "properties.targets[].healthCheck.checkInterval")
        targets.append({**out, "healthCheck": hc})
    return {
        "name": p.get("name", ""),
        "algorithm": p.get("algorithm"),
        "protocol": p.get("protocol"),
        "listenerIp": ip,
        "listenerPort": port,
        "healthCheck": check,
        "targets": _unique_targets(targets, "properties.targets[].ip:port"),
    }


REDIRECT_CODES = (301, 302, 303, 307, 308)
ONLY_FOR = {"targetGroup": "FORWARD", "location": "REDIRECT", "responseMessage": "STATIC", "contentType": "STATIC"}


def _http_rule(ctx: Ctx, r: dict) -> dict:
    kind = r["type"]
    where = f"properties.httpRules[{r.get('name')}]"
    for attr, owner in ONLY_FOR.items():
        if r.get(attr) is not None and kind != owner:
            raise fail(f"'{where}.{attr}' is valid only for {owner} rules, not {kind}", vdc="VDC-18-1")
    if r.get("dropQuery") and kind != "REDIRECT":
        raise fail(f"'{where}.dropQuery' is valid only for REDIRECT rules", vdc="VDC-18-1")
    if r.get("statusCode") is not None and kind == "FORWARD":
        raise fail(f"'{where}.statusCode' is valid only for REDIRECT and STATIC rules", vdc="VDC-18-1")
    out = {"name": r["name"], "type": kind}
    if kind == "FORWARD":
        if not r.get("targetGroup"):
            raise fail(f"'{where}.targetGroup' is required for FORWARD rules", vdc="VDC-18-2")
        if ctx.store.get(ctx.tenant, TARGET_GROUP.name, "", r["targetGroup"]) is None:
            raise fail(f"'{where}.targetGroup': target group {r['targetGroup']} does not exist", vdc="VDC-18-3")
        out["targetGroup"] = r["targetGroup"]
    elif kind == "REDIRECT":
        if not r.get("location"):
            raise fail(f"'{where}.location' is required for REDIRECT rules", vdc="VDC-18-2")
        code = r.get("statusCode") or 301
        if code not in REDIRECT_CODES:
            raise fail(f"'{where}.statusCode' of a REDIRECT rule must be one of {REDIRECT_CODES}", vdc="VDC-18-4")
        out.update(location=r["location"], statusCode=code, dropQuery=bool(r.get("dropQuery", False)))
    else:  # STATIC
        if not r.get("responseMessage"):
            raise fail(f"'{where}.responseMessage' is required for STATIC rules", vdc="VDC-18-2")
        code = r.get("statusCode") or 503
        _in_range(code, 200, 599, f"{where}.statusCode")
        out.update(
            responseMessage=r["responseMessage"], statusCode=code, contentType=r.get("contentType") or "text/plain"
        )
    out["conditions"] = [_condition(c, where) for c in r.get("conditions") or []]
    return out


VALUE_CONDITIONS = ("CONTAINS", "EQUALS", "MATCHES", "STARTS_WITH", "ENDS_WITH")
KEYED_TYPES = ("HEADER", "QUERY", "COOKIE")


def _condition(c: dict, where: str) -> dict:
    ctype, cond, key, value = c["type"], c.get("condition"), c.get("key"), c.get("value")
    where = f"{where}.conditions[{ctype}]"
    if ctype == "SOURCE_IP":
        if cond is not None:
            raise fail(f"'{where}.condition' must be null for SOURCE_IP conditions", vdc="VDC-18-5")
        if not value:
            raise fail(f"'{where}.value' (a CIDR) is required for SOURCE_IP conditions", vdc="VDC-18-5")
        _subnet(value, f"{where}.value")
    else:
        if cond is None:
            raise fail(f"'{where}.condition' is required for {ctype} conditions", vdc="VDC-18-5")
        if cond in VALUE_CONDITIONS and value is None:
            raise fail(f"'{where}.value' is required for the {cond} condition", vdc="VDC-18-5")
        if cond == "EXISTS" and value is not None:
            raise fail(f"'{where}.value' must be null for the EXISTS condition", vdc="VDC-18-5")
    if key is not None and ctype not in KEYED_TYPES:
        raise fail(f"'{where}.key' can be set only for {', '.join(KEYED_TYPES)} conditions", vdc="VDC-18-5")
    out = {"type": ctype, "negate": bool(c.get("negate", False))}
    out.update({k: v for k, v in (("condition", cond), ("key", key), ("value", value)) if v is not None})
    return out


def _alb_rule_props(ctx: Ctx, alb: Row, p: dict, own_id: str = "") -> dict:
    ip, port = _listener(ctx, ALB_RULE, alb, p, own_id)
    certs = list(p.get("serverCertificates") or [])
    for cert in certs:
        try:
            uuid.UUID(str(cert))
        except ValueError:
            raise fail(
                f"attribute 'properties.serverCertificates': '{cert}' is not a certificate id", vdc="VDC-18-6"
            ) from None
    rules = [_http_rule(ctx, r) for r in p.get("httpRules") or []]
    _unique([r["name"] for r in rules], "properties.httpRules[].name")
    timeout = p.get("clientTimeout")
    return {
        "name": p.get("name", ""),
        "protocol": p.get("protocol") or "HTTP",
        "listenerIp": ip,
        "listenerPort": port,
        "clientTimeout": _in_range(50000 if timeout is None else timeout, 0, 2**31 - 1, "properties.clientTimeout"),
        "serverCertificates": _unique(certs, "properties.serverCertificates"),
        "httpRules": rules,
    }


def _rule_kind(name: str, parent: Kind, build) -> Kind:
    def create(ctx: Ctx, lb: Row, body, ch: Change) -> Row:
        return ch.created(kind, new_row(ctx, kind, lb, build(ctx, lb, props_of(body))))

    def update(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
        lb = ctx.store.get(ctx.tenant, parent.name, row.scope, row.parent)
        row.doc["properties"] = build(ctx, lb, _normalised(props, row), row.id)

    kind = register(Kind(name, "forwarding-rule", "forwardingrules", parent=parent.name, create=create, update=update))
    return kind


NLB_RULE = _rule_kind("nlbforwardingrule", NLB, _nlb_rule_props)
ALB_RULE = _rule_kind("albforwardingrule", ALB, _alb_rule_props)


# -- target groups ----------------------------------------------------------------------------------


def _target_group_props(p: dict) -> dict:
    targets = []
    for t in p.get("targets") or []:
        targets.append(
            {
                **_target(t, "properties.targets[]"),
                "healthCheckEnabled": bool(t.get("healthCheckEnabled", True)),
                "maintenanceEnabled": bool(t.get("maintenanceEnabled", False)),
            }
        )
    check = _with_defaults({"checkTimeout": 2000, "checkInterval": 2000, "retries": 3}, p.get("healthCheck"))
    _in_range(check["retries"], 0, 65535, "properties.healthCheck.retries")
    props = {
        "name": p.get("name", ""),
        "algorithm": p.get("algorithm"),
        "protocol": p.get("protocol") or "HTTP",
        "protocolVersion": p.get("protocolVersion") or "HTTP1",
        "targets": _unique_targets(targets, "properties.targets[].ip:port"),
        "healthCheck": check,
    }
    http = p.get("httpHealthCheck")
    if http:
        props["httpHealthCheck"] = {
            "path": http.get("path") or "/",
            "method": http.get("method") or "GET",
            "matchType": http["matchType"],
            "response": http["response"],
            "regex": bool(http.get("regex", False)),
            "negate": bool(http.get("negate", False)),
        }
    return props


def create_target_group(ctx: Ctx, parent, body, ch: Change) -> Row:
    return ch.created(TARGET_GROUP, new_row(ctx, TARGET_GROUP, None, _target_group_props(props_of(body))))


def update_target_group(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
    row.doc["properties"] = _target_group_props(_normalised(props, row))


def delete_target_group(ctx: Ctx, row: Row, ch: Change) -> None:
    for rule in ctx.store.list(ctx.tenant, ALB_RULE.name):
        if any(r.get("targetGroup") == row.id for r in rule.props.get("httpRules") or []):
            raise fail(
                f"Target group {row.id} is still used by forwarding rule {rule.id} of application load "
                f"balancer {rule.parent}",
                "200",
                vdc="VDC-19-1",
            )


TARGET_GROUP = register(
    Kind(
        "targetgroup",
        "target-group",
        "targetgroups",
        default_limit=100,
        create=create_target_group,
        update=update_target_group,
        delete=delete_target_group,
    )
)


# -- legacy load balancers and their balanced NICs --------------------------------------------------


def _lb_ip(ctx: Ctx, ip) -> str:
    # "leaving it null assigns an IP automatically"
    return str(_ipv4(ip, "properties.ip")) if ip else allocate_public_ips(ctx, 1)[0]


def create_loadbalancer(ctx: Ctx, dc: Row, body, ch: Change) -> Row:
    p = props_of(body)
    props = {"name": p.get("name", ""), "ip": _lb_ip(ctx, p.get("ip")), "dhcp": bool(p.get("dhcp", True))}
    row = new_row(ctx, LOADBALANCER, dc, props)
    row.x["nics"] = []
    return ch.created(LOADBALANCER, row)


def update_loadbalancer(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
    if "ip" in props:  # null asks for a new automatic address; PUT without it keeps the current one
        props = {**props, "ip": _lb_ip(ctx, props["ip"])}
    apply_props(row, props, replace, mutable=("name", "ip", "dhcp"))


def balanced_nics(ctx: Ctx, lb: Row) -> list[Row]:
    """The NICs still existing of those attached (a deleted NIC simply drops out)."""
    rows = [ctx.store.find(ctx.tenant, "nic", nic_id) for nic_id in lb.x.get("nics", [])]
    return [r for r in rows if r is not None and r.scope == lb.parent]


LOADBALANCER = register(
    Kind(
        "loadbalancer",
        "loadbalancer",
        "loadbalancers",
        parent="datacenter",
        entities=("balancednics",),
        create=create_loadbalancer,
        update=update_loadbalancer,
        entity_rows={"balancednics": lambda ctx, lb: (NIC, balanced_nics(ctx, lb))},
    )
)
LB_STEPS: Steps = [(DATACENTER, "datacenterId"), (LOADBALANCER, "loadbalancerId")]


def _balanced(ctx: Ctx, lb: Row) -> Row:
    nic = next((n for n in balanced_nics(ctx, lb) if n.id == ctx.params["nicId"]), None)
    if nic is None:
        raise ApiError(
            404, f"Resource does not exist: nic {ctx.params['nicId']} is not balanced by this load balancer", "309"
        )
    return nic


@handler("datacentersLoadbalancersBalancednicsGet")
def list_balanced_nics(ctx: Ctx) -> Reply:
    dc, lb = load_chain(ctx, LB_STEPS)
    return Reply(200, collection(ctx, NIC, balanced_nics(ctx, lb), f"{lb.path}/balancednics", f"{lb.id}/balancednics"))


@handler("datacentersLoadbalancersBalancednicsFindByNicId")
def get_balanced_nic(ctx: Ctx) -> Reply:
    dc, lb = load_chain(ctx, LB_STEPS)
    return single(ctx, NIC, _balanced(ctx, lb))


def balance(ctx: Ctx, lb: Row, nic_ref, ch: Change) -> Row:
    """Adds the NIC `nic_ref` names ({"id": ...}) to the NICs `lb` balances: a NIC of its data center that
    no other load balancer balances. Attached by the POST of a balanced NIC, and inline on create."""
    nic_id = nic_ref.get("id") if isinstance(nic_ref, dict) else None
    if not nic_id:
        raise fail("attribute 'id' (the NIC to balance) is required", vdc="VDC-1-2")
    nic = ctx.store.find(ctx.tenant, "nic", nic_id)
    if nic is None or nic.scope != lb.parent:
        raise ApiError(404, f"Resource does not exist: nic {nic_id} in data center {lb.parent}", "309")
    for other in ctx.store.list(ctx.tenant, LOADBALANCER.name, lb.parent):
        if nic_id in other.x.get("nics", []):
            raise fail(f"NIC {nic_id} is already balanced by load balancer {other.id}", vdc="VDC-10-1")
    lb.x.setdefault("nics", []).append(nic_id)
    ctx.store.update(lb)
    return nic


LOADBALANCER.attach["balancednics"] = balance


@handler("datacentersLoadbalancersBalancednicsPost")
def attach_balanced_nic(ctx: Ctx) -> Reply:
    dc, lb = load_chain(ctx, LB_STEPS)
    with Change(ctx, LOADBALANCER.name, dc.id) as ch:
        nic = balance(ctx, lb, ctx.body, ch)
        ch.updated(LOADBALANCER, lb)
    return ch.accepted(full(ctx, NIC, nic, ctx.depth))


@handler("datacentersLoadbalancersBalancednicsDelete")
def detach_balanced_nic(ctx: Ctx) -> Reply:
    dc, lb = load_chain(ctx, LB_STEPS)
    nic = _balanced(ctx, lb)
    with Change(ctx, LOADBALANCER.name, dc.id) as ch:
        lb.x["nics"] = [n for n in lb.x.get("nics", []) if n != nic.id]
        ch.updated(LOADBALANCER, lb)
    return ch.accepted(None)


# -- flow logs --------------------------------------------------------------------------------------

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _flow_log_props(p: dict) -> dict:
    bucket = p.get("bucket") or ""
    if not BUCKET_NAME.fullmatch(bucket.split("/", 1)[0]):
        raise fail(f"attribute 'properties.bucket': '{bucket}' does not start with a valid bucket name", vdc="VDC-15-1")
    return {"name": p.get("name", ""), "action": p["action"], "direction": p["direction"], "bucket": bucket}


def _flow_log_kind(name: str, parent: str) -> Kind:
    def create(ctx: Ctx, owner: Row, body, ch: Change) -> Row:
        if ctx.store.count(ctx.tenant, kind.name, owner.id):
            raise fail(f"{owner.kind} {owner.id} already has a flow log; only one is allowed", vdc="VDC-15-2")
        return ch.created(kind, new_row(ctx, kind, owner, _flow_log_props(props_of(body))))

    def update(ctx: Ctx, row: Row, props: dict, replace: bool, ch: Change) -> None:
        row.doc["properties"] = _flow_log_props(_normalised(props, row))

    kind = register(
        Kind(
            name, "flow-log", "flowlogs", parent=parent, create=create, update=update, create_privilege="createFlowLog"
        )
    )
    return kind


NIC_FLOW_LOG = _flow_log_kind("flowlog", "nic")
NAT_FLOW_LOG = _flow_log_kind("natgatewayflowlog", NAT_GATEWAY.name)
NLB_FLOW_LOG = _flow_log_kind("nlbflowlog", NLB.name)
ALB_FLOW_LOG = _flow_log_kind("albflowlog", ALB.name)
