"""End-to-end: managed Kubernetes (clusters, node pools, nodes, kubeconfig, versions) through the unmodified
`ionoscloud` SDK, against a strict emulator process. Clusters and pools are followed through their own
metadata.state, as Terraform and ionosctl do."""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import time
import uuid

import ionoscloud
import pytest
import yaml
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import request_id, wait

VERSIONS = ["1.27.16", "1.28.15", "1.29.15", "1.30.12", "1.31.8", "1.32.4"]
DEFAULT = "1.31.8"


# -- helpers ----------------------------------------------------------------------------------------


def k8s(client) -> ionoscloud.KubernetesApi:
    return ionoscloud.KubernetesApi(client)


def new_dc(client, location="de/fra"):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        ionoscloud.DatacenterPost(properties=ionoscloud.DatacenterPropertiesPost(name="k8s-dc", location=location))
    )
    wait(client, h)
    return dc


@pytest.fixture
def new_ipblock():
    """Reserves IP blocks for a test and gives them back afterwards: the shared contract's IPs are limited."""
    made = []

    def make(client, size, location="de/fra"):
        block, _, h = ionoscloud.IPBlocksApi(client).ipblocks_post_with_http_info(
            ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location=location, size=size))
        )
        wait(client, h)
        made.append((client, block.id))
        return block

    yield make
    for client, block_id in made:
        ionoscloud.IPBlocksApi(client).ipblocks_delete(block_id)


def new_cluster(client, name="k8s-test", **props):
    """A cluster, waited for like Terraform does: poll the cluster until ACTIVE."""
    c, status, h = k8s(client).k8s_post_with_http_info(
        ionoscloud.KubernetesClusterForPost(
            properties=ionoscloud.KubernetesClusterPropertiesForPost(name=name, **props)
        )
    )
    assert status == 202 and c.metadata.state == "DEPLOYING"
    request_id(h)  # an absolute Location to the request, as everywhere in the Cloud API
    return until_state(lambda: k8s(client).k8s_find_by_cluster_id(c.id), "ACTIVE")


def pool_body(dc_id, name="pool", node_count=2, **props):
    base = dict(
        name=name,
        datacenter_id=dc_id,
        node_count=node_count,
        cores_count=2,
        ram_size=4096,
        availability_zone="AUTO",
        storage_type="SSD",
        storage_size=40,
    )
    return ionoscloud.KubernetesNodePoolForPost(
        properties=ionoscloud.KubernetesNodePoolPropertiesForPost(**{**base, **props})
    )


def new_pool(client, cluster_id, dc_id, **props):
    p, status, _ = k8s(client).k8s_nodepools_post_with_http_info(cluster_id, pool_body(dc_id, **props))
    assert status == 202 and p.metadata.state == "DEPLOYING"
    return until_state(lambda: k8s(client).k8s_nodepools_find_by_id(cluster_id, p.id), "ACTIVE")


def until_state(get, state, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        r = get()
        if r.metadata.state == state:
            return r
        assert time.time() < deadline, f"still {r.metadata.state}, waiting for {state}"
        time.sleep(0.05)


def until_gone(get, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        try:
            get()
        except ApiException as e:
            assert e.status == 404
            return
        assert time.time() < deadline, "still there"
        time.sleep(0.05)


@contextlib.contextmanager
def slow(emulator, **seconds):
    """Let changes of these kinds take a moment, so the in-between states can be seen."""
    before = emulator.admin("GET", "timing").json()
    emulator.admin(
        "PUT", "timing", json={"profile": before["profile"], "overrides": {**before["overrides"], **seconds}}
    )
    try:
        yield
    finally:
        emulator.admin("PUT", "timing", json={"profile": before["profile"], "overrides": before["overrides"]})


def assert_422(resp, code="100"):
    assert resp.status_code == 422, resp.text
    msg = resp.json()["messages"][0]
    assert msg["errorCode"] == code and msg["message"].startswith("[VDC-"), msg
    return msg["message"]


def raw_pool(dc_id, **props):
    return {
        "properties": {
            "name": "raw",
            "datacenterId": dc_id,
            "nodeCount": 1,
            "coresCount": 2,
            "ramSize": 2048,
            "availabilityZone": "AUTO",
            "storageType": "HDD",
            "storageSize": 20,
            **props,
        }
    }


# -- versions ---------------------------------------------------------------------------------------


def test_versions_and_default(client, emulator):
    assert k8s(client).k8s_versions_get() == VERSIONS
    assert k8s(client).k8s_versions_default_get() == DEFAULT
    with emulator.http() as http:
        r = http.get("/cloudapi/v6/k8s/versions/default")
        assert r.json() == DEFAULT and r.headers["content-type"].startswith("application/json")


# -- clusters ---------------------------------------------------------------------------------------


def test_cluster_deploys_then_becomes_active(client, emulator):
    api = k8s(client)
    with slow(emulator, k8s=0.4):
        c, status, h = api.k8s_post_with_http_info(
            ionoscloud.KubernetesClusterForPost(
                properties=ionoscloud.KubernetesClusterPropertiesForPost(name="web.cluster_1")
            )
        )
        assert status == 202 and c.type == "k8s" and c.metadata.state == "DEPLOYING"
        assert c.href.endswith(f"/cloudapi/v6/k8s/{c.id}")
        # the cluster is followed through its own state; it is still deploying right after the POST
        assert api.k8s_find_by_cluster_id(c.id).metadata.state == "DEPLOYING"
        got = until_state(lambda: api.k8s_find_by_cluster_id(c.id), "ACTIVE")
    p = got.properties
    assert p.name == "web.cluster_1" and p.k8s_version == DEFAULT and p.public is True
    assert p.available_upgrade_versions == ["1.32.4"]
    assert p.viable_node_pool_versions == ["1.29.15", "1.30.12", "1.31.8"]
    # a maintenance window is assigned when none is asked for
    assert p.maintenance_window.day_of_the_week in (
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    )
    assert p.maintenance_window.time.endswith("Z") and len(p.maintenance_window.time) == 9
    assert p.api_subnet_allow_list == [] and p.s3_buckets == []
    # the request names the cluster as its target
    status = ionoscloud.RequestsApi(client).requests_status_get(request_id(h))
    assert status.metadata.status == "DONE" and status.metadata.targets[0].target.type == "k8s"
    listed = api.k8s_get(depth=1)
    assert c.id in [x.id for x in listed.items] and listed.id == "k8s"
    assert next(x for x in listed.items if x.id == c.id).metadata.state == "ACTIVE"


def test_cluster_with_all_properties_and_private_cluster(client, new_ipblock):
    c = new_cluster(
        client,
        "full",
        k8s_version="1.30.12",
        location="de/txl",
        maintenance_window=ionoscloud.KubernetesMaintenanceWindow(day_of_the_week="Sunday", time="03:30:00"),
        api_subnet_allow_list=["1.2.3.4", "10.0.0.0/8", "2002::1234:abcd:ffff:c0a8:101/64"],
        s3_buckets=[ionoscloud.S3Bucket(name="audit-logs")],
    )
    p = c.properties
    assert p.k8s_version == "1.30.12" and p.location == "de/txl"
    assert (p.maintenance_window.day_of_the_week, p.maintenance_window.time) == ("Sunday", "03:30:00Z")
    assert p.api_subnet_allow_list == ["1.2.3.4", "10.0.0.0/8", "2002::1234:abcd:ffff:c0a8:101/64"]
    assert [b.name for b in p.s3_buckets] == ["audit-logs"]
    assert p.viable_node_pool_versions == ["1.28.15", "1.29.15", "1.30.12"]
    # a private cluster needs a location and a NAT gateway IP reserved there
    ip = new_ipblock(client, 1, "de/fra").properties.ips[0]
    private = new_cluster(
        client, "private", public=False, location="de/fra", nat_gateway_ip=ip, node_subnet="192.168.0.0/16"
    )
    assert private.properties.public is False and private.properties.nat_gateway_ip == ip
    assert private.properties.node_subnet == "192.168.0.0/16"


CLUSTER_RULES = [
    ({"name": "-starts-with-dash"}, "name"),
    ({"name": "x" * 64}, "name"),
    ({"name": "ok", "k8sVersion": "1.2.3"}, "version"),
    ({"name": "ok", "apiSubnetAllowList": ["not-an-ip"]}, "apiSubnetAllowList"),
    ({"name": "ok", "s3Buckets": [{"name": "My Bucket"}]}, "s3Buckets"),
    ({"name": "ok", "maintenanceWindow": {"dayOfTheWeek": "Monday", "time": "25:00:00"}}, "maintenanceWindow"),
    ({"name": "ok", "maintenanceWindow": {"dayOfTheWeek": "Funday", "time": "10:00:00"}}, "dayOfTheWeek"),
    ({"name": "ok", "location": "xx/nowhere"}, "location"),
    ({"name": "ok", "public": False, "natGatewayIp": "85.1.1.1"}, "location"),
    ({"name": "ok", "public": False, "location": "de/fra"}, "natGatewayIp"),
    ({"name": "ok", "public": False, "location": "de/fra", "natGatewayIp": "203.0.113.9"}, "not reserved"),
    ({"name": "ok", "natGatewayIp": "203.0.113.9"}, "private"),
]


def test_cluster_rules_refuse_and_create_nothing(client, emulator, new_ipblock):
    before = len(k8s(client).k8s_get().items)
    ip = new_ipblock(client, 1, "de/txl").properties.ips[0]
    cases = CLUSTER_RULES + [
        ({"name": "ok", "public": False, "location": "de/fra", "natGatewayIp": ip}, "de/txl"),
        (
            {"name": "ok", "public": False, "location": "de/txl", "natGatewayIp": ip, "nodeSubnet": "10.1.0.0/24"},
            "nodeSubnet",
        ),
    ]
    with emulator.http() as http:
        for props, needle in cases:
            r = http.post("/cloudapi/v6/k8s", json={"properties": props})
            assert r.status_code == 422, (props, r.text)
            assert needle.lower() in r.json()["messages"][0]["message"].lower(), (props, r.text)
    assert len(k8s(client).k8s_get().items) == before


def test_cluster_update_upgrade_and_rules(client, emulator):
    api = k8s(client)
    c = new_cluster(client, "upgrade-me", k8s_version="1.30.12")
    window = c.properties.maintenance_window
    with slow(emulator, k8s=0.4):
        up, status, _ = api.k8s_put_with_http_info(
            c.id,
            ionoscloud.KubernetesClusterForPut(
                properties=ionoscloud.KubernetesClusterPropertiesForPut(
                    name="upgraded", k8s_version="1.31.8", api_subnet_allow_list=["192.0.2.0/24"]
                )
            ),
        )
        assert status == 202 and up.metadata.state == "UPDATING"
        got = until_state(lambda: api.k8s_find_by_cluster_id(c.id), "ACTIVE")
    assert got.properties.name == "upgraded" and got.properties.k8s_version == "1.31.8"
    assert got.properties.api_subnet_allow_list == ["192.0.2.0/24"]
    # the window is kept when the PUT does not name one
    assert got.properties.maintenance_window.time == window.time
    assert got.properties.available_upgrade_versions == ["1.32.4"]
    with emulator.http() as http:
        for props in (
            {"name": "x", "k8sVersion": "1.30.12"},  # no downgrades
            {"name": "x", "k8sVersion": "9.9.9"},
            {"name": "x", "public": False},  # immutable
            {"name": "-x"},
        ):
            assert_422(http.put(f"/cloudapi/v6/k8s/{c.id}", json={"properties": props}))
    # two minors at once is not an upgrade path
    c2 = new_cluster(client, "old", k8s_version="1.29.15")
    with pytest.raises(ApiException) as e:
        api.k8s_put(
            c2.id,
            ionoscloud.KubernetesClusterForPut(
                properties=ionoscloud.KubernetesClusterPropertiesForPut(name="old", k8s_version="1.31.8")
            ),
        )
    assert e.value.status == 422
    got = api.k8s_find_by_cluster_id(c.id)
    assert got.properties.name == "upgraded" and got.properties.k8s_version == "1.31.8"


def test_cluster_delete_refused_while_it_has_node_pools(client, emulator):
    api = k8s(client)
    dc = new_dc(client)
    c = new_cluster(client, "with-pool")
    pool = new_pool(client, c.id, dc.id, node_count=1)
    with emulator.http() as http:
        assert_422(http.delete(f"/cloudapi/v6/k8s/{c.id}"), code="200")
    assert api.k8s_find_by_cluster_id(c.id).metadata.state == "ACTIVE"
    api.k8s_nodepools_delete(c.id, pool.id)
    until_gone(lambda: api.k8s_nodepools_find_by_id(c.id, pool.id))
    with slow(emulator, k8s=2.0):
        _, status, h = api.k8s_delete_with_http_info(c.id)
        assert status == 202
        request_id(h)
        assert api.k8s_find_by_cluster_id(c.id).metadata.state == "DESTROYING"
        # a second delete while it is going is a state conflict
        with emulator.http() as http:
            msg = assert_422(http.delete(f"/cloudapi/v6/k8s/{c.id}"), code="200")
            assert "marked for deletion" in msg
        until_gone(lambda: api.k8s_find_by_cluster_id(c.id))
    assert c.id not in [x.id for x in api.k8s_get().items]
    with pytest.raises(ApiException) as e:
        api.k8s_delete(c.id)
    assert e.value.status == 404


def test_cluster_limit_of_the_contract(make_emulator):
    emu = make_emulator("limit")
    with emu.http() as http:
        limit = http.get("/cloudapi/v6/contracts").json()["items"][0]["properties"]["resourceLimits"][
            "k8sClusterLimitTotal"
        ]
        for i in range(limit):
            assert http.post("/cloudapi/v6/k8s", json={"properties": {"name": f"c{i}"}}).status_code == 202
        msg = assert_422(http.post("/cloudapi/v6/k8s", json={"properties": {"name": "one-too-many"}}))
        assert "limit" in msg
        assert len(http.get("/cloudapi/v6/k8s").json()["items"]) == limit


def test_creating_a_cluster_needs_the_group_privilege(client, emulator):
    um = ionoscloud.UserManagementApi(client)
    email, pw = f"k8s-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    u, _, h = um.um_users_post_with_http_info(
        ionoscloud.UserPost(
            properties=ionoscloud.UserPropertiesPost(
                firstname="K", lastname="User", email=email, password=pw, administrator=False
            )
        )
    )
    wait(client, h)
    body = ionoscloud.KubernetesClusterForPost(properties=ionoscloud.KubernetesClusterPropertiesForPost(name="mine"))
    with sdk_client(emulator, user=email, password=pw) as c:
        with pytest.raises(ApiException) as e:
            k8s(c).k8s_post(body)
        assert e.value.status == 403 and "createK8sCluster" in e.value.body
    g, _, h = um.um_groups_post_with_http_info(
        ionoscloud.Group(
            properties=ionoscloud.GroupProperties(name=f"k8s-{uuid.uuid4().hex[:6]}", create_k8s_cluster=True)
        )
    )
    wait(client, h)
    _, _, h = um.um_groups_users_post_with_http_info(g.id, ionoscloud.UserGroupPost(id=u.id))
    wait(client, h)
    with sdk_client(emulator, user=email, password=pw) as c:
        mine = k8s(c).k8s_post(body)
        assert mine.metadata.created_by_user_id == u.id
        # the member sees their own cluster only
        assert [x.id for x in k8s(c).k8s_get().items] == [mine.id]


# -- kubeconfig -------------------------------------------------------------------------------------


def test_kubeconfig_yaml_by_default_json_on_request(client, emulator):
    c = new_cluster(client, "kc")
    with emulator.http() as http:
        r = http.get(f"/cloudapi/v6/k8s/{c.id}/kubeconfig")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
        doc = yaml.safe_load(r.text)
        r = http.get(f"/cloudapi/v6/k8s/{c.id}/kubeconfig", headers={"Accept": "application/x-yaml"})
        assert yaml.safe_load(r.text) == doc
        as_json = http.get(f"/cloudapi/v6/k8s/{c.id}/kubeconfig", headers={"Accept": "application/json"})
        assert as_json.headers["content-type"].startswith("application/json")
        assert as_json.json() == doc
        assert http.get(f"/cloudapi/v6/k8s/{uuid.uuid4()}/kubeconfig").status_code == 404
    assert doc["apiVersion"] == "v1" and doc["kind"] == "Config"
    cluster = doc["clusters"][0]
    assert cluster["name"] == "kc" and cluster["cluster"]["server"].startswith("https://")
    ca = base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    assert doc["current-context"] == doc["contexts"][0]["name"]
    assert doc["contexts"][0]["context"] == {"cluster": "kc", "user": doc["users"][0]["name"]}
    assert doc["users"][0]["user"]["token"]
    # the SDK asks for JSON; raw, it is the document; decoded, the SDK turns it into the text of a Python dict
    raw = k8s(client).k8s_kubeconfig_get(c.id, _preload_content=False)
    assert json.loads(raw.data) == doc
    assert ast.literal_eval(k8s(client).k8s_kubeconfig_get(c.id)) == doc


# -- node pools and nodes ---------------------------------------------------------------------------


def test_node_pool_lifecycle_with_nodes(client, emulator):
    api = k8s(client)
    dc = new_dc(client)
    c = new_cluster(client, "pools", location="de/fra")
    with slow(emulator, nodepool=0.4):
        p, status, h = api.k8s_nodepools_post_with_http_info(
            c.id, pool_body(dc.id, "workers", labels={"tier": "web"}, annotations={"example.com/owner": "team a"})
        )
        assert status == 202 and p.type == "nodepool" and p.metadata.state == "DEPLOYING"
        request_id(h)
        nodes = api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items
        assert len(nodes) == 2 and {n.metadata.state for n in nodes} == {"PROVISIONING"}
        assert api.k8s_nodepools_find_by_id(c.id, p.id).metadata.state == "DEPLOYING"
        got = until_state(lambda: api.k8s_nodepools_find_by_id(c.id, p.id), "ACTIVE")
    pp = got.properties
    assert (pp.name, pp.datacenter_id, pp.node_count, pp.cores_count, pp.ram_size) == ("workers", dc.id, 2, 2, 4096)
    assert (pp.storage_type, pp.storage_size, pp.availability_zone) == ("SSD", 40, "AUTO")
    assert pp.server_type == "DedicatedCore" and pp.cpu_family  # picked from the data center's location
    assert pp.k8s_version == c.properties.k8s_version and pp.available_upgrade_versions == []
    assert pp.labels == {"tier": "web"} and pp.annotations == {"example.com/owner": "team a"}
    assert pp.lans == [] and pp.public_ips == [] and pp.maintenance_window.time.endswith("Z")
    nodes = api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items
    assert {n.metadata.state for n in nodes} == {"READY"} and len(nodes) == 2
    for n in nodes:
        assert n.type == "node" and n.properties.k8s_version == pp.k8s_version
        assert n.properties.name.startswith("workers-") and n.properties.private_ip and n.properties.public_ip
    one = api.k8s_nodepools_nodes_find_by_id(c.id, p.id, nodes[0].id)
    assert one.id == nodes[0].id and one.metadata.created_date
    # nodes are not servers of the data center
    assert ionoscloud.ServersApi(client).datacenters_servers_get(dc.id).items == []
    # depth: the cluster lists its node pools as references at depth 1 and in full at depth 2
    d0 = api.k8s_find_by_cluster_id(c.id, depth=0)
    assert d0.entities.nodepools.items is None and d0.entities.nodepools.href.endswith(f"/k8s/{c.id}/nodepools")
    assert [x.id for x in api.k8s_find_by_cluster_id(c.id, depth=1).entities.nodepools.items] == [p.id]
    assert api.k8s_find_by_cluster_id(c.id, depth=1).entities.nodepools.items[0].properties is None
    assert api.k8s_find_by_cluster_id(c.id, depth=2).entities.nodepools.items[0].properties.name == "workers"
    assert [x.id for x in api.k8s_nodepools_get(c.id, depth=1).items] == [p.id]

    # scale out with new labels: the pool is UPDATING and a third node is provisioned
    put = ionoscloud.KubernetesNodePoolForPut(
        properties=ionoscloud.KubernetesNodePoolPropertiesForPut(node_count=3, labels={"tier": "api"})
    )
    with slow(emulator, nodepool=0.4):
        up, status, _ = api.k8s_nodepools_put_with_http_info(c.id, p.id, put)
        assert status == 202 and up.metadata.state == "UPDATING"
        states = sorted(n.metadata.state for n in api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items)
        assert states == ["PROVISIONING", "READY", "READY"]
        got = until_state(lambda: api.k8s_nodepools_find_by_id(c.id, p.id), "ACTIVE")
    assert got.properties.node_count == 3 and got.properties.labels == {"tier": "api"}
    assert got.properties.annotations == {}  # PUT replaces the maps
    assert {n.metadata.state for n in api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items} == {"READY"}

    # scale in: the extra nodes terminate and go
    with slow(emulator, nodepool=0.4):
        api.k8s_nodepools_put(
            c.id,
            p.id,
            ionoscloud.KubernetesNodePoolForPut(properties=ionoscloud.KubernetesNodePoolPropertiesForPut(node_count=1)),
        )
        states = sorted(n.metadata.state for n in api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items)
        assert states == ["READY", "TERMINATING", "TERMINATING"]
        until_state(lambda: api.k8s_nodepools_find_by_id(c.id, p.id), "ACTIVE")
    assert len(api.k8s_nodepools_nodes_get(c.id, p.id).items) == 1

    # delete: DESTROYING, then 404 for the pool and its nodes
    node = api.k8s_nodepools_nodes_get(c.id, p.id).items[0]
    with slow(emulator, nodepool=0.4):
        _, status, _ = api.k8s_nodepools_delete_with_http_info(c.id, p.id)
        assert status == 202
        assert api.k8s_nodepools_find_by_id(c.id, p.id).metadata.state == "DESTROYING"
        assert api.k8s_nodepools_nodes_find_by_id(c.id, p.id, node.id).metadata.state == "TERMINATING"
        with pytest.raises(ApiException) as e:
            api.k8s_nodepools_put(c.id, p.id, put)
        assert e.value.status == 422 and "marked for deletion" in e.value.body
        until_gone(lambda: api.k8s_nodepools_find_by_id(c.id, p.id))
    with pytest.raises(ApiException) as e:
        api.k8s_nodepools_nodes_find_by_id(c.id, p.id, node.id)
    assert e.value.status == 404
    assert api.k8s_nodepools_get(c.id).items == []


def test_node_pool_with_public_ips_lans_autoscaling_and_upgrade(client, emulator, new_ipblock):
    api = k8s(client)
    dc = new_dc(client)
    lan, _, h = ionoscloud.LANsApi(client).datacenters_lans_post_with_http_info(
        dc.id, ionoscloud.Lan(properties=ionoscloud.LanProperties(name="private", public=False))
    )
    wait(client, h)
    ips = new_ipblock(client, 4).properties.ips
    c = new_cluster(client, "extras", k8s_version="1.30.12")
    lans = [
        ionoscloud.KubernetesNodePoolLan(
            id=int(lan.id),
            dhcp=False,
            routes=[ionoscloud.KubernetesNodePoolLanRoutes(network="10.9.0.0/16", gateway_ip="10.7.1.1")],
        )
    ]
    p = new_pool(
        client,
        c.id,
        dc.id,
        node_count=2,
        k8s_version="1.29.15",
        server_type="VCPU",
        public_ips=ips[:3],
        lans=lans,
        auto_scaling=ionoscloud.KubernetesAutoScaling(min_node_count=1, max_node_count=2),
    )
    pp = p.properties
    assert pp.public_ips == ips[:3] and pp.server_type == "VCPU" and pp.cpu_family is None
    assert pp.auto_scaling.min_node_count == 1 and pp.auto_scaling.max_node_count == 2
    assert pp.lans[0].id == int(lan.id) and pp.lans[0].dhcp is False
    assert pp.lans[0].routes[0].gateway_ip == "10.7.1.1"
    assert pp.k8s_version == "1.29.15" and pp.available_upgrade_versions == ["1.30.12"]
    # the nodes take their public addresses from the pool's list
    node_ips = {n.properties.public_ip for n in api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items}
    assert node_ips < set(ips[:3])
    # the cluster cannot move further than its pools allow (1.29 pools cannot follow a 1.31 cluster)
    api.k8s_put(
        c.id,
        ionoscloud.KubernetesClusterForPut(
            properties=ionoscloud.KubernetesClusterPropertiesForPut(name="extras", k8s_version="1.31.8")
        ),
    )
    with pytest.raises(ApiException) as e:
        api.k8s_put(
            c.id,
            ionoscloud.KubernetesClusterForPut(
                properties=ionoscloud.KubernetesClusterPropertiesForPut(name="extras", k8s_version="1.32.4")
            ),
        )
    assert e.value.status == 422 and "upgraded" in e.value.body
    # upgrading the pool moves its nodes to the new version
    api.k8s_nodepools_put(
        c.id,
        p.id,
        ionoscloud.KubernetesNodePoolForPut(
            properties=ionoscloud.KubernetesNodePoolPropertiesForPut(
                node_count=2,
                k8s_version="1.31.8",
                public_ips=ips[:3],
                lans=lans,
                auto_scaling=ionoscloud.KubernetesAutoScaling(min_node_count=1, max_node_count=2),
            )
        ),
    )
    got = until_state(lambda: api.k8s_nodepools_find_by_id(c.id, p.id), "ACTIVE")
    assert got.properties.k8s_version == "1.31.8" and got.properties.auto_scaling.max_node_count == 2
    assert {n.properties.k8s_version for n in api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items} == {"1.31.8"}


def test_node_pool_rules_refuse_and_create_nothing(client, emulator, new_ipblock):
    api = k8s(client)
    dc = new_dc(client)
    other = new_dc(client, "de/txl")
    public_lan, _, h = ionoscloud.LANsApi(client).datacenters_lans_post_with_http_info(
        dc.id, ionoscloud.Lan(properties=ionoscloud.LanProperties(public=True))
    )
    wait(client, h)
    ips = new_ipblock(client, 3).properties.ips
    txl_ips = new_ipblock(client, 2, "de/txl").properties.ips
    c = new_cluster(client, "rules", location="de/fra", k8s_version="1.30.12")
    bad = [
        ({"datacenterId": str(uuid.uuid4())}, "does not exist"),
        ({"datacenterId": other.id}, "de/txl"),
        ({"serverType": "Shared"}, "serverType"),
        ({"ramSize": 3000}, "ramSize"),
        ({"ramSize": 1024}, "ramSize"),
        ({"coresCount": 0}, "coresCount"),
        ({"storageType": "NVME"}, "storageType"),
        ({"availabilityZone": "ZONE_3"}, "availabilityZone"),
        ({"nodeCount": 0}, "nodeCount"),
        ({"cpuFamily": "INTEL_SIERRAFOREST"}, "CPU family"),
        ({"serverType": "VCPU", "cpuFamily": "INTEL_ICELAKE"}, "cpuFamily"),
        ({"autoScaling": {"minNodeCount": 3, "maxNodeCount": 2}}, "autoScaling"),
        ({"nodeCount": 4, "autoScaling": {"minNodeCount": 1, "maxNodeCount": 3}}, "nodeCount"),
        ({"publicIps": ips[:1]}, "publicIps"),
        ({"nodeCount": 1, "autoScaling": {"minNodeCount": 1, "maxNodeCount": 2}, "publicIps": ips[:2]}, "3"),
        ({"publicIps": ["203.0.113.1", "203.0.113.2"]}, "not reserved"),
        ({"publicIps": txl_ips}, "de/txl"),
        ({"lans": [{"id": 77}]}, "LAN 77"),
        ({"lans": [{"id": int(public_lan.id)}]}, "public"),
        ({"k8sVersion": "1.31.8"}, "version"),
        ({"maintenanceWindow": {"dayOfTheWeek": "Monday", "time": "7pm"}}, "maintenanceWindow"),
        ({"labels": {"bad key!": "x"}}, "Label"),
        ({"labels": {"ok": "bad value!"}}, "Label"),
        ({"taints": [{"key": "dedicated", "effect": "Sometimes"}]}, "effect"),
        ({"taints": [{"key": f"k{i}", "effect": "NoSchedule"} for i in range(51)]}, "50"),
        ({"name": "bad name"}, "name"),
    ]
    with emulator.http() as http:
        for props, needle in bad:
            r = http.post(f"/cloudapi/v6/k8s/{c.id}/nodepools", json=raw_pool(dc.id, **props))
            assert r.status_code == 422, (props, r.text)
            assert needle.lower() in r.json()["messages"][0]["message"].lower(), (props, r.text)
        # a taint-bearing pool from a newer client is kept as sent
        r = http.post(
            f"/cloudapi/v6/k8s/{c.id}/nodepools",
            json=raw_pool(dc.id, taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
        )
        assert r.status_code == 202 and r.json()["properties"]["taints"][0]["effect"] == "NoSchedule"
        pool_id = r.json()["id"]
        # immutable properties stay as they are
        put = {"properties": {"nodeCount": 1, "ramSize": 8192}}
        assert_422(http.put(f"/cloudapi/v6/k8s/{c.id}/nodepools/{pool_id}", json=put))
        assert_422(
            http.put(
                f"/cloudapi/v6/k8s/{c.id}/nodepools/{pool_id}",
                json={"properties": {"nodeCount": 1, "k8sVersion": "1.29.15"}},
            )
        )  # no downgrade
    assert [x.id for x in api.k8s_nodepools_get(c.id).items] == [pool_id]
    assert api.k8s_nodepools_find_by_id(c.id, pool_id).properties.ram_size == 2048
    # a pool needs an ACTIVE cluster
    with slow(emulator, k8s=0.4):
        young = api.k8s_post(
            ionoscloud.KubernetesClusterForPost(properties=ionoscloud.KubernetesClusterPropertiesForPost(name="young"))
        )
        with pytest.raises(ApiException) as e:
            api.k8s_nodepools_post(young.id, pool_body(dc.id))
        assert e.value.status == 422 and "ACTIVE" in e.value.body


def test_node_replace_and_delete(client, emulator):
    api = k8s(client)
    dc = new_dc(client)
    c = new_cluster(client, "nodes")
    p = new_pool(client, c.id, dc.id, node_count=2)
    first, second = api.k8s_nodepools_nodes_get(c.id, p.id).items
    with slow(emulator, k8snode=0.4):
        _, status, h = api.k8s_nodepools_nodes_replace_post_with_http_info(c.id, p.id, first.id)
        assert status == 202
        request_id(h)
        assert api.k8s_nodepools_nodes_find_by_id(c.id, p.id, first.id).metadata.state == "REBUILDING"
        with pytest.raises(ApiException) as e:  # once at a time
            api.k8s_nodepools_nodes_replace_post(c.id, p.id, first.id)
        assert e.value.status == 422
        until_state(lambda: api.k8s_nodepools_nodes_find_by_id(c.id, p.id, first.id), "READY")
        # deleting a node: it terminates, and the pool provisions a replacement to keep its node count
        _, status, _ = api.k8s_nodepools_nodes_delete_with_http_info(c.id, p.id, second.id)
        assert status == 202
        states = {n.id: n.metadata.state for n in api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items}
        assert states[second.id] == "TERMINATING" and states[first.id] == "READY"
        assert sorted(states.values()) == ["PROVISIONING", "READY", "TERMINATING"]
        until_gone(lambda: api.k8s_nodepools_nodes_find_by_id(c.id, p.id, second.id))
    nodes = api.k8s_nodepools_nodes_get(c.id, p.id, depth=1).items
    assert len(nodes) == 2 and {n.metadata.state for n in nodes} == {"READY"}
    assert second.id not in [n.id for n in nodes]
    for missing in (
        lambda: api.k8s_nodepools_nodes_replace_post(c.id, p.id, second.id),
        lambda: api.k8s_nodepools_nodes_find_by_id(c.id, p.id, str(uuid.uuid4())),
        lambda: api.k8s_nodepools_get(str(uuid.uuid4())),
    ):
        with pytest.raises(ApiException) as e:
            missing()
        assert e.value.status == 404
