"""DNSSEC keys of a primary zone: a key signing key (flags 257) and a zone signing key (256), RSASHA256 as
the spec allows, made with cryptography and described with dnspython (key tag, DS digest). The private keys
stay in the store for the DNS server, which serves the DNSKEY records and signs answers with them."""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

from ...engine.errors import conflict, invalid, not_found
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import ProductChange, load, success
from .model import DNS, KEYS, ZONE, count_change, load_zone

if TYPE_CHECKING:
    import dns.rdata

KSK_FLAGS, ZSK_FLAGS = 257, 256


def _dnssec():
    """dns.dnssec, imported on first use: it costs a tenth of the emulator's start-up."""
    import dns.dnssec

    return dns.dnssec


ALGORITHMS = {"RSASHA256": 8}  # dns.dnssectypes.Algorithm.RSASHA256


def keys_of(ctx: Ctx, zone: Row) -> Row | None:
    rows = ctx.store.list(ctx.tenant, KEYS.name, zone.id)
    return rows[0] if rows else None


def _new_key(bits: int) -> tuple[str, str]:
    """(private key PEM, DNSKEY public key in base64)."""
    # imported here: cryptography costs about 10 MB and 20 ms of every start-up (certmanager/issue.py)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    dnskey = _dnssec().make_dnskey(key.public_key(), _dnssec().Algorithm.RSASHA256, flags=KSK_FLAGS)
    return pem, base64.b64encode(dnskey.key).decode()


def dnskey(flags: int, pub_b64: str, algorithm: int = 8) -> dns.rdata.Rdata:
    import dns.rdata  # here: dnspython costs about 7 MB and 40 ms of a start-up (rdata.py)
    import dns.rdataclass
    import dns.rdatatype

    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, f"{flags} 3 {algorithm} {pub_b64}")


def describe(zone_name: str, flags: int, pub_b64: str) -> dict:
    """One key as the API lists it, with the SHA-256 DS digest the parent zone needs."""
    import dns.name

    key = dnskey(flags, pub_b64)
    ds = _dnssec().make_ds(dns.name.from_text(zone_name), key, "SHA256")
    return {
        "keyTag": _dnssec().key_id(key),
        "digestAlgorithmMnemonic": "SHA-256",
        "digest": ds.digest.hex().upper(),
        "keyData": {"flags": flags, "pubKey": pub_b64},
        "composedKeyData": f"{flags} 3 8 {pub_b64}",
    }


def _check(params: dict) -> None:
    kp = params.get("keyParameters") or {}
    if kp.get("algorithm") not in ALGORITHMS:
        raise invalid("properties.keyParameters.algorithm", "must be one of: " + ", ".join(ALGORITHMS))
    if kp.get("kskBits", 0) < kp.get("zskBits", 0):
        raise invalid("properties.keyParameters.kskBits", "must be at least as large as zskBits")
    salt = (params.get("nsecParameters") or {}).get("nsec3SaltBits")
    if salt is not None and salt % 8:
        raise invalid("properties.nsecParameters.nsec3SaltBits", "must be a multiple of 8")


def _href(zone: Row) -> str:
    return f"/{zone.path}/keys"


@DNS.handler("zonesKeysPost")
def keys_post(ctx: Ctx) -> Reply:
    zone = load_zone(ctx, ctx.params["zoneId"])
    body = ctx.body if isinstance(ctx.body, dict) else {}
    params = body.get("properties")
    if not isinstance(params, dict):
        raise invalid("properties", "is required")
    _check(params)
    if keys_of(ctx, zone) is not None:
        raise conflict(f"zone '{zone.id}' has DNSSEC keys already; delete them first")
    kp = params["keyParameters"]
    ksk_pem, ksk_pub = _new_key(int(kp["kskBits"]))
    zsk_pem, zsk_pub = _new_key(int(kp["zskBits"]))
    kid = str(uuid.uuid4())
    row = Row(
        tenant=ctx.tenant,
        kind=KEYS.name,
        id=kid,
        parent=zone.id,
        scope=ctx.api.location,
        path=f"{zone.path}/keys/{kid}",
        doc={
            "properties": params,
            "metadata": {"zoneId": zone.id},
            "x": {"ksk": [ksk_pem, ksk_pub], "zsk": [zsk_pem, zsk_pub]},
        },
    )
    # signing is a change of the zone (its SOA serial rises when it completes)
    with ProductChange(ctx, ZONE) as ch:
        ctx.store.insert(row)
        count_change(ctx, zone)
        ch.updated(ZONE, zone)
    return Reply(success(ctx, 202), {"id": kid, "type": "dnsseckeys", "href": _href(zone), "properties": params})


@DNS.handler("zonesKeysGet")
def keys_get(ctx: Ctx) -> Reply:
    zone = load(ctx, ZONE, ctx.params["zoneId"])
    row = keys_of(ctx, zone)
    kid = row.id if row else str(uuid.uuid5(uuid.NAMESPACE_URL, _href(zone)))
    out: dict[str, Any] = {
        "id": kid,
        "type": "dnsseckeys",
        "href": _href(zone),
        "metadata": {"zoneId": zone.id, "items": []},
    }
    if row is not None:
        name = zone.props["zoneName"]
        out["metadata"]["items"] = [
            describe(name, KSK_FLAGS, row.x["ksk"][1]),
            describe(name, ZSK_FLAGS, row.x["zsk"][1]),
        ]
        p = row.props
        out["properties"] = {
            "keyParameters": {"algorithm": p["keyParameters"]["algorithm"]},
            "nsecParameters": {"nsecMode": p["nsecParameters"]["nsecMode"]},
        }
    return Reply(200, out)


@DNS.handler("zonesKeysDelete")
def keys_delete(ctx: Ctx) -> Reply:
    zone = load_zone(ctx, ctx.params["zoneId"])
    row = keys_of(ctx, zone)
    if row is None:
        raise not_found(f"zone '{zone.id}' has no DNSSEC keys")
    with ProductChange(ctx, ZONE) as ch:
        ctx.store.delete_tree(row)
        count_change(ctx, zone)
        ch.updated(ZONE, zone)
    return Reply(success(ctx, 202), {})
