"""PUT (replace) through the unmodified SDK on the kinds whose other tests PATCH: what is sent changes, what is
left out keeps its value as in the real Cloud API (issue 9, rule 3; it used to fall back to its default), and
the change goes BUSY -> AVAILABLE like any other."""

from __future__ import annotations

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

import test_e2e_netservices
from test_e2e_netservices import alb_rule, done, flow_log, nat_gateway, new_dc, new_lan, nlb

# the IP block fixture of the network services tests, shared: pytest finds fixtures among a module's names
reserve = test_e2e_netservices.reserve


def test_put_nic_and_firewall_rule(client):
    dc = new_dc(client, "put")
    servers, nics, rules = (
        ionoscloud.ServersApi(client),
        ionoscloud.NetworkInterfacesApi(client),
        ionoscloud.FirewallRulesApi(client),
    )
    s = done(
        client,
        servers.datacenters_servers_post_with_http_info(
            dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="s", cores=1, ram=1024))
        ),
    )
    nic = done(
        client,
        nics.datacenters_servers_nics_post_with_http_info(
            dc.id, s.id, ionoscloud.Nic(properties=ionoscloud.NicProperties(name="before", lan=1, firewall_active=True))
        ),
    )
    done(
        client,
        nics.datacenters_servers_nics_put_with_http_info(
            dc.id, s.id, nic.id, ionoscloud.NicPut(properties=ionoscloud.NicProperties(name="after", lan=1))
        ),
    )
    got = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id)
    assert got.properties.name == "after" and got.properties.firewall_active is True  # left out: kept
    assert got.metadata.state == "AVAILABLE"
    rule = done(
        client,
        rules.datacenters_servers_nics_firewallrules_post_with_http_info(
            dc.id,
            s.id,
            nic.id,
            ionoscloud.FirewallRule(
                properties=ionoscloud.FirewallruleProperties(
                    name="ssh", protocol="TCP", port_range_start=22, port_range_end=22, source_ip="10.0.0.1"
                )
            ),
        ),
    )
    done(
        client,
        rules.datacenters_servers_nics_firewallrules_put_with_http_info(
            dc.id,
            s.id,
            nic.id,
            rule.id,
            ionoscloud.FirewallRule(
                properties=ionoscloud.FirewallruleProperties(
                    name="web", protocol="TCP", port_range_start=80, port_range_end=443
                )
            ),
        ),
    )
    got = rules.datacenters_servers_nics_firewallrules_find_by_id(dc.id, s.id, nic.id, rule.id)
    assert (got.properties.name, got.properties.port_range_start, got.properties.source_ip) == ("web", 80, "10.0.0.1")
    with pytest.raises(ApiException) as e:  # the protocol cannot change
        rules.datacenters_servers_nics_firewallrules_put(
            dc.id,
            s.id,
            nic.id,
            rule.id,
            ionoscloud.FirewallRule(properties=ionoscloud.FirewallruleProperties(protocol="UDP")),
        )
    assert e.value.status == 422


def test_put_nat_gateway_and_its_flow_log(client, reserve):
    ips = reserve(2)
    dc = new_dc(client)
    lan = new_lan(client, dc.id)
    api = ionoscloud.NATGatewaysApi(client)
    gw = done(client, api.datacenters_natgateways_post_with_http_info(dc.id, nat_gateway(ips[:1], [lan.id])))
    done(
        client,
        api.datacenters_natgateways_put_with_http_info(
            dc.id, gw.id, ionoscloud.NatGatewayPut(properties=nat_gateway(ips, name="renamed").properties)
        ),
    )
    got = api.datacenters_natgateways_find_by_nat_gateway_id(dc.id, gw.id)
    assert got.properties.name == "renamed" and sorted(got.properties.public_ips) == sorted(ips)
    assert not got.properties.lans  # PUT replaces: the LAN left out is gone
    fl = done(client, api.datacenters_natgateways_flowlogs_post_with_http_info(dc.id, gw.id, flow_log()))
    done(
        client,
        api.datacenters_natgateways_flowlogs_put_with_http_info(
            dc.id,
            gw.id,
            fl.id,
            ionoscloud.FlowLogPut(properties=flow_log(name="egress", action="REJECTED", direction="EGRESS").properties),
        ),
    )
    got = api.datacenters_natgateways_flowlogs_find_by_flow_log_id(dc.id, gw.id, fl.id)
    assert (got.properties.name, got.properties.action, got.properties.direction) == ("egress", "REJECTED", "EGRESS")


def test_put_network_and_application_load_balancers(client, reserve):
    dc = new_dc(client)
    listener, target = new_lan(client, dc.id), new_lan(client, dc.id)
    nlbs = ionoscloud.NetworkLoadBalancersApi(client)
    lb = done(client, nlbs.datacenters_networkloadbalancers_post_with_http_info(dc.id, nlb(listener.id, target.id)))
    done(
        client,
        nlbs.datacenters_networkloadbalancers_put_with_http_info(
            dc.id,
            lb.id,
            ionoscloud.NetworkLoadBalancerPut(properties=nlb(listener.id, target.id, name="nlb2").properties),
        ),
    )
    got = nlbs.datacenters_networkloadbalancers_find_by_network_load_balancer_id(dc.id, lb.id)
    assert got.properties.name == "nlb2"
    albs = ionoscloud.ApplicationLoadBalancersApi(client)
    lan_a, lan_b = new_lan(client, dc.id), new_lan(client, dc.id)
    alb = done(
        client,
        albs.datacenters_applicationloadbalancers_post_with_http_info(
            dc.id,
            ionoscloud.ApplicationLoadBalancer(
                properties=ionoscloud.ApplicationLoadBalancerProperties(
                    name="alb", listener_lan=int(lan_a.id), target_lan=int(lan_b.id)
                )
            ),
        ),
    )
    alb = albs.datacenters_applicationloadbalancers_find_by_application_load_balancer_id(dc.id, alb.id)
    (ip,) = alb.properties.ips
    redirect = ionoscloud.ApplicationLoadBalancerHttpRule(name="moved", type="REDIRECT", location="www.example.com")
    fr = done(
        client,
        albs.datacenters_applicationloadbalancers_forwardingrules_post_with_http_info(
            dc.id, alb.id, alb_rule(ip, [redirect])
        ),
    )
    done(
        client,
        albs.datacenters_applicationloadbalancers_forwardingrules_put_with_http_info(
            dc.id,
            alb.id,
            fr.id,
            ionoscloud.ApplicationLoadBalancerForwardingRulePut(
                properties=alb_rule(ip, [], port=8080, name="plain").properties
            ),
        ),
    )
    got = albs.datacenters_applicationloadbalancers_forwardingrules_find_by_forwarding_rule_id(dc.id, alb.id, fr.id)
    assert (got.properties.name, got.properties.listener_port, got.properties.http_rules or []) == ("plain", 8080, [])
    fl = done(client, albs.datacenters_applicationloadbalancers_flowlogs_post_with_http_info(dc.id, alb.id, flow_log()))
    done(
        client,
        albs.datacenters_applicationloadbalancers_flowlogs_put_with_http_info(
            dc.id,
            alb.id,
            fl.id,
            ionoscloud.FlowLogPut(properties=flow_log(name="alb-fl", action="ACCEPTED").properties),
        ),
    )
    got = albs.datacenters_applicationloadbalancers_flowlogs_find_by_flow_log_id(dc.id, alb.id, fl.id)
    assert (got.properties.name, got.properties.action) == ("alb-fl", "ACCEPTED")


def test_put_snapshot_and_public_images_stay_read_only(client):
    dc = new_dc(client)
    volumes, snaps = ionoscloud.VolumesApi(client), ionoscloud.SnapshotsApi(client)
    images = ionoscloud.ImagesApi(client)
    v = done(
        client,
        volumes.datacenters_volumes_post_with_http_info(
            dc.id,
            ionoscloud.Volume(
                properties=ionoscloud.VolumeProperties(name="v", size=10, type="HDD", licence_type="LINUX")
            ),
        ),
    )
    snap = done(
        client,
        volumes.datacenters_volumes_create_snapshot_post_with_http_info(
            dc.id,
            v.id,
            snapshot=ionoscloud.CreateSnapshot(
                properties=ionoscloud.CreateSnapshotProperties(name="s1", description="d")
            ),
        ),
    )
    done(
        client,
        snaps.snapshots_put_with_http_info(
            snap.id, ionoscloud.Snapshot(properties=ionoscloud.SnapshotProperties(name="s2"))
        ),
    )
    got = snaps.snapshots_find_by_id(snap.id)
    assert got.properties.name == "s2" and got.properties.size == 10.0
    public = images.images_get(depth=1).items[0]
    with pytest.raises(ApiException) as e:
        images.images_put(
            public.id, ionoscloud.Image(properties=ionoscloud.ImageProperties(name="mine now", licence_type="LINUX"))
        )
    assert e.value.status == 403
    with pytest.raises(ApiException) as e:  # labels are for private images only
        ionoscloud.LabelsApi(client).images_labels_put(
            public.id,
            "env",
            ionoscloud.LabelResource(properties=ionoscloud.LabelResourceProperties(key="env", value="x")),
        )
    assert e.value.status in (404, 422)
