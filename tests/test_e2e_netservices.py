"""End-to-end: NAT gateways and rules, network and application load balancers with forwarding rules, target
groups, legacy load balancers with balanced NICs, and flow logs, through the unmodified `ionoscloud` SDK
against a strict emulator."""

from __future__ import annotations

import ipaddress
import uuid

import httpx
import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import OWNER, wait

# -- helpers ----------------------------------------------------------------------------------------


def new_dc(client, name="ns"):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location="de/fra")
        )
    )
    wait(client, h)
    return dc


def new_lan(client, dc_id, public=False):
    lan, _, h = ionoscloud.LANsApi(client).datacenters_lans_post_with_http_info(
        dc_id, ionoscloud.Lan(properties=ionoscloud.LanProperties(name="pub" if public else "priv", public=public))
    )
    wait(client, h)
    return ionoscloud.LANsApi(client).datacenters_lans_find_by_id(dc_id, lan.id)


def new_nic(client, dc_id, lan=1):
    servers = ionoscloud.ServersApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(
        dc_id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="srv", cores=1, ram=1024))
    )
    wait(client, h)
    nic, _, h = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_post_with_http_info(
        dc_id, s.id, ionoscloud.Nic(properties=ionoscloud.NicProperties(name="n", lan=lan))
    )
    wait(client, h)
    return s, nic


@pytest.fixture
def reserve(client):
    """Reserves IP blocks in de/fra and releases them after the test (the contract's IP budget is shared)."""
    blocks = []

    def make(size):
        b, _, h = ionoscloud.IPBlocksApi(client).ipblocks_post_with_http_info(
            ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=size, name="ns"))
        )
        wait(client, h)
        blocks.append(b.id)
        return b.properties.ips

    yield make
    # a block still used by a gateway or balancer cannot be released: the test's data centers go first
    dcs = ionoscloud.DataCentersApi(client)
    for dc in dcs.datacenters_get(depth=1).items:
        if dc.properties.name == "ns":
            _, _, h = dcs.datacenters_delete_with_http_info(dc.id)
            wait(client, h)
    for bid in blocks:
        ionoscloud.IPBlocksApi(client).ipblocks_delete(bid)


def refused(call, *args, status=422, **kw):
    with pytest.raises(ApiException) as e:
        call(*args, **kw)
    assert e.value.status == status, e.value.body
    return e.value


def done(client, result):
    """Waits for a `*_with_http_info` result and returns its body."""
    body, status, headers = result
    assert status == 202
    wait(client, headers)
    return body


def in_cidr(address: str, cidr: str) -> bool:
    return ipaddress.IPv4Interface(address).ip in ipaddress.IPv4Network(cidr)


def flow_log(name="fl", action="ALL", direction="BIDIRECTIONAL", bucket="logs-bucket/nat"):
    return ionoscloud.FlowLog(
        properties=ionoscloud.FlowLogProperties(name=name, action=action, direction=direction, bucket=bucket)
    )


# -- NAT gateways -----------------------------------------------------------------------------------


def nat_gateway(ips, lans=(), name="nat"):
    return ionoscloud.NatGateway(
        properties=ionoscloud.NatGatewayProperties(
            name=name, public_ips=list(ips), lans=[ionoscloud.NatGatewayLanProperties(id=int(i)) for i in lans]
        )
    )


def nat_rule(public_ip, protocol="TCP", ports=(1000, 2000), name="r", subnet="10.0.1.0/24"):
    return ionoscloud.NatGatewayRule(
        properties=ionoscloud.NatGatewayRuleProperties(
            name=name,
            protocol=protocol,
            public_ip=public_ip,
            source_subnet=subnet,
            target_port_range=ionoscloud.TargetPortRange(start=ports[0], end=ports[1]) if ports else None,
        )
    )


def test_nat_gateway_rules_and_flow_log_lifecycle(client, reserve):
    dc = new_dc(client)
    lan = new_lan(client, dc.id)
    ip0, ip1 = reserve(2)
    nat = ionoscloud.NATGatewaysApi(client)
    gw, status, h = nat.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ip0], [lan.id]))
    assert status == 202 and gw.metadata.state == "BUSY" and gw.type == "natgateway"
    wait(client, h)
    got = nat.datacenters_natgateways_find_by_nat_gateway_id(dc.id, gw.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.public_ips == [ip0]
    # the gateway address in the LAN was generated in the LAN's subnet, with its mask
    (entry,) = got.properties.lans
    assert entry.id == int(lan.id) and len(entry.gateway_ips) == 1
    assert entry.gateway_ips[0].endswith("/24") and in_cidr(entry.gateway_ips[0], lan.properties.ipv4_cidr_block)

    rule = done(client, nat.datacenters_natgateways_rules_post_with_http_info(dc.id, gw.id, nat_rule(ip0)))
    assert rule.type == "natgateway-rule" and rule.metadata.state == "BUSY"
    rule = nat.datacenters_natgateways_rules_find_by_nat_gateway_rule_id(dc.id, gw.id, rule.id)
    assert rule.metadata.state == "AVAILABLE" and rule.properties.type == "SNAT"
    assert (rule.properties.target_port_range.start, rule.properties.target_port_range.end) == (1000, 2000)
    # rule rules: ports only for TCP/UDP, the public IP must be one of the gateway's, enums are checked
    refused(nat.datacenters_natgateways_rules_post, dc.id, gw.id, nat_rule(ip0, protocol="ICMP"))
    refused(nat.datacenters_natgateways_rules_post, dc.id, gw.id, nat_rule(ip1))
    refused(nat.datacenters_natgateways_rules_post, dc.id, gw.id, nat_rule(ip0, ports=(2000, 1000)))
    refused(nat.datacenters_natgateways_rules_post, dc.id, gw.id, nat_rule(ip0, protocol="SCTP", ports=None))
    refused(nat.datacenters_natgateways_rules_post, dc.id, gw.id, nat_rule(ip0, subnet="10.0.1.0/99"))
    assert [r.id for r in nat.datacenters_natgateways_rules_get(dc.id, gw.id).items] == [rule.id]

    # flow logs: a valid bucket name, one per gateway
    refused(nat.datacenters_natgateways_flowlogs_post, dc.id, gw.id, flow_log(bucket="No_Such/Bucket"))
    fl = done(client, nat.datacenters_natgateways_flowlogs_post_with_http_info(dc.id, gw.id, flow_log()))
    assert fl.type == "flow-log"
    refused(nat.datacenters_natgateways_flowlogs_post, dc.id, gw.id, flow_log(name="second"))

    deep = nat.datacenters_natgateways_find_by_nat_gateway_id(dc.id, gw.id, depth=2)
    assert [r.properties.public_ip for r in deep.entities.rules.items] == [ip0]
    assert [f.properties.bucket for f in deep.entities.flowlogs.items] == ["logs-bucket/nat"]
    shallow = nat.datacenters_natgateways_find_by_nat_gateway_id(dc.id, gw.id)
    assert shallow.entities.rules.items is None and shallow.entities.rules.href.endswith(f"{gw.id}/rules")
    listed = nat.datacenters_natgateways_get(dc.id, depth=1)
    assert [g.id for g in listed.items] == [gw.id] and listed.offset == 0
    dc_deep = ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id, depth=2)
    assert [g.id for g in dc_deep.entities.natgateways.items] == [gw.id]

    # the rule's address cannot leave the gateway; adding one is fine
    refused(nat.datacenters_natgateways_patch, dc.id, gw.id, ionoscloud.NatGatewayProperties(public_ips=[ip1]))
    done(
        client,
        nat.datacenters_natgateways_patch_with_http_info(
            dc.id, gw.id, ionoscloud.NatGatewayProperties(name="renamed", public_ips=[ip0, ip1])
        ),
    )
    got = nat.datacenters_natgateways_find_by_nat_gateway_id(dc.id, gw.id)
    assert got.properties.name == "renamed" and got.properties.public_ips == [ip0, ip1]
    assert got.properties.lans[0].gateway_ips == entry.gateway_ips  # kept across the change

    done(
        client,
        nat.datacenters_natgateways_rules_put_with_http_info(
            dc.id,
            gw.id,
            rule.id,
            ionoscloud.NatGatewayRulePut(
                properties=ionoscloud.NatGatewayRuleProperties(name="all", public_ip=ip1, source_subnet="10.0.2.0/24")
            ),
        ),
    )
    put = nat.datacenters_natgateways_rules_find_by_nat_gateway_rule_id(dc.id, gw.id, rule.id)
    # a PUT keeps what it leaves out, as the real API (issue 9, rule 3; it used to replace the whole rule)
    assert (put.properties.name, put.properties.protocol, put.properties.public_ip) == ("all", "TCP", ip1)
    assert put.properties.target_port_range is not None
    done(
        client,
        nat.datacenters_natgateways_rules_patch_with_http_info(
            dc.id, gw.id, rule.id, ionoscloud.NatGatewayRuleProperties(target_subnet="192.0.2.0/24")
        ),
    )
    patched = nat.datacenters_natgateways_rules_find_by_nat_gateway_rule_id(dc.id, gw.id, rule.id)
    assert patched.properties.target_subnet == "192.0.2.0/24" and patched.properties.name == "all"
    done(
        client,
        nat.datacenters_natgateways_flowlogs_patch_with_http_info(
            dc.id, gw.id, fl.id, ionoscloud.FlowLogProperties(action="REJECTED")
        ),
    )
    assert nat.datacenters_natgateways_flowlogs_find_by_flow_log_id(dc.id, gw.id, fl.id).properties.action == "REJECTED"

    done(client, nat.datacenters_natgateways_rules_delete_with_http_info(dc.id, gw.id, rule.id))
    refused(nat.datacenters_natgateways_rules_find_by_nat_gateway_rule_id, dc.id, gw.id, rule.id, status=404)
    done(client, nat.datacenters_natgateways_delete_with_http_info(dc.id, gw.id))
    refused(nat.datacenters_natgateways_find_by_nat_gateway_id, dc.id, gw.id, status=404)
    refused(nat.datacenters_natgateways_flowlogs_find_by_flow_log_id, dc.id, gw.id, fl.id, status=404)


def test_nat_gateway_addresses_and_lans_are_checked(client, reserve):
    dc = new_dc(client)
    private, public = new_lan(client, dc.id), new_lan(client, dc.id, public=True)
    ip0, ip1 = reserve(2)
    nat = ionoscloud.NATGatewaysApi(client)
    done(client, nat.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ip0], [private.id])))
    for body in (
        nat_gateway(["203.0.113.5"]),  # not reserved by the contract
        nat_gateway([]),  # at least one public IP
        nat_gateway([ip0]),  # already the first gateway's
        nat_gateway([ip1, ip1]),  # listed twice
        nat_gateway([ip1], [99]),  # no such LAN
        nat_gateway([ip1], [public.id]),  # a gateway serves private LANs
        nat_gateway([ip1], [private.id, private.id]),
    ):
        refused(nat.datacenters_natgateways_post, dc.id, body)
    more = [new_lan(client, dc.id).id for _ in range(6)]
    refused(nat.datacenters_natgateways_post, dc.id, nat_gateway([ip1], [private.id, *more]))  # at most six LANs
    assert len(nat.datacenters_natgateways_get(dc.id).items) == 1
    # a second gateway sharing the first one's LAN gets its own address there
    second = done(
        client, nat.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ip1], [private.id, *more[:5]]))
    )
    gws = nat.datacenters_natgateways_get(dc.id, depth=1).items
    assert second.id in [g.id for g in gws] and len(gws) == 2
    addresses = [ip for g in gws for lan in g.properties.lans for ip in lan.gateway_ips]
    assert len(addresses) == 7 and len(set(addresses)) == 7


def test_privileges_for_nat_gateways_and_flow_logs(client, emulator, reserve):
    um = ionoscloud.UserManagementApi(client)
    email, pw = f"ns-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    user = done(
        client,
        um.um_users_post_with_http_info(
            ionoscloud.UserPost(
                properties=ionoscloud.UserPropertiesPost(
                    firstname="N", lastname="S", email=email, password=pw, administrator=False
                )
            )
        ),
    )
    group = done(
        client,
        um.um_groups_post_with_http_info(
            ionoscloud.Group(
                properties=ionoscloud.GroupProperties(name=f"ns-{uuid.uuid4().hex[:6]}", create_data_center=True)
            )
        ),
    )
    done(client, um.um_groups_users_post_with_http_info(group.id, ionoscloud.UserGroupPost(id=user.id)))
    (ip,) = reserve(1)
    with sdk_client(emulator, user=email, password=pw) as c:
        dc = new_dc(c)
        lan = new_lan(c, dc.id)
        _, nic = new_nic(c, dc.id, lan=int(lan.id))
        e = refused(ionoscloud.NATGatewaysApi(c).datacenters_natgateways_post, dc.id, nat_gateway([ip]), status=403)
        assert "createInternetAccess" in e.body
        srv = ionoscloud.ServersApi(c).datacenters_servers_get(dc.id).items[0]
        refused(
            ionoscloud.FlowLogsApi(c).datacenters_servers_nics_flowlogs_post,
            dc.id,
            srv.id,
            nic.id,
            flow_log(),
            status=403,
        )
        done(
            client,
            um.um_groups_put_with_http_info(
                group.id,
                ionoscloud.Group(
                    properties=ionoscloud.GroupProperties(
                        name=group.properties.name,
                        create_data_center=True,
                        create_internet_access=True,
                        create_flow_log=True,
                    )
                ),
            ),
        )
        done(c, ionoscloud.NATGatewaysApi(c).datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ip])))
        done(
            c,
            ionoscloud.FlowLogsApi(c).datacenters_servers_nics_flowlogs_post_with_http_info(
                dc.id, srv.id, nic.id, flow_log()
            ),
        )


# -- network load balancers -------------------------------------------------------------------------


def nlb(listener, target, ips=None, private_ips=None, name="nlb"):
    return ionoscloud.NetworkLoadBalancer(
        properties=ionoscloud.NetworkLoadBalancerProperties(
            name=name, listener_lan=int(listener), target_lan=int(target), ips=ips, lb_private_ips=private_ips
        )
    )


def nlb_rule(ip, port=80, targets=(("10.9.9.10", 8080, 1),), algorithm="ROUND_ROBIN", name="fr"):
    return ionoscloud.NetworkLoadBalancerForwardingRule(
        properties=ionoscloud.NetworkLoadBalancerForwardingRuleProperties(
            name=name,
            algorithm=algorithm,
            protocol="TCP",
            listener_ip=ip,
            listener_port=port,
            targets=[ionoscloud.NetworkLoadBalancerForwardingRuleTarget(ip=t, port=p, weight=w) for t, p, w in targets],
        )
    )


def test_network_load_balancer_forwarding_rules_and_flow_log(client, reserve):
    dc = new_dc(client)
    listener, target = new_lan(client, dc.id, public=True), new_lan(client, dc.id)
    ip0, ip1 = reserve(2)
    api = ionoscloud.NetworkLoadBalancersApi(client)
    lb, status, h = api.datacenters_networkloadbalancers_post_with_http_info(dc.id, nlb(listener.id, target.id, [ip0]))
    assert status == 202 and lb.metadata.state == "BUSY" and lb.type == "networkloadbalancer"
    wait(client, h)
    got = api.datacenters_networkloadbalancers_find_by_network_load_balancer_id(dc.id, lb.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.ips == [ip0]
    assert got.properties.central_logging is False
    (private,) = got.properties.lb_private_ips  # generated in the target LAN, with its mask
    assert private.endswith("/24") and in_cidr(private, target.properties.ipv4_cidr_block)

    rule = done(
        client, api.datacenters_networkloadbalancers_forwardingrules_post_with_http_info(dc.id, lb.id, nlb_rule(ip0))
    )
    assert rule.type == "forwarding-rule"
    rule = api.datacenters_networkloadbalancers_forwardingrules_find_by_forwarding_rule_id(dc.id, lb.id, rule.id)
    assert rule.metadata.state == "AVAILABLE" and rule.properties.health_check.retries == 3
    (t,) = rule.properties.targets
    assert (t.ip, t.port, t.weight, t.proxy_protocol, t.health_check.check_interval) == (
        "10.9.9.10",
        8080,
        1,
        "none",
        2000,
    )
    for bad in (
        nlb_rule(ip0),  # the same listener IP and port again
        nlb_rule(ip1, port=81),  # not an IP of the balancer
        nlb_rule(ip0, port=0),  # port out of range
        nlb_rule(ip0, port=82, targets=(("10.9.9.10", 80, 300),)),  # weight above 256
        nlb_rule(ip0, port=83, targets=(("10.9.9.10", 80, 1), ("10.9.9.10", 80, 2))),
        nlb_rule(ip0, port=84, algorithm="FASTEST"),
    ):  # not in the enum
        refused(api.datacenters_networkloadbalancers_forwardingrules_post, dc.id, lb.id, bad)
    assert len(api.datacenters_networkloadbalancers_forwardingrules_get(dc.id, lb.id).items) == 1

    done(client, api.datacenters_networkloadbalancers_flowlogs_post_with_http_info(dc.id, lb.id, flow_log()))
    deep = api.datacenters_networkloadbalancers_find_by_network_load_balancer_id(dc.id, lb.id, depth=2)
    assert [r.properties.listener_port for r in deep.entities.forwardingrules.items] == [80]
    assert [f.properties.direction for f in deep.entities.flowlogs.items] == ["BIDIRECTIONAL"]
    assert [
        x.id
        for x in ionoscloud.DataCentersApi(client)
        .datacenters_find_by_id(dc.id, depth=2)
        .entities.networkloadbalancers.items
    ] == [lb.id]

    # the rule's listener IP cannot be taken away; PATCH of other fields keeps it
    refused(
        api.datacenters_networkloadbalancers_patch, dc.id, lb.id, ionoscloud.NetworkLoadBalancerProperties(ips=[ip1])
    )
    done(
        client,
        api.datacenters_networkloadbalancers_patch_with_http_info(
            dc.id, lb.id, ionoscloud.NetworkLoadBalancerProperties(name="renamed", ips=[ip0, ip1], central_logging=True)
        ),
    )
    got = api.datacenters_networkloadbalancers_find_by_network_load_balancer_id(dc.id, lb.id)
    assert (got.properties.name, got.properties.ips, got.properties.central_logging) == ("renamed", [ip0, ip1], True)
    assert got.properties.lb_private_ips == [private]
    done(
        client,
        api.datacenters_networkloadbalancers_forwardingrules_put_with_http_info(
            dc.id,
            lb.id,
            rule.id,
            ionoscloud.NetworkLoadBalancerForwardingRulePut(
                properties=nlb_rule(
                    ip1, port=443, targets=(("10.9.9.11", 8443, 5),), algorithm="SOURCE_IP", name="tls"
                ).properties
            ),
        ),
    )
    put = api.datacenters_networkloadbalancers_forwardingrules_find_by_forwarding_rule_id(dc.id, lb.id, rule.id)
    assert (put.properties.listener_ip, put.properties.listener_port, put.properties.algorithm) == (
        ip1,
        443,
        "SOURCE_IP",
    )
    done(
        client,
        api.datacenters_networkloadbalancers_forwardingrules_patch_with_http_info(
            dc.id,
            lb.id,
            rule.id,
            ionoscloud.NetworkLoadBalancerForwardingRuleProperties(
                health_check=ionoscloud.NetworkLoadBalancerForwardingRuleHealthCheck(retries=5)
            ),
        ),
    )
    hc = api.datacenters_networkloadbalancers_forwardingrules_find_by_forwarding_rule_id(
        dc.id, lb.id, rule.id
    ).properties.health_check
    assert (hc.retries, hc.client_timeout) == (5, 50000)

    done(client, api.datacenters_networkloadbalancers_delete_with_http_info(dc.id, lb.id))
    refused(api.datacenters_networkloadbalancers_find_by_network_load_balancer_id, dc.id, lb.id, status=404)
    refused(
        api.datacenters_networkloadbalancers_forwardingrules_find_by_forwarding_rule_id,
        dc.id,
        lb.id,
        rule.id,
        status=404,
    )


def test_network_load_balancer_lans_and_addresses_are_checked(client, reserve):
    dc = new_dc(client)
    public, private, private2 = new_lan(client, dc.id, True), new_lan(client, dc.id), new_lan(client, dc.id)
    (ip,) = reserve(1)
    api = ionoscloud.NetworkLoadBalancersApi(client)
    for body in (
        nlb(private.id, private.id),  # the same LAN twice
        nlb(private.id, public.id),  # a public target LAN
        nlb(public.id, private.id),  # public listener without reserved IPs
        nlb(public.id, private.id, ["203.0.113.9"]),  # an address not reserved by the contract
        nlb(private.id, private2.id, ["85.1.2.3"]),  # a public address on a private listener
        nlb(private.id, private2.id, private_ips=["10.1.1.1"]),  # private IPs need a mask
        nlb(42, private.id),
    ):  # no such LAN
        refused(api.datacenters_networkloadbalancers_post, dc.id, body)
    assert api.datacenters_networkloadbalancers_get(dc.id).items == []
    # a private listener gets a private address of its LAN when none is given
    lb = done(client, api.datacenters_networkloadbalancers_post_with_http_info(dc.id, nlb(private.id, private2.id)))
    (listen,) = lb.properties.ips
    assert in_cidr(listen, private.properties.ipv4_cidr_block)
    # moving the listener LAN hands out an address of the new LAN
    done(
        client,
        api.datacenters_networkloadbalancers_patch_with_http_info(
            dc.id, lb.id, ionoscloud.NetworkLoadBalancerProperties(listener_lan=int(public.id), ips=[ip])
        ),
    )
    assert api.datacenters_networkloadbalancers_find_by_network_load_balancer_id(dc.id, lb.id).properties.ips == [ip]


def test_contract_limits_for_nat_gateways_and_network_load_balancers(make_emulator):
    emu = make_emulator("limits")
    with sdk_client(emu) as c:
        dc = new_dc(c)
        lan_a, lan_b = new_lan(c, dc.id), new_lan(c, dc.id)
        block = done(
            c,
            ionoscloud.IPBlocksApi(c).ipblocks_post_with_http_info(
                ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=11, name="lim"))
            ),
        )
        limits = ionoscloud.ContractResourcesApi(c).contracts_get().items[0].properties.resource_limits
        nat, nlbs = ionoscloud.NATGatewaysApi(c), ionoscloud.NetworkLoadBalancersApi(c)
        ips = block.properties.ips
        for i in range(limits.nat_gateway_limit_total):
            done(c, nat.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ips[i]], name=f"n{i}")))
        e = refused(nat.datacenters_natgateways_post, dc.id, nat_gateway([ips[-1]]))
        assert "natGatewayLimitTotal" in e.body
        assert len(nat.datacenters_natgateways_get(dc.id).items) == limits.nat_gateway_limit_total
        for _ in range(limits.nlb_limit_total):
            done(c, nlbs.datacenters_networkloadbalancers_post_with_http_info(dc.id, nlb(lan_a.id, lan_b.id)))
        e = refused(nlbs.datacenters_networkloadbalancers_post, dc.id, nlb(lan_a.id, lan_b.id))
        assert "nlbLimitTotal" in e.body
        # deleting one makes room again
        first = nat.datacenters_natgateways_get(dc.id).items[0]
        done(c, nat.datacenters_natgateways_delete_with_http_info(dc.id, first.id))
        done(c, nat.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway([ips[-1]])))


# -- target groups and application load balancers ---------------------------------------------------


def target_group(name="tg", targets=(("10.8.0.10", 80, 10),), algorithm="ROUND_ROBIN", http_check=True):
    return ionoscloud.TargetGroup(
        properties=ionoscloud.TargetGroupProperties(
            name=name,
            algorithm=algorithm,
            protocol="HTTP",
            targets=[ionoscloud.TargetGroupTarget(ip=i, port=p, weight=w) for i, p, w in targets],
            http_health_check=ionoscloud.TargetGroupHttpHealthCheck(match_type="STATUS_CODE", response="200")
            if http_check
            else None,
        )
    )


def http_rule(name, type_, **kw):
    return ionoscloud.ApplicationLoadBalancerHttpRule(name=name, type=type_, **kw)


def alb_rule(ip, rules, port=80, name="web"):
    return ionoscloud.ApplicationLoadBalancerForwardingRule(
        properties=ionoscloud.ApplicationLoadBalancerForwardingRuleProperties(
            name=name, protocol="HTTP", listener_ip=ip, listener_port=port, http_rules=rules
        )
    )


def test_target_groups(client):
    api = ionoscloud.TargetGroupsApi(client)
    tg, status, h = api.targetgroups_post_with_http_info(target_group())
    assert status == 202 and tg.type == "target-group" and tg.metadata.state == "BUSY"
    wait(client, h)
    got = api.targetgroups_find_by_target_group_id(tg.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.protocol_version == "HTTP1"
    (t,) = got.properties.targets
    assert (t.health_check_enabled, t.maintenance_enabled, t.proxy_protocol) == (True, False, "none")
    assert got.properties.health_check.check_interval == 2000
    http = got.properties.http_health_check
    assert (http.path, http.method, http.match_type, http.response) == ("/", "GET", "STATUS_CODE", "200")
    listed = api.targetgroups_get(depth=1)
    assert tg.id in [x.id for x in listed.items] and (listed.offset, listed.limit) == (0, 100)
    for bad in (
        target_group(targets=(("not-an-ip", 80, 1),)),
        target_group(targets=(("10.8.0.1", 70000, 1),)),
        target_group(targets=(("10.8.0.1", 80, 1), ("10.8.0.1", 80, 3))),
        target_group(algorithm="NEWEST"),
    ):
        refused(api.targetgroups_post, bad)
    done(
        client,
        api.targetgroups_patch_with_http_info(
            tg.id,
            ionoscloud.TargetGroupProperties(name="renamed", health_check=ionoscloud.TargetGroupHealthCheck(retries=7)),
        ),
    )
    got = api.targetgroups_find_by_target_group_id(tg.id)
    assert got.properties.name == "renamed" and got.properties.health_check.retries == 7
    assert len(got.properties.targets) == 1  # PATCH kept the rest
    done(
        client,
        api.targetgroups_put_with_http_info(
            tg.id,
            ionoscloud.TargetGroupPut(
                properties=target_group(
                    "replaced", targets=(), algorithm="LEAST_CONNECTION", http_check=False
                ).properties
            ),
        ),
    )
    got = api.targetgroups_find_by_target_group_id(tg.id)
    # the HTTP health check left out of the PUT is kept, as the real API does (issue 9, rule 3; it used to go)
    assert (got.properties.name, got.properties.targets) == ("replaced", [])
    assert got.properties.http_health_check.path == "/"
    done(client, api.target_groups_delete_with_http_info(tg.id))
    refused(api.targetgroups_find_by_target_group_id, tg.id, status=404)


def test_application_load_balancer_http_rules_and_target_groups(client):
    dc = new_dc(client)
    listener, target = new_lan(client, dc.id), new_lan(client, dc.id)
    tgs = ionoscloud.TargetGroupsApi(client)
    tg = done(client, tgs.targetgroups_post_with_http_info(target_group()))
    api = ionoscloud.ApplicationLoadBalancersApi(client)
    alb = done(
        client,
        api.datacenters_applicationloadbalancers_post_with_http_info(
            dc.id,
            ionoscloud.ApplicationLoadBalancer(
                properties=ionoscloud.ApplicationLoadBalancerProperties(
                    name="alb", listener_lan=int(listener.id), target_lan=int(target.id)
                )
            ),
        ),
    )
    assert alb.type == "applicationloadbalancer" and alb.metadata.state == "BUSY"
    alb = api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, alb.id)
    assert alb.metadata.state == "AVAILABLE"
    (ip,) = alb.properties.ips
    cond = ionoscloud.ApplicationLoadBalancerHttpRuleCondition
    rules = [
        http_rule(
            "fwd",
            "FORWARD",
            target_group=tg.id,
            conditions=[
                cond(type="PATH", condition="STARTS_WITH", value="/api"),
                cond(type="HEADER", condition="EXISTS", key="X-Debug", negate=True),
            ],
        ),
        http_rule("moved", "REDIRECT", location="www.example.com"),
        http_rule(
            "down",
            "STATIC",
            response_message="maintenance",
            conditions=[cond(type="HOST", condition="ENDS_WITH", value=".example.com")],
        ),
    ]
    fr = done(
        client,
        api.datacenters_applicationloadbalancers_forwardingrules_post_with_http_info(
            dc.id, alb.id, alb_rule(ip, rules)
        ),
    )
    fr = api.datacenters_applicationloadbalancers_forwardingrules_find_by_forwarding_rule_id(dc.id, alb.id, fr.id)
    assert fr.metadata.state == "AVAILABLE" and fr.properties.client_timeout == 50000
    fwd, moved, down = fr.properties.http_rules
    assert fwd.target_group == tg.id and fwd.conditions[1].negate is True and fwd.conditions[1].value is None
    assert (moved.status_code, moved.drop_query) == (301, False)
    assert (down.status_code, down.content_type, down.conditions[0].negate) == (503, "text/plain", False)

    for bad in (
        [http_rule("f", "FORWARD")],  # FORWARD needs a target group
        [http_rule("f", "FORWARD", target_group=str(uuid.uuid4()))],  # which must exist
        [http_rule("r", "REDIRECT", location="x", status_code=200)],  # not a redirect code
        [http_rule("s", "STATIC")],  # STATIC needs a message
        [http_rule("s", "STATIC", response_message="m", location="y")],  # location is for REDIRECT
        [
            http_rule(
                "r",
                "REDIRECT",
                location="x",
                conditions=[cond(type="SOURCE_IP", condition="EQUALS", value="10.0.0.0/8")],
            )
        ],
        [http_rule("r", "REDIRECT", location="x", conditions=[cond(type="PATH", condition="EQUALS")])],
        [http_rule("d", "REDIRECT", location="x"), http_rule("d", "REDIRECT", location="y")],
    ):
        refused(
            api.datacenters_applicationloadbalancers_forwardingrules_post, dc.id, alb.id, alb_rule(ip, bad, port=8080)
        )
    refused(api.datacenters_applicationloadbalancers_forwardingrules_post, dc.id, alb.id, alb_rule("10.1.2.3", []))
    assert len(api.datacenters_applicationloadbalancers_forwardingrules_get(dc.id, alb.id).items) == 1

    deep = api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, alb.id, depth=2)
    assert [r.properties.name for r in deep.entities.forwardingrules.items] == ["web"]
    fl = done(client, api.datacenters_applicationloadbalancers_flowlogs_post_with_http_info(dc.id, alb.id, flow_log()))
    assert [f.id for f in api.datacenters_applicationloadbalancers_flowlogs_get(dc.id, alb.id).items] == [fl.id]

    # a target group in use by a forwarding rule stays
    refused(tgs.target_groups_delete, tg.id)
    done(
        client,
        api.datacenters_applicationloadbalancers_forwardingrules_patch_with_http_info(
            dc.id, alb.id, fr.id, ionoscloud.ApplicationLoadBalancerForwardingRuleProperties(http_rules=rules[1:])
        ),
    )
    done(client, tgs.target_groups_delete_with_http_info(tg.id))
    done(
        client,
        api.datacenters_applicationloadbalancers_put_with_http_info(
            dc.id,
            alb.id,
            ionoscloud.ApplicationLoadBalancerPut(
                properties=ionoscloud.ApplicationLoadBalancerProperties(
                    name="put", listener_lan=int(listener.id), target_lan=int(target.id), ips=[ip]
                )
            ),
        ),
    )
    put = api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, alb.id)
    assert put.properties.name == "put" and put.properties.lb_private_ips == alb.properties.lb_private_ips
    done(client, api.datacenters_applicationloadbalancers_delete_with_http_info(dc.id, alb.id))
    refused(api.datacenters_applicationloadbalancers_find_by_application_load_balancer_id, dc.id, alb.id, status=404)


# -- legacy load balancers --------------------------------------------------------------------------


def test_load_balancer_balanced_nics(client):
    dc = new_dc(client)
    server, nic = new_nic(client, dc.id)
    api = ionoscloud.LoadBalancersApi(client)
    lb, status, h = api.datacenters_loadbalancers_post_with_http_info(
        dc.id, ionoscloud.Loadbalancer(properties=ionoscloud.LoadbalancerProperties(name="lb"))
    )
    assert status == 202 and lb.type == "loadbalancer" and lb.metadata.state == "BUSY"
    ipaddress.IPv4Address(lb.properties.ip)  # assigned automatically
    wait(client, h)
    assert api.datacenters_loadbalancers_find_by_id(dc.id, lb.id).properties.dhcp is True

    attached = done(
        client, api.datacenters_loadbalancers_balancednics_post_with_http_info(dc.id, lb.id, ionoscloud.Nic(id=nic.id))
    )
    assert attached.id == nic.id and attached.type == "nic"
    listed = api.datacenters_loadbalancers_balancednics_get(dc.id, lb.id, depth=1)
    assert [n.id for n in listed.items] == [nic.id] and listed.items[0].properties.lan == 1
    assert api.datacenters_loadbalancers_balancednics_find_by_nic_id(dc.id, lb.id, nic.id).properties.mac
    refused(api.datacenters_loadbalancers_balancednics_post, dc.id, lb.id, ionoscloud.Nic(id=nic.id))
    refused(
        api.datacenters_loadbalancers_balancednics_post, dc.id, lb.id, ionoscloud.Nic(id=str(uuid.uuid4())), status=404
    )
    deep = api.datacenters_loadbalancers_find_by_id(dc.id, lb.id, depth=2)
    assert [n.properties.name for n in deep.entities.balancednics.items] == ["n"]
    assert [
        x.id
        for x in ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id, depth=2).entities.loadbalancers.items
    ] == [lb.id]

    done(
        client,
        api.datacenters_loadbalancers_patch_with_http_info(
            dc.id, lb.id, ionoscloud.LoadbalancerProperties(name="renamed", ip="85.1.1.1")
        ),
    )
    got = api.datacenters_loadbalancers_find_by_id(dc.id, lb.id)
    assert (got.properties.name, got.properties.ip) == ("renamed", "85.1.1.1")
    done(
        client,
        api.datacenters_loadbalancers_put_with_http_info(
            dc.id, lb.id, ionoscloud.Loadbalancer(properties=ionoscloud.LoadbalancerProperties(name="put", dhcp=False))
        ),
    )
    got = api.datacenters_loadbalancers_find_by_id(dc.id, lb.id)
    assert (got.properties.name, got.properties.ip, got.properties.dhcp) == ("put", "85.1.1.1", False)

    done(client, api.datacenters_loadbalancers_balancednics_delete_with_http_info(dc.id, lb.id, nic.id))
    assert api.datacenters_loadbalancers_balancednics_get(dc.id, lb.id).items == []
    refused(api.datacenters_loadbalancers_balancednics_find_by_nic_id, dc.id, lb.id, nic.id, status=404)
    # detaching leaves the NIC in place
    assert ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_find_by_id(dc.id, server.id, nic.id).id
    done(client, api.datacenters_loadbalancers_delete_with_http_info(dc.id, lb.id))
    refused(api.datacenters_loadbalancers_find_by_id, dc.id, lb.id, status=404)


# -- flow logs on NICs ------------------------------------------------------------------------------


def test_nic_flow_logs(client, emulator):
    dc = new_dc(client)
    server, nic = new_nic(client, dc.id)
    api = ionoscloud.FlowLogsApi(client)
    refused(api.datacenters_servers_nics_flowlogs_post, dc.id, server.id, nic.id, flow_log(action="SOME"))
    refused(api.datacenters_servers_nics_flowlogs_post, dc.id, server.id, nic.id, flow_log(bucket="x"))
    fl, status, h = api.datacenters_servers_nics_flowlogs_post_with_http_info(dc.id, server.id, nic.id, flow_log())
    assert status == 202 and fl.metadata.state == "BUSY" and fl.type == "flow-log"
    wait(client, h)
    got = api.datacenters_servers_nics_flowlogs_find_by_id(dc.id, server.id, nic.id, fl.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.action == "ALL"
    refused(api.datacenters_servers_nics_flowlogs_post, dc.id, server.id, nic.id, flow_log(name="two"))
    assert [f.id for f in api.datacenters_servers_nics_flowlogs_get(dc.id, server.id, nic.id).items] == [fl.id]
    deep = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_find_by_id(
        dc.id, server.id, nic.id, depth=2
    )
    assert [f.properties.bucket for f in deep.entities.flowlogs.items] == ["logs-bucket/nat"]

    # PATCH bodies are the bare properties object; a PUT keeps what it leaves out, as the real API (issue 9,
    # rule 3; a PUT without a required property used to be a 422)
    done(
        client,
        api.datacenters_servers_nics_flowlogs_patch_with_http_info(
            dc.id, server.id, nic.id, fl.id, ionoscloud.FlowLogProperties(direction="EGRESS")
        ),
    )
    got = api.datacenters_servers_nics_flowlogs_find_by_id(dc.id, server.id, nic.id, fl.id)
    assert (got.properties.direction, got.properties.name) == ("EGRESS", "fl")
    r = httpx.put(
        f"{emulator.cloud}/datacenters/{dc.id}/servers/{server.id}/nics/{nic.id}/flowlogs/{fl.id}",
        json={"properties": {"name": "x", "action": "ALL", "direction": "INGRESS"}},
        auth=OWNER,
    )
    assert r.status_code == 202
    wait(client, r.headers)
    got = api.datacenters_servers_nics_flowlogs_find_by_id(dc.id, server.id, nic.id, fl.id)
    assert (got.properties.name, got.properties.direction, got.properties.bucket) == ("x", "INGRESS", "logs-bucket/nat")
    done(
        client,
        api.datacenters_servers_nics_flowlogs_put_with_http_info(
            dc.id, server.id, nic.id, fl.id, flow_log("put", "ACCEPTED", "INGRESS", "b2b")
        ),
    )
    got = api.datacenters_servers_nics_flowlogs_find_by_id(dc.id, server.id, nic.id, fl.id)
    assert (got.properties.name, got.properties.action, got.properties.bucket) == ("put", "ACCEPTED", "b2b")
    done(client, api.datacenters_servers_nics_flowlogs_delete_with_http_info(dc.id, server.id, nic.id, fl.id))
    refused(api.datacenters_servers_nics_flowlogs_find_by_id, dc.id, server.id, nic.id, fl.id, status=404)
