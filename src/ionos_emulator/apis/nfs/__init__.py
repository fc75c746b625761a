"""Network File Storage (nfs.<region>.ionos.com, spec nfs-0.1.6; no official Python SDK): clusters connected to a
private LAN of a Cloud API data center (size in TiB, the NFS version, the cluster's address on the LAN) and
their shares (a directory with a quota, an owner and the client groups that may mount it, each with a squash
mode). POST creates, PUT ensures (creates under the client's id or replaces the whole resource)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ...engine.change import Change
from ...engine.errors import conflict, invalid, unprocessable
from ...gateway.context import Ctx
from ...store import Row
from ..dbaas import connect, private_lan, refuse_busy, regional_product, required
from ..product import PKind, rows_of

PRODUCT = regional_product("nfs", "nfs.{region}.ionos.com", "accessAndManageNetworkFileStorage")
PRODUCTS = [PRODUCT]

VERSIONS = ("4.2",)
SQUASH = ("none", "root-anonymous", "all-anonymous")
NOBODY = 65534  # the default owner (uid and gid) of a share
MIB_PER_TIB = 1024 * 1024


# -- clusters -------------------------------------------------------------------------------------------


def endpoints(row: Row) -> list[tuple[str, str, str | None]]:
    return [(c["datacenterId"], c["lan"], c["ipAddress"]) for c in row.props.get("connections") or []]


def connection(ctx: Ctx, value: dict, cluster_id: str) -> dict:
    attr = "properties.connections[0]"
    required(value, attr, ("datacenterId", "lan", "ipAddress"))
    address = str(value["ipAddress"])
    if ":" in address:  # IPv6: the LAN is checked, the address only for its form
        dc, lan = private_lan(ctx, attr, value["datacenterId"], value["lan"], ctx.api.location, lan_attr="lan")
        try:
            iface = ipaddress.IPv6Interface(address)
        except ValueError:
            iface = None
        if iface is None or "/" not in address:
            raise invalid(f"{attr}.ipAddress", f"must be an address with a prefix in CIDR notation, got '{address}'")
    else:
        dc, lan, _ = connect(
            ctx,
            attr,
            value["datacenterId"],
            value["lan"],
            ctx.api.location,
            {f"{attr}.ipAddress": address},
            clusters=rows_of(ctx, CLUSTER),
            endpoints=endpoints,
            except_id=cluster_id,
            prefixes=(8, 30),
            lan_attr="lan",
        )
    return {"datacenterId": dc.id, "lan": lan.id, "ipAddress": address}


def prepare_cluster(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    if old is not None:
        refuse_busy(CLUSTER, old)
    name = props.get("name")
    if not name or not str(name).strip():
        raise invalid("properties.name", "is required")
    connections = props.get("connections") or []
    if len(connections) != 1:
        raise invalid("properties.connections", "must hold exactly one connection")
    version = (props.get("nfs") or {}).get("minVersion", VERSIONS[0])
    if version not in VERSIONS:
        raise invalid("properties.nfs.minVersion", f"must be one of {', '.join(VERSIONS)}, got '{version}'")
    size = props.get("size", 2)
    if old is not None and size < old.props["size"]:
        raise invalid("properties.size", f"cannot be reduced (from {old.props['size']} TiB to {size})")
    return {
        "name": name,
        "connections": [connection(ctx, connections[0], old.id if old else "")],
        "nfs": {"minVersion": version},
        "size": size,
    }


def delete_cluster(ctx: Ctx, row: Row, change: Change) -> None:
    shares = ctx.store.count(ctx.tenant, SHARE.name, row.id)
    if shares:
        raise conflict(f"cluster '{row.id}' still has {shares} share(s); delete them first")


def cluster_meta(ctx: Ctx, row: Row) -> dict:
    return {"used": 0}  # no files are ever written to an emulated cluster


def by_datacenter(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    return [r for r in rows if any(dc in values for dc, _, _ in endpoints(r))]


STATUS = "status"  # NFS renders the state as metadata.status
CLUSTER = PKind(
    PRODUCT,
    "cluster",
    "cluster",
    "clusters",
    absolute_href=True,
    state_field=STATUS,
    prepare=prepare_cluster,
    delete=delete_cluster,
    meta=cluster_meta,
    filters={"filter.datacenterId": by_datacenter},
    idempotent_delete=True,
)


# -- shares ---------------------------------------------------------------------------------------------


def client_group(attr: str, value: dict) -> dict[str, Any]:
    networks, hosts = [], []
    for i, net in enumerate(value.get("ipNetworks") or []):
        try:
            if "/" not in net:
                raise ValueError
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise invalid(f"{attr}.ipNetworks[{i}]", f"must be a network in CIDR notation, got '{net}'") from None
        networks.append(net)
    for i, host in enumerate(value.get("hosts") or []):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise invalid(f"{attr}.hosts[{i}]", f"must be an IPv4 or IPv6 address, got '{host}'") from None
        hosts.append(host)
    if not networks and not hosts:
        raise invalid(attr, "must name at least one network (ipNetworks) or host (hosts)")
    squash = (value.get("nfs") or {}).get("squash", "none")
    if squash not in SQUASH:
        raise invalid(f"{attr}.nfs.squash", f"must be one of {', '.join(SQUASH)}, got '{squash}'")
    out: dict[str, Any] = {"ipNetworks": networks, "hosts": hosts, "nfs": {"squash": squash}}
    if value.get("description") is not None:
        out["description"] = value["description"]
    return out


def prepare_share(ctx: Ctx, cluster: Row | None, props: dict, old: Row | None) -> dict:
    assert cluster is not None
    if cluster.meta.get("state") == CLUSTER.states.destroying:
        raise unprocessable(f"cluster '{cluster.id}' is being deleted")
    name = props.get("name")
    if not name or not str(name).strip():
        raise invalid("properties.name", "is required")
    quota = props.get("quota", 0)
    if quota < 0:
        raise invalid("properties.quota", f"must be 0 (no quota) or more MiB, got {quota}")
    capacity = cluster.props["size"] * MIB_PER_TIB
    if quota > capacity:
        raise invalid("properties.quota", f"must not exceed the cluster's {capacity} MiB, got {quota}")
    ids = {}
    for name_ in ("uid", "gid"):
        value = props.get(name_, NOBODY)
        if not 0 <= value <= NOBODY:
            raise invalid(f"properties.{name_}", f"must be from 0 to {NOBODY}, got {value}")
        ids[name_] = value
    groups = props.get("clientGroups") or []
    if not groups:
        raise invalid("properties.clientGroups", "must hold at least one client group")
    return {
        "name": name,
        "quota": quota,
        **ids,
        "clientGroups": [client_group(f"properties.clientGroups[{i}]", g) for i, g in enumerate(groups)],
    }


def share_meta(ctx: Ctx, row: Row) -> dict:
    return {"nfsPath": f"/{row.id}"}  # the spec: the path of the export is the share's id


SHARE = PKind(
    PRODUCT,
    "share",
    "share",
    "shares",
    parent=CLUSTER,
    absolute_href=True,
    state_field=STATUS,
    prepare=prepare_share,
    meta=share_meta,
)
