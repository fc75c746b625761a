"""Managed Stackable Data Platform (API 0.0.7 at api.ionos.com/dataplatform, SDK ionoscloud-dataplatform 1.0.0, the
older generator; its spec is compiled by tools/compile_sdk_specs.py's legacy reader): clusters in a Cloud API
data center the caller may change, with a Stackable version and a maintenance window, their node pools, the
cluster's kubeconfig and the versions offered.

A cluster is DEPLOYING until its change completes, then AVAILABLE; a PATCH makes it UPDATING, a DELETE
DESTROYING (and answers the cluster as it now is). Node pools are made in an AVAILABLE cluster only. No
Kubernetes runs: the kubeconfig names the cluster and a server address that never resolves.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ...engine.change import Change
from ...engine.errors import invalid, unprocessable
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..dbaas import cluster_name, editable_datacenter, maintenance_window
from ..product import PKind, Product, load, rows_of

PRODUCT = Product(
    name="dataplatform",
    spec_name="dataplatform",
    config_name="dataplatform",
    host="api.ionos.com",
    privilege="manageDataplatform",  # "Users with the Manage Dataplatform permission can create a cluster"
)
PRODUCTS = [PRODUCT]

# the Stackable releases offered, oldest first (guess beyond 23.4, which the product's how-to names)
VERSIONS = ["23.4", "23.7", "24.3"]
NODE_POOL_DEFAULTS = {  # what a node pool gets for what the client leaves out (guess)
    "cpuFamily": "AUTO",
    "coresCount": 4,
    "ramSize": 4096,
    "availabilityZone": "AUTO",
    "storageType": "SSD",
    "storageSize": 20,
    "labels": {},
    "annotations": {},
}
METADATA = (
    "ETag",
    "createdDate",
    "createdBy",
    "createdByUserId",
    "createdInContractNumber",
    "lastModifiedDate",
    "lastModifiedBy",
    "lastModifiedByUserId",
    "currentDataPlatformVersion",
    "currentDataPlatformRevision",
    "availableUpgradeVersions",
    "state",
)


def version_of(value: Any, current: str | None = None) -> str:
    if value in (None, ""):
        return current or VERSIONS[-1]
    if value not in VERSIONS:
        raise invalid("properties.dataPlatformVersion", f"must be one of {', '.join(VERSIONS)}, got '{value}'")
    if current and VERSIONS.index(value) < VERSIONS.index(current):
        raise invalid("properties.dataPlatformVersion", f"cannot go back from {current} to {value}")
    return str(value)


def prepare_cluster(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    if old is None:
        dc = editable_datacenter(ctx, "properties.datacenterId", props.get("datacenterId"))
        datacenter = dc.id
    else:
        datacenter = old.props["datacenterId"]
    return {
        "name": cluster_name("properties.name", props.get("name")),
        "dataPlatformVersion": version_of(
            props.get("dataPlatformVersion"), old.props["dataPlatformVersion"] if old else None
        ),
        "datacenterId": datacenter,
        "maintenanceWindow": maintenance_window(
            "properties.maintenanceWindow",
            props.get("maintenanceWindow"),
            old.props["maintenanceWindow"] if old else None,
        ),
    }


def cluster_token(ctx: Ctx, row: Row, change: Change) -> None:
    """The token of the kubeconfig's user, made with the cluster."""
    if "token" not in row.x:
        row.x["token"] = secrets.token_urlsafe(48)
        ctx.store.update(row)


def cluster_meta(ctx: Ctx, row: Row) -> dict:
    version = row.props.get("dataPlatformVersion", VERSIONS[-1])
    return {
        "ETag": hashlib.md5(f"{row.id}{row.meta.get('lastModifiedDate')}".encode()).hexdigest(),
        "createdInContractNumber": str(ctx.tenant),
        "currentDataPlatformVersion": version,
        "currentDataPlatformRevision": 1,
        "availableUpgradeVersions": VERSIONS[VERSIONS.index(version) + 1 :] if version in VERSIONS else [],
    }


def by_name(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    """`?name=`: clusters whose name holds the text, in any case."""
    wanted = [v.lower() for v in values]
    return [r for r in rows if any(w in str(r.props.get("name", "")).lower() for w in wanted)]


CLUSTER = PKind(
    PRODUCT,
    "cluster",
    "cluster",
    "clusters",
    creating="DEPLOYING",
    updating="UPDATING",
    absolute_href=True,
    prepare=prepare_cluster,
    after=cluster_token,
    meta=cluster_meta,
    metadata_fields=METADATA,
    filters={"name": by_name},
    patchable=("name", "dataPlatformVersion", "maintenanceWindow"),
    changeable_states=("AVAILABLE",),
    delete_renders=True,
    idempotent_delete=True,
)


def prepare_pool(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    assert parent is not None
    if old is None and parent.meta.get("state") != "AVAILABLE":
        raise unprocessable(
            f"cluster '{parent.id}' is {parent.meta.get('state')}; node pools can be added once it is AVAILABLE"
        )
    name = cluster_name("properties.name", props.get("name"))
    if old is None and any(p.props.get("name") == name for p in rows_of(ctx, POOL, parent)):
        raise invalid("properties.name", f"names an existing node pool of cluster {parent.id} ('{name}')")
    if not props.get("nodeCount"):
        raise invalid("properties.nodeCount", "is required")
    out = {**NODE_POOL_DEFAULTS, **{k: v for k, v in props.items() if v is not None}}
    if out["ramSize"] % 1024:
        raise invalid("properties.ramSize", f"must be a multiple of 1024 MB, got {out['ramSize']}")
    out["maintenanceWindow"] = maintenance_window(
        "properties.maintenanceWindow", props.get("maintenanceWindow"), old.props["maintenanceWindow"] if old else None
    )
    out.update(
        name=name, dataPlatformVersion=parent.props["dataPlatformVersion"], datacenterId=parent.props["datacenterId"]
    )
    return out


POOL = PKind(
    PRODUCT,
    "nodepool",
    "nodepool",
    "nodepools",
    parent=CLUSTER,
    creating="DEPLOYING",
    updating="UPDATING",
    absolute_href=True,
    prepare=prepare_pool,
    meta=cluster_meta,
    metadata_fields=METADATA,
    patchable=("nodeCount", "maintenanceWindow", "labels", "annotations"),
    changeable_states=("AVAILABLE",),
    delete_renders=True,
    idempotent_delete=True,
)


@PRODUCT.handler("getClusterKubeconfig")
def kubeconfig(ctx: Ctx) -> Reply:
    """The cluster's kubeconfig as YAML, its cluster and context named after the cluster."""
    from ..cloud.k8s import _yaml
    from ..cloud.k8s import kubeconfig as k8s_kubeconfig

    cluster = load(ctx, CLUSTER, ctx.params["clusterId"])
    if cluster.meta.get("state") in (CLUSTER.states.creating, CLUSTER.states.destroying):
        raise unprocessable(f"cluster '{cluster.id}' is {cluster.meta.get('state')}; it has no kubeconfig yet")
    doc = k8s_kubeconfig(ctx, cluster)
    return Reply(200, "\n".join(_yaml(doc)) + "\n", content_type="application/yaml")


@PRODUCT.handler("versionsGet")
def versions(ctx: Ctx) -> Reply:
    return Reply(200, list(VERSIONS))
