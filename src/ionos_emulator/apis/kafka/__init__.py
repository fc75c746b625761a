"""Event Streams for Apache Kafka (API 1.8.0 at kafka.<region>.ionos.com, SDK ionoscloud-kafka 1.0.0b1): clusters
of brokers on a private LAN of a Cloud API data center, their topics, and their users, whose access credentials
are a TLS client certificate and key signed by the emulator's local CA (tls.py), as the real service hands out
certificates from its own CA.

A cluster is DEPLOYING until its change completes, then AVAILABLE; topics can be made once it is (409 before).
Each cluster has one user, `admin`, made with it (the API has no operation to make users). No Kafka broker
runs: the broker addresses are bookkeeping.
"""

from __future__ import annotations

import ipaddress
import re

from ...engine.change import Change
from ...engine.errors import conflict, invalid
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..dbaas import cluster_name, host_address, lan_addresses, private_lan, refuse_taken, required
from ..product import PKind, Product, load, new_row, render, spec_locations

PRODUCT = Product(
    name="kafka",
    spec_name="kafka",
    config_name="kafka",
    locations=spec_locations("kafka"),
    host="kafka.{region}.ionos.com",
    privilege=None,  # the Cloud API has no group flag for Kafka (guess: any user of the contract)
)
PRODUCTS = [PRODUCT]

VERSIONS = ("3.7.0", "3.8.0")  # the SDK's Cluster.version: "Allowed values are 3.7.0 and 3.8.0"
SIZES = ("XS", "S", "M", "L", "XL")  # the SDK's Cluster.size: T-shirt sizes
BROKERS = 3  # brokers of every size (guess: the real sizes differ in cores and RAM per broker, not in count)
BROKER_PORT = 9093  # where the brokers listen for TLS clients (guess)
RESERVED = (ipaddress.IPv4Network("10.224.0.0/11"),)  # "Note the following unavailable IP range"
TOPIC_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
DEFAULT_RETENTION = {"retentionTime": 604800000, "segmentBytes": 1073741824}  # 7 days, 1 GiB (Kafka's defaults)
ADMIN_USER = "admin"
CERT_DAYS = 365  # how long a user's client certificate is valid (guess)


def broker_endpoints(row: Row) -> list[tuple[str, str, str | None]]:
    return [
        (c["datacenterId"], c["lanId"], cidr)
        for c in row.props.get("connections") or []
        for cidr in c.get("brokerAddresses") or []
    ]


def prepare_cluster(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    required(props, "properties", ("name", "version", "size", "connections"))
    cluster_name("properties.name", props["name"])
    if props["version"] not in VERSIONS:
        raise invalid("properties.version", f"must be one of {', '.join(VERSIONS)}, got '{props['version']}'")
    if props["size"] not in SIZES:
        raise invalid("properties.size", f"must be one of {', '.join(SIZES)}, got '{props['size']}'")
    connections = props["connections"]
    if len(connections) != 1:
        raise invalid("properties.connections", "must hold exactly one connection")
    conn, attr = connections[0], "properties.connections[0]"
    required(conn, attr, ("datacenterId", "lanId", "brokerAddresses"))
    dc, lan = private_lan(ctx, attr, conn["datacenterId"], conn["lanId"], ctx.api.location)
    addresses = conn["brokerAddresses"]
    if len(addresses) != BROKERS:
        raise invalid(f"{attr}.brokerAddresses", f"must hold {BROKERS} addresses, one per broker, got {len(addresses)}")
    others = ctx.store.list(ctx.tenant, CLUSTER.name, "", scope=ctx.api.location)
    taken = lan_addresses(others, broker_endpoints, dc.id, lan.id)
    seen: set[str] = set()
    for i, cidr in enumerate(addresses):
        where = f"{attr}.brokerAddresses[{i}]"
        iface = host_address(where, cidr, reserved=RESERVED)
        refuse_taken(where, iface, taken)
        if str(iface.ip) in seen:
            raise invalid(where, f"repeats {iface.ip}: every broker needs an address of its own")
        seen.add(str(iface.ip))
    props["connections"] = [{"datacenterId": dc.id, "lanId": lan.id, "brokerAddresses": list(addresses)}]
    return props


def cluster_meta(ctx: Ctx, row: Row) -> dict:
    """The brokers' addresses and port, as clients connect to them."""
    return {
        "brokerAddresses": [
            f"{ipaddress.IPv4Interface(cidr).ip}:{BROKER_PORT}" for _, _, cidr in broker_endpoints(row) if cidr
        ],
        "message": "The cluster is ready." if row.meta.get("state") == "AVAILABLE" else "In progress.",
    }


def admin_user(ctx: Ctx, row: Row, change: Change) -> None:
    """The cluster's user, made with it, and its credentials: a client certificate naming it, signed by the
    emulator's CA."""
    from ... import tls  # here: tls.py needs cryptography, about 10 MB and 20 ms of a start-up

    user = new_row(ctx, USER, row, {"name": ADMIN_USER})
    cert, key, ca = tls.issue_client_cert(ctx.settings.data_dir, f"{ADMIN_USER}.{row.id}", days=CERT_DAYS)
    user.x.update(certificate=cert, privateKey=key, certificateAuthority=ca)
    change.created(USER, user)


CLUSTER = PKind(
    PRODUCT,
    "cluster",
    "cluster",
    "clusters",
    creating="DEPLOYING",
    updating="UPDATING",
    prepare=prepare_cluster,
    after=admin_user,
    meta=cluster_meta,
    filter_names={"name": "name"},
)


def available_cluster(ctx: Ctx, parent: Row) -> Row:
    if parent.meta.get("state") != "AVAILABLE":
        raise conflict(
            f"cluster '{parent.id}' is {parent.meta.get('state')}; topics can be changed once it is AVAILABLE"
        )
    return parent


def prepare_topic(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    assert parent is not None
    available_cluster(ctx, parent)
    required(props, "properties", ("name",))
    name = props["name"]
    if not TOPIC_NAME.match(name):
        raise invalid(
            "properties.name",
            f"must begin and end with a letter or digit and hold only letters, digits, '-', '_' and '.', got '{name}'",
        )
    if any(t.props.get("name") == name for t in ctx.store.list(ctx.tenant, TOPIC.name, parent.id)):
        raise conflict(f"cluster '{parent.id}' has a topic named '{name}' already")
    factor = props.get("replicationFactor") or BROKERS
    if factor > BROKERS:
        raise invalid("properties.replicationFactor", f"must not exceed the cluster's {BROKERS} brokers, got {factor}")
    retention = {**DEFAULT_RETENTION, **{k: v for k, v in (props.get("logRetention") or {}).items() if v is not None}}
    return {
        "name": name,
        "replicationFactor": factor,
        "numberOfPartitions": props.get("numberOfPartitions") or 3,
        "logRetention": retention,
    }


def topic_deleted(ctx: Ctx, row: Row, change: Change) -> None:
    available_cluster(ctx, load(ctx, CLUSTER, row.parent))


TOPIC = PKind(
    PRODUCT,
    "topic",
    "topic",
    "topics",
    parent=CLUSTER,
    creating="DEPLOYING",
    prepare=prepare_topic,
    delete=topic_deleted,
    meta=lambda ctx, row: {"message": "In progress." if row.meta.get("state") != "AVAILABLE" else "Ready."},
    filter_names={"name": "name"},
)
USER = PKind(PRODUCT, "user", "user", "users", parent=CLUSTER, creating="DEPLOYING")


@PRODUCT.handler("clustersUsersAccessGet")
def user_access(ctx: Ctx) -> Reply:
    """The user with its credentials in the metadata: certificate, private key and the CA that signed them."""
    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    user = load(ctx, USER, ctx.params["userId"], cluster)
    out = render(ctx, USER, user)
    out["metadata"].update({k: user.x[k] for k in ("certificate", "privateKey", "certificateAuthority")})
    return Reply(200, out)
