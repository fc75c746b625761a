"""What the MongoDB service offers: templates (sizes), MongoDB versions, locations and the API's own versions.
The templates are the real ones, with their public ids and RAM in MB (catalogue/mongodb.json)."""

from __future__ import annotations

from ...catalogue import load

# Locations the service runs in (the upstream spec's list); a cluster lives where its data center is.
LOCATIONS = ("de/fra", "de/txl", "gb/lhr", "gb/bhx", "es/vit", "us/ewr", "us/mci", "fr/par")

# The spec lists 5.0 and 6.0 as an extensible enum; 7.0 is offered by the service today.
MONGODB_VERSIONS = ("5.0", "6.0", "7.0")
# The patch release an instance reports in its start-up log lines.
PATCH_RELEASE = {"5.0": "5.0.26", "6.0": "6.0.15", "7.0": "7.0.12"}

# A replica set has one primary and n-1 secondaries: per edition, the counts it may have (the upstream spec's
# 1, 3, 5, 7; ionosctl: playground is fixed at 1, business allows 1 or 3).
INSTANCE_COUNTS = {"playground": (1,), "business": (1, 3), "enterprise": (1, 3, 5, 7)}

# Upgrades may go up an edition, never down (business -> playground is refused).
EDITION_RANK = {"playground": 0, "business": 1, "enterprise": 2}
EDITIONS = tuple(EDITION_RANK)

# The enterprise edition is sized directly, without a template (the Terraform provider: each "required for
# enterprise edition"); ram and storageSize in MB. Only it may be a sharded cluster, of 2 to 32 shards (ionosctl).
ENTERPRISE_SIZES = ("cores", "ram", "storageSize", "storageType")
CLUSTER_TYPES = ("replicaset", "sharded-cluster")
SHARDS = (2, 32)

API_VERSIONS = [{"name": "v1", "swaggerUrl": "dbaas-mongo-v1.yaml"}]


# ram in MB, storageSize in GB
TEMPLATES = [
    {"id": t["id"], "properties": {k: t[k] for k in ("name", "edition", "cores", "ram", "storageSize")}}
    for t in load("mongodb")["templates"]
]
TEMPLATES_BY_ID = {t["id"]: t for t in TEMPLATES}


def is_downgrade(old: dict, new: dict) -> bool:
    """A smaller size in any dimension, or a lower edition."""
    o, n = old["properties"], new["properties"]
    return EDITION_RANK[n["edition"]] < EDITION_RANK[o["edition"]] or any(
        n[k] < o[k] for k in ("cores", "ram", "storageSize")
    )
