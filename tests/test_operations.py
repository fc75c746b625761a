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


def test_a_mount_loads_its_spec_on_first_use_once_for_every_thread():
    """Mounting reads the specs' heads only; the first request of an API loads its spec and router, one of
    each however many threads (and regional instances) ask at once; the head lists the same operations."""
    from concurrent.futures import ThreadPoolExecutor

    mounts = Mounts(build_apis())
    regional = [m for m in mounts.all if m.api.spec_name == "dns"] + [
        m for m in mounts.all if m.api.spec_name == "postgresql"
    ]
    assert len(regional) > 2 and not any(m.served.loaded for m in regional)
    assert all(m.complete for m in regional)  # from the heads: still nothing loaded
    assert not any(m.served.loaded for m in regional)
    found = mounts.find("/dns/de-fra/zones")  # by the prefixes alone
    assert found is not None and not found[0].served.loaded
    assert found[0].router.match("GET", found[1])[0].id == "zonesGet" and found[0].served.loaded
    pg = [m for m in regional if m.api.spec_name == "postgresql"]
    with ThreadPoolExecutor(8) as pool:
        routers = set(pool.map(lambda m: id(m.router), pg * 8))
    assert len(routers) == 1 and pg[0].spec is specs.load("postgresql")
    assert [(op.id, op.method, op.path) for op in pg[0].spec.operations] == list(pg[0].operations)
