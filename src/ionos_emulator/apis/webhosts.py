"""What the API Gateway and the CDN share on the API side: the host names their data planes answer on (a
gateway's public endpoint and custom domains, a distribution's domain), held in one index so that a name
reaches one resource of one contract, and the certificates from Certificate Manager those names use.

The index is a hint kept in the store's key-value table (`webhost:<name>` -> the owning row's key): the data
plane (dataplanes/web.py) finds a request's resource with one lookup and then checks that the row still
exists and claims the name. So a deletion needs no step of its own: the name answers for the resource until
it is gone (a forced failure of the deletion leaves it serving), and an entry left behind is harmless."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any

from ..engine.errors import conflict, invalid
from ..gateway.context import Ctx
from ..store import Row, Store

CERTIFICATE_KIND = "certmanager.certificate"  # Certificate Manager's certificates, per contract
PREFIX = "webhost:"
HOSTS = "webhosts"  # the names a row claims, in its internal part
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@functools.lru_cache(maxsize=1024)  # asked for the Host of every request
def is_address(host: str) -> bool:
    """Whether `host` is an IPv4 or IPv6 address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def domain_name(attr: str, value: Any) -> str:
    """A host name as the data planes match it: lower case, without a final dot."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(attr, "is required")
    name = value.strip().lower().rstrip(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        raise invalid(attr, f"must be a fully qualified domain name, got '{value}'")
    return name


def certificate(ctx: Ctx, attr: str, cert_id: Any) -> None:
    """A certificate a domain uses must be one of the contract's in Certificate Manager."""
    if not isinstance(cert_id, str) or not cert_id:
        raise invalid(attr, "is required")
    if ctx.store.find(ctx.tenant, CERTIFICATE_KIND, cert_id) is None:
        raise invalid(attr, f"names no certificate of this contract in Certificate Manager ('{cert_id}')")


def owner_key(row: Row) -> dict[str, Any]:
    return {"tenant": row.tenant, "kind": row.kind, "parent": row.parent, "id": row.id}


def owner(store: Store, host: str) -> Row | None:
    """The row whose data plane answers for `host`, if one still claims it."""
    key = store.kv_get(PREFIX + host.lower().rstrip("."))
    if not isinstance(key, dict):
        return None
    row = store.get(int(key["tenant"]), key["kind"], key["parent"], key["id"])
    if row is None or host.lower().rstrip(".") not in row.x.get(HOSTS, []):
        return None
    return row


def check_free(ctx: Ctx, attr: str, host: str, row_id: str | None) -> None:
    """Refuses a name another resource (of any contract: the data plane routes by it) already answers on."""
    other = owner(ctx.store, host)
    if other is not None and other.id != row_id:
        raise conflict(f"attribute '{attr}': the domain '{host}' is already used by another resource")


def claim(ctx: Ctx, row: Row, hosts: list[str]) -> None:
    """Makes `row` the one answering for `hosts` (and for no name it claimed before and no longer does)."""
    for old in row.x.get(HOSTS, []):
        if old not in hosts:
            ctx.store.kv_delete(PREFIX + old)
    for host in hosts:
        ctx.store.kv_set(PREFIX + host, owner_key(row))
    row.x[HOSTS] = list(hosts)
    ctx.store.update(row)
