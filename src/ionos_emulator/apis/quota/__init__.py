"""Quota (api.ionos.com/databases/quota): what the contract's DBaaS clusters use of its quota, and the quota,
in the Kubernetes-style quantities the real API shows ("2", "4Gi", "count/postgresclusters.dbaas.ionos.com").
No spec file exists: the model (spec/data/quota.json, written by hand) is the documented response sample
(api.ionos.com/docs/quota/v1) and a public client's struct of it (docs/fidelity.md)."""

from __future__ import annotations

from ...gateway.context import Ctx, Reply
from ..metering import DBAAS, dbaas_size
from ..product import Product

PRODUCT = Product(
    name="quota",
    spec_name="quota",
    config_name="",  # not a product of the IONOS config file (sdk-go-bundle fileconfiguration)
    host="api.ionos.com",
    privilege="manageDBaaS",
)
PRODUCTS = [PRODUCT]

POSTGRES = "count/postgresclusters.dbaas.ionos.com"
MONGO = "count/mongoclusters.dbaas.ionos.com"
COUNTED = {
    POSTGRES: ("postgresql-v1.cluster", "postgresql.cluster"),
    MONGO: ("mongodb.cluster",),
}
# the contract's own limits where it has them (resourceLimits keys), else these (guess: the documented sample
# is an example, the real defaults are not published)
LIMIT_KEYS = {
    "cpu": "dbaasCpu",
    "memory": "dbaasMemoryGi",
    "storage": "dbaasStorageGi",
    POSTGRES: "dbaasPostgresClusters",
}
LIMIT_KEYS[MONGO] = "dbaasMongoClusters"
DEFAULTS = {"cpu": 32, "memory": 128, "storage": 1024, POSTGRES: 10, MONGO: 10}


def _gi(value: float) -> str:
    return f"{value:g}Gi"


@PRODUCT.handler("quotaGet")
def quota(ctx: Ctx) -> Reply:
    cores = ram = storage = 0.0
    counts = dict.fromkeys(COUNTED, 0)
    for kind, (_, _, _, ram_unit, storage_unit) in DBAAS.items():
        for row in ctx.store.list(ctx.tenant, kind):
            n, c, r, s = dbaas_size(row.props, ram_unit, storage_unit)
            cores, ram, storage = cores + n * c, ram + n * r, storage + n * s
            for key, kinds in COUNTED.items():
                counts[key] += kind in kinds
    limits = (ctx.identity.contract(ctx.tenant) or {}).get("resourceLimits") or {}
    lim = {key: limits.get(name, DEFAULTS[key]) for key, name in LIMIT_KEYS.items()}
    usage = {"cpu": f"{cores:g}", "memory": _gi(ram), "storage": _gi(storage), **{k: str(v) for k, v in counts.items()}}
    limit = {"cpu": str(lim["cpu"]), "memory": _gi(lim["memory"]), "storage": _gi(lim["storage"])}
    limit.update({k: str(lim[k]) for k in COUNTED})
    return Reply(200, {"quotaUsage": usage, "quotaLimits": limit})
