"""VPN Gateway (API 1.0.0 at vpn.<region>.ionos.com in the nine locations its SDK lists, SDK ionoscloud-vpn
1.0.0b1; ../shared/specs/vpn-gateway-1.0.0.yaml): WireGuard gateways and their peers, IPsec gateways and
their tunnels, on private LANs of Cloud API data centers of the contract, each with its state as
`metadata.status` (PROVISIONING -> AVAILABLE, DESTROYING -> gone), PUT as create-or-replace.

A WireGuard gateway's X25519 key pair: the private key the client sends (base64 of 32 bytes), or one the
emulator makes (`cryptography`) when it sends none; it is never rendered (the spec marks it writeOnly), and
`metadata.publicKey` shows the public key as the spec's example does (PEM SubjectPublicKeyInfo). A peer's
public key is base64 of 32 bytes, unique within its gateway; allowed IPs, cloud and peer networks are CIDRs.
A tunnel's pre-shared key is never rendered; its IKE and ESP proposals take the algorithms the spec lists,
with its defaults. The public `gatewayIP` must be reserved in an IP block of the contract in the gateway's
location, and is used by one gateway at a time.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any

from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import host_address, maintenance_window, private_lan, required
from ..product import PKind, Product, rows_of, spec_locations

PRODUCT = Product(
    name="vpn",
    spec_name="vpn",
    config_name="vpn",
    locations=spec_locations("vpn"),
    host="vpn.{region}.ionos.com",
    privilege="accessAndManageVpn",
)
PRODUCTS = [PRODUCT]

# the spec's options (x-extensible-enum) and defaults
TIERS = ("STANDARD", "STANDARD_HA", "ENHANCED", "ENHANCED_HA", "PREMIUM", "PREMIUM_HA")
DH_GROUPS = (
    "15-MODP3072",
    "16-MODP4096",
    "19-ECP256",
    "20-ECP384",
    "21-ECP521",
    "28-ECP256BP",
    "29-ECP384BP",
    "30-ECP512BP",
)
ENCRYPTION = (
    "AES128-CTR",
    "AES256-CTR",
    "AES128-GCM-16",
    "AES256-GCM-16",
    "AES128-GCM-12",
    "AES256-GCM-12",
    "AES128-CCM-12",
    "AES256-CCM-12",
    "AES128",
    "AES256",
)
INTEGRITY = ("SHA256", "SHA384", "SHA512", "AES-XCBC")
IKE_VERSIONS = ("IKEv2",)
AUTH_METHODS = ("PSK",)
IKE_LIFETIME, ESP_LIFETIME = 86400, 3600
WIREGUARD_PORT = 51820
HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def text(props: dict, name: str) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"properties.{name}", "is required")
    return value


def one_of(attr: str, value: object, allowed: tuple[str, ...], default: str) -> str:
    if value in (None, ""):
        return default
    if value not in allowed:
        raise invalid(attr, f"must be one of {', '.join(allowed)}, got '{value}'")
    return str(value)


def cidr(attr: str, value: object) -> str:
    """An IPv4 or IPv6 network in CIDR notation (a.b.c.d/32 for one address)."""
    try:
        if not isinstance(value, str) or "/" not in value:
            raise ValueError
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise invalid(
            attr, f"must be an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/24), got '{value}'"
        ) from None


def cidrs(attr: str, value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise invalid(attr, "needs at least one network in CIDR notation")
    return [cidr(f"{attr}[{i}]", v) for i, v in enumerate(value)]


def interface(attr: str, value: object, version: int) -> str:
    """An address with its prefix (192.168.1.100/24, fd00::2/128)."""
    try:
        if not isinstance(value, str) or "/" not in value:
            raise ValueError
        iface = ipaddress.ip_interface(value)
        if iface.version != version:
            raise ValueError
    except ValueError:
        example = "172.16.0.1/30" if version == 4 else "fd00::2/128"
        raise invalid(
            attr, f"must be an IPv{version} address with its prefix (e.g. {example}), got '{value}'"
        ) from None
    return str(iface)


def host(attr: str, value: object) -> str:
    """An IPv4 address or a fully qualified host name."""
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        pass
    if not isinstance(value, str) or not HOSTNAME.match(value) or "." not in value or value.replace(".", "").isdigit():
        raise invalid(attr, f"must be an IPv4 address or a fully qualified host name, got '{value}'")
    return value


def wg_key(attr: str, value: object) -> bytes:
    """A WireGuard key: base64 of 32 bytes."""
    try:
        raw = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not isinstance(value, str) or len(raw) != 32:
        raise invalid(attr, "must be a WireGuard key: 32 bytes in base64 (44 characters ending in '=')")
    return raw


# -- what both kinds of gateway have -----------------------------------------------------------------------


def gateway_ip(ctx: Ctx, kind, value: object, self_id: str | None) -> str:
    """The gateway's public address: reserved in an IP block of the contract in this location, and no other
    gateway's."""
    try:
        ip = str(ipaddress.IPv4Address(value))
    except ValueError:
        raise invalid("properties.gatewayIP", f"must be an IPv4 address, got '{value}'") from None
    location = ctx.api.location
    owned = {
        i
        for b in ctx.store.list(ctx.tenant, "ipblock")
        if b.props.get("location") == location
        for i in b.props.get("ips") or []
    }
    if ip not in owned:
        raise invalid("properties.gatewayIP", f"names {ip}, which no IP block of this contract in {location} holds")
    for other_kind in (WIREGUARD, IPSEC):
        for row in rows_of(ctx, other_kind):
            if row.props.get("gatewayIP") == ip and row.id != self_id:
                raise invalid("properties.gatewayIP", f"names {ip}, which gateway {row.id} uses")
    return ip


def lan_addresses(ctx: Ctx, self_id: str | None) -> dict[tuple[str, str, str], str]:
    """(data center, LAN, address) -> the gateway that uses the address in that LAN."""
    return {
        (c["datacenterId"], c["lanId"], c["ipv4CIDR"].split("/")[0]): row.id
        for kind in (WIREGUARD, IPSEC)
        for row in rows_of(ctx, kind)
        if row.id != self_id
        for c in row.props.get("connections") or []
    }


def connections(ctx: Ctx, value: object, self_id: str | None) -> list[dict]:
    """The gateway's LAN connections: private LANs of one data center in the gateway's location, at addresses
    no other gateway uses in those LANs."""
    attr = "properties.connections"
    if not isinstance(value, list) or not value:
        raise invalid(attr, "needs at least one connection")
    out, datacenters = [], set()
    for i, c in enumerate(value):
        where = f"{attr}[{i}]"
        if not isinstance(c, dict):
            raise invalid(where, "must be an object")
        required(c, where, ("datacenterId", "lanId", "ipv4CIDR"))
        dc, lan = private_lan(ctx, where, c["datacenterId"], c["lanId"], ctx.api.location, what="VPN gateway")
        datacenters.add(dc.id)
        conn = {
            "datacenterId": dc.id,
            "lanId": lan.id,
            "ipv4CIDR": str(host_address(f"{where}.ipv4CIDR", c["ipv4CIDR"])),
        }
        if c.get("ipv6CIDR"):
            conn["ipv6CIDR"] = interface(f"{where}.ipv6CIDR", c["ipv6CIDR"], 6)
        other = lan_addresses(ctx, self_id).get((dc.id, lan.id, conn["ipv4CIDR"].split("/")[0]))
        if other:
            raise invalid(f"{where}.ipv4CIDR", f"uses {conn['ipv4CIDR']}, which gateway {other} uses in LAN {lan.id}")
        out.append(conn)
    if len(datacenters) > 1:
        raise invalid(attr, "must all belong to one data center")
    return out


def gateway_common(ctx: Ctx, kind, props: dict, old: Row | None) -> dict:
    out: dict[str, Any] = {"name": text(props, "name")}
    if props.get("description") is not None:
        out["description"] = props["description"]
    out["gatewayIP"] = gateway_ip(ctx, kind, text(props, "gatewayIP"), old.id if old else None)
    out["connections"] = connections(ctx, props.get("connections"), old.id if old else None)
    out["tier"] = one_of("properties.tier", props.get("tier"), TIERS, "STANDARD")
    current = old.props.get("maintenanceWindow") if old else None
    out["maintenanceWindow"] = maintenance_window(
        "properties.maintenanceWindow", props.get("maintenanceWindow"), current
    )
    return out


# -- WireGuard ---------------------------------------------------------------------------------------------


# cryptography is imported where a key is read or made: it costs about 10 MB and 20 ms of every start-up
# (certmanager/issue.py)


def public_pem(private: bytes) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    public = X25519PrivateKey.from_private_bytes(private).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def wireguard_props(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    out = gateway_common(ctx, WIREGUARD, props, old)
    v4, v6 = props.get("interfaceIPv4CIDR"), props.get("interfaceIPv6CIDR")
    if not v4 and not v6:
        raise invalid("properties.interfaceIPv4CIDR", "or properties.interfaceIPv6CIDR is required")
    if v4:
        out["interfaceIPv4CIDR"] = interface("properties.interfaceIPv4CIDR", v4, 4)
    if v6:
        out["interfaceIPv6CIDR"] = interface("properties.interfaceIPv6CIDR", v6, 6)
    port = props.get("listenPort")
    out["listenPort"] = WIREGUARD_PORT if port is None else port
    if props.get("privateKey") is not None:
        private = wg_key("properties.privateKey", props["privateKey"])
    elif old is not None:
        private = base64.b64decode(old.x["privateKey"])
    else:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

        private = X25519PrivateKey.generate().private_bytes_raw()
    out["privateKey"] = base64.b64encode(private).decode()
    out["publicKey"] = public_pem(private)
    return out


def wireguard_meta(ctx: Ctx, row: Row) -> dict:
    return {"publicKey": row.x.get("publicKey", "")}


def peer_props(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    out: dict[str, Any] = {"name": text(props, "name")}
    if props.get("description") is not None:
        out["description"] = props["description"]
    key = text(props, "publicKey")
    wg_key("properties.publicKey", key)
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    X25519PublicKey.from_public_bytes(base64.b64decode(key))
    assert parent is not None
    for peer in rows_of(ctx, PEER, parent):
        if peer.props.get("publicKey") == key and (old is None or peer.id != old.id):
            raise invalid("properties.publicKey", f"is the key of peer {peer.id} of this gateway already")
    out["publicKey"] = key
    out["allowedIPs"] = cidrs("properties.allowedIPs", props.get("allowedIPs"))
    endpoint = props.get("endpoint")
    if endpoint is not None:
        if not isinstance(endpoint, dict) or not endpoint.get("host"):
            raise invalid("properties.endpoint.host", "is required")
        port = endpoint.get("port")
        out["endpoint"] = {
            "host": host("properties.endpoint.host", endpoint["host"]),
            "port": WIREGUARD_PORT if port is None else port,
        }
    return out


# -- IPsec -------------------------------------------------------------------------------------------------


def ipsec_props(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    out = gateway_common(ctx, IPSEC, props, old)
    out["version"] = one_of("properties.version", props.get("version"), IKE_VERSIONS, "IKEv2")
    return out


def proposal(attr: str, value: object, lifetime: int) -> dict:
    """An IKE or ESP proposal, the spec's defaults filled in (the lifetime's bounds are the schema's)."""
    if value is None:
        raise invalid(attr, "is required")
    if not isinstance(value, dict):
        raise invalid(attr, "must be an object")
    return {
        "diffieHellmanGroup": one_of(
            f"{attr}.diffieHellmanGroup", value.get("diffieHellmanGroup"), DH_GROUPS, "16-MODP4096"
        ),
        "encryptionAlgorithm": one_of(
            f"{attr}.encryptionAlgorithm", value.get("encryptionAlgorithm"), ENCRYPTION, "AES256"
        ),
        "integrityAlgorithm": one_of(
            f"{attr}.integrityAlgorithm", value.get("integrityAlgorithm"), INTEGRITY, "SHA256"
        ),
        "lifetime": lifetime if value.get("lifetime") is None else value["lifetime"],
    }


def tunnel_props(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    out: dict[str, Any] = {"name": text(props, "name")}
    if props.get("description") is not None:
        out["description"] = props["description"]
    out["remoteHost"] = host("properties.remoteHost", text(props, "remoteHost"))
    auth = props.get("auth")
    if not isinstance(auth, dict):
        raise invalid("properties.auth", "is required")
    method = one_of("properties.auth.method", auth.get("method"), AUTH_METHODS, "PSK")
    psk = auth.get("psk")
    key = psk.get("key") if isinstance(psk, dict) else None
    if not key:
        if old is None or "pskKey" not in old.x:
            raise invalid("properties.auth.psk.key", "is required with the method PSK")
        key = old.x["pskKey"]
    out["auth"] = {"method": method}
    out["pskKey"] = key
    out["ike"] = proposal("properties.ike", props.get("ike"), IKE_LIFETIME)
    out["esp"] = proposal("properties.esp", props.get("esp"), ESP_LIFETIME)
    out["cloudNetworkCIDRs"] = cidrs("properties.cloudNetworkCIDRs", props.get("cloudNetworkCIDRs"))
    out["peerNetworkCIDRs"] = cidrs("properties.peerNetworkCIDRs", props.get("peerNetworkCIDRs"))
    return out


STATUS = "status"  # the spec renders the state as metadata.status
WIREGUARD = PKind(
    PRODUCT,
    "wireguardgateway",
    "wireguardgateway",
    "wireguardgateways",
    prepare=wireguard_props,
    internal=("privateKey", "publicKey"),
    meta=wireguard_meta,
    state_field=STATUS,
)
PEER = PKind(
    PRODUCT, "wireguardpeer", "wireguardpeer", "peers", parent=WIREGUARD, prepare=peer_props, state_field=STATUS
)
IPSEC = PKind(PRODUCT, "ipsecgateway", "ipsecgateway", "ipsecgateways", prepare=ipsec_props, state_field=STATUS)
TUNNEL = PKind(
    PRODUCT,
    "ipsectunnel",
    "ipsectunnel",
    "tunnels",
    parent=IPSEC,
    prepare=tunnel_props,
    internal=("pskKey",),
    state_field=STATUS,
)
