"""Honest coverage: every operation of every API that is called complete has a handler (none answers 501);
the products that are only routed yet answer 501 for every operation, in the IONOS envelope."""

from __future__ import annotations

import pytest

from ionos_emulator import spec as specs
from ionos_emulator.apis import build_apis
from ionos_emulator.gateway.mounts import Mounts

# the APIs this suite holds to "every operation has a handler"
COMPLETE = (
    "cloud",
    "auth",
    "dns",
    "postgresql",
    "postgresql-v1",
    "mariadb",
    "mariadb-v1",
    "inmemorydb",
    "inmemorydb-v1",
    "mongodb",
    "containerregistry",
    "containerregistry-v1",
    "apigateway",
    "cdn",
    "activitylog",
    "billing",
    "reseller",
    "identity",
    "quota",
    "maas",
    "logging",
    "monitoring",
    "nfs",
    "aimodelhub",
    "openai",
    "certmanager",
    "certmanager-v1",
    "vpn",
    "autoscaling",
    "autoscaling-v1",
    "kafka",
    "dataplatform",
    "objectstoragemanagement",
)
MOUNTS = Mounts(build_apis()).all
APIS = {(m.api.name, m.api.spec_name): m.api for m in MOUNTS if m.api.spec_name in COMPLETE}
ROUTED = sorted({m.api.spec_name for m in MOUNTS if not m.complete})


def test_the_complete_apis_are_all_served():
    assert sorted({spec for _, spec in APIS}) == sorted(COMPLETE)
    assert sorted({m.api.spec_name for m in MOUNTS if m.complete}) == sorted(COMPLETE)


@pytest.mark.parametrize("name,spec_name", sorted(APIS))
def test_every_operation_is_implemented(name, spec_name):
    api = APIS[(name, spec_name)]
    missing = [
        f"{op.method} {op.path} ({op.id})" for op in specs.load(spec_name).operations if op.id not in api.handlers
    ]
    assert not missing, f"{len(missing)} operations of {name} would answer 501: {missing[:20]}"


def test_routed_products_answer_501_in_the_envelope(emulator):
    """One call per routed product, at its first location's prefix: 501, never a 404 or a bare error."""
    import httpx

    from support import OWNER

    endpoints = httpx.get(emulator.url + "/_emulator/endpoints").json()
    seen = 0
    for api in (m.api for m in MOUNTS):
        if api.spec_name not in ROUTED:
            continue
        op = next(o for o in specs.load(api.spec_name).operations if o.method == "GET" and "{" not in o.path)
        r = httpx.get(emulator.url + api.prefix + op.path, auth=OWNER)
        assert r.status_code == 501, (api.prefix, op.path, r.text)
        assert r.json()["httpStatus"] == 501 and r.json()["messages"][0]["errorCode"] == "501"
        assert emulator.url + api.prefix in endpoints[api.product].values()
        seen += 1
    assert seen >= len(ROUTED)
