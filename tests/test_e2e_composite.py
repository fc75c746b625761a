"""End-to-end: composite creation (everything a POST carries inline in `entities` is created with it) and the
fields the real cloud derives (a Cube's direct-attached volume from its template, IPv6 blocks of data
centers, LANs and NICs), through the unmodified `ionoscloud` SDK against the strict emulator."""

from __future__ import annotations

import ipaddress

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from support import wait


def done(client, result):
    body, status, headers = result
    assert status == 202
    wait(client, headers)
    return body


def new_dc(client, entities=None, name="composite"):
    return done(
        client,
        ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
            datacenter=ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name=name, location="de/fra"), entities=entities
            )
        ),
    )


def flow_log(name="fl", bucket="logs-bucket/x"):
    return ionoscloud.FlowLog(
        properties=ionoscloud.FlowLogProperties(name=name, action="ALL", direction="BIDIRECTIONAL", bucket=bucket)
    )


def rule(name, port):
    return ionoscloud.FirewallRule(
        properties=ionoscloud.FirewallruleProperties(
            name=name, protocol="TCP", port_range_start=port, port_range_end=port
        )
    )


def nic(name, lan, rules=(), flowlogs=(), **props):
    return ionoscloud.Nic(
        properties=ionoscloud.NicProperties(name=name, lan=lan, firewall_active=bool(rules), **props),
        entities=ionoscloud.NicEntities(
            firewallrules=ionoscloud.FirewallRules(items=list(rules)) if rules else None,
            flowlogs=ionoscloud.FlowLogs(items=list(flowlogs)) if flowlogs else None,
        ),
    )


def server_with_nics(client, dc_id, name, nics):
    """A server created with `nics` inline, once its request is done."""
    servers = ionoscloud.ServersApi(client)
    body = ionoscloud.Server(
        properties=ionoscloud.ServerProperties(name=name, cores=1, ram=1024),
        entities=ionoscloud.ServerEntities(nics=ionoscloud.Nics(items=list(nics))),
    )
    return done(client, servers.datacenters_servers_post_with_http_info(dc_id, body))


def lan(name, **props):
    return ionoscloud.Lan(properties=ionoscloud.LanProperties(name=name, **props))


def test_server_with_inline_nics_firewall_rules_and_flow_logs(client):
    dc = new_dc(client)
    front = nic("front", 1, rules=[rule("ssh", 22), rule("https", 443)], flowlogs=[flow_log()])
    s = server_with_nics(client, dc.id, "web", [front, nic("back", 2)])
    servers = ionoscloud.ServersApi(client)
    got = servers.datacenters_servers_find_by_id(dc.id, s.id, depth=4)
    assert got.metadata.state == "AVAILABLE"
    nics = {n.properties.name: n for n in got.entities.nics.items}
    assert set(nics) == {"front", "back"} and nics["back"].properties.lan == 2
    front = nics["front"]
    rules = ionoscloud.FirewallRulesApi(client).datacenters_servers_nics_firewallrules_get(
        dc.id, s.id, front.id, depth=1
    )
    assert sorted((r.properties.name, r.properties.port_range_start) for r in rules.items) == [
        ("https", 443),
        ("ssh", 22),
    ]
    assert all(r.metadata.state == "AVAILABLE" for r in rules.items)
    logs = ionoscloud.FlowLogsApi(client).datacenters_servers_nics_flowlogs_get(dc.id, s.id, front.id, depth=1)
    assert [f.properties.bucket for f in logs.items] == ["logs-bucket/x"]
    # the server answers with what it created, at the requested depth
    assert {r.properties.name for r in front.entities.firewallrules.items} == {"ssh", "https"}


def test_inline_entity_that_is_invalid_rolls_back_the_whole_create(client):
    dc = new_dc(client)
    bad = ionoscloud.Server(
        properties=ionoscloud.ServerProperties(name="bad", cores=1, ram=1024),
        entities=ionoscloud.ServerEntities(
            nics=ionoscloud.Nics(items=[nic("n", 1, flowlogs=[flow_log(bucket="-not-a-bucket")])])
        ),
    )
    servers = ionoscloud.ServersApi(client)
    with pytest.raises(ApiException) as e:
        servers.datacenters_servers_post(dc.id, bad)
    assert e.value.status == 422 and "bucket" in e.value.body
    assert servers.datacenters_servers_get(dc.id).items == []


def test_datacenter_with_inline_lans_servers_volumes_and_balancers(client):
    entities = ionoscloud.DataCenterEntities(
        lans=ionoscloud.Lans(items=[lan("public", public=True), lan("private")]),
        servers=ionoscloud.Servers(
            items=[
                ionoscloud.Server(
                    properties=ionoscloud.ServerProperties(name="app", cores=1, ram=1024),
                    entities=ionoscloud.ServerEntities(nics=ionoscloud.Nics(items=[nic("app-nic", 2)])),
                )
            ]
        ),
        volumes=ionoscloud.Volumes(
            items=[
                ionoscloud.Volume(properties=ionoscloud.VolumeProperties(name="data", size=10, licence_type="OTHER"))
            ]
        ),
        networkloadbalancers=ionoscloud.NetworkLoadBalancers(
            items=[
                ionoscloud.NetworkLoadBalancer(
                    properties=ionoscloud.NetworkLoadBalancerProperties(name="nlb", listener_lan=2, target_lan=3),
                )
            ]
        ),
    )
    # the second private LAN is the balancer's target
    entities.lans.items.append(lan("targets"))
    dc = new_dc(client, entities)
    got = ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id, depth=5)
    assert got.metadata.state == "AVAILABLE"
    lans = {x.id: x.properties for x in got.entities.lans.items}
    assert {i: (p.name, p.public) for i, p in lans.items()} == {
        "1": ("public", True),
        "2": ("private", False),
        "3": ("targets", False),
    }
    (server,) = got.entities.servers.items
    assert server.properties.name == "app"
    (app_nic,) = server.entities.nics.items
    assert app_nic.properties.lan == 2  # on the inline LAN, not a LAN created implicitly
    assert [v.properties.name for v in got.entities.volumes.items] == ["data"]
    (lb,) = got.entities.networkloadbalancers.items
    assert lb.properties.listener_lan == 2 and lb.properties.target_lan == 3
    assert all(x.metadata.state == "AVAILABLE" for x in [server, app_nic, lb, *got.entities.volumes.items])


def test_network_and_application_load_balancers_with_inline_rules_and_flow_logs(client):
    dc = new_dc(client, ionoscloud.DataCenterEntities(lans=ionoscloud.Lans(items=[lan("l"), lan("t")])))
    nlbs = ionoscloud.NetworkLoadBalancersApi(client)
    listener_ip = "10.7.222.10"
    target = ionoscloud.NetworkLoadBalancerForwardingRuleTarget(ip="10.9.9.10", port=8080, weight=1)
    body = ionoscloud.NetworkLoadBalancer(
        properties=ionoscloud.NetworkLoadBalancerProperties(name="nlb", listener_lan=1, target_lan=2),
        entities=ionoscloud.NetworkLoadBalancerEntities(
            flowlogs=ionoscloud.FlowLogs(items=[flow_log()]),
            forwardingrules=ionoscloud.NetworkLoadBalancerForwardingRules(
                items=[
                    ionoscloud.NetworkLoadBalancerForwardingRule(
                        properties=ionoscloud.NetworkLoadBalancerForwardingRuleProperties(
                            name="fr", algorithm="ROUND_ROBIN", protocol="TCP", listener_port=80, targets=[target]
                        )
                    )
                ]
            ),
        ),
    )
    # a forwarding rule listens on one of the balancer's own addresses: the client chooses it
    body.properties.ips = [listener_ip]
    body.entities.forwardingrules.items[0].properties.listener_ip = listener_ip
    nlb = done(client, nlbs.datacenters_networkloadbalancers_post_with_http_info(dc.id, body))
    got = nlbs.datacenters_networkloadbalancers_find_by_network_load_balancer_id(dc.id, nlb.id, depth=2)
    assert [r.properties.listener_ip for r in got.entities.forwardingrules.items] == [listener_ip]
    assert [f.properties.name for f in got.entities.flowlogs.items] == ["fl"]

    albs = ionoscloud.ApplicationLoadBalancersApi(client)
    alb_body = ionoscloud.ApplicationLoadBalancer(
        properties=ionoscloud.ApplicationLoadBalancerProperties(
            name="alb", listener_lan=1, target_lan=2, ips=[str(ipaddress.IPv4Address(listener_ip) + 1)]
        ),
        entities=ionoscloud.ApplicationLoadBalancerEntities(
            forwardingrules=ionoscloud.ApplicationLoadBalancerForwardingRules(
                items=[
                    ionoscloud.ApplicationLoadBalancerForwardingRule(
                        properties=ionoscloud.ApplicationLoadBalancerForwardingRuleProperties(
                            name="web",
                            protocol="HTTP",
                            listener_ip=str(ipaddress.IPv4Address(listener_ip) + 1),
                            listener_port=80,
                        )
                    )
                ]
            )
        ),
    )
    alb = done(client, albs.datacenters_applicationloadbalancers_post_with_http_info(dc.id, alb_body))
    got = albs.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, alb.id, depth=2)
    assert [r.properties.name for r in got.entities.forwardingrules.items] == ["web"]


def test_legacy_load_balancer_balances_inline_nics(client):
    dc = new_dc(client)
    s = server_with_nics(client, dc.id, "s", [nic("n", 1)])
    (n,) = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_get(dc.id, s.id).items
    lbs = ionoscloud.LoadBalancersApi(client)
    lb = done(
        client,
        lbs.datacenters_loadbalancers_post_with_http_info(
            dc.id,
            ionoscloud.Loadbalancer(
                properties=ionoscloud.LoadbalancerProperties(name="lb"),
                entities=ionoscloud.LoadbalancerEntities(
                    balancednics=ionoscloud.BalancedNics(items=[ionoscloud.Nic(id=n.id)])
                ),
            ),
        ),
    )
    got = lbs.datacenters_loadbalancers_balancednics_get(dc.id, lb.id)
    assert [x.id for x in got.items] == [n.id]


def test_cube_server_volume_takes_size_and_type_from_its_template(client):
    dc = new_dc(client)
    tpl = next(
        t for t in ionoscloud.TemplatesApi(client).templates_get(depth=1).items if t.properties.name == "Basic Cube S"
    )
    servers = ionoscloud.ServersApi(client)
    s = done(
        client,
        servers.datacenters_servers_post_with_http_info(
            dc.id,
            ionoscloud.Server(
                properties=ionoscloud.ServerProperties(name="cube", type="CUBE", template_uuid=tpl.id),
                entities=ionoscloud.ServerEntities(
                    volumes=ionoscloud.AttachedVolumes(
                        items=[
                            ionoscloud.Volume(
                                properties=ionoscloud.VolumeProperties(
                                    name="das", image_alias="ubuntu:latest", image_password="Secret123"
                                )
                            )
                        ]
                    )
                ),
            ),
        ),
    )
    got = servers.datacenters_servers_find_by_id(dc.id, s.id, depth=2)
    (vol,) = got.entities.volumes.items
    assert vol.properties.type == "DAS" and vol.properties.size == tpl.properties.storage_size


def test_ipv6_blocks_of_datacenter_lan_and_nic(client):
    dc = new_dc(client)
    dc_block = ipaddress.IPv6Network(dc.properties.ipv6_cidr_block)
    assert dc_block.prefixlen == 56 and dc_block.subnet_of(ipaddress.IPv6Network("2001:db8::/32"))
    other = ipaddress.IPv6Network(new_dc(client, name="other").properties.ipv6_cidr_block)
    assert other != dc_block
    lans = ionoscloud.LANsApi(client)
    auto = done(client, lans.datacenters_lans_post_with_http_info(dc.id, lan("v6", ipv6_cidr_block="AUTO")))
    lan_block = ipaddress.IPv6Network(lans.datacenters_lans_find_by_id(dc.id, auto.id).properties.ipv6_cidr_block)
    assert lan_block.prefixlen == 64 and lan_block.subnet_of(dc_block)
    second = done(client, lans.datacenters_lans_post_with_http_info(dc.id, lan("v6b", ipv6_cidr_block="AUTO")))
    assert lans.datacenters_lans_find_by_id(dc.id, second.id).properties.ipv6_cidr_block != str(lan_block)
    # a chosen block must be a /64 of the data center's
    with pytest.raises(ApiException) as e:
        lans.datacenters_lans_post(dc.id, lan("outside", ipv6_cidr_block="2001:db9::/64"))
    assert e.value.status == 422 and "ipv6CidrBlock" in e.value.body
    s = server_with_nics(client, dc.id, "v6", [nic("n", int(auto.id))])
    (n,) = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_get(dc.id, s.id, depth=1).items
    nic_block = ipaddress.IPv6Network(n.properties.ipv6_cidr_block)
    assert nic_block.prefixlen == 80 and nic_block.subnet_of(lan_block)
    (address,) = n.properties.ipv6_ips
    assert ipaddress.IPv6Address(address) in nic_block
    # a LAN without IPv6 turned on later: its NICs get their blocks and addresses then
    plain = done(client, lans.datacenters_lans_post_with_http_info(dc.id, lan("plain")))
    nics = ionoscloud.NetworkInterfacesApi(client)
    later = done(
        client,
        nics.datacenters_servers_nics_post_with_http_info(
            dc.id, s.id, ionoscloud.Nic(properties=ionoscloud.NicProperties(lan=int(plain.id)))
        ),
    )
    assert nics.datacenters_servers_nics_find_by_id(dc.id, s.id, later.id).properties.ipv6_ips in (None, [])
    done(
        client,
        lans.datacenters_lans_patch_with_http_info(dc.id, plain.id, ionoscloud.LanProperties(ipv6_cidr_block="AUTO")),
    )
    moved = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, later.id).properties
    plain_block = ipaddress.IPv6Network(lans.datacenters_lans_find_by_id(dc.id, plain.id).properties.ipv6_cidr_block)
    assert ipaddress.IPv6Network(moved.ipv6_cidr_block).subnet_of(plain_block) and moved.ipv6_ips


def test_inline_references_join_and_what_cannot_be_created_inline_is_refused(client, emulator):
    dc = new_dc(client)
    groups = ionoscloud.SecurityGroupsApi(client)
    group = done(
        client,
        groups.datacenters_securitygroups_post_with_http_info(
            dc.id, ionoscloud.SecurityGroupRequest(properties=ionoscloud.SecurityGroupProperties(name="web"))
        ),
    )
    ref = ionoscloud.SecurityGroups(items=[ionoscloud.SecurityGroup(id=group.id)])
    tagged = nic("n", 1)
    tagged.entities.securitygroups = ref
    s = server_with_nics(client, dc.id, "grouped", [tagged])
    n = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_get(dc.id, s.id, depth=2).items[0]
    assert [g.id for g in n.entities.securitygroups.items] == [group.id]
    # a server's GPUs come from its template: sent inline they are a 422 in the Cloud API's envelope
    h = emulator.http()
    r = h.post(
        f"{emulator.cloud}/datacenters/{dc.id}/servers",
        json={
            "properties": {"name": "x", "cores": 1, "ram": 1024},
            "entities": {"gpus": {"items": [{"properties": {}}]}},
        },
    )
    assert r.status_code == 422, r.text
    assert "entities.gpus.items" in r.json()["messages"][0]["message"]
    assert [x.id for x in ionoscloud.ServersApi(client).datacenters_servers_get(dc.id).items] == [s.id]
