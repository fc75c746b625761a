"""Managed Kubernetes: clusters, node pools, nodes, kubeconfig and versions (api-behaviour.md §6.10).

Unlike the rest of the Cloud API, clients follow clusters and node pools through their own
metadata.state (DEPLOYING/UPDATING/DESTROYING -> ACTIVE, or 404 once deleted) rather than through the
request; the request record is still written so /requests and the Location header work as everywhere.
Nodes are rows below their pool (PROVISIONING -> READY); they are not servers of the data center.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import uuid

import orjson

from ...catalogue import load
from ...engine import clock
from ...gateway.context import Ctx, Reply
from .compute import handler
from .model import Change, Kind, full, key, load_chain, new_row, props_of, register, register_shareable, stamp, visible
from .rules import allocate_public_ips, as_int, check_server_size, check_storage, fail, limits, location_of

# The real releases (catalogue/k8s.json): every patch release per minor, oldest first. The newest patch of
# each minor is what the versions endpoint offers; earlier patches are still accepted when asked for.
_K8S = load("k8s")
RELEASES: tuple[str, ...] = tuple(v for patches in _K8S["releases"].values() for v in patches)
VERSIONS: tuple[str, ...] = tuple(patches[-1] for patches in _K8S["releases"].values())
DEFAULT_VERSION: str = _K8S["default"]
# Node pools may run the cluster's minor version or up to this many minors below it.
NODE_VERSION_SKEW = 2

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NAME_RE = re.compile(r"(?:[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)?")
TIME_RE = re.compile(r'([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:Z|"Z")?')
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
LABEL_NAME_RE = re.compile(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?")
LABEL_PREFIX_RE = re.compile(r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?")
TAINT_EFFECTS = ("NoSchedule", "NoExecute", "PreferNoSchedule")
MAX_TAINTS = 50
DEFAULT_NODE_SUBNET = "10.208.0.0/16"
# A cluster, pool or node in these states is on its way out: further changes are a state conflict.
ENDING = ("DESTROYING",)

IMMUTABLE_POOL = (
    "datacenterId",
    "cpuFamily",
    "coresCount",
    "ramSize",
    "availabilityZone",
    "storageType",
    "storageSize",
)


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _minor(version: str) -> tuple[int, ...]:
    return _parts(version)[:2]


def upgrade_targets(version: str) -> list[str]:
    """A newer patch of the same minor, or the next minor's offered release: a cluster moves up one minor at
    a time."""
    cur = _minor(version)
    return [v for v in RELEASES if _minor(v) == cur and _parts(v) > _parts(version)] + [
        v for v in VERSIONS if _minor(v) == (cur[0], cur[1] + 1)
    ]


def viable_pool_versions(cluster_version: str) -> list[str]:
    """The offered releases of the minors below the cluster's (within the skew), and the cluster's own."""
    major, minor = _minor(cluster_version)
    lower = [v for v in VERSIONS if _minor(v)[0] == major and minor - NODE_VERSION_SKEW <= _minor(v)[1] < minor]
    return [*lower, cluster_version]


def _check_name(name, what: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise fail(
            f"The {what} name '{name}' is not valid: at most 63 characters, starting and ending with a "
            f"letter or digit, with '-', '_', '.', letters and digits between",
            vdc="VDC-20-1",
        )
    return name


def _check_version(version, allowed: list[str] | tuple[str, ...], what: str) -> str:
    if version not in allowed:
        raise fail(
            f"The Kubernetes version '{version}' is not available for this {what}; available: {', '.join(allowed)}",
            vdc="VDC-20-2",
        )
    return version


def _maintenance_window(given, seed: str) -> dict:
    """The window as the API shows it ("HH:MM:SSZ"); a new resource without one gets one assigned."""
    if given is None:
        h = hashlib.md5(seed.encode()).digest()
        return {"dayOfTheWeek": DAYS[h[0] % 7], "time": f"{h[1] % 24:02d}:{h[2] % 4 * 15:02d}:00Z"}
    m = TIME_RE.fullmatch(str(given.get("time", "")))
    if m is None:
        raise fail(f"maintenanceWindow.time '{given.get('time')}' must look like HH:mm:ss or HH:mm:ssZ", vdc="VDC-20-3")
    return {"dayOfTheWeek": given["dayOfTheWeek"], "time": f"{m.group(1)}:{m.group(2)}:{m.group(3)}Z"}


def _set_state(ctx: Ctx, row, state: str) -> None:
    """Marks a cluster or pool as changing, in the transaction of the change."""
    stamp(ctx, row, state)
    ctx.store.update(row)


def _transition(ch: Change, kind: Kind, row, during: str, after: str, failed: str) -> None:
    """A change of a k8s resource: `during` now, `after` when the request completes (`failed` if it fails)."""
    _set_state(ch.ctx, row, during)
    ch.target(kind, row)
    ch.effect("state", key(row), state=after)
    ch.effect("state", key(row), on_fail=True, state=failed)


def _removal(ch: Change, kind: Kind, row, during: str, failed: str) -> None:
    if kind is NODE:
        _node_state(ch.ctx, row, during)
    else:
        _set_state(ch.ctx, row, during)
    ch.target(kind, row)
    ch.effect("delete", key(row))
    ch.effect("state", key(row), on_fail=True, state=failed)


def _not_ending(row, what: str) -> None:
    state = row.meta.get("state")
    if state in ENDING:
        raise fail(
            f"Operation cannot be executed since this Kubernetes {what} is already marked for deletion. "
            f"Current state of the resource is {state}.",
            "200",
            vdc="VDC-20-4",
        )


# -- clusters ---------------------------------------------------------------------------------------


def _allow_list(value) -> list[str]:
    for entry in value or []:
        try:
            ipaddress.ip_network(entry, strict=False)
        except (ValueError, TypeError):
            raise fail(f"apiSubnetAllowList entry '{entry}' is not an IP address or CIDR", vdc="VDC-20-5") from None
    return list(value or [])


def _buckets(value) -> list[dict]:
    for b in value or []:
        if not BUCKET_RE.fullmatch(b.get("name", "")) or ".." in b["name"]:
            raise fail(
                f"s3Buckets name '{b.get('name')}' is not a valid bucket name (3-63 lowercase letters, "
                f"digits, '.' and '-', starting and ending with a letter or digit)",
                vdc="VDC-20-6",
            )
    return [{"name": b["name"]} for b in value or []]


def _reserved_ip(ctx: Ctx, ip: str, location: str, what: str) -> None:
    """`ip` must be an address of one of the contract's IP blocks in `location`."""
    for block in ctx.store.list(ctx.tenant, "ipblock", ""):
        if ip in (block.props.get("ips") or []):
            if block.props.get("location") != location:
                raise fail(
                    f"{what} {ip} is reserved in {block.props.get('location')}, not in {location}", vdc="VDC-20-7"
                )
            return
    raise fail(f"{what} {ip} is not reserved in an IP block of this contract", vdc="VDC-20-8")


def create_cluster(ctx: Ctx, parent, body, ch: Change):
    p = props_of(body)
    limit = limits(ctx)["k8sClusterLimitTotal"]
    if ctx.store.count(ctx.tenant, CLUSTER.name) >= limit:
        raise fail(f"The contract's limit of {limit} Kubernetes clusters is reached", vdc="VDC-14-8")
    rid = str(uuid.uuid4())
    public = p.get("public", True)
    props = {
        "name": _check_name(p.get("name"), "cluster"),
        "k8sVersion": _check_version(p.get("k8sVersion", DEFAULT_VERSION), RELEASES, "cluster"),
        "maintenanceWindow": _maintenance_window(p.get("maintenanceWindow"), rid),
        "public": public,
        "apiSubnetAllowList": _allow_list(p.get("apiSubnetAllowList")),
        "s3Buckets": _buckets(p.get("s3Buckets")),
    }
    if p.get("location") is not None:
        props["location"] = location_of(ctx, p["location"])["id"]
    if public:
        for attr in ("natGatewayIp", "nodeSubnet"):
            if p.get(attr) is not None:
                raise fail(f"attribute 'properties.{attr}' is only for private clusters (public=false)", vdc="VDC-20-9")
    else:
        for attr in ("location", "natGatewayIp"):
            if p.get(attr) is None:
                raise fail(f"attribute 'properties.{attr}' is required for a private cluster", vdc="VDC-20-10")
        _reserved_ip(ctx, p["natGatewayIp"], props["location"], "natGatewayIp")
        props["natGatewayIp"] = p["natGatewayIp"]
        if p.get("nodeSubnet") is not None:
            try:
                net = ipaddress.ip_network(p["nodeSubnet"])
            except ValueError:
                net = None
            if net is None or net.version != 4 or net.prefixlen != 16:
                raise fail(f"nodeSubnet '{p['nodeSubnet']}' must be an IPv4 network with a /16 prefix", vdc="VDC-20-11")
            props["nodeSubnet"] = str(net)
    row = new_row(ctx, CLUSTER, None, props, id=rid, state="DEPLOYING")
    row.x["token"] = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode().rstrip("=")
    return ch.created(CLUSTER, row, final_state="ACTIVE")


def _cluster_view(ctx: Ctx, row) -> dict:
    v = row.props["k8sVersion"]
    return {
        **row.props,
        "availableUpgradeVersions": upgrade_targets(v),
        "viableNodePoolVersions": viable_pool_versions(v),
    }


CLUSTER = register_shareable(
    "k8s", "k8s", "k8s", "createK8sCluster", entities=("nodepools",), create=create_cluster, view=_cluster_view
)


@handler("k8sPut")
def update_cluster(ctx: Ctx) -> Reply:
    (row,) = load_chain(ctx, [(CLUSTER, "k8sClusterId")])
    _not_ending(row, "Cluster")
    p = props_of(ctx.body)
    for attr in ("location", "public", "natGatewayIp", "nodeSubnet"):
        if attr in p and p[attr] != row.props.get(attr, True if attr == "public" else None):
            raise fail(f"attribute 'properties.{attr}' cannot be changed", vdc="VDC-1-3")
    version = p.get("k8sVersion", row.props["k8sVersion"])
    if version != row.props["k8sVersion"]:
        _check_version(version, upgrade_targets(row.props["k8sVersion"]), "cluster (as an upgrade)")
        viable = viable_pool_versions(version)
        behind = [pool.props["name"] for pool in _pools(ctx, row) if pool.props["k8sVersion"] not in viable]
        if behind:
            raise fail(
                f"Node pools {', '.join(behind)} must be upgraded before the cluster can run {version}", vdc="VDC-20-12"
            )
    # PUT replaces what the client manages; the version and window are always kept when omitted
    row.props.update(
        name=_check_name(p.get("name"), "cluster"),
        k8sVersion=version,
        maintenanceWindow=(
            _maintenance_window(p["maintenanceWindow"], row.id)
            if p.get("maintenanceWindow")
            else row.props["maintenanceWindow"]
        ),
        apiSubnetAllowList=_allow_list(p.get("apiSubnetAllowList")),
        s3Buckets=_buckets(p.get("s3Buckets")),
    )
    with Change(ctx, CLUSTER.name) as ch:
        _transition(ch, CLUSTER, row, "UPDATING", "ACTIVE", "FAILED_UPDATING")
    return ch.accepted(full(ctx, CLUSTER, row, ctx.depth))


@handler("k8sDelete")
def delete_cluster(ctx: Ctx) -> Reply:
    (row,) = load_chain(ctx, [(CLUSTER, "k8sClusterId")])
    _not_ending(row, "Cluster")
    pools = _pools(ctx, row)
    if pools:
        raise fail(f"The cluster still has {len(pools)} node pool(s); delete them first", "200", vdc="VDC-20-13")
    with Change(ctx, CLUSTER.name) as ch:
        _removal(ch, CLUSTER, row, "DESTROYING", "FAILED_DESTROYING")
    return ch.accepted(None)


def _pools(ctx: Ctx, cluster) -> list:
    return ctx.store.list(ctx.tenant, POOL.name, cluster.id)


# -- kubeconfig -------------------------------------------------------------------------------------


def kubeconfig(ctx: Ctx, cluster) -> dict:
    name = cluster.props["name"] or cluster.id
    user, context = "cluster-admin", f"cluster-admin@{name}"
    # a stand-in CA: a PEM block of stable bytes, so tools that decode it find a certificate-shaped text
    body = base64.b64encode(hashlib.sha512(cluster.id.encode()).digest() * 4).decode()
    lines = "".join(body[i : i + 64] + "\n" for i in range(0, len(body), 64))
    ca = f"-----BEGIN CERTIFICATE-----\n{lines}-----END CERTIFICATE-----\n"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": context,
        # .invalid never resolves: the emulator serves no Kubernetes API server
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": f"https://{cluster.id[:8]}.k8s.emulator.invalid:6443",
                    "certificate-authority-data": base64.b64encode(ca.encode()).decode(),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": name, "user": user}}],
        "users": [{"name": user, "user": {"token": cluster.x.get("token", "")}}],
    }


def _yaml(doc: dict, indent: str = "") -> list[str]:
    """Block-style YAML for the kubeconfig's shapes (maps, lists of maps, scalars); no YAML library at run time."""
    lines: list[str] = []
    for k, v in doc.items():
        if isinstance(v, dict) and v:
            lines.append(f"{indent}{k}:")
            lines += _yaml(v, indent + "  ")
        elif isinstance(v, list) and v:
            lines.append(f"{indent}{k}:")
            for entry in v:
                sub = _yaml(entry, indent + "  ")
                lines += [f"{indent}- {sub[0][len(indent) + 2 :]}"] + sub[1:]
        else:
            lines.append(f"{indent}{k}: {_yaml_scalar(v)}")
    return lines


def _yaml_scalar(v) -> str:
    if v == {}:
        return "{}"
    if v == []:
        return "[]"
    if (
        isinstance(v, str)
        and re.fullmatch(r"[A-Za-z][A-Za-z0-9@._/:=+-]*", v)
        and ": " not in v
        and v.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n", "~")
    ):
        return v
    return json.dumps(v)  # a JSON string is a valid YAML double-quoted scalar


@handler("k8sKubeconfigGet")
def get_kubeconfig(ctx: Ctx) -> Reply:
    (cluster,) = load_chain(ctx, [(CLUSTER, "k8sClusterId")])
    doc = kubeconfig(ctx, cluster)
    if _wants_json(ctx.headers.get("accept")):
        # The document itself, as the real API sends it (sdk-go hands the bytes over, Terraform parses them as
        # YAML). The spec types this body as a plain string, so it is sent pre-serialised with an explicit
        # charset: strict mode validates only bodies it serialises itself.
        return Reply(200, orjson.dumps(doc), content_type="application/json; charset=utf-8")
    return Reply(200, "\n".join(_yaml(doc)) + "\n", content_type="application/yaml")


def _wants_json(accept: str | None) -> bool:
    """YAML unless the first supported media type the client lists is JSON."""
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media == "application/json":
            return True
        if media in ("application/yaml", "application/x-yaml"):
            return False
    return False


# -- versions ---------------------------------------------------------------------------------------


@handler("k8sVersionsGet")
def versions(ctx: Ctx) -> Reply:
    return Reply(200, list(VERSIONS))


@handler("k8sVersionsDefaultGet")
def default_version(ctx: Ctx) -> Reply:
    return Reply(200, DEFAULT_VERSION)


# -- node pools -------------------------------------------------------------------------------------


def _datacenter(ctx: Ctx, cluster, dc_id):
    dc = ctx.store.get(ctx.tenant, "datacenter", "", str(dc_id))
    if dc is None or not visible(ctx, dc):
        raise fail(f"The data center '{dc_id}' does not exist", vdc="VDC-20-14")
    loc = cluster.props.get("location")
    if loc and dc.props["location"] != loc:
        raise fail(f"The data center is in {dc.props['location']}, but the cluster is in {loc}", vdc="VDC-20-15")
    return dc


def _auto_scaling(value, node_count: int) -> dict | None:
    if not value:
        return None
    lo = as_int(value.get("minNodeCount"), "properties.autoScaling.minNodeCount")
    hi = as_int(value.get("maxNodeCount"), "properties.autoScaling.maxNodeCount")
    if lo < 1 or hi < lo:
        raise fail(f"autoScaling needs 1 <= minNodeCount <= maxNodeCount (got {lo}..{hi})", vdc="VDC-20-16")
    if not lo <= node_count <= hi:
        raise fail(f"nodeCount {node_count} must lie within autoScaling {lo}..{hi}", vdc="VDC-20-17")
    return {"minNodeCount": lo, "maxNodeCount": hi}


def _public_ips(ctx: Ctx, pool_id: str | None, dc, ips, node_count: int, scaling) -> list[str]:
    """Optional; then one more than the most nodes the pool can have (the spare serves rebuilds)."""
    if not ips:
        return []
    most = scaling["maxNodeCount"] if scaling else node_count
    if len(ips) != most + 1:
        raise fail(
            f"publicIps must hold {most + 1} addresses (one more than the {most} nodes the pool can have), "
            f"not {len(ips)}",
            vdc="VDC-20-18",
        )
    if len(set(ips)) != len(ips):
        raise fail("publicIps must not repeat an address", vdc="VDC-20-19")
    for ip in ips:
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise fail(f"publicIps entry '{ip}' is not an IPv4 address", vdc="VDC-20-20") from None
        _reserved_ip(ctx, ip, dc.props["location"], "Public IP")
    for other in ctx.store.list(ctx.tenant, POOL.name):
        taken = set(other.props.get("publicIps") or []) & set(ips)
        if other.id != pool_id and taken:
            raise fail(f"Public IP {sorted(taken)[0]} is already used by node pool {other.id}", vdc="VDC-20-21")
    return list(ips)


def _lans(ctx: Ctx, dc, value) -> list[dict]:
    out = []
    for entry in value or []:
        lan_id = as_int(entry.get("id"), "properties.lans[].id")
        lan = ctx.store.get(ctx.tenant, "lan", dc.id, str(lan_id))
        if lan is None:
            raise fail(f"LAN {lan_id} does not exist in data center {dc.id}", vdc="VDC-20-22")
        if lan.props.get("public"):
            raise fail(f"LAN {lan_id} is public; node pools attach private LANs only", vdc="VDC-20-23")
        routes = []
        for r in entry.get("routes") or []:
            try:
                ipaddress.ip_network(r.get("network", ""), strict=False)
                ipaddress.ip_address(r.get("gatewayIp", ""))
            except ValueError:
                raise fail(
                    f"LAN {lan_id} route {r} needs a CIDR 'network' and an IP 'gatewayIp'", vdc="VDC-20-24"
                ) from None
            routes.append({"network": r["network"], "gatewayIp": r["gatewayIp"]})
        out.append({"id": lan_id, "dhcp": bool(entry.get("dhcp", True)), "routes": routes})
    return out


def _label_key(k: str, what: str) -> None:
    prefix, _, name = k.rpartition("/")
    if not LABEL_NAME_RE.fullmatch(name) or (prefix and not LABEL_PREFIX_RE.fullmatch(prefix)):
        raise fail(
            f"{what} key '{k}' is not a valid Kubernetes key ([prefix/]name, name at most 63 characters)",
            vdc="VDC-20-25",
        )


def _labels(value) -> dict:
    for k, v in (value or {}).items():
        _label_key(k, "Label")
        if v and not LABEL_NAME_RE.fullmatch(v):
            raise fail(f"Label value '{v}' is not valid (at most 63 letters, digits, '-', '_', '.')", vdc="VDC-20-26")
    return dict(value or {})


def _annotations(value) -> dict:
    for k in value or {}:
        _label_key(k, "Annotation")
    return dict(value or {})


def _taints(value) -> list[dict] | None:
    """Newer clients send taints (not in this spec version): checked and kept when given."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_TAINTS:
        raise fail(f"taints must be a list of at most {MAX_TAINTS} entries", vdc="VDC-20-27")
    for t in value:
        if not isinstance(t, dict) or not t.get("key") or t.get("effect") not in TAINT_EFFECTS:
            raise fail(f"taint {t} needs a key and an effect of {', '.join(TAINT_EFFECTS)}", vdc="VDC-20-28")
        _label_key(t["key"], "Taint")
    return [{k: t[k] for k in ("key", "value", "effect") if k in t} for t in value]


def _node_size(ctx: Ctx, dc, p: dict, node_count: int) -> dict:
    """cores, RAM, CPU family and storage of each node, checked like the servers they become."""
    server_type = p.get("serverType", "DedicatedCore")
    cores = as_int(p.get("coresCount"), "properties.coresCount")
    ram = as_int(p.get("ramSize"), "properties.ramSize")
    storage = as_int(p.get("storageSize"), "properties.storageSize")
    if cores < 1:
        raise fail("attribute 'properties.coresCount' must be at least 1", vdc="VDC-20-29")
    if ram < 2048 or ram % 1024:
        raise fail("attribute 'properties.ramSize' must be a multiple of 1024 MB and at least 2048 MB", vdc="VDC-20-30")
    if storage < 1:
        raise fail("attribute 'properties.storageSize' must be at least 1 GB", vdc="VDC-20-31")
    loc = location_of(ctx, dc.props["location"])
    families = [a["cpuFamily"] for a in loc["properties"]["cpuArchitecture"]]
    family = p.get("cpuFamily")
    if family and server_type == "VCPU":
        raise fail("attribute 'properties.cpuFamily' must not be given for VCPU node pools", vdc="VDC-20-32")
    if family and family not in families:
        raise fail(
            f"The CPU family '{family}' is not available in {loc['id']} ({', '.join(families)})", vdc="VDC-20-33"
        )
    family = family or (families[0] if server_type == "DedicatedCore" else None)
    check_server_size(ctx, loc, family, cores, ram, extra_cores=cores * node_count, extra_ram=ram * node_count)
    check_storage(ctx, p["storageType"], float(storage), extra_gb=float(storage * node_count))
    return {
        "serverType": server_type,
        "coresCount": cores,
        "ramSize": ram,
        "storageSize": storage,
        **({"cpuFamily": family} if family else {}),
    }


def _node_count(p: dict) -> int:
    n = as_int(p.get("nodeCount"), "properties.nodeCount")
    if n < 1:
        raise fail("attribute 'properties.nodeCount' must be at least 1", vdc="VDC-20-34")
    return n


def create_pool(ctx: Ctx, cluster, body, ch: Change):
    p = props_of(body)
    if cluster.meta.get("state") != "ACTIVE":
        raise fail(
            f"Node pools can be created once the cluster is ACTIVE; it is {cluster.meta.get('state')}",
            "200",
            vdc="VDC-20-35",
        )
    dc = _datacenter(ctx, cluster, p.get("datacenterId"))
    count = _node_count(p)
    scaling = _auto_scaling(p.get("autoScaling"), count)
    rid = str(uuid.uuid4())
    props = {
        "name": _check_name(p.get("name"), "node pool"),
        "datacenterId": dc.id,
        "nodeCount": count,
        **_node_size(ctx, dc, p, count),
        "availabilityZone": p["availabilityZone"],
        "storageType": p["storageType"],
        "k8sVersion": _check_version(
            p.get("k8sVersion", cluster.props["k8sVersion"]),
            viable_pool_versions(cluster.props["k8sVersion"]),
            "cluster's node pools",
        ),
        "maintenanceWindow": _maintenance_window(p.get("maintenanceWindow"), rid),
        "lans": _lans(ctx, dc, p.get("lans")),
        "labels": _labels(p.get("labels")),
        "annotations": _annotations(p.get("annotations")),
        "publicIps": _public_ips(ctx, None, dc, p.get("publicIps"), count, scaling),
    }
    if scaling:
        props["autoScaling"] = scaling
    taints = _taints(p.get("taints"))
    if taints is not None:
        props["taints"] = taints
    pool = new_row(ctx, POOL, cluster, props, id=rid, state="DEPLOYING")
    ch.created(POOL, pool, final_state="ACTIVE")
    for _ in range(count):
        _add_node(ctx, cluster, pool, ch)
    return pool


def _pool_view(ctx: Ctx, row) -> dict:
    cluster = ctx.store.get(ctx.tenant, CLUSTER.name, "", row.parent)
    cap = cluster.props["k8sVersion"] if cluster else row.props["k8sVersion"]
    ups = [v for v in viable_pool_versions(cap) if _parts(v) > _parts(row.props["k8sVersion"])]
    return {**row.props, "availableUpgradeVersions": ups}


POOL = register(
    Kind("nodepool", "nodepool", "nodepools", parent="k8s", paginated=False, create=create_pool, view=_pool_view)
)


@handler("k8sNodepoolsPut")
def update_pool(ctx: Ctx) -> Reply:
    cluster, pool = load_chain(ctx, [(CLUSTER, "k8sClusterId"), (POOL, "nodepoolId")])
    _not_ending(pool, "Nodepool")
    p = props_of(ctx.body)
    for attr in IMMUTABLE_POOL:
        if attr in p and p[attr] != pool.props.get(attr):
            raise fail(f"attribute 'properties.{attr}' of a node pool cannot be changed", vdc="VDC-1-3")
    dc = _datacenter(ctx, cluster, pool.props["datacenterId"])
    count = _node_count(p)
    scaling = _auto_scaling(p.get("autoScaling"), count)
    version = p.get("k8sVersion", pool.props["k8sVersion"])
    if version != pool.props["k8sVersion"]:
        _check_version(version, _pool_view(ctx, pool)["availableUpgradeVersions"], "node pool (as an upgrade)")
    server_type = p.get("serverType", pool.props["serverType"])
    if server_type != pool.props["serverType"]:
        size = _node_size(ctx, dc, {**pool.props, "serverType": server_type, "cpuFamily": None}, 0)
        pool.props.pop("cpuFamily", None)
        pool.props.update(size)
    pool.props.update(
        name=_check_name(p.get("name", pool.props["name"]), "node pool"),
        nodeCount=count,
        k8sVersion=version,
        maintenanceWindow=(
            _maintenance_window(p["maintenanceWindow"], pool.id)
            if p.get("maintenanceWindow")
            else pool.props["maintenanceWindow"]
        ),
        lans=_lans(ctx, dc, p.get("lans")),
        labels=_labels(p.get("labels")),
        annotations=_annotations(p.get("annotations")),
        publicIps=_public_ips(ctx, pool.id, dc, p.get("publicIps"), count, scaling),
    )
    pool.props.pop("autoScaling", None)
    if scaling:
        pool.props["autoScaling"] = scaling
    if "taints" in p:
        taints = _taints(p["taints"])
        pool.props.pop("taints", None)
        if taints:
            pool.props["taints"] = taints
    with Change(ctx, POOL.name) as ch:
        _transition(ch, POOL, pool, "UPDATING", "ACTIVE", "FAILED_UPDATING")
        nodes = [n for n in _nodes(ctx, pool) if n.meta.get("state") != "TERMINATING"]
        for _ in range(count - len(nodes)):  # scale out
            _add_node(ctx, cluster, pool, ch)
        for node in reversed(nodes[count:]):  # scale in: the newest nodes go first
            _removal(ch, NODE, node, "TERMINATING", "READY")
        for node in nodes[:count]:
            if node.props["k8sVersion"] != version:
                ch.effect("props", key(node), set={"k8sVersion": version})
    return ch.accepted(full(ctx, POOL, pool, ctx.depth))


@handler("k8sNodepoolsDelete")
def delete_pool(ctx: Ctx) -> Reply:
    cluster, pool = load_chain(ctx, [(CLUSTER, "k8sClusterId"), (POOL, "nodepoolId")])
    _not_ending(pool, "Nodepool")
    with Change(ctx, POOL.name) as ch:
        for node in _nodes(ctx, pool):
            _node_state(ctx, node, "TERMINATING")
        _removal(ch, POOL, pool, "DESTROYING", "FAILED_DESTROYING")
    return ch.accepted(None)


# -- nodes ------------------------------------------------------------------------------------------


def _nodes(ctx: Ctx, pool) -> list:
    return ctx.store.list(ctx.tenant, NODE.name, pool.id)


def _node_state(ctx: Ctx, node, state: str) -> None:
    node.meta.update(state=state, lastModifiedDate=clock.iso(ctx.now), etag=uuid.uuid4().hex)
    ctx.store.update(node)


def _add_node(ctx: Ctx, cluster, pool, ch: Change):
    """A new node of the pool, PROVISIONING until the change completes."""
    rid = str(uuid.uuid4())
    base = re.sub(r"[^a-z0-9-]", "-", pool.props["name"].lower()).strip("-") or "node"
    props = {
        "name": f"{base[:50]}-{rid[:8]}",
        "k8sVersion": pool.props["k8sVersion"],
        "privateIP": _next_private_ip(ctx, cluster),
    }
    if cluster.props.get("public", True):
        used = {n.props.get("publicIP") for n in _nodes(ctx, pool)}
        spare = [ip for ip in pool.props.get("publicIps") or [] if ip not in used]
        props["publicIP"] = spare[0] if spare else allocate_public_ips(ctx, 1)[0]
    node = new_row(ctx, NODE, pool, props, id=rid, state="PROVISIONING")
    ts = node.meta["createdDate"]
    # a node's metadata is the smaller KubernetesNodeMetadata
    node.doc["metadata"] = {
        "etag": node.meta["etag"],
        "createdDate": ts,
        "lastModifiedDate": ts,
        "lastSoftwareUpdatedDate": ts,
        "state": "PROVISIONING",
    }
    return ch.created(NODE, node, final_state="READY")


def _next_private_ip(ctx: Ctx, cluster) -> str:
    net = ipaddress.IPv4Network(cluster.props.get("nodeSubnet") or DEFAULT_NODE_SUBNET)
    n = int(cluster.x.get("node_seq", 9)) + 1
    cluster.x["node_seq"] = n
    ctx.store.update(cluster)
    return str(net.network_address + n)


NODE = register(Kind("k8snode", "node", "nodes", parent="nodepool", paginated=False))


def _node_chain(ctx: Ctx):
    return load_chain(ctx, [(CLUSTER, "k8sClusterId"), (POOL, "nodepoolId"), (NODE, "nodeId")])


@handler("k8sNodepoolsNodesDelete")
def delete_node(ctx: Ctx) -> Reply:
    """The node goes away; the pool keeps its nodeCount, so a replacement is provisioned at once."""
    cluster, pool, node = _node_chain(ctx)
    _not_ending(pool, "Nodepool")
    if node.meta.get("state") == "TERMINATING":
        raise fail("The node is already being deleted", "200", vdc="VDC-20-36")
    with Change(ctx, NODE.name) as ch:
        _removal(ch, NODE, node, "TERMINATING", "READY")
        _add_node(ctx, cluster, pool, ch)
    return ch.accepted(None)


@handler("k8sNodepoolsNodesReplacePost")
def replace_node(ctx: Ctx) -> Reply:
    cluster, pool, node = _node_chain(ctx)
    _not_ending(pool, "Nodepool")
    if node.meta.get("state") in ("TERMINATING", "REBUILDING"):
        raise fail(f"The node cannot be replaced while it is {node.meta['state']}", "200", vdc="VDC-20-37")
    with Change(ctx, NODE.name) as ch:
        _node_state(ctx, node, "REBUILDING")
        ch.target(NODE, node)
        ch.effect("state", key(node), state="READY")
        ch.effect("state", key(node), on_fail=True, state="READY")
    return ch.accepted(None)
