"""End-to-end: VPN Gateway (API 1.0.0) through the unmodified `ionoscloud_vpn` SDK against a strict emulator:
WireGuard gateways on a Cloud API data center's LAN with a public address from an IP block (a generated or
given X25519 key pair, the public key shown, the private key never), their peers, IPsec gateways and tunnels
with their IKE/ESP proposals and pre-shared key, PUT ensure and replace, regional hosts and privileges; and
each kind of bad input a 4xx in the product envelope with nothing created."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import ionoscloud_vpn as vpn
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from ionoscloud_vpn.exceptions import ApiException

from support import OWNER, bearer, datacenter_with_lan, http_client

PREFIX = "/vpn/de-fra"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


@pytest.fixture
def api(emulator, token):
    with vpn.ApiClient(vpn.Configuration(host=emulator.url + PREFIX, token=token)) as c:
        yield c


def ip_block(emu, location="de/fra") -> str:
    r = http_client().post(emu.cloud + "/ipblocks", auth=OWNER, json={"properties": {"location": location, "size": 1}})
    assert r.status_code == 202, r.text
    return r.json()["properties"]["ips"][0]


def wg_key() -> tuple[str, X25519PrivateKey]:
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(public).decode(), private


def refused(call, *args, **kw) -> tuple[int, str]:
    with pytest.raises(ApiException) as e:
        call(*args, **kw)
    body = json.loads(e.value.body)
    assert body["httpStatus"] == e.value.status and isinstance(body["messages"][0]["errorCode"], str)
    return e.value.status, body["messages"][0]["message"]


def wireguard(dc, lan, ip, **kw):
    fields = dict(
        name="office",
        gateway_ip=ip,
        interface_ipv4_cidr="172.16.0.1/24",
        connections=[vpn.Connection(datacenter_id=dc, lan_id=lan, ipv4_cidr="10.7.0.10/24")],
    )
    fields.update(kw)
    return vpn.WireguardGateway(**fields)


@pytest.fixture
def network(emulator):
    dc, lan = datacenter_with_lan(emulator)
    return dc, lan, ip_block(emulator)


def test_wireguard_gateway_and_peers(api, emulator, network):
    dc, lan, ip = network
    gateways, peers = vpn.WireguardGatewaysApi(api), vpn.WireguardPeersApi(api)
    r = gateways.wireguardgateways_post_with_http_info(
        vpn.WireguardGatewayCreate(properties=wireguard(dc, lan, ip, listen_port=51821))
    )
    assert r.status_code == 201
    gw = r.data
    assert gw.metadata.status == "PROVISIONING" and gw.type == "wireguardgateway"
    assert gw.href == f"/wireguardgateways/{gw.id}"
    gw = gateways.wireguardgateways_find_by_id(gw.id)
    assert gw.metadata.status == "AVAILABLE"
    assert gw.properties.private_key is None and gw.properties.listen_port == 51821
    assert gw.properties.tier == "STANDARD" and gw.properties.maintenance_window.day_of_the_week
    # the public key is an X25519 key (PEM), made for a gateway that was given no private key
    public = serialization.load_pem_public_key(gw.metadata.public_key.encode())
    assert isinstance(public, X25519PublicKey)
    assert gw.id in [g.id for g in gateways.wireguardgateways_get().items]

    key, _ = wg_key()
    peer = vpn.WireguardPeer(
        name="laptop",
        public_key=key,
        allowed_ips=["10.7.0.0/24", "2001:db8::/64"],
        endpoint=vpn.WireguardEndpoint(host="203.0.113.9"),
    )
    r = peers.wireguardgateways_peers_post_with_http_info(gw.id, vpn.WireguardPeerCreate(properties=peer))
    assert r.status_code == 201 and r.data.type == "wireguardpeer"
    pid = r.data.id
    assert r.data.href == f"/wireguardgateways/{gw.id}/peers/{pid}"
    got = peers.wireguardgateways_peers_find_by_id(gw.id, pid)
    assert got.metadata.status == "AVAILABLE" and got.properties.endpoint.port == 51820
    assert got.properties.public_key == key
    # the same key twice in one gateway, a key that is not 32 bytes, a bad CIDR: 422, nothing made
    assert refused(peers.wireguardgateways_peers_post, gw.id, vpn.WireguardPeerCreate(properties=peer))[0] == 422
    for bad in (
        peer.model_copy(update={"public_key": base64.b64encode(b"short").decode()}),
        peer.model_copy(update={"public_key": "not base64!"}),
        peer.model_copy(update={"public_key": wg_key()[0], "allowed_ips": ["10.7.0.0/33"]}),
        peer.model_copy(update={"public_key": wg_key()[0], "allowed_ips": ["10.7.0.1"]}),
    ):
        status, message = refused(peers.wireguardgateways_peers_post, gw.id, vpn.WireguardPeerCreate(properties=bad))
        assert status == 422, message
    assert [p.id for p in peers.wireguardgateways_peers_get(gw.id).items] == [pid]

    # PUT replaces the peer; PUT under a new id creates one
    new_key, _ = wg_key()
    replaced = peers.wireguardgateways_peers_put(
        gw.id, pid, vpn.WireguardPeerEnsure(id=pid, properties=peer.model_copy(update={"public_key": new_key}))
    )
    assert replaced.properties.public_key == new_key
    other = str(uuid.uuid4())
    r = peers.wireguardgateways_peers_put_with_http_info(
        gw.id, other, vpn.WireguardPeerEnsure(id=other, properties=peer.model_copy(update={"name": "phone"}))
    )
    assert r.status_code == 201 and r.data.id == other
    peers.wireguardgateways_peers_delete(gw.id, other)
    assert refused(peers.wireguardgateways_peers_find_by_id, gw.id, other)[0] == 404

    # a gateway given its private key shows that key's public key; the key itself never comes back
    given = X25519PrivateKey.generate()
    raw = given.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    replaced_gw = gateways.wireguardgateways_put(
        gw.id,
        vpn.WireguardGatewayEnsure(
            id=gw.id, properties=wireguard(dc, lan, ip, name="office-2", private_key=base64.b64encode(raw).decode())
        ),
    )
    want = given.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert replaced_gw.metadata.public_key == want.decode() and replaced_gw.properties.name == "office-2"
    raw_body = httpx.get(emulator.url + PREFIX + f"/wireguardgateways/{gw.id}", auth=OWNER).text
    assert base64.b64encode(raw).decode() not in raw_body and "privateKey" not in raw_body

    gateways.wireguardgateways_delete(gw.id)
    assert refused(gateways.wireguardgateways_find_by_id, gw.id)[0] == 404
    assert refused(peers.wireguardgateways_peers_get, gw.id)[0] == 404


def test_wireguard_bad_input_creates_nothing(api, emulator, network):
    dc, lan, ip = network
    gateways = vpn.WireguardGatewaysApi(api)
    before = len(gateways.wireguardgateways_get().items)
    _, public_lan = datacenter_with_lan(emulator, public=True)
    for props in (
        wireguard(dc, lan, ip, private_key="c2hvcnQ="),  # not 32 bytes
        wireguard(dc, lan, ip, interface_ipv4_cidr=None),  # neither interface address
        wireguard(dc, lan, "198.51.100.77"),  # not in an IP block of the contract
        wireguard(str(uuid.uuid4()), lan, ip),  # no such data center
        wireguard(dc, "99", ip),  # no such LAN
        wireguard(dc, lan, ip, tier="GOLD"),
        wireguard(dc, lan, ip, connections=[vpn.Connection(datacenter_id=dc, lan_id=lan, ipv4_cidr="10.7.0.0/33")]),
    ):
        status, message = refused(gateways.wireguardgateways_post, vpn.WireguardGatewayCreate(properties=props))
        assert status == 422, message
    other_dc, other_lan = datacenter_with_lan(emulator, location="us/las")
    status, message = refused(
        gateways.wireguardgateways_post, vpn.WireguardGatewayCreate(properties=wireguard(other_dc, other_lan, ip))
    )
    assert status == 422 and "us/las" in message
    assert len(gateways.wireguardgateways_get().items) == before


def tunnel(**kw):
    fields = dict(
        name="site-b",
        remote_host="vpn.example.com",
        auth=vpn.IPSecTunnelAuth(method="PSK", psk=vpn.IPSecPSK(key="X2wosbaw74M8hQGbK3jCCaEusR6CCFRa")),
        ike=vpn.IKEEncryption(encryption_algorithm="AES256-GCM-16", diffie_hellman_group="19-ECP256"),
        esp=vpn.ESPEncryption(integrity_algorithm="SHA384", lifetime=1800),
        cloud_network_cidrs=["10.7.0.0/24"],
        peer_network_cidrs=["192.168.50.0/24"],
    )
    fields.update(kw)
    return vpn.IPSecTunnel(**fields)


def test_ipsec_gateway_and_tunnels(api, emulator, network):
    dc, lan, ip = network
    gateways, tunnels = vpn.IPSecGatewaysApi(api), vpn.IPSecTunnelsApi(api)
    gid = str(uuid.uuid4())
    props = vpn.IPSecGateway(
        name="hq",
        gateway_ip=ip,
        connections=[vpn.Connection(datacenter_id=dc, lan_id=lan, ipv4_cidr="10.7.0.20/24")],
        tier="ENHANCED",
    )
    r = gateways.ipsecgateways_put_with_http_info(gid, vpn.IPSecGatewayEnsure(id=gid, properties=props))
    assert r.status_code == 201 and r.data.id == gid and r.data.type == "ipsecgateway"
    gw = gateways.ipsecgateways_find_by_id(gid)
    assert gw.metadata.status == "AVAILABLE" and gw.properties.version == "IKEv2" and gw.properties.tier == "ENHANCED"
    # its LAN address is taken in that LAN
    status, message = refused(
        vpn.IPSecGatewaysApi(api).ipsecgateways_post,
        vpn.IPSecGatewayCreate(properties=props.model_copy(update={"gateway_ip": ip_block(emulator)})),
    )
    assert status == 422 and "10.7.0.20" in message and gid in message
    # its address is taken now: another gateway may not use it
    status, message = refused(
        vpn.WireguardGatewaysApi(api).wireguardgateways_post,
        vpn.WireguardGatewayCreate(properties=wireguard(dc, lan, ip)),
    )
    assert status == 422 and gid in message

    r = tunnels.ipsecgateways_tunnels_post_with_http_info(gid, vpn.IPSecTunnelCreate(properties=tunnel()))
    assert r.status_code == 201 and r.data.type == "ipsectunnel"
    tid = r.data.id
    t = tunnels.ipsecgateways_tunnels_find_by_id(gid, tid)
    assert t.metadata.status == "AVAILABLE"
    assert t.properties.auth.method == "PSK" and t.properties.auth.psk is None  # the key is never shown
    assert t.properties.ike.integrity_algorithm == "SHA256" and t.properties.ike.lifetime == 86400  # defaults
    assert t.properties.ike.encryption_algorithm == "AES256-GCM-16"
    assert t.properties.esp.diffie_hellman_group == "16-MODP4096" and t.properties.esp.lifetime == 1800
    raw_body = httpx.get(emulator.url + PREFIX + f"/ipsecgateways/{gid}/tunnels/{tid}", auth=OWNER).text
    assert "X2wosbaw74M8hQGbK3jCCaEusR6CCFRa" not in raw_body

    # a replacement without a key keeps the one it had
    replaced = tunnels.ipsecgateways_tunnels_put(
        gid, tid, vpn.IPSecTunnelEnsure(id=tid, properties=tunnel(auth=vpn.IPSecTunnelAuth(method="PSK"), name="b2"))
    )
    assert replaced.properties.name == "b2"

    for bad in (
        tunnel(ike=vpn.IKEEncryption(encryption_algorithm="DES")),
        tunnel(esp=vpn.ESPEncryption(diffie_hellman_group="2-MODP1024")),
        tunnel(esp=vpn.ESPEncryption(integrity_algorithm="MD5")),
        tunnel(auth=vpn.IPSecTunnelAuth(method="PSK")),  # no key
        tunnel(auth=vpn.IPSecTunnelAuth(method="CERT", psk=vpn.IPSecPSK(key="k"))),
        tunnel(peer_network_cidrs=["192.168.50.0"]),
        tunnel(remote_host="not a host"),
    ):
        status, message = refused(tunnels.ipsecgateways_tunnels_post, gid, vpn.IPSecTunnelCreate(properties=bad))
        assert status == 422, message
    assert [x.id for x in tunnels.ipsecgateways_tunnels_get(gid).items] == [tid]
    status, _ = refused(
        gateways.ipsecgateways_post,
        vpn.IPSecGatewayCreate(properties=props.model_copy(update={"version": "IKEv1"})),
    )
    assert status == 422

    tunnels.ipsecgateways_tunnels_delete(gid, tid)
    gateways.ipsecgateways_delete(gid)
    assert refused(gateways.ipsecgateways_find_by_id, gid)[0] == 404
    assert gid not in [g.id for g in gateways.ipsecgateways_get().items]


def test_regions_and_privileges(api, emulator, token):
    for region in ("de-txl", "us-mci", "fr-par"):
        with vpn.ApiClient(vpn.Configuration(host=f"{emulator.url}/vpn/{region}", token=token)) as c:
            assert vpn.IPSecGatewaysApi(c).ipsecgateways_get().items == []
    r = httpx.get(emulator.url + "/ipsecgateways", auth=OWNER, headers={"Host": "vpn.gb-bhx.ionos.com"})
    assert r.status_code == 200 and r.json()["type"] == "collection"
    assert httpx.get(emulator.url + PREFIX + "/wireguardgateways").status_code == 401
    email, pw = f"vpn-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    r = http_client().post(
        emulator.cloud + "/um/users",
        auth=OWNER,
        json={
            "properties": {"firstname": "V", "lastname": "P", "email": email, "password": pw, "administrator": False}
        },
    )
    assert r.status_code == 202, r.text
    r = httpx.get(emulator.url + PREFIX + "/wireguardgateways", auth=(email, pw))
    assert r.status_code == 403 and "accessAndManageVpn" in r.json()["messages"][0]["message"]


def test_endpoints_and_config_file(emulator):
    from ionos_emulator.endpoints import config_file

    endpoints = httpx.get(emulator.url + "/_emulator/endpoints").json()
    assert len(endpoints["vpn"]) == 9 and endpoints["vpn"]["us/mci"] == emulator.url + "/vpn/us-mci"
    assert endpoints["cert"] == {"de/fra": emulator.url + "/certmanager/de-fra"}
    assert endpoints["certmanager-v1"] == {"global": emulator.url + "/certificatemanager"}
    text = config_file(emulator.app.apis, emulator.url, user=OWNER[0], password=OWNER[1])
    assert "- name: vpn\n" in text and "- name: cert\n" in text
    assert f'"{emulator.url}/vpn/gb-lhr"' in text
