"""End-to-end: network security groups, their rules, attaching them to servers and NICs, the data center's
default group and the contract limits, through the unmodified `ionoscloud` SDK against a strict emulator."""

from __future__ import annotations

import uuid

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import wait


def new_dc(client, name="nsg", **props):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location="de/fra", **props)
        )
    )
    wait(client, h)
    return dc


def new_server(client, dc_id, name="vm", nics=1):
    servers = ionoscloud.ServersApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(
        dc_id,
        ionoscloud.Server(
            properties=ionoscloud.ServerProperties(name=name, cores=1, ram=1024),
            entities=ionoscloud.ServerEntities(
                nics=ionoscloud.Nics(
                    items=[
                        ionoscloud.Nic(properties=ionoscloud.NicProperties(name=f"{name}-nic{i}", lan=1))
                        for i in range(nics)
                    ]
                )
            ),
        ),
    )
    wait(client, h)
    return servers.datacenters_servers_find_by_id(dc_id, s.id, depth=2)


def rule(name="ssh", protocol="TCP", **kw):
    if protocol in ("TCP", "UDP") and "port_range_start" not in kw:
        kw.update(port_range_start=22, port_range_end=22)
    return ionoscloud.FirewallRule(properties=ionoscloud.FirewallruleProperties(name=name, protocol=protocol, **kw))


def new_group(client, dc_id, name="web", rules=(), wait_done=True):
    sg, status, h = ionoscloud.SecurityGroupsApi(client).datacenters_securitygroups_post_with_http_info(
        dc_id,
        ionoscloud.SecurityGroupRequest(
            properties=ionoscloud.SecurityGroupProperties(name=name, description=f"{name} group"),
            entities=ionoscloud.SecurityGroupEntitiesRequest(rules=ionoscloud.FirewallRules(items=list(rules)))
            if rules
            else None,
        ),
    )
    assert status == 202
    if wait_done:
        wait(client, h)
    return sg


def status_of(call, *args, **kw) -> int:
    with pytest.raises(ApiException) as e:
        call(*args, **kw)
    return e.value.status


def test_group_lifecycle_rules_and_depth(client):
    dc = new_dc(client)
    api = ionoscloud.SecurityGroupsApi(client)
    sg = new_group(client, dc.id, rules=[rule("ssh"), rule("ping", "ICMP", icmp_type=8, icmp_code=0)], wait_done=False)
    assert sg.type == "security-group" and sg.metadata.state == "BUSY" and sg.properties.name == "web"
    got = api.datacenters_securitygroups_find_by_id(dc.id, sg.id, depth=2)
    assert got.metadata.state == "AVAILABLE" and got.properties.description == "web group"
    rules = got.entities.rules.items
    assert sorted((r.properties.name, r.properties.protocol) for r in rules) == [("ping", "ICMP"), ("ssh", "TCP")]
    assert all(r.type == "firewall-rule" for r in rules)
    assert got.entities.nics.items == [] and got.entities.servers.items == []
    # depth 0: bare collection references; the data center lists the group among its entities
    bare = api.datacenters_securitygroups_find_by_id(dc.id, sg.id)
    assert bare.entities.rules.id == f"{sg.id}/rules" and bare.entities.rules.items is None
    dc1 = ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id, depth=1)
    assert [x.id for x in dc1.entities.securitygroups.items] == [sg.id]
    listed = api.datacenters_securitygroups_get(dc.id, depth=1)
    assert [x.properties.name for x in listed.items] == ["web"] and listed.limit == 1000

    # PATCH merges, PUT replaces
    patched, _, h = api.datacenters_securitygroups_patch_with_http_info(
        dc.id, sg.id, ionoscloud.SecurityGroupProperties(name="web2")
    )
    assert patched.metadata.state == "BUSY" and patched.properties.description == "web group"
    wait(client, h)
    _, _, h = api.datacenters_securitygroups_put_with_http_info(
        dc.id, sg.id, ionoscloud.SecurityGroupRequest(properties=ionoscloud.SecurityGroupProperties(name="web3"))
    )
    wait(client, h)
    got = api.datacenters_securitygroups_find_by_id(dc.id, sg.id)
    # left out of the PUT, the description is kept as the real API does (issue 9, rule 3; it used to be cleared)
    assert got.properties.name == "web3" and got.properties.description == "web group"
    assert got.metadata.state == "AVAILABLE"

    # rules: POST answers 200 (as the spec says) with a Location to follow
    r, status, h = api.datacenters_securitygroups_firewallrules_post_with_http_info(
        dc.id, sg.id, rule("https", port_range_start=443, port_range_end=443, source_ip="10.1.0.0/16")
    )
    assert status == 200 and r.metadata.state == "BUSY" and r.properties.ip_version == "IPv4"
    wait(client, h)
    assert api.datacenters_securitygroups_rules_find_by_id(dc.id, sg.id, r.id).metadata.state == "AVAILABLE"
    assert len(api.datacenters_securitygroups_rules_get(dc.id, sg.id).items) == 3
    _, _, h = api.datacenters_securitygroups_rules_patch_with_http_info(
        dc.id, sg.id, r.id, ionoscloud.FirewallruleProperties(port_range_end=444)
    )
    wait(client, h)
    got = api.datacenters_securitygroups_rules_find_by_id(dc.id, sg.id, r.id)
    assert (got.properties.port_range_start, got.properties.port_range_end, got.properties.name) == (443, 444, "https")
    _, _, h = api.datacenters_securitygroups_rules_put_with_http_info(
        dc.id, sg.id, r.id, rule("https-only", port_range_start=443, port_range_end=443)
    )
    wait(client, h)
    got = api.datacenters_securitygroups_rules_find_by_id(dc.id, sg.id, r.id)
    # the source IP left out of the PUT is kept (issue 9, rule 3; it used to be cleared)
    assert got.properties.name == "https-only" and got.properties.source_ip == "10.1.0.0/16"
    _, status, h = api.datacenters_securitygroups_firewallrules_delete_with_http_info(dc.id, sg.id, r.id)
    assert status == 202
    wait(client, h)
    assert status_of(api.datacenters_securitygroups_rules_find_by_id, dc.id, sg.id, r.id) == 404

    # deleting the group takes its rules
    _, status, h = api.datacenters_securitygroups_delete_with_http_info(dc.id, sg.id)
    assert status == 202
    wait(client, h)
    assert status_of(api.datacenters_securitygroups_find_by_id, dc.id, sg.id) == 404
    assert status_of(api.datacenters_securitygroups_rules_get, dc.id, sg.id) == 404


def test_invalid_rules_are_422_and_add_nothing(client):
    dc = new_dc(client)
    api = ionoscloud.SecurityGroupsApi(client)
    sg = new_group(client, dc.id, rules=[rule()])
    for bad in (
        rule("ports-on-icmp", "ICMP", port_range_start=1, port_range_end=2),
        rule("reversed", port_range_start=90, port_range_end=80),
        rule("mixed", "ANY", source_ip="10.0.0.1", ip_version="IPv6"),
    ):
        assert status_of(api.datacenters_securitygroups_firewallrules_post, dc.id, sg.id, bad) == 422
    assert len(api.datacenters_securitygroups_rules_get(dc.id, sg.id).items) == 1
    # a bad rule inside a new group refuses the whole group
    assert status_of(new_group, client, dc.id, "bad", rules=[rule(), rule("x", "UDP", icmp_type=1)]) == 422
    assert [g.id for g in api.datacenters_securitygroups_get(dc.id).items] == [sg.id]


def test_attach_groups_to_server_and_nic(client):
    dc = new_dc(client)
    api = ionoscloud.SecurityGroupsApi(client)
    server = new_server(client, dc.id)
    nic = server.entities.nics.items[0]
    a, b = new_group(client, dc.id, "a"), new_group(client, dc.id, "b")

    got, status, h = api.datacenters_servers_securitygroups_put_with_http_info(
        dc.id, server.id, ionoscloud.ListOfIds(ids=[b.id, a.id, b.id])
    )
    assert status == 200 and [g.id for g in got.items] == [b.id, a.id]  # in the order given, once each
    assert got.id == f"{server.id}/securitygroups"
    servers = ionoscloud.ServersApi(client)
    wait(client, h)
    s1 = servers.datacenters_servers_find_by_id(dc.id, server.id, depth=2)
    assert s1.metadata.state == "AVAILABLE"
    assert [(g.id, g.properties.name) for g in s1.entities.securitygroups.items] == [(b.id, "b"), (a.id, "a")]
    _, status, h = api.datacenters_servers_nics_securitygroups_put_with_http_info(
        dc.id, server.id, nic.id, ionoscloud.ListOfIds(ids=[a.id])
    )
    assert status == 200
    wait(client, h)
    nics = ionoscloud.NetworkInterfacesApi(client)
    assert [
        g.id
        for g in nics.datacenters_servers_nics_find_by_id(
            dc.id, server.id, nic.id, depth=1
        ).entities.securitygroups.items
    ] == [a.id]
    # the group lists its members
    ga = api.datacenters_securitygroups_find_by_id(dc.id, a.id, depth=1)
    assert [x.id for x in ga.entities.servers.items] == [server.id]
    assert [x.id for x in ga.entities.nics.items] == [nic.id]
    gb = api.datacenters_securitygroups_find_by_id(dc.id, b.id, depth=1)
    assert [x.id for x in gb.entities.servers.items] == [server.id] and gb.entities.nics.items == []

    # an id that is not a group of this data center: 404, and the attachment is unchanged
    other = new_group(client, new_dc(client, "other").id, "elsewhere")
    for ids in ([str(uuid.uuid4())], [a.id, other.id]):
        assert (
            status_of(api.datacenters_servers_securitygroups_put, dc.id, server.id, ionoscloud.ListOfIds(ids=ids))
            == 404
        )
    s2 = servers.datacenters_servers_find_by_id(dc.id, server.id, depth=1)
    assert [g.id for g in s2.entities.securitygroups.items] == [b.id, a.id]

    # a deleted group drops out of its members; an empty list detaches everything
    _, _, h = api.datacenters_securitygroups_delete_with_http_info(dc.id, b.id)
    wait(client, h)
    s3 = servers.datacenters_servers_find_by_id(dc.id, server.id, depth=1)
    assert [g.id for g in s3.entities.securitygroups.items] == [a.id]
    _, _, h = api.datacenters_servers_securitygroups_put_with_http_info(dc.id, server.id, ionoscloud.ListOfIds(ids=[]))
    wait(client, h)
    assert servers.datacenters_servers_find_by_id(dc.id, server.id, depth=1).entities.securitygroups.items == []
    assert api.datacenters_securitygroups_find_by_id(dc.id, a.id, depth=1).entities.servers.items == []
    # removing the NIC removes its membership
    _, _, h = nics.datacenters_servers_nics_delete_with_http_info(dc.id, server.id, nic.id)
    wait(client, h)
    assert api.datacenters_securitygroups_find_by_id(dc.id, a.id, depth=1).entities.nics.items == []


def test_contract_limits(client):
    """securityGroupsPerVdc (100), rulesPerSecurityGroup (100), securityGroupsPerResource (10)."""
    limits = ionoscloud.ContractResourcesApi(client).contracts_get().items[0].properties.resource_limits
    assert (limits.security_groups_per_vdc, limits.rules_per_security_group, limits.security_groups_per_resource) == (
        100,
        100,
        10,
    )
    dc = new_dc(client)
    api = ionoscloud.SecurityGroupsApi(client)
    full = new_group(
        client, dc.id, "full", rules=[rule(f"r{i}", port_range_start=i + 1, port_range_end=i + 1) for i in range(100)]
    )
    assert status_of(api.datacenters_securitygroups_firewallrules_post, dc.id, full.id, rule("one-more")) == 422
    assert len(api.datacenters_securitygroups_rules_get(dc.id, full.id).items) == 100
    assert status_of(new_group, client, dc.id, "too-many-rules", rules=[rule(f"r{i}") for i in range(101)]) == 422

    groups = [full] + [new_group(client, dc.id, f"g{i}", wait_done=False) for i in range(99)]
    assert status_of(new_group, client, dc.id, "g100") == 422
    assert len(api.datacenters_securitygroups_get(dc.id).items) == 100

    server = new_server(client, dc.id)
    ids = [g.id for g in groups[:11]]
    assert status_of(api.datacenters_servers_securitygroups_put, dc.id, server.id, ionoscloud.ListOfIds(ids=ids)) == 422
    assert (
        status_of(
            api.datacenters_servers_nics_securitygroups_put,
            dc.id,
            server.id,
            server.entities.nics.items[0].id,
            ionoscloud.ListOfIds(ids=ids),
        )
        == 422
    )
    _, _, h = api.datacenters_servers_securitygroups_put_with_http_info(
        dc.id, server.id, ionoscloud.ListOfIds(ids=ids[:10])
    )
    wait(client, h)
    got = ionoscloud.ServersApi(client).datacenters_servers_find_by_id(dc.id, server.id, depth=1)
    assert len(got.entities.securitygroups.items) == 10


def test_default_security_group(client):
    dcs, api = ionoscloud.DataCentersApi(client), ionoscloud.SecurityGroupsApi(client)
    dc = new_dc(client, create_default_security_group=True)
    default_id = dc.properties.default_security_group_id
    assert default_id
    got = dcs.datacenters_find_by_id(dc.id)
    assert got.properties.default_security_group_id == default_id
    default = api.datacenters_securitygroups_find_by_id(dc.id, default_id, depth=2)
    assert default.metadata.state == "AVAILABLE"
    directions = sorted((r.properties.type, r.properties.ip_version) for r in default.entities.rules.items)
    # every data center has its IPv6 /56 (issue 9, rule 4), so ingress from it is allowed as well
    assert directions == [("EGRESS", "IPv4"), ("EGRESS", "IPv6"), ("INGRESS", "IPv4"), ("INGRESS", "IPv6")]
    # every new server joins the default group
    server = new_server(client, dc.id, nics=0)
    assert [g.id for g in server.entities.securitygroups.items] == [default_id]

    # another group becomes the default by id; both ways at once, or an unknown group, is 422
    custom = new_group(client, dc.id, "custom")
    for bad in (
        ionoscloud.DatacenterPropertiesPut(default_security_group_id=custom.id, create_default_security_group=True),
        ionoscloud.DatacenterPropertiesPut(default_security_group_id=str(uuid.uuid4())),
    ):
        assert status_of(dcs.datacenters_patch, dc.id, bad) == 422
    assert dcs.datacenters_find_by_id(dc.id).properties.default_security_group_id == default_id
    _, _, h = dcs.datacenters_patch_with_http_info(
        dc.id, ionoscloud.DatacenterPropertiesPut(default_security_group_id=custom.id)
    )
    wait(client, h)
    assert dcs.datacenters_find_by_id(dc.id).properties.default_security_group_id == custom.id
    # a PUT that does not mention the default keeps it
    _, _, h = dcs.datacenters_put_with_http_info(
        dc.id, ionoscloud.DatacenterPut(properties=ionoscloud.DatacenterPropertiesPut(name="renamed"))
    )
    wait(client, h)
    got = dcs.datacenters_find_by_id(dc.id)
    assert got.properties.name == "renamed" and got.properties.default_security_group_id == custom.id
    # deleting the default group leaves the data center without a default
    _, _, h = api.datacenters_securitygroups_delete_with_http_info(dc.id, custom.id)
    wait(client, h)
    assert dcs.datacenters_find_by_id(dc.id).properties.default_security_group_id is None
    # a data center made without one has none until asked
    plain = new_dc(client, "plain")
    assert dcs.datacenters_find_by_id(plain.id).properties.default_security_group_id is None
    _, _, h = dcs.datacenters_patch_with_http_info(
        plain.id, ionoscloud.DatacenterPropertiesPut(create_default_security_group=True)
    )
    wait(client, h)
    made = dcs.datacenters_find_by_id(plain.id).properties.default_security_group_id
    # 4 default rules: the data center's IPv6 /56 adds the IPv6 ingress one (issue 9, rule 4)
    assert made and len(api.datacenters_securitygroups_rules_get(plain.id, made).items) == 4


def test_creating_groups_needs_the_privilege(emulator, client):
    um = ionoscloud.UserManagementApi(client)
    email = f"nsg-{uuid.uuid4().hex[:8]}@example.com"
    user, _, h = um.um_users_post_with_http_info(
        ionoscloud.UserPost(
            properties=ionoscloud.UserPropertiesPost(
                firstname="N", lastname="S", email=email, password="secret123", administrator=False
            )
        )
    )
    wait(client, h)
    group, _, h = um.um_groups_post_with_http_info(
        ionoscloud.Group(properties=ionoscloud.GroupProperties(name=f"dc-makers-{email}", create_data_center=True))
    )
    wait(client, h)
    _, _, h = um.um_groups_users_post_with_http_info(group.id, ionoscloud.User(id=user.id))
    wait(client, h)
    with sdk_client(emulator, user=email, password="secret123") as as_user:
        dc = new_dc(as_user, "mine")
        assert status_of(new_group, as_user, dc.id, "nope") == 403
        assert ionoscloud.SecurityGroupsApi(as_user).datacenters_securitygroups_get(dc.id).items == []
        _, _, h = um.um_groups_put_with_http_info(
            group.id,
            ionoscloud.Group(
                properties=ionoscloud.GroupProperties(
                    name=f"dc-makers-{email}", create_data_center=True, create_network_security_groups=True
                )
            ),
        )
        wait(client, h)
        assert new_group(as_user, dc.id, "yes").properties.name == "yes"
