"""End-to-end: VM Auto Scaling (API 1.0.0) through the unmodified `ionoscloud_vm_autoscaling` SDK against a strict
emulator, and its real effect through the unmodified Cloud API SDK (`ionoscloud`): a group's replicas are real
servers of its data center with the NICs and volumes of its replica configuration, counted in the contract's
limits; resizing it makes or deletes servers and records the actions; deleting it deletes them."""

from __future__ import annotations

import time
import uuid

import httpx
import ionoscloud
import ionoscloud_vm_autoscaling as asg
import pytest
import yaml

from support import OWNER, bearer, datacenter_with_lan, new_member, refused

PREFIX = "/autoscaling"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


@pytest.fixture
def api(emulator, token):
    with asg.ApiClient(asg.Configuration(host=emulator.url + PREFIX, token=token)) as c:
        yield asg.AutoScalingGroupsApi(c)


def policy(termination="OLDEST_SERVER_FIRST", delete_volumes=True):
    return asg.GroupPolicy(
        metric=asg.Metric.INSTANCE_CPU_UTILIZATION_AVERAGE,
        unit=asg.QueryUnit.PER_MINUTE,
        scale_in_threshold=33,
        scale_out_threshold=77,
        scale_in_action=asg.GroupPolicyScaleInAction(
            amount=1,
            amount_type=asg.ActionAmount.ABSOLUTE,
            termination_policy=termination,
            delete_volumes=delete_volumes,
        ),
        scale_out_action=asg.GroupPolicyScaleOutAction(amount=50, amount_type=asg.ActionAmount.PERCENTAGE),
    )


def replica(lan, cores=1, ram=1024):
    rule = asg.NicFirewallRule(name="ssh", protocol="TCP", port_range_start=22, port_range_end=22)
    return asg.ReplicaPropertiesPost(
        cores=cores,
        ram=ram,
        availability_zone="AUTO",
        nics=[asg.ReplicaNic(lan=int(lan), name="eth0", dhcp=True, firewall_active=True, firewall_rules=[rule])],
        volumes=[
            asg.ReplicaVolumePost(
                name="root",
                size=10,
                type="HDD",
                image_alias="ubuntu:latest",
                image_password="Secret123!",
                boot_order="PRIMARY",
            )
        ],
    )


def group_props(dc, lan, *, name="web", low=2, high=4, cls=asg.GroupProperties, **kw):
    ref = (asg.GroupPropertiesDatacenter if cls is asg.GroupProperties else asg.GroupPutPropertiesDatacenter)(id=dc)
    return cls(
        name=name,
        datacenter=ref,
        location="de/fra",
        min_replica_count=low,
        max_replica_count=high,
        policy=kw.pop("policy", None) or policy(),
        replica_configuration=kw.pop("replica_configuration", None) or replica(lan),
        **kw,
    )


def cloud_servers(cloud, dc) -> dict:
    servers = ionoscloud.ServersApi(cloud).datacenters_servers_get(dc, depth=5).items
    return {s.id: s for s in servers}


def cores_in_use(client) -> int:
    return ionoscloud.ContractResourcesApi(client).contracts_get().items[0].properties.resource_limits.cores_provisioned


def test_group_makes_resizes_and_deletes_real_servers(api, emulator, client):
    dc, lan = datacenter_with_lan(emulator)
    cores_before = cores_in_use(client)
    made = api.groups_post_with_http_info(asg.GroupPost(properties=group_props(dc, lan)))
    assert made.status_code == 201
    g = made.data
    assert g.type == "autoscaling-group" and g.href == f"{emulator.url}{PREFIX}/groups/{g.id}"
    assert g.metadata.state == "BUSY" and len(g.started_actions) == 1
    assert g.entities.actions.href == f"{g.href}/actions"
    # the group's servers are Cloud API servers, with the NIC, firewall rule and volume of the configuration
    servers = cloud_servers(client, dc)
    assert len(servers) == 2
    for s in servers.values():
        assert (s.properties.cores, s.properties.ram, s.metadata.state) == (1, 1024, "AVAILABLE")
        nic = s.entities.nics.items[0]
        assert nic.properties.lan == int(lan) and nic.properties.name == "eth0" and nic.properties.firewall_active
        assert [r.properties.port_range_start for r in nic.entities.firewallrules.items] == [22]
        vol = s.entities.volumes.items[0]
        assert (vol.properties.name, vol.properties.size, vol.properties.type) == ("root", 10.0, "HDD")
        assert vol.properties.boot_order == "PRIMARY" and vol.properties.image_alias == "ubuntu:latest"
        assert s.properties.boot_volume.id == vol.id
    got = api.groups_find_by_id(g.id, depth=2)
    assert got.metadata.state == "AVAILABLE" and got.properties.datacenter.id == dc
    assert got.properties.replica_configuration.volumes[0].image_password is None  # write-only
    assert got.properties.policy.range == "120s" and got.properties.policy.scale_in_action.cooldown_period == "5m"
    assert sorted(s.properties.datacenter_server.id for s in got.entities.servers.items) == sorted(servers)
    # the first action scaled out, and has completed
    action = api.groups_actions_find_by_id(g.started_actions[0].id, g.id)
    assert (action.properties.action_type, action.properties.action_status) == ("SCALE_OUT", "SUCCESSFUL")
    listed = api.groups_servers_get(g.id).items
    assert sorted(s.properties.datacenter_server.id for s in listed) == sorted(servers)
    one = api.groups_servers_find_by_id(g.id, listed[0].id)
    assert one.properties.datacenter_server.href.endswith(f"/cloudapi/v6/datacenters/{dc}/servers/{listed[0].id}")
    assert one.properties.name.startswith("web-")
    # the Cloud API counts them in the contract's usage
    assert cores_in_use(client) == cores_before + 2

    # raising the minimum scales out; lowering the maximum scales in, oldest first, their volumes go with them
    up = api.groups_put(g.id, asg.GroupPut(properties=group_props(dc, lan, low=3, high=4, cls=asg.GroupPutProperties)))
    assert up.properties.min_replica_count == 3
    after_up = cloud_servers(client, dc)
    assert len(after_up) == 3 and set(servers) < set(after_up)
    oldest = sorted(servers, key=lambda sid: servers[sid].metadata.created_date)[0]
    down = group_props(dc, lan, low=1, high=1, cls=asg.GroupPutProperties)
    api.groups_put(g.id, asg.GroupPut(properties=down))
    left = cloud_servers(client, dc)
    assert len(left) == 1 and oldest not in left
    volumes = ionoscloud.VolumesApi(client).datacenters_volumes_get(dc).items
    assert len(volumes) == 1
    actions = api.groups_actions_get(g.id, depth=1).items
    kinds = sorted((a.properties.action_type, a.properties.action_status) for a in actions)
    assert kinds == [("SCALE_IN", "SUCCESSFUL"), ("SCALE_OUT", "SUCCESSFUL"), ("SCALE_OUT", "SUCCESSFUL")]
    # the Cloud API's own requests show the calls the service made
    reqs = ionoscloud.RequestsApi(client).requests_get(depth=2, filter_method="DELETE").items
    assert any(f"/cloudapi/v6/datacenters/{dc}/servers/{oldest}" in r.properties.url for r in reqs)

    # deleting the group deletes its servers (204, then 404)
    deleted = api.groups_delete_with_http_info(g.id)
    assert deleted.status_code == 204
    assert refused(api.groups_find_by_id, g.id)[0] == 404
    assert cloud_servers(client, dc) == {}
    assert ionoscloud.VolumesApi(client).datacenters_volumes_get(dc).items == []
    assert cores_in_use(client) == cores_before


def test_scale_in_keeps_volumes_unless_asked_and_newest_first(api, emulator, client):
    dc, lan = datacenter_with_lan(emulator)
    keep = policy(termination="NEWEST_SERVER_FIRST", delete_volumes=False)
    g = api.groups_post(asg.GroupPost(properties=group_props(dc, lan, low=2, high=2, policy=keep)))
    first = cloud_servers(client, dc)
    newest = max(first, key=lambda sid: first[sid].properties.name)
    body = group_props(dc, lan, low=1, high=1, policy=keep, cls=asg.GroupPutProperties)
    api.groups_put(g.id, asg.GroupPut(properties=body))
    left = cloud_servers(client, dc)
    assert len(left) == 1 and newest not in left
    assert len(ionoscloud.VolumesApi(client).datacenters_volumes_get(dc).items) == 2  # the volume stays
    api.groups_delete(g.id)


def test_bad_groups_are_refused_and_change_nothing(api, emulator, client):
    dc, lan = datacenter_with_lan(emulator)
    txl_dc, _ = datacenter_with_lan(emulator, location="de/txl")
    before = len(api.groups_get().items)
    cases = [
        (dict(low=5, high=2), "minReplicaCount"),
        (dict(replica_configuration=replica("9")), "nics[0].lan"),
        (dict(replica_configuration=replica(lan, ram=1000)), "ram"),  # not a multiple of 256 MB (Cloud API rule)
        (dict(replica_configuration=replica(lan, cores=5000)), "cores"),  # beyond the contract's limit per server
    ]
    for kw, attr in cases:
        status, msg = refused(api.groups_post, asg.GroupPost(properties=group_props(dc, lan, **kw)))
        assert status == 422 and attr in msg, (kw, msg)
    status, msg = refused(api.groups_post, asg.GroupPost(properties=group_props(str(uuid.uuid4()), lan)))
    assert status == 422 and "datacenter.id" in msg
    status, msg = refused(api.groups_post, asg.GroupPost(properties=group_props(txl_dc, lan)))
    assert status == 422 and "location" in msg
    assert len(api.groups_get().items) == before and cloud_servers(client, dc) == {}
    # a PUT of an unknown group is a 404, not a creation; the data center cannot be changed
    missing = str(uuid.uuid4())
    put = asg.GroupPut(properties=group_props(dc, lan, cls=asg.GroupPutProperties))
    assert refused(api.groups_put, missing, put)[0] == 404
    g = api.groups_post(asg.GroupPost(properties=group_props(dc, lan, low=0, high=1)))
    assert cloud_servers(client, dc) == {} and api.groups_actions_get(g.id).items == []
    other, _ = datacenter_with_lan(emulator)
    status, msg = refused(
        api.groups_put,
        g.id,
        asg.GroupPut(properties=group_props(other, lan, low=0, high=1, cls=asg.GroupPutProperties)),
    )
    assert status == 422 and "datacenter.id" in msg
    api.groups_delete(g.id)


def test_real_host_and_a_user_needs_the_data_center(emulator, token):
    r = httpx.get(
        emulator.url + "/autoscaling/groups", headers={"Host": "api.ionos.com", "Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200 and r.json()["type"] == "collection"
    r = httpx.post(emulator.url + PREFIX + "/groups", auth=OWNER, json={"properties": {"name": "x"}})
    assert r.status_code == 422 and "properties." in r.json()["messages"][0]["message"]
    # a user who is no administrator makes a group only in a data center they may change
    dc, lan = datacenter_with_lan(emulator)
    email, pw, _, group = new_member(emulator, "as", group=True)
    body = {"properties": group_props(dc, lan, low=1, high=1).to_dict()}
    r = httpx.post(emulator.url + PREFIX + "/groups", auth=(email, pw), json=body)
    assert r.status_code == 422 and "datacenter.id" in r.json()["messages"][0]["message"]
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        share = {"properties": {"editPrivilege": False}}
        assert h.post(f"/um/groups/{group}/shares/{dc}", json=share).status_code == 202
        r = httpx.post(emulator.url + PREFIX + "/groups", auth=(email, pw), json=body)
        assert r.status_code == 403, r.text  # a share without the edit privilege
        assert h.put(f"/um/groups/{group}/shares/{dc}", json={"properties": {"editPrivilege": True}}).status_code == 202
    r = httpx.post(emulator.url + PREFIX + "/groups", auth=(email, pw), json=body)
    assert r.status_code == 201, r.text
    assert httpx.delete(emulator.url + PREFIX + f"/groups/{r.json()['id']}", auth=(email, pw)).status_code == 204


def test_the_first_generation_serves_the_same_groups(api, emulator, client):
    """vm-autoscaling-v1 at api.ionos.com/cloudapi/autoscaling (no SDK of it is installed: plain HTTP): the
    same groups as the current API, with targetReplicaCount, which sets the count within the bounds."""
    dc, lan = datacenter_with_lan(emulator)
    v1 = emulator.url + "/cloudapi/autoscaling"
    body = {
        "properties": {
            "datacenter": {"id": dc},  # its location is read-only here: the data center's
            "name": "legacy",
            "minReplicaCount": 1,
            "maxReplicaCount": 3,
            "targetReplicaCount": 2,
            "policy": policy().to_dict(),
            "replicaConfiguration": {
                "availabilityZone": "AUTO",
                "cores": 1,
                "ram": 1024,
                "nics": [{"lan": int(lan), "name": "eth0", "dhcp": True}],
            },
        }
    }
    r = httpx.post(v1 + "/groups", auth=OWNER, json=body)
    assert r.status_code == 201, r.text
    gid = r.json()["id"]
    assert r.json()["href"] == f"{v1}/groups/{gid}"
    assert len(cloud_servers(client, dc)) == 2
    assert api.groups_find_by_id(gid).properties.name == "legacy"  # the current API sees it
    actions = httpx.get(f"{v1}/groups/{gid}/actions", auth=OWNER, params={"depth": 1}).json()["items"]
    assert [a["properties"]["targetReplicaCount"] for a in actions] == [2]
    servers = httpx.get(f"{v1}/groups/{gid}/servers", auth=OWNER).json()["items"]
    assert sorted(s["id"] for s in servers) == sorted(cloud_servers(client, dc))
    # through the real host, next to the Cloud API's /cloudapi/v6
    r = httpx.get(emulator.url + f"/cloudapi/autoscaling/groups/{gid}", auth=OWNER, headers={"Host": "api.ionos.com"})
    assert r.status_code == 200 and r.json()["href"].endswith("://api.ionos.com/cloudapi/autoscaling/groups/" + gid)
    doc = httpx.get(v1 + "/openapi.json", auth=OWNER).json()
    assert doc["paths"]["/cloudapi/autoscaling/groups"]["post"]["operationId"] == "autoscalingGroupsPost"
    text = httpx.get(v1 + "/openapi.yaml", auth=OWNER).text
    paths = yaml.safe_load(text)["paths"]
    assert paths["/cloudapi/autoscaling/groups/{groupId}"]["delete"]["operationId"] == "autoscalingGroupsDelete"
    assert httpx.delete(f"{v1}/groups/{gid}", auth=OWNER).status_code == 204
    assert cloud_servers(client, dc) == {}


def test_the_group_is_busy_while_its_servers_are_made(api, emulator, client):
    """With servers that take time (the Cloud API's timing), the group stays BUSY and its action IN_PROGRESS
    until the servers are AVAILABLE."""
    dc, lan = datacenter_with_lan(emulator)
    emulator.admin("PUT", "timing", json={"profile": "instant", "overrides": {"server": 1.5}})
    try:
        g = api.groups_post(asg.GroupPost(properties=group_props(dc, lan, low=1, high=2)))
        assert api.groups_find_by_id(g.id).metadata.state == "BUSY"
        action = api.groups_actions_find_by_id(g.started_actions[0].id, g.id)
        assert action.properties.action_status == "IN_PROGRESS"
        assert [s.metadata.state for s in cloud_servers(client, dc).values()] == ["BUSY"]
        deadline = time.time() + 15
        while api.groups_find_by_id(g.id).metadata.state != "AVAILABLE" and time.time() < deadline:
            time.sleep(0.2)
        assert [s.metadata.state for s in cloud_servers(client, dc).values()] == ["AVAILABLE"]
        done = api.groups_actions_find_by_id(g.started_actions[0].id, g.id)
        assert done.properties.action_status == "SUCCESSFUL"
    finally:
        emulator.admin("PUT", "timing", json={"profile": "instant"})
    api.groups_delete(g.id)


def test_replicas_count_against_the_contracts_limits(emulator):
    """A contract with room for three cores: a group of four one-core replicas is refused whole; three fit."""
    number = 700000 + int(uuid.uuid4().int % 100000)
    owner = (f"limits-{number}@example.com", "Passw0rd!")
    made = emulator.admin(
        "POST",
        "contracts",
        json={
            "contractNumber": number,
            "user": owner[0],
            "password": owner[1],
            "resourceLimits": {"coresPerContract": 3},
        },
    )
    assert made.status_code == 200, made.text
    dc, lan = datacenter_with_lan(emulator, auth=owner)
    with asg.ApiClient(asg.Configuration(host=emulator.url + PREFIX, token=bearer(emulator, owner))) as c:
        groups = asg.AutoScalingGroupsApi(c)
        status, msg = refused(groups.groups_post, asg.GroupPost(properties=group_props(dc, lan, low=4, high=4)))
        assert status == 422 and "core limit" in msg and "replicaConfiguration" in msg
        assert groups.groups_get().items == []
        g = groups.groups_post(asg.GroupPost(properties=group_props(dc, lan, low=3, high=4)))
        up = group_props(dc, lan, low=4, high=4, cls=asg.GroupPutProperties)
        assert refused(groups.groups_put, g.id, asg.GroupPut(properties=up))[0] == 422
        assert len(groups.groups_servers_get(g.id).items) == 3
        groups.groups_delete(g.id)


def test_replicas_join_the_target_group_their_nic_names(api, emulator, client):
    dc, lan = datacenter_with_lan(emulator)
    tgs = ionoscloud.TargetGroupsApi(client)
    tg = tgs.targetgroups_post(
        ionoscloud.TargetGroup(
            properties=ionoscloud.TargetGroupProperties(name="web", algorithm="ROUND_ROBIN", protocol="HTTP")
        )
    )
    rc = replica(lan)
    rc.nics[0].target_group = asg.TargetGroup(target_group_id=tg.id, port=8080, weight=5)
    g = api.groups_post(asg.GroupPost(properties=group_props(dc, lan, low=2, high=2, replica_configuration=rc)))
    servers = cloud_servers(client, dc)
    ips = sorted(s.entities.nics.items[0].properties.ips[0] for s in servers.values())
    targets = tgs.targetgroups_find_by_target_group_id(tg.id).properties.targets
    assert sorted((t.ip, t.port, t.weight) for t in targets) == [(ip, 8080, 5) for ip in ips]
    # a replica that goes leaves the target group
    down = group_props(dc, lan, low=1, high=1, replica_configuration=rc, cls=asg.GroupPutProperties)
    api.groups_put(g.id, asg.GroupPut(properties=down))
    (left,) = cloud_servers(client, dc).values()
    targets = tgs.targetgroups_find_by_target_group_id(tg.id).properties.targets
    assert [t.ip for t in targets] == [left.entities.nics.items[0].properties.ips[0]]
    api.groups_delete(g.id)
    assert not tgs.targetgroups_find_by_target_group_id(tg.id).properties.targets
    # a target group that does not exist is refused
    rc.nics[0].target_group = asg.TargetGroup(target_group_id=str(uuid.uuid4()), port=8080)
    status, msg = refused(api.groups_post, asg.GroupPost(properties=group_props(dc, lan, replica_configuration=rc)))
    assert status == 422 and "targetGroup.targetGroupId" in msg
