"""End-to-end: LANs, NICs, firewall rules and IP blocks (api-behaviour.md §6.5) through the unmodified
`ionoscloud` SDK, plus raw httpx calls where the wire shape itself is the point, against a strict emulator."""

from __future__ import annotations

import ipaddress
import re

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import wait

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")

# public addresses come from the documentation ranges (RFC 5737): nothing the emulator hands out routes to a
# real host on the internet
DOCUMENTATION_RANGES = [ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


def documentation_address(ip) -> bool:
    return any(ipaddress.IPv4Address(str(ip)) in net for net in DOCUMENTATION_RANGES)


# -- helpers ----------------------------------------------------------------------------------------


def new_dc(client, name="net", location="de/fra"):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location=location)
        )
    )
    wait(client, h)
    return dc


def new_server(client, dc_id, name="srv"):
    s, _, h = ionoscloud.ServersApi(client).datacenters_servers_post_with_http_info(
        dc_id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name=name, cores=1, ram=1024))
    )
    wait(client, h)
    return s


def new_lan(client, dc_id, name="lan", public=False):
    lan, status, h = ionoscloud.LANsApi(client).datacenters_lans_post_with_http_info(
        dc_id, ionoscloud.Lan(properties=ionoscloud.LanProperties(name=name, public=public))
    )
    wait(client, h)
    return lan, status


def new_nic(client, dc_id, server_id, lan, **props):
    nic, status, h = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_post_with_http_info(
        dc_id, server_id, ionoscloud.Nic(properties=ionoscloud.NicProperties(lan=lan, **props))
    )
    wait(client, h)
    return nic, status


def new_rule(client, dc_id, server_id, nic_id, **props):
    rule, status, h = ionoscloud.FirewallRulesApi(client).datacenters_servers_nics_firewallrules_post_with_http_info(
        dc_id, server_id, nic_id, ionoscloud.FirewallRule(properties=ionoscloud.FirewallruleProperties(**props))
    )
    wait(client, h)
    return rule, status


def new_ipblock(client, size, name="block", location="de/fra"):
    block, status, h = ionoscloud.IPBlocksApi(client).ipblocks_post_with_http_info(
        ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location=location, size=size, name=name))
    )
    wait(client, h)
    return block, status


def wait_raw(client, resp):
    """Wait for the request named in an httpx response's Location header."""
    assert resp.status_code == 202, resp.text
    wait(client, resp.headers)


def assert_error(resp, status: int):
    """The Cloud API error envelope: {"httpStatus": int, "messages": [{"errorCode": str, "message": str}]}."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["httpStatus"] == status
    assert isinstance(body["messages"], list) and body["messages"]
    for m in body["messages"]:
        assert isinstance(m["errorCode"], str) and m["errorCode"]
        assert isinstance(m["message"], str) and m["message"]
    return body


def resource_limits(client):
    return ionoscloud.ContractResourcesApi(client).contracts_get().items[0].properties.resource_limits


# -- LANs -------------------------------------------------------------------------------------------


def test_lan_ids_are_sequential_per_datacenter_and_cidr_follows_public(client, emulator):
    dc = new_dc(client)
    lans = ionoscloud.LANsApi(client)
    created = []
    for name, public in (("a", False), ("b", True), ("c", False)):
        lan, status, h = lans.datacenters_lans_post_with_http_info(
            dc.id, ionoscloud.Lan(properties=ionoscloud.LanProperties(name=name, public=public))
        )
        # the 202 body is the LAN itself, already with its server-assigned id, BUSY until the request is done
        assert status == 202 and lan.metadata.state == "BUSY" and lan.type == "lan"
        assert lan.properties.name == name and lan.properties.public is public
        wait(client, h)
        created.append(lan)
    assert [lan.id for lan in created] == ["1", "2", "3"]
    # a private LAN gets a private IPv4 CIDR, a public one none; two private LANs do not share a range
    private_a, public_b, private_c = (lans.datacenters_lans_find_by_id(dc.id, x.id) for x in created)
    for lan in (private_a, private_c):
        net = ipaddress.IPv4Network(lan.properties.ipv4_cidr_block)
        assert net.is_private and net.prefixlen <= 30
        assert lan.metadata.state == "AVAILABLE"
    assert not ipaddress.IPv4Network(private_a.properties.ipv4_cidr_block).overlaps(
        ipaddress.IPv4Network(private_c.properties.ipv4_cidr_block)
    )
    assert public_b.properties.ipv4_cidr_block is None
    # on the wire: the id is a JSON string, the public CIDR an explicit null or absent
    with emulator.http() as http:
        raw = http.get(f"/cloudapi/v6/datacenters/{dc.id}/lans/2").json()
    assert raw["id"] == "2" and raw["properties"].get("ipv4CidrBlock") is None
    assert raw["href"].endswith(f"/datacenters/{dc.id}/lans/2")
    # another data center counts from 1 again
    other = new_dc(client, "other")
    lan, _ = new_lan(client, other.id)
    assert lan.id == "1"
    assert [x.id for x in lans.datacenters_lans_get(other.id).items] == ["1"]


def test_lan_patch_and_put_change_name_and_public(client):
    dc = new_dc(client)
    lans = ionoscloud.LANsApi(client)
    lan, _ = new_lan(client, dc.id, "priv", public=False)
    got, status, h = lans.datacenters_lans_patch_with_http_info(
        dc.id, lan.id, ionoscloud.LanProperties(name="renamed", public=True)
    )
    assert status == 202 and got.properties.name == "renamed"
    wait(client, h)
    got = lans.datacenters_lans_find_by_id(dc.id, lan.id)
    assert got.properties.name == "renamed" and got.properties.public is True
    assert got.properties.ipv4_cidr_block is None  # public now: no private range
    assert got.metadata.state == "AVAILABLE"
    # PATCH is partial: the name survives a PATCH of public only
    _, _, h = lans.datacenters_lans_patch_with_http_info(dc.id, lan.id, ionoscloud.LanProperties(public=False))
    wait(client, h)
    got = lans.datacenters_lans_find_by_id(dc.id, lan.id)
    assert got.properties.name == "renamed" and got.properties.public is False
    assert ipaddress.IPv4Network(got.properties.ipv4_cidr_block).is_private
    # PUT replaces
    _, status, h = lans.datacenters_lans_put_with_http_info(
        dc.id, lan.id, ionoscloud.Lan(properties=ionoscloud.LanProperties(name="put", public=True))
    )
    assert status == 202
    wait(client, h)
    got = lans.datacenters_lans_find_by_id(dc.id, lan.id)
    assert got.properties.name == "put" and got.properties.public is True and got.id == lan.id


def test_lan_list_is_paginated(client, emulator):
    dc = new_dc(client)
    for i in range(3):
        new_lan(client, dc.id, f"l{i}")
    lans = ionoscloud.LANsApi(client)
    page = lans.datacenters_lans_get(dc.id, offset=1, limit=1, depth=1)
    assert [x.id for x in page.items] == ["2"] and page.items[0].properties.name == "l1"
    assert page.offset == 1 and page.limit == 1
    assert page.links.prev and page.links.next and page.links._self
    assert "offset=2" in page.links.next and "limit=1" in page.links.next
    assert "offset=0" in page.links.prev
    everything = lans.datacenters_lans_get(dc.id)
    assert [x.id for x in everything.items] == ["1", "2", "3"]
    assert everything.offset == 0 and everything.items[0].properties is None  # depth=0: references
    with emulator.http() as http:
        last = http.get(f"/cloudapi/v6/datacenters/{dc.id}/lans", params={"offset": 2, "limit": 1}).json()
        assert [x["id"] for x in last["items"]] == ["3"]
        assert last["offset"] == 2 and last["limit"] == 1
        assert last["_links"].get("next") is None and last["_links"]["prev"]
        assert last["id"] == f"{dc.id}/lans" and last["type"] == "collection"
        # following `next` from the first page walks the whole collection
        seen, url = [], f"/cloudapi/v6/datacenters/{dc.id}/lans?offset=0&limit=2"
        while url:
            body = http.get(url).json()
            seen += [x["id"] for x in body["items"]]
            url = body["_links"].get("next")
        assert seen == ["1", "2", "3"]


def test_lan_delete_and_lan_in_use(client, emulator):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    busy, _ = new_lan(client, dc.id, "busy")
    spare, _ = new_lan(client, dc.id, "spare")
    nic, _ = new_nic(client, dc.id, s.id, int(busy.id))
    lans = ionoscloud.LANsApi(client)
    with emulator.http() as http:
        r = http.delete(f"/cloudapi/v6/datacenters/{dc.id}/lans/{busy.id}")
        assert_error(r, 422)
    assert "Location" not in r.headers
    assert lans.datacenters_lans_find_by_id(dc.id, busy.id).metadata.state == "AVAILABLE"
    # an unused LAN goes away
    _, status, h = lans.datacenters_lans_delete_with_http_info(dc.id, spare.id)
    assert status == 202
    wait(client, h)
    with pytest.raises(ApiException) as e:
        lans.datacenters_lans_find_by_id(dc.id, spare.id)
    assert e.value.status == 404
    # once its NIC is gone, the busy LAN can be deleted too
    _, _, h = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_delete_with_http_info(
        dc.id, s.id, nic.id
    )
    wait(client, h)
    _, _, h = lans.datacenters_lans_delete_with_http_info(dc.id, busy.id)
    wait(client, h)
    assert lans.datacenters_lans_get(dc.id).items == []
    # ids are not reused: the next LAN is "3"
    lan, _ = new_lan(client, dc.id)
    assert lan.id == "3"


def test_lan_ip_failover_must_name_a_nic_of_the_lan_and_its_ip(client, emulator):
    block, _ = new_ipblock(client, 2, "failover")
    dc = new_dc(client)
    s1, s2 = new_server(client, dc.id, "a"), new_server(client, dc.id, "b")
    lan, _ = new_lan(client, dc.id, "inet", public=True)
    shared, spare = block.properties.ips
    n1, _ = new_nic(client, dc.id, s1.id, int(lan.id), ips=[shared])
    n2, _ = new_nic(client, dc.id, s2.id, int(lan.id), ips=[shared])  # failover: both NICs hold the address
    lans = ionoscloud.LANsApi(client)
    _, _, h = lans.datacenters_lans_patch_with_http_info(
        dc.id, lan.id, ionoscloud.LanProperties(ip_failover=[ionoscloud.IPFailover(ip=shared, nic_uuid=n1.id)])
    )
    wait(client, h)
    got = lans.datacenters_lans_find_by_id(dc.id, lan.id).properties.ip_failover
    assert [(f.ip, f.nic_uuid) for f in got] == [(shared, n1.id)]
    path = f"/cloudapi/v6/datacenters/{dc.id}/lans/{lan.id}"
    with emulator.http() as http:
        assert_error(http.patch(path, json={"ipFailover": [{"ip": spare, "nicUuid": n2.id}]}), 422)
        assert_error(http.patch(path, json={"ipFailover": [{"ip": shared, "nicUuid": "no-such-nic"}]}), 422)
    got = lans.datacenters_lans_find_by_id(dc.id, lan.id).properties.ip_failover
    assert [(f.ip, f.nic_uuid) for f in got] == [(shared, n1.id)]
    assert {c.nic_id for c in ionoscloud.IPBlocksApi(client).ipblocks_find_by_id(block.id).properties.ip_consumers} == {
        n1.id,
        n2.id,
    }
    # clean up the contract's reservation (deleting the data center frees the addresses)
    _, _, h = ionoscloud.DataCentersApi(client).datacenters_delete_with_http_info(dc.id)
    wait(client, h)
    _, _, h = ionoscloud.IPBlocksApi(client).ipblocks_delete_with_http_info(block.id)
    wait(client, h)


# -- NICs -------------------------------------------------------------------------------------------


def test_nic_defaults_mac_and_private_ip(client, emulator):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    lan, _ = new_lan(client, dc.id, "priv")
    nic, status = new_nic(client, dc.id, s.id, int(lan.id), name="eth0")
    assert status == 202 and nic.metadata.state == "BUSY" and nic.type == "nic"
    got = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id)
    p = got.properties
    assert got.metadata.state == "AVAILABLE" and p.name == "eth0" and p.lan == int(lan.id)
    assert p.dhcp is True and p.firewall_type == "INGRESS" and p.firewall_active is False
    # a generated MAC: 6 octets, locally administered, unicast
    assert MAC.match(p.mac), p.mac
    first = int(p.mac.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01
    # an address from the LAN's private range, not the network or broadcast address
    cidr = ipaddress.IPv4Network(
        ionoscloud.LANsApi(client).datacenters_lans_find_by_id(dc.id, lan.id).properties.ipv4_cidr_block
    )
    assert len(p.ips) == 1
    ip = ipaddress.IPv4Address(p.ips[0])
    assert ip in cidr and ip not in (cidr.network_address, cidr.broadcast_address)
    # a second NIC in the same LAN gets a different address and a different MAC
    nic2, _ = new_nic(client, dc.id, s.id, int(lan.id))
    p2 = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_find_by_id(dc.id, s.id, nic2.id).properties
    assert ipaddress.IPv4Address(p2.ips[0]) in cidr and p2.ips != p.ips and p2.mac != p.mac
    # on the wire `lan` is a JSON integer
    with emulator.http() as http:
        raw = http.get(f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics/{nic.id}").json()
    assert raw["properties"]["lan"] == int(lan.id) and isinstance(raw["properties"]["lan"], int)
    assert set(raw["entities"]) >= {"firewallrules", "flowlogs", "securitygroups"}


def test_nic_on_public_lan_gets_a_public_ip(client):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    lan, _ = new_lan(client, dc.id, "inet", public=True)
    nic, _ = new_nic(client, dc.id, s.id, int(lan.id))
    p = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id).properties
    assert len(p.ips) == 1
    ip = ipaddress.IPv4Address(p.ips[0])
    assert documentation_address(ip), ip


def test_nic_public_ip_must_come_from_a_reserved_block_in_the_location(client, emulator):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    lan, _ = new_lan(client, dc.id, "inet", public=True)
    elsewhere, _ = new_ipblock(client, 1, "las", location="us/las")
    path = f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics"
    with emulator.http() as http:
        # an address nobody reserved, and one reserved in another location than the data center's
        for ip in ("203.0.113.77", elsewhere.properties.ips[0]):
            assert_error(http.post(path, json={"properties": {"lan": int(lan.id), "ips": [ip]}}), 422)
    assert ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_get(dc.id, s.id).items == []
    _, _, h = ionoscloud.IPBlocksApi(client).ipblocks_delete_with_http_info(elsewhere.id)
    wait(client, h)


def test_nic_on_unknown_lan_creates_it(client):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    lans = ionoscloud.LANsApi(client)
    with pytest.raises(ApiException) as e:
        lans.datacenters_lans_find_by_id(dc.id, "7")
    assert e.value.status == 404
    nic, _ = new_nic(client, dc.id, s.id, 7)
    lan = lans.datacenters_lans_find_by_id(dc.id, "7")
    assert lan.id == "7" and lan.properties.public is False and lan.metadata.state == "AVAILABLE"
    cidr = ipaddress.IPv4Network(lan.properties.ipv4_cidr_block)
    got = ionoscloud.NetworkInterfacesApi(client).datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id)
    assert got.properties.lan == 7 and ipaddress.IPv4Address(got.properties.ips[0]) in cidr
    # a LAN created afterwards does not collide with the implicit one
    later, _ = new_lan(client, dc.id)
    assert later.id != "7"
    assert sorted(x.id for x in lans.datacenters_lans_get(dc.id).items) == sorted(["7", later.id])


def test_nic_patch_name_and_ips(client, emulator):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    lan, _ = new_lan(client, dc.id)
    nic, _ = new_nic(client, dc.id, s.id, int(lan.id), name="old", dhcp=False, firewall_type="BIDIRECTIONAL")
    nics = ionoscloud.NetworkInterfacesApi(client)
    got = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id)
    assert got.properties.dhcp is False and got.properties.firewall_type == "BIDIRECTIONAL"
    mac, old_ips = got.properties.mac, got.properties.ips
    cidr = ipaddress.IPv4Network(lans_cidr(client, dc.id, lan.id))
    wanted = str(cidr.network_address + 200)
    assert old_ips != [wanted]
    # a raw PATCH of name and ips leaves every other property alone
    with emulator.http() as http:
        r = http.patch(
            f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics/{nic.id}", json={"name": "new", "ips": [wanted]}
        )
        assert r.status_code == 202 and r.json()["properties"]["name"] == "new"
        wait_raw(client, r)
    got = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id)
    assert got.properties.name == "new" and got.properties.ips == [wanted]
    assert got.properties.mac == mac and got.properties.dhcp is False and got.properties.lan == int(lan.id)
    assert got.properties.firewall_type == "BIDIRECTIONAL" and got.metadata.state == "AVAILABLE"
    # the same through the SDK: its NicProperties model defaults dhcp=True and sends it, so dhcp flips back
    body, status, h = nics.datacenters_servers_nics_patch_with_http_info(
        dc.id, s.id, nic.id, ionoscloud.NicProperties(name="sdk")
    )
    assert status == 202 and body.properties.name == "sdk"
    wait(client, h)
    got = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id)
    assert got.properties.name == "sdk" and got.properties.dhcp is True and got.properties.ips == [wanted]
    path = f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics/{nic.id}"
    with emulator.http() as http:
        # an invalid address is refused and changes nothing
        assert_error(http.patch(path, json={"ips": ["not-an-ip"]}), 422)
        assert http.get(path).json()["properties"]["ips"] == [wanted]
        # null or [] asks for an automatic address again (spec: NicProperties.ips)
        for empty in ([], None):
            wait_raw(client, http.patch(path, json={"ips": empty}))
            ips = http.get(path).json()["properties"]["ips"]
            assert len(ips) == 1 and ipaddress.IPv4Address(ips[0]) in cidr, (empty, ips)


def test_nic_moves_between_lans(client, emulator):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    priv, _ = new_lan(client, dc.id, "priv")
    pub, _ = new_lan(client, dc.id, "pub", public=True)
    nic, _ = new_nic(client, dc.id, s.id, int(priv.id))
    nics, lans = ionoscloud.NetworkInterfacesApi(client), ionoscloud.LANsApi(client)
    # into the public LAN: a public address replaces the private one
    _, _, h = nics.datacenters_servers_nics_patch_with_http_info(
        dc.id, s.id, nic.id, ionoscloud.NicProperties(lan=int(pub.id))
    )
    wait(client, h)
    p = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id).properties
    assert p.lan == int(pub.id) and len(p.ips) == 1 and documentation_address(p.ips[0])
    assert [x.id for x in lans.datacenters_lans_nics_get(dc.id, pub.id).items] == [nic.id]
    assert lans.datacenters_lans_nics_get(dc.id, priv.id).items == []
    # into a LAN that does not exist yet: it is created, and the address comes from its range
    _, _, h = nics.datacenters_servers_nics_patch_with_http_info(dc.id, s.id, nic.id, ionoscloud.NicProperties(lan=9))
    wait(client, h)
    p = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id).properties
    assert p.lan == 9 and ipaddress.IPv4Address(p.ips[0]) in ipaddress.IPv4Network(lans_cidr(client, dc.id, "9"))
    # back into the private LAN through POST /lans/{id}/nics with the NIC's id
    moved, status, h = lans.datacenters_lans_nics_post_with_http_info(dc.id, priv.id, ionoscloud.Nic(id=nic.id))
    assert status == 202 and moved.id == nic.id
    wait(client, h)
    p = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id).properties
    assert p.lan == int(priv.id)
    assert ipaddress.IPv4Address(p.ips[0]) in ipaddress.IPv4Network(lans_cidr(client, dc.id, priv.id))
    with emulator.http() as http:
        assert_error(http.patch(f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics/{nic.id}", json={"lan": 0}), 422)
    assert nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id).properties.lan == int(priv.id)


def test_nic_device_numbers_and_pci_slots_are_not_reused(client):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    nics = ionoscloud.NetworkInterfacesApi(client)
    a, _ = new_nic(client, dc.id, s.id, 1)
    b, _ = new_nic(client, dc.id, s.id, 1)
    _, _, h = nics.datacenters_servers_nics_delete_with_http_info(dc.id, s.id, a.id)
    wait(client, h)
    c, _ = new_nic(client, dc.id, s.id, 1)
    got = nics.datacenters_servers_nics_get(dc.id, s.id, depth=1).items
    assert sorted(n.id for n in got) == sorted([b.id, c.id])
    assert len({n.properties.device_number for n in got}) == 2
    assert len({n.properties.pci_slot for n in got}) == 2


def test_pci_slots_are_unique_across_volumes_and_nics(client):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    nic, _ = new_nic(client, dc.id, s.id, 1)
    servers, volumes = ionoscloud.ServersApi(client), ionoscloud.VolumesApi(client)
    for name in ("v1", "v2"):
        v, _, h = volumes.datacenters_volumes_post_with_http_info(
            dc.id,
            ionoscloud.Volume(
                properties=ionoscloud.VolumeProperties(name=name, size=1, type="HDD", licence_type="LINUX")
            ),
        )
        wait(client, h)
        _, _, h = servers.datacenters_servers_volumes_post_with_http_info(dc.id, s.id, ionoscloud.Volume(id=v.id))
        wait(client, h)
    got = servers.datacenters_servers_find_by_id(dc.id, s.id, depth=2)
    slots = [x.properties.pci_slot for x in got.entities.volumes.items + got.entities.nics.items]
    assert len(slots) == 3 and len(set(slots)) == 3, slots


def lans_cidr(client, dc_id, lan_id):
    return ionoscloud.LANsApi(client).datacenters_lans_find_by_id(dc_id, lan_id).properties.ipv4_cidr_block


def test_lan_nics_collection_and_entities(client, emulator):
    dc = new_dc(client)
    s1, s2 = new_server(client, dc.id, "s1"), new_server(client, dc.id, "s2")
    lan, _ = new_lan(client, dc.id, "shared")
    other, _ = new_lan(client, dc.id, "other")
    n1, _ = new_nic(client, dc.id, s1.id, int(lan.id), name="n1")
    n2, _ = new_nic(client, dc.id, s2.id, int(lan.id), name="n2")
    n3, _ = new_nic(client, dc.id, s2.id, int(other.id), name="n3")
    lans = ionoscloud.LANsApi(client)
    listed = lans.datacenters_lans_nics_get(dc.id, lan.id, depth=1)
    assert sorted(x.id for x in listed.items) == sorted([n1.id, n2.id])
    assert sorted(x.properties.name for x in listed.items) == ["n1", "n2"]
    assert [x.id for x in lans.datacenters_lans_nics_get(dc.id, other.id).items] == [n3.id]
    assert lans.datacenters_lans_nics_find_by_id(dc.id, lan.id, n1.id).properties.name == "n1"
    with pytest.raises(ApiException) as e:
        lans.datacenters_lans_nics_find_by_id(dc.id, lan.id, n3.id)  # a NIC of another LAN
    assert e.value.status == 404
    # depth=1 on the LAN lists the NIC references in entities.nics
    got = lans.datacenters_lans_find_by_id(dc.id, lan.id, depth=1)
    assert sorted(x.id for x in got.entities.nics.items) == sorted([n1.id, n2.id])
    assert all(x.type == "nic" for x in got.entities.nics.items)
    with emulator.http() as http:
        raw = http.get(f"/cloudapi/v6/datacenters/{dc.id}/lans/{lan.id}", params={"depth": 0}).json()
        # depth=0: a bare collection reference
        assert raw["entities"]["nics"]["id"] == f"{lan.id}/nics" and "items" not in raw["entities"]["nics"]
        coll = http.get(f"/cloudapi/v6/datacenters/{dc.id}/lans/{lan.id}/nics").json()
        assert coll["type"] == "collection" and coll["offset"] == 0 and "_links" in coll
    # the data center at depth=2 shows the LANs with their properties
    dc_full = ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id, depth=2)
    assert sorted(x.properties.name for x in dc_full.entities.lans.items) == ["other", "shared"]


# -- firewall rules ---------------------------------------------------------------------------------


def nic_with_firewall(client):
    dc = new_dc(client)
    s = new_server(client, dc.id)
    nic, _ = new_nic(client, dc.id, s.id, 1, firewall_active=True)
    return dc, s, nic


def test_firewall_rules_create_patch_delete(client):
    dc, s, nic = nic_with_firewall(client)
    fw = ionoscloud.FirewallRulesApi(client)
    tcp, status = new_rule(
        client,
        dc.id,
        s.id,
        nic.id,
        name="web",
        protocol="TCP",
        port_range_start=80,
        port_range_end=443,
        source_ip="198.51.100.0/24",
    )
    assert status == 202 and tcp.metadata.state == "BUSY" and tcp.type == "firewall-rule"
    icmp, _ = new_rule(client, dc.id, s.id, nic.id, name="ping", protocol="ICMP", icmp_type=8, icmp_code=0)
    got = fw.datacenters_servers_nics_firewallrules_find_by_id(dc.id, s.id, nic.id, tcp.id)
    p = got.properties
    assert (p.protocol, p.port_range_start, p.port_range_end, p.source_ip) == ("TCP", 80, 443, "198.51.100.0/24")
    assert p.type == "INGRESS" and p.ip_version == "IPv4" and got.metadata.state == "AVAILABLE"
    p = fw.datacenters_servers_nics_firewallrules_find_by_id(dc.id, s.id, nic.id, icmp.id).properties
    assert (p.protocol, p.icmp_type, p.icmp_code, p.port_range_start) == ("ICMP", 8, 0, None)
    listed = fw.datacenters_servers_nics_firewallrules_get(dc.id, s.id, nic.id, depth=1)
    assert sorted(x.properties.name for x in listed.items) == ["ping", "web"]
    # PATCH narrows the port range and renames; the protocol stays
    _, status, h = fw.datacenters_servers_nics_firewallrules_patch_with_http_info(
        dc.id, s.id, nic.id, tcp.id, ionoscloud.FirewallruleProperties(name="https", port_range_start=443)
    )
    assert status == 202
    wait(client, h)
    p = fw.datacenters_servers_nics_firewallrules_find_by_id(dc.id, s.id, nic.id, tcp.id).properties
    assert (p.name, p.protocol, p.port_range_start, p.port_range_end) == ("https", "TCP", 443, 443)
    assert p.source_ip == "198.51.100.0/24"
    # DELETE
    _, status, h = fw.datacenters_servers_nics_firewallrules_delete_with_http_info(dc.id, s.id, nic.id, icmp.id)
    assert status == 202
    wait(client, h)
    with pytest.raises(ApiException) as e:
        fw.datacenters_servers_nics_firewallrules_find_by_id(dc.id, s.id, nic.id, icmp.id)
    assert e.value.status == 404
    assert [x.id for x in fw.datacenters_servers_nics_firewallrules_get(dc.id, s.id, nic.id).items] == [tcp.id]


@pytest.mark.parametrize(
    "props",
    [
        pytest.param({"protocol": "TCP", "portRangeStart": 443, "portRangeEnd": 80}, id="start-after-end"),
        pytest.param({"protocol": "ICMP", "portRangeStart": 80, "portRangeEnd": 80}, id="ports-on-icmp"),
        pytest.param({"name": "no-protocol", "portRangeStart": 22, "portRangeEnd": 22}, id="protocol-missing"),
        pytest.param({"protocol": "HTTP"}, id="protocol-enum"),
        pytest.param({"protocol": "TCP", "icmpType": 8}, id="icmp-type-on-tcp"),
        pytest.param({"protocol": "TCP", "portRangeStart": 0, "portRangeEnd": 80}, id="port-zero"),
        pytest.param({"protocol": "TCP", "sourceIp": "not-an-ip"}, id="bad-source-ip"),
    ],
)
def test_firewall_rule_validation_creates_nothing(client, emulator, props):
    dc, s, nic = nic_with_firewall(client)
    path = f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics/{nic.id}/firewallrules"
    with emulator.http() as http:
        r = http.post(path, json={"properties": props})
        assert_error(r, 422)
        assert "Location" not in r.headers
        assert http.get(path).json()["items"] == []


def test_firewall_rule_patch_validation(client, emulator):
    dc, s, nic = nic_with_firewall(client)
    rule, _ = new_rule(client, dc.id, s.id, nic.id, name="ssh", protocol="TCP", port_range_start=22, port_range_end=22)
    path = f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}/nics/{nic.id}/firewallrules/{rule.id}"
    with emulator.http() as http:
        # a PATCH that would leave start > end, and a protocol change, are both refused
        assert_error(http.patch(path, json={"portRangeStart": 100}), 422)
        assert_error(http.patch(path, json={"protocol": "UDP"}), 422)
        p = http.get(path).json()["properties"]
    assert (p["protocol"], p["portRangeStart"], p["portRangeEnd"], p["name"]) == ("TCP", 22, 22, "ssh")


def test_server_depth_4_shows_firewall_rules(client, emulator):
    """What Terraform reads: entities.nics.items[].entities.firewallrules.items[] with full properties."""
    dc, s, nic = nic_with_firewall(client)
    rule, _ = new_rule(
        client, dc.id, s.id, nic.id, name="ssh", protocol="TCP", port_range_start=22, port_range_end=22, type="INGRESS"
    )
    got = ionoscloud.ServersApi(client).datacenters_servers_find_by_id(dc.id, s.id, depth=4)
    nics = got.entities.nics.items
    assert [n.id for n in nics] == [nic.id]
    assert nics[0].properties.firewall_active is True and nics[0].properties.lan == 1
    rules = nics[0].entities.firewallrules.items
    assert [r.id for r in rules] == [rule.id]
    p = rules[0].properties
    assert (p.name, p.protocol, p.port_range_start, p.port_range_end, p.type) == ("ssh", "TCP", 22, 22, "INGRESS")
    assert rules[0].metadata.state == "AVAILABLE"
    with emulator.http() as http:
        raw = http.get(f"/cloudapi/v6/datacenters/{dc.id}/servers/{s.id}", params={"depth": 4}).json()
    raw_nic = raw["entities"]["nics"]["items"][0]
    assert set(raw_nic["entities"]) >= {"firewallrules", "flowlogs", "securitygroups"}
    raw_rule = raw_nic["entities"]["firewallrules"]["items"][0]
    assert raw_rule["type"] == "firewall-rule" and raw_rule["properties"]["portRangeStart"] == 22
    assert raw_rule["href"].endswith(f"/nics/{nic.id}/firewallrules/{rule.id}")
    # depth=2 stops at the NIC: its firewallrules collection is a bare reference
    shallow = ionoscloud.ServersApi(client).datacenters_servers_find_by_id(dc.id, s.id, depth=2)
    assert shallow.entities.nics.items[0].entities.firewallrules.items is None


# -- IP blocks --------------------------------------------------------------------------------------


def test_ipblock_post_returns_ips_and_delete(client):
    ipb = ionoscloud.IPBlocksApi(client)
    block, status, h = ipb.ipblocks_post_with_http_info(
        ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=2, name="pair"))
    )
    # the addresses are allocated already in the 202 body
    assert status == 202 and block.metadata.state == "BUSY" and block.type == "ipblock"
    assert block.properties.size == 2 and len(block.properties.ips) == 2
    assert len(set(block.properties.ips)) == 2
    assert all(documentation_address(ip) for ip in block.properties.ips)
    wait(client, h)
    got = ipb.ipblocks_find_by_id(block.id)
    assert got.properties.ips == block.properties.ips and got.properties.location == "de/fra"
    assert got.properties.ip_consumers == [] and got.metadata.state == "AVAILABLE"
    assert block.id in [x.id for x in ipb.ipblocks_get().items]
    # no other block holds the same addresses
    other, _ = new_ipblock(client, 1)
    assert not set(other.properties.ips) & set(block.properties.ips)
    for b in (block, other):
        _, status, h = ipb.ipblocks_delete_with_http_info(b.id)
        assert status == 202
        wait(client, h)
        with pytest.raises(ApiException) as e:
            ipb.ipblocks_find_by_id(b.id)
        assert e.value.status == 404


def test_ipblock_consumers_and_delete_in_use(client, emulator):
    block, _ = new_ipblock(client, 2, "used")
    dc = new_dc(client, "consumers")
    s = new_server(client, dc.id, "web")
    lan, _ = new_lan(client, dc.id, "inet", public=True)
    ip = block.properties.ips[0]
    nic, _ = new_nic(client, dc.id, s.id, int(lan.id), ips=[ip])
    nics = ionoscloud.NetworkInterfacesApi(client)
    nic_props = nics.datacenters_servers_nics_find_by_id(dc.id, s.id, nic.id).properties
    assert nic_props.ips == [ip]
    ipb = ionoscloud.IPBlocksApi(client)
    consumers = ipb.ipblocks_find_by_id(block.id).properties.ip_consumers
    assert len(consumers) == 1
    c = consumers[0]
    assert (c.ip, c.nic_id, c.server_id, c.datacenter_id, c.mac) == (ip, nic.id, s.id, dc.id, nic_props.mac)
    assert c.server_name == "web" and c.datacenter_name == "consumers"
    # the contract counts it as in use
    assert resource_limits(client).reserved_ips_in_use >= 1
    with emulator.http() as http:
        r = http.delete(f"/cloudapi/v6/ipblocks/{block.id}")
        assert_error(r, 422)
    assert ipb.ipblocks_find_by_id(block.id).metadata.state == "AVAILABLE"
    # once the NIC lets go of the address, the block can be deleted
    _, _, h = nics.datacenters_servers_nics_delete_with_http_info(dc.id, s.id, nic.id)
    wait(client, h)
    assert ipb.ipblocks_find_by_id(block.id).properties.ip_consumers == []
    _, _, h = ipb.ipblocks_delete_with_http_info(block.id)
    wait(client, h)
    with pytest.raises(ApiException) as e:
        ipb.ipblocks_find_by_id(block.id)
    assert e.value.status == 404


def test_ipblock_over_contract_limit(client, emulator):
    before = resource_limits(client)
    reservable, reserved = before.reservable_ips, before.reserved_ips_on_contract
    assert reservable > reserved + 2
    ipb = ionoscloud.IPBlocksApi(client)
    with emulator.http() as http:
        r = http.post("/cloudapi/v6/ipblocks", json={"properties": {"location": "de/fra", "size": reservable + 1}})
        assert_error(r, 422)
    assert resource_limits(client).reserved_ips_on_contract == reserved
    # a block that fits is counted, and the remaining headroom shrinks accordingly
    block, _ = new_ipblock(client, 2)
    assert resource_limits(client).reserved_ips_on_contract == reserved + 2
    with pytest.raises(ApiException) as e:
        ipb.ipblocks_post(
            ionoscloud.IpBlock(
                properties=ionoscloud.IpBlockProperties(location="de/fra", size=reservable - reserved - 1)
            )
        )
    assert e.value.status == 422
    assert resource_limits(client).reserved_ips_on_contract == reserved + 2
    _, _, h = ipb.ipblocks_delete_with_http_info(block.id)
    wait(client, h)
    assert resource_limits(client).reserved_ips_on_contract == reserved


def test_ipblock_list_default_limit_is_100(client, emulator):
    """GET /ipblocks defaults to limit=100 in the spec (unlike the 1000 of the other collections)."""
    block, _ = new_ipblock(client, 1)
    with emulator.http() as http:
        body = http.get("/cloudapi/v6/ipblocks", params={"depth": 1}).json()
        assert body["offset"] == 0 and body["limit"] == 100
        assert block.id in [x["id"] for x in body["items"]]
        assert http.get("/cloudapi/v6/ipblocks", params={"limit": 5}).json()["limit"] == 5
        assert http.get(f"/cloudapi/v6/datacenters/{new_dc(client).id}/lans").json()["limit"] == 1000
    _, _, h = ionoscloud.IPBlocksApi(client).ipblocks_delete_with_http_info(block.id)
    wait(client, h)


def test_ipblock_patch_name_only(client, emulator):
    block, _ = new_ipblock(client, 1, "before")
    ipb = ionoscloud.IPBlocksApi(client)
    _, status, h = ipb.ipblocks_patch_with_http_info(block.id, ionoscloud.IpBlockProperties(name="after"))
    assert status == 202
    wait(client, h)
    got = ipb.ipblocks_find_by_id(block.id)
    assert got.properties.name == "after" and got.properties.ips == block.properties.ips
    with emulator.http() as http:
        assert_error(http.patch(f"/cloudapi/v6/ipblocks/{block.id}", json={"size": 5}), 422)
        assert_error(
            http.post("/cloudapi/v6/ipblocks", json={"properties": {"location": "xx/nowhere", "size": 1}}), 422
        )
    assert ipb.ipblocks_find_by_id(block.id).properties.size == 1
    _, _, h = ipb.ipblocks_delete_with_http_info(block.id)
    wait(client, h)


def test_public_addresses_come_round_again_and_run_out_in_the_configured_ranges(make_emulator):
    """--public-ip-ranges bounds what is handed out: a freed address is handed out again, and a reservation
    the ranges cannot hold is refused with 422 (nothing outside them is ever used)."""
    emu = make_emulator("ranges", args=("--public-ip-ranges", "192.0.2.0/30"))  # two hosts: .1 and .2
    with sdk_client(emu) as c:
        ipb = ionoscloud.IPBlocksApi(c)

        def reserve(size):
            block, _, h = ipb.ipblocks_post_with_http_info(
                ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=size))
            )
            wait(c, h)
            return block

        first = reserve(2)
        assert sorted(first.properties.ips) == ["192.0.2.1", "192.0.2.2"]
        with pytest.raises(ApiException) as e:
            reserve(1)
        assert e.value.status == 422 and "192.0.2.0/30" in e.value.body
        _, _, h = ipb.ipblocks_delete_with_http_info(first.id)
        wait(c, h)
        again = reserve(1)
        assert again.properties.ips[0] in ("192.0.2.1", "192.0.2.2")
