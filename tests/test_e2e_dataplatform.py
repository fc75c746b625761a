"""End-to-end: Managed Stackable Data Platform (API 0.0.7) through the unmodified `ionoscloud_dataplatform` SDK (the
older generator, Basic or Bearer) against a strict emulator: clusters in a Cloud API data center, their node
pools, the kubeconfig (parsed as YAML), the versions, the name filter, privileges and the error envelope."""

from __future__ import annotations

import uuid

import httpx
import ionoscloud_dataplatform as dp
import pytest
import yaml

from support import OWNER, bearer, datacenter_with_lan, new_member, refused

PREFIX = "/dataplatform"


@pytest.fixture
def api(emulator):
    with dp.ApiClient(dp.Configuration(host=emulator.url + PREFIX, username=OWNER[0], password=OWNER[1])) as c:
        yield c


def new_cluster(dc, name="stack", version=None, window=None):
    props = dp.CreateClusterProperties(
        name=name,
        datacenter_id=dc,
        data_platform_version=version,
        maintenance_window=window or dp.MaintenanceWindow(time="02:00:00", day_of_the_week="Tuesday"),
    )
    return dp.CreateClusterRequest(properties=props)


def test_cluster_node_pools_kubeconfig_and_versions(api, emulator):
    clusters, pools = dp.DataPlatformClusterApi(api), dp.DataPlatformNodePoolApi(api)
    versions = dp.DataPlatformMetaDataApi(api).versions_get()
    assert "23.4" in versions
    dc, _ = datacenter_with_lan(emulator)
    made = clusters.create_cluster(new_cluster(dc, version="23.4"))
    assert made.metadata.state == "DEPLOYING" and made.type == "cluster"
    assert made.href == f"{emulator.url}{PREFIX}/clusters/{made.id}"
    got = clusters.get_cluster(made.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.datacenter_id == dc
    assert got.metadata.current_data_platform_version == "23.4"
    assert got.metadata.available_upgrade_versions == versions[versions.index("23.4") + 1 :]
    assert got.metadata.e_tag and got.metadata.created_by == OWNER[0]
    assert [c.id for c in clusters.get_clusters(name="STAC").items] == [made.id]  # case-insensitive substring
    assert clusters.get_clusters(name="nomatch").items == []

    # the kubeconfig is YAML naming the cluster
    text = clusters.get_cluster_kubeconfig(made.id)
    doc = yaml.safe_load(text)
    assert doc["kind"] == "Config" and doc["clusters"][0]["name"] == "stack"
    assert doc["contexts"][0]["context"]["cluster"] == "stack" and doc["users"][0]["user"]["token"]

    # PATCH: a new name, window and an upgrade; UPDATING, then AVAILABLE; no going back
    patch = dp.PatchClusterProperties(name="stack-2", data_platform_version=versions[-1])
    changed = clusters.patch_cluster(made.id, dp.PatchClusterRequest(properties=patch))
    assert changed.metadata.state == "UPDATING"
    again = clusters.get_cluster(made.id)
    assert (again.properties.name, again.properties.data_platform_version) == ("stack-2", versions[-1])
    assert again.properties.maintenance_window.day_of_the_week == "Tuesday"  # kept
    back = dp.PatchClusterRequest(properties=dp.PatchClusterProperties(data_platform_version="23.4"))
    status, msg = refused(clusters.patch_cluster, made.id, back)
    assert status == 422 and "dataPlatformVersion" in msg

    # node pools: defaults filled in, the cluster's version and data center; PATCH of the node count
    body = dp.CreateNodePoolRequest(
        properties=dp.CreateNodePoolProperties(name="workers", node_count=2, labels={"a": "b"})
    )
    pool = pools.create_cluster_nodepool(made.id, body)
    assert pool.metadata.state == "DEPLOYING"
    p = pools.get_cluster_nodepool(made.id, pool.id).properties
    assert (p.node_count, p.cores_count, p.ram_size, p.storage_type, p.storage_size) == (2, 4, 4096, "SSD", 20)
    assert p.data_platform_version == versions[-1] and p.datacenter_id == dc and p.labels == {"a": "b"}
    status, msg = refused(pools.create_cluster_nodepool, made.id, body)
    assert status == 422 and "existing node pool" in msg
    bad = dp.CreateNodePoolRequest(properties=dp.CreateNodePoolProperties(name="odd", node_count=1, ram_size=3000))
    assert "ramSize" in refused(pools.create_cluster_nodepool, made.id, bad)[1]
    resized = dp.PatchNodePoolRequest(properties=dp.PatchNodePoolProperties(node_count=5))
    assert pools.patch_cluster_nodepool(made.id, pool.id, resized).metadata.state == "UPDATING"
    assert pools.get_cluster_nodepool(made.id, pool.id).properties.node_count == 5
    assert [x.id for x in pools.get_cluster_nodepools(made.id).items] == [pool.id]
    gone = pools.delete_cluster_nodepool(made.id, pool.id)
    assert gone.metadata.state == "DESTROYING"
    assert refused(pools.get_cluster_nodepool, made.id, pool.id)[0] == 404

    # DELETE answers the cluster as it now is, then it is gone
    deleted = clusters.delete_cluster(made.id)
    assert deleted.id == made.id and deleted.metadata.state == "DESTROYING"
    assert refused(clusters.get_cluster, made.id)[0] == 404


def test_bad_clusters_change_nothing(api, emulator):
    clusters = dp.DataPlatformClusterApi(api)
    dc, _ = datacenter_with_lan(emulator)
    before = len(clusters.get_clusters().items)
    status, msg = refused(clusters.create_cluster, new_cluster(str(uuid.uuid4())))
    assert status == 422 and "datacenterId" in msg
    status, msg = refused(clusters.create_cluster, new_cluster(dc, version="1.0"))
    assert status == 422 and "dataPlatformVersion" in msg
    assert len(clusters.get_clusters().items) == before
    # a cluster still deploying takes no node pool and has no kubeconfig
    emulator.admin("PUT", "timing", json={"profile": "instant", "overrides": {"dataplatform.cluster": 30.0}})
    try:
        slow = clusters.create_cluster(new_cluster(dc, name="slow"))
        body = dp.CreateNodePoolRequest(properties=dp.CreateNodePoolProperties(name="w1", node_count=1))
        status, msg = refused(dp.DataPlatformNodePoolApi(api).create_cluster_nodepool, slow.id, body)
        assert status == 422 and "DEPLOYING" in msg
        assert refused(clusters.get_cluster_kubeconfig, slow.id)[0] == 422
        patch = dp.PatchClusterRequest(properties=dp.PatchClusterProperties(name="faster"))
        assert refused(clusters.patch_cluster, slow.id, patch)[0] == 409
    finally:
        emulator.admin("PUT", "timing", json={"profile": "instant"})
    clusters.delete_cluster(slow.id)


def test_real_host_bearer_and_privilege(emulator):
    token = bearer(emulator)
    r = httpx.get(
        emulator.url + "/dataplatform/versions", headers={"Host": "api.ionos.com", "Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200 and isinstance(r.json(), list)
    with dp.ApiClient(dp.Configuration(host=emulator.url + PREFIX, token=token)) as c:  # the SDK's Bearer
        assert dp.DataPlatformMetaDataApi(c).versions_get() == r.json()
    email, pw, _, _ = new_member(emulator, "dp")
    r = httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw))
    assert r.status_code == 403 and "manageDataplatform" in r.json()["messages"][0]["message"]
    email, pw, _, _ = new_member(emulator, "dp", manageDataplatform=True)
    assert httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw)).status_code == 200
    dc, _ = datacenter_with_lan(emulator)  # the owner's: not the user's to build in
    body = {"properties": {"name": "mine", "datacenterId": dc}}
    r = httpx.post(emulator.url + PREFIX + "/clusters", auth=(email, pw), json=body)
    assert r.status_code == 422 and "datacenterId" in r.json()["messages"][0]["message"]
