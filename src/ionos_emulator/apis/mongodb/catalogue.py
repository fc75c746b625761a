"""What the MongoDB service offers: templates (sizes), MongoDB versions, locations and the API's own versions.
The template sizes and names are the emulator's choice, shaped like the real catalogue (an edition and a
size per template); ids are stable UUIDv5s, so they survive restarts and are the same for every contract."""

from __future__ import annotations

import uuid

# Locations the service runs in (the spec's list); a cluster lives where its data center is.
LOCATIONS = ("de/fra", "de/txl", "gb/lhr", "es/vit", "us/ewr", "fr/par")

# The spec lists 5.0 and 6.0 as an extensible enum; 7.0 is offered by the service today.
MONGODB_VERSIONS = ("5.0", "6.0", "7.0")
# The patch release an instance reports in its start-up log lines.
PATCH_RELEASE = {"5.0": "5.0.26", "6.0": "6.0.15", "7.0": "7.0.12"}

# A replica set has one primary and n-1 secondaries.
INSTANCE_COUNTS = (1, 3)

# Upgrades may go up an edition, never down (business -> playground is refused).
EDITION_RANK = {"playground": 0, "business": 1, "enterprise": 2}

API_VERSIONS = [{"name": "v1", "swaggerUrl": "dbaas-mongo-v1.yaml"}]


def _template(name: str, edition: str, cores: int, ram: int, storage: int) -> dict:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ionos-emulator:mongodb:template:{name}")),
        "properties": {"name": name, "edition": edition, "cores": cores, "ram": ram, "storageSize": storage},
    }


# ram and storageSize in GB
TEMPLATES = [
    _template("MongoDB Playground", "playground", 1, 2, 50),
    _template("MongoDB Business XS", "business", 1, 2, 50),
    _template("MongoDB Business S", "business", 2, 4, 100),
    _template("MongoDB Business M", "business", 4, 8, 200),
    _template("MongoDB Business L", "business", 4, 16, 300),
    _template("MongoDB Business XL", "business", 8, 32, 500),
    _template("MongoDB Business XXL", "business", 16, 64, 1000),
    _template("MongoDB Enterprise M", "enterprise", 4, 16, 200),
    _template("MongoDB Enterprise L", "enterprise", 8, 32, 400),
    _template("MongoDB Enterprise XL", "enterprise", 16, 64, 800),
    _template("MongoDB Enterprise XXL", "enterprise", 32, 128, 1600),
]
TEMPLATES_BY_ID = {t["id"]: t for t in TEMPLATES}


def is_downgrade(old: dict, new: dict) -> bool:
    """A smaller size in any dimension, or a lower edition."""
    o, n = old["properties"], new["properties"]
    return EDITION_RANK[n["edition"]] < EDITION_RANK[o["edition"]] or any(
        n[k] < o[k] for k in ("cores", "ram", "storageSize")
    )
