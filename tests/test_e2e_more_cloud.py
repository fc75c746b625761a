"""End-to-end: Cloud API operations no other test reached (only the fuzzer did): listing and patching
application load balancers, their flow logs and forwarding rules, flow logs of NAT gateways and network load
balancers, legacy load balancer listings, server PATCH/PUT, CD-ROM, console, token and upgrade, volume
PUT/DELETE, private image PATCH and labels, IP block PUT, group listings and shares; through the unmodified
`ionoscloud` SDK against the strict emulator."""

from __future__ import annotations

import copy
import uuid
from urllib.parse import urlparse

import httpx
import ionoscloud
import pytest

from support import wait
from test_e2e_netservices import (
    done,
    flow_log,
    nat_gateway,
    new_dc,
    new_lan,
    nlb,
    nlb_rule,
    refused,
    reserve,  # noqa: F401  (the fixture)
)

# -- helpers ----------------------------------------------------------------------------------------


def gone(find, *args):
    """The resource behind `find(*args)` answers 404 through the SDK."""
    refused(find, *args, status=404)


def new_server(client, dc_id, name="vm", cores=1, ram=1024):
    s = done(
        client,
        ionoscloud.ServersApi(client).datacenters_servers_post_with_http_info(
            dc_id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name=name, cores=cores, ram=ram))
        ),
    )
    return s


def new_volume(client, dc_id, name="data", size=10):
    return done(
        client,
        ionoscloud.VolumesApi(client).datacenters_volumes_post_with_http_info(
            dc_id,
            ionoscloud.Volume(
                properties=ionoscloud.VolumeProperties(name=name, size=size, type="HDD", licence_type="LINUX")
            ),
        ),
    )


def fl_props(fl):
    p = fl.properties
    return (p.name, p.action, p.direction, p.bucket)


def patched_flow_log(client, api, prefix, args, fl_id, **changes):
    """PATCHes the flow log `fl_id` of the gateway or balancer at `args` (`prefix`: the SDK method prefix) and
    reads back its properties."""
    patch = getattr(api, f"{prefix}_flowlogs_patch_with_http_info")
    done(client, patch(*args, fl_id, ionoscloud.FlowLogProperties(**changes)))
    return fl_props(getattr(api, f"{prefix}_flowlogs_find_by_flow_log_id")(*args, fl_id))


def delete_flow_log(client, api, prefix, args, fl_id):
    """Deletes the flow log, which is then gone and no longer listed."""
    done(client, getattr(api, f"{prefix}_flowlogs_delete_with_http_info")(*args, fl_id))
    gone(getattr(api, f"{prefix}_flowlogs_find_by_flow_log_id"), *args, fl_id)
    assert getattr(api, f"{prefix}_flowlogs_get")(*args).items == []


def new_alb(client, dc_id, name="alb"):
    listener, target = new_lan(client, dc_id), new_lan(client, dc_id)
    api = ionoscloud.ApplicationLoadBalancersApi(client)
    alb = done(
        client,
        api.datacenters_applicationloadbalancers_post_with_http_info(
            dc_id,
            ionoscloud.ApplicationLoadBalancer(
                properties=ionoscloud.ApplicationLoadBalancerProperties(
                    name=name, listener_lan=int(listener.id), target_lan=int(target.id)
                )
            ),
        ),
    )
    return api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc_id, alb.id)


# -- application load balancers ---------------------------------------------------------------------


def test_application_load_balancers_list_and_patch(client):
    dc = new_dc(client)
    api = ionoscloud.ApplicationLoadBalancersApi(client)
    one, two = new_alb(client, dc.id, "one"), new_alb(client, dc.id, "two")
    listed = api.datacenters_applicationloadbalancers_get(dc.id, depth=1)
    assert sorted((x.id, x.properties.name) for x in listed.items) == sorted([(one.id, "one"), (two.id, "two")])

    done(
        client,
        api.datacenters_applicationloadbalancers_patch_with_http_info(
            dc.id, one.id, ionoscloud.ApplicationLoadBalancerProperties(name="patched")
        ),
    )
    got = api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, one.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.name == "patched"
    before, after = one.properties, got.properties
    assert (after.listener_lan, after.target_lan, after.ips, after.lb_private_ips) == (
        before.listener_lan,
        before.target_lan,
        before.ips,
        before.lb_private_ips,
    )
    other = api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, two.id)
    assert other.properties.name == "two"
    gone(api.datacenters_applicationloadbalancers_patch, dc.id, str(uuid.uuid4()), after)


def test_application_load_balancer_flow_log_patch_and_delete(client):
    dc = new_dc(client)
    alb = new_alb(client, dc.id)
    api = ionoscloud.ApplicationLoadBalancersApi(client)
    fl = done(client, api.datacenters_applicationloadbalancers_flowlogs_post_with_http_info(dc.id, alb.id, flow_log()))
    where = (client, api, "datacenters_applicationloadbalancers", (dc.id, alb.id), fl.id)
    assert patched_flow_log(*where, direction="INGRESS") == ("fl", "ALL", "INGRESS", "logs-bucket/nat")
    delete_flow_log(*where)
    # the balancer itself stays
    assert api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, alb.id).id == alb.id


def test_application_load_balancer_forwarding_rule_delete(client):
    dc = new_dc(client)
    alb = new_alb(client, dc.id)
    (ip,) = alb.properties.ips
    api = ionoscloud.ApplicationLoadBalancersApi(client)

    def rule(name, port):
        return ionoscloud.ApplicationLoadBalancerForwardingRule(
            properties=ionoscloud.ApplicationLoadBalancerForwardingRuleProperties(
                name=name, protocol="HTTP", listener_ip=ip, listener_port=port
            )
        )

    keep, drop = (
        done(client, api.datacenters_applicationloadbalancers_forwardingrules_post_with_http_info(dc.id, alb.id, r))
        for r in (rule("keep", 80), rule("drop", 8080))
    )
    done(client, api.datacenters_applicationloadbalancers_forwardingrules_delete_with_http_info(dc.id, alb.id, drop.id))
    gone(api.datacenters_applicationloadbalancers_forwardingrules_find_by_forwarding_rule_id, dc.id, alb.id, drop.id)
    left = api.datacenters_applicationloadbalancers_forwardingrules_get(dc.id, alb.id, depth=1).items
    assert [(r.id, r.properties.name) for r in left] == [(keep.id, "keep")]
    # the freed listener port can be taken again
    done(
        client,
        api.datacenters_applicationloadbalancers_forwardingrules_post_with_http_info(
            dc.id, alb.id, rule("again", 8080)
        ),
    )


# -- legacy load balancers --------------------------------------------------------------------------


def test_legacy_load_balancers_list(client):
    dc = new_dc(client)
    api = ionoscloud.LoadBalancersApi(client)
    assert api.datacenters_loadbalancers_get(dc.id).items == []
    made = [
        done(
            client,
            api.datacenters_loadbalancers_post_with_http_info(
                dc.id, ionoscloud.Loadbalancer(properties=ionoscloud.LoadbalancerProperties(name=name))
            ),
        )
        for name in ("lb-a", "lb-b")
    ]
    listed = api.datacenters_loadbalancers_get(dc.id, depth=1)
    assert sorted((x.id, x.properties.name) for x in listed.items) == sorted(
        [(made[0].id, "lb-a"), (made[1].id, "lb-b")]
    )
    assert all(x.type == "loadbalancer" for x in listed.items)
    gone(api.datacenters_loadbalancers_get, str(uuid.uuid4()))


# -- flow logs of NAT gateways and network load balancers -------------------------------------------


def test_nat_gateway_flow_logs_list_and_delete(client, reserve):  # noqa: F811
    dc = new_dc(client)
    lan = new_lan(client, dc.id)
    (ip,) = reserve(1)
    api = ionoscloud.NATGatewaysApi(client)
    gw = done(client, api.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ip], [lan.id])))
    assert api.datacenters_natgateways_flowlogs_get(dc.id, gw.id).items == []
    fl = done(client, api.datacenters_natgateways_flowlogs_post_with_http_info(dc.id, gw.id, flow_log("nat-fl")))
    listed = api.datacenters_natgateways_flowlogs_get(dc.id, gw.id, depth=1)
    assert [(x.id, x.properties.name) for x in listed.items] == [(fl.id, "nat-fl")]

    delete_flow_log(client, api, "datacenters_natgateways", (dc.id, gw.id), fl.id)
    assert api.datacenters_natgateways_find_by_nat_gateway_id(dc.id, gw.id).properties.public_ips == [ip]


def new_nlb(client, dc_id, reserve):  # noqa: F811
    listener, target = new_lan(client, dc_id, public=True), new_lan(client, dc_id)
    (ip,) = reserve(1)
    api = ionoscloud.NetworkLoadBalancersApi(client)
    lb = done(
        client, api.datacenters_networkloadbalancers_post_with_http_info(dc_id, nlb(listener.id, target.id, [ip]))
    )
    return api, lb, ip


def test_network_load_balancer_flow_logs(client, reserve):  # noqa: F811
    dc = new_dc(client)
    api, lb, _ = new_nlb(client, dc.id, reserve)
    assert api.datacenters_networkloadbalancers_flowlogs_get(dc.id, lb.id).items == []
    fl = done(client, api.datacenters_networkloadbalancers_flowlogs_post_with_http_info(dc.id, lb.id, flow_log()))
    listed = api.datacenters_networkloadbalancers_flowlogs_get(dc.id, lb.id, depth=1)
    assert [x.id for x in listed.items] == [fl.id]
    got = api.datacenters_networkloadbalancers_flowlogs_find_by_flow_log_id(dc.id, lb.id, fl.id)
    assert got.metadata.state == "AVAILABLE" and got.type == "flow-log"
    assert fl_props(got) == ("fl", "ALL", "BIDIRECTIONAL", "logs-bucket/nat")

    where = (client, api, "datacenters_networkloadbalancers", (dc.id, lb.id), fl.id)
    assert patched_flow_log(*where, action="REJECTED") == ("fl", "REJECTED", "BIDIRECTIONAL", "logs-bucket/nat")

    done(
        client,
        api.datacenters_networkloadbalancers_flowlogs_put_with_http_info(
            dc.id,
            lb.id,
            fl.id,
            ionoscloud.FlowLogPut(properties=flow_log("put", "ACCEPTED", "EGRESS", "other-bucket/nlb").properties),
        ),
    )
    got = api.datacenters_networkloadbalancers_flowlogs_find_by_flow_log_id(dc.id, lb.id, fl.id)
    assert fl_props(got) == ("put", "ACCEPTED", "EGRESS", "other-bucket/nlb")

    delete_flow_log(*where)
    gone(api.datacenters_networkloadbalancers_flowlogs_find_by_flow_log_id, dc.id, lb.id, str(uuid.uuid4()))


def test_network_load_balancer_forwarding_rule_delete(client, reserve):  # noqa: F811
    dc = new_dc(client)
    api, lb, ip = new_nlb(client, dc.id, reserve)
    keep, drop = (
        done(client, api.datacenters_networkloadbalancers_forwardingrules_post_with_http_info(dc.id, lb.id, r))
        for r in (nlb_rule(ip, 80, name="keep"), nlb_rule(ip, 443, name="drop"))
    )
    done(client, api.datacenters_networkloadbalancers_forwardingrules_delete_with_http_info(dc.id, lb.id, drop.id))
    gone(api.datacenters_networkloadbalancers_forwardingrules_find_by_forwarding_rule_id, dc.id, lb.id, drop.id)
    left = api.datacenters_networkloadbalancers_forwardingrules_get(dc.id, lb.id, depth=1).items
    assert [(r.id, r.properties.listener_port) for r in left] == [(keep.id, 80)]
    gone(api.datacenters_networkloadbalancers_forwardingrules_delete, dc.id, lb.id, drop.id)


# -- servers ----------------------------------------------------------------------------------------


def test_server_patch_changes_only_the_patched_property(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    s = new_server(client, dc.id, "before", cores=1, ram=1024)
    done(
        client,
        servers.datacenters_servers_patch_with_http_info(dc.id, s.id, ionoscloud.ServerProperties(name="after")),
    )
    got = servers.datacenters_servers_find_by_id(dc.id, s.id)
    assert got.metadata.state == "AVAILABLE"
    assert (got.properties.name, got.properties.cores, got.properties.ram) == ("after", 1, 1024)
    done(client, servers.datacenters_servers_patch_with_http_info(dc.id, s.id, ionoscloud.ServerProperties(ram=2048)))
    got = servers.datacenters_servers_find_by_id(dc.id, s.id)
    assert (got.properties.name, got.properties.cores, got.properties.ram) == ("after", 1, 2048)


def test_server_put_applies_the_given_properties(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    s = new_server(client, dc.id, "old", cores=1, ram=1024)
    put, status, h = servers.datacenters_servers_put_with_http_info(
        dc.id, s.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="new", cores=2, ram=2048))
    )
    assert status == 202 and put.id == s.id
    wait(client, h)
    got = servers.datacenters_servers_find_by_id(dc.id, s.id)
    assert got.metadata.state == "AVAILABLE"
    assert (got.properties.name, got.properties.cores, got.properties.ram) == ("new", 2, 2048)
    assert [x.id for x in servers.datacenters_servers_get(dc.id).items] == [s.id]  # replaced, not added


def test_server_cdrom_by_id(client):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    servers = ionoscloud.ServersApi(client)
    iso = next(
        i
        for i in ionoscloud.ImagesApi(client).images_get(depth=1).items
        if i.properties.location == "de/fra" and i.properties.image_type == "CDROM"
    )
    done(client, servers.datacenters_servers_cdroms_post_with_http_info(dc.id, s.id, ionoscloud.Image(id=iso.id)))
    cd = servers.datacenters_servers_cdroms_find_by_id(dc.id, s.id, iso.id)
    assert (cd.id, cd.type, cd.properties.image_type, cd.properties.name) == (
        iso.id,
        "image",
        "CDROM",
        iso.properties.name,
    )
    done(client, servers.datacenters_servers_cdroms_delete_with_http_info(dc.id, s.id, iso.id))
    gone(servers.datacenters_servers_cdroms_find_by_id, dc.id, s.id, iso.id)


def test_server_remote_console_and_token(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    one, two = new_server(client, dc.id, "one"), new_server(client, dc.id, "two")
    tokens = {}
    for s in (one, two):
        console = servers.datacenters_servers_remote_console_get(dc.id, s.id)
        url = urlparse(console.url)
        assert url.scheme and url.netloc, console.url  # absolute
        token = servers.datacenters_servers_token_get(dc.id, s.id).token
        assert isinstance(token, str) and token
        page = httpx.get(console.url)  # the console URL opens a page about this server, with no credentials
        assert page.status_code == 200 and "html" in page.headers["content-type"] and s.id in page.text, console.url
        tokens[s.id] = token
    assert tokens[one.id] != tokens[two.id]  # a token opens one server's console
    for call in (servers.datacenters_servers_remote_console_get, servers.datacenters_servers_token_get):
        gone(call, dc.id, str(uuid.uuid4()))


def test_server_upgrade_completes_and_keeps_the_server(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    s = new_server(client, dc.id, "up", cores=2, ram=2048)
    before = servers.datacenters_servers_find_by_id(dc.id, s.id)
    done(client, servers.datacenters_servers_upgrade_post_with_http_info(dc.id, s.id))
    got = servers.datacenters_servers_find_by_id(dc.id, s.id)
    assert got.metadata.state == "AVAILABLE"
    assert (got.properties.name, got.properties.cores, got.properties.ram, got.properties.vm_state) == (
        "up",
        2,
        2048,
        before.properties.vm_state,
    )
    gone(servers.datacenters_servers_upgrade_post, dc.id, str(uuid.uuid4()))


# -- volumes ----------------------------------------------------------------------------------------


def test_volume_put_and_delete(client):
    dc = new_dc(client)
    volumes = ionoscloud.VolumesApi(client)
    keep, drop = new_volume(client, dc.id, "keep"), new_volume(client, dc.id, "drop")
    done(
        client,
        volumes.datacenters_volumes_put_with_http_info(
            dc.id,
            keep.id,
            ionoscloud.Volume(
                properties=ionoscloud.VolumeProperties(name="grown", size=20, type="HDD", licence_type="LINUX")
            ),
        ),
    )
    got = volumes.datacenters_volumes_find_by_id(dc.id, keep.id)
    assert got.metadata.state == "AVAILABLE"
    assert (got.properties.name, got.properties.size, got.properties.type) == ("grown", 20.0, "HDD")

    done(client, volumes.datacenters_volumes_delete_with_http_info(dc.id, drop.id))
    gone(volumes.datacenters_volumes_find_by_id, dc.id, drop.id)
    assert [v.id for v in volumes.datacenters_volumes_get(dc.id).items] == [keep.id]
    gone(volumes.datacenters_volumes_delete, dc.id, drop.id)


# -- private images ---------------------------------------------------------------------------------


@pytest.fixture
def private_image(client, emulator):
    """A private image of the contract. The Cloud API has no call that makes one (real images are uploaded
    over FTP), so the test writes it into the emulator's store, as an upload would, modelled on a public
    HDD image with the metadata of a snapshot the API made; deleted through the API (imagesDelete) after the test."""
    from ionos_emulator.store import Row

    dc = new_dc(client, "image")
    vol = new_volume(client, dc.id)
    snap = done(
        client,
        ionoscloud.VolumesApi(client).datacenters_volumes_create_snapshot_post_with_http_info(
            dc.id, vol.id, snapshot=ionoscloud.CreateSnapshot(properties=ionoscloud.CreateSnapshotProperties(name="s"))
        ),
    )
    public = next(
        i
        for i in ionoscloud.ImagesApi(client).images_get(depth=1).items
        if i.properties.location == "de/fra" and i.properties.image_type == "HDD"
    )
    store = emulator.app.store
    tenant = int(ionoscloud.ContractResourcesApi(client).contracts_get().items[0].properties.contract_number)
    snap_row = store.find(tenant, "snapshot", snap.id)
    props = client.sanitize_for_serialization(public.properties)
    props.update(name="my-image", description="uploaded", public=False)
    image_id = str(uuid.uuid4())
    store.insert(
        Row(
            tenant=tenant,
            kind="image",
            id=image_id,
            path=f"images/{image_id}",
            doc={"properties": props, "metadata": copy.deepcopy(snap_row.doc["metadata"])},
        )
    )
    yield image_id
    # gone before the next test, which may expect every image of de/fra to be public
    done(client, ionoscloud.ImagesApi(client).images_delete_with_http_info(image_id))
    gone(ionoscloud.ImagesApi(client).images_find_by_id, image_id)


def test_private_image_patch_changes_only_the_patched_property(client, private_image):
    images = ionoscloud.ImagesApi(client)
    before = images.images_find_by_id(private_image)
    assert before.properties.public is False and before.properties.name == "my-image"
    done(client, images.images_patch_with_http_info(private_image, ionoscloud.ImageProperties(name="renamed")))
    got = images.images_find_by_id(private_image)
    assert got.properties.name == "renamed"
    b, a = before.properties, got.properties
    assert (a.description, a.location, a.size, a.image_type, a.licence_type, a.public) == (
        b.description,
        b.location,
        b.size,
        b.image_type,
        b.licence_type,
        b.public,
    )
    assert private_image in [i.id for i in images.images_get().items]


def test_private_image_label_delete(client, private_image):
    api = ionoscloud.LabelsApi(client)
    for key, value in (("env", "prod"), ("team", "core")):
        api.images_labels_post(
            private_image, ionoscloud.LabelResource(properties=ionoscloud.LabelResourceProperties(key=key, value=value))
        )
    _, status, headers = api.images_labels_delete_with_http_info(private_image, "env")
    assert status == 200 and "Location" not in headers  # labels are synchronous
    gone(api.images_labels_find_by_key, private_image, "env")
    assert [x.id for x in api.images_labels_get(private_image).items] == ["team"]
    gone(api.images_labels_delete, private_image, "env")


# -- IP blocks --------------------------------------------------------------------------------------


def test_ipblock_put(client):
    api = ionoscloud.IPBlocksApi(client)
    block = done(
        client,
        api.ipblocks_post_with_http_info(
            ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=2, name="before"))
        ),
    )
    try:
        done(
            client,
            api.ipblocks_put_with_http_info(
                block.id,
                ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=2, name="after")),
            ),
        )
        got = api.ipblocks_find_by_id(block.id)
        assert got.metadata.state == "AVAILABLE"
        assert (got.properties.name, got.properties.size, got.properties.location) == ("after", 2, "de/fra")
        assert got.properties.ips == block.properties.ips  # the same addresses stay reserved
    finally:
        api.ipblocks_delete(block.id)


# -- user management --------------------------------------------------------------------------------


def new_group(client, name):
    return done(
        client,
        ionoscloud.UserManagementApi(client).um_groups_post_with_http_info(
            ionoscloud.Group(properties=ionoscloud.GroupProperties(name=name, create_snapshot=True))
        ),
    )


def test_groups_list(client):
    um = ionoscloud.UserManagementApi(client)
    names = [f"g-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    made = [new_group(client, n) for n in names]
    try:
        listed = {g.id: g for g in um.um_groups_get(depth=1).items}
        for g, name in zip(made, names, strict=True):
            assert listed[g.id].properties.name == name and listed[g.id].properties.create_snapshot is True
        done(client, um.um_groups_delete_with_http_info(made[1].id))
        assert made[1].id not in [g.id for g in um.um_groups_get().items]
    finally:
        um.um_groups_delete(made[0].id)


def test_group_share_by_resource_id(client):
    um = ionoscloud.UserManagementApi(client)
    dc = new_dc(client, "shared")
    g = new_group(client, f"g-{uuid.uuid4().hex[:6]}")
    try:
        done(
            client,
            um.um_groups_shares_post_with_http_info(
                g.id,
                dc.id,
                ionoscloud.GroupShare(
                    properties=ionoscloud.GroupShareProperties(edit_privilege=True, share_privilege=False)
                ),
            ),
        )
        share = um.um_groups_shares_find_by_resource_id(g.id, dc.id)
        assert share.id == dc.id
        assert (share.properties.edit_privilege, share.properties.share_privilege) == (True, False)
        done(client, um.um_groups_shares_delete_with_http_info(g.id, dc.id))
        gone(um.um_groups_shares_find_by_resource_id, g.id, dc.id)
    finally:
        um.um_groups_delete(g.id)
