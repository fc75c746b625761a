"""End-to-end: Cloud DNS through the unmodified `ionoscloud_dns` SDK against a strict emulator process, and
its data plane: the authoritative DNS server (ionos_emulator.dataplanes.dns) queried with dnspython.

The server runs in this test process on an asyncio loop of its own, reading the emulator process's data
dir through a second Emulator object (until the emulator starts it itself). Zone transfers of secondary
zones go from the emulator process to that server (IONOS_EMULATOR_DNS_TRANSFER_PORT)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import threading
import time
import uuid

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import httpx
import ionoscloud
import ionoscloud_dns as sdk
import pytest
from ionoscloud_dns.exceptions import ApiException

from conftest import _RUNNING, sdk_client
from ionos_emulator.app import Emulator as InProcessEmulator
from ionos_emulator.dataplanes.dnsserver import start_dns_server
from ionos_emulator.settings import Settings
from support import OWNER, Emulator, udp_and_tcp_port, wait

PREFIX = "/dns/de-fra"
TRANSFER_PORT = "IONOS_EMULATOR_DNS_TRANSFER_PORT"
OTHER = (31000077, "dns-other@example.com", "other-secret")  # a second contract


class Env:
    def __init__(self, emu: Emulator, dns_port: int):
        self.emu, self.dns_port = emu, dns_port
        self.token = token(emu, OWNER)
        self.api = dns_client(emu, self.token)

    def query(
        self, name: str, rdtype: str, *, tcp: bool = False, want_dnssec: bool = False, use_edns=None
    ) -> dns.message.Message:
        q = dns.message.make_query(name, rdtype, want_dnssec=want_dnssec, use_edns=use_edns)
        send = dns.query.tcp if tcp else dns.query.udp
        return send(q, "127.0.0.1", port=self.dns_port, timeout=3)


def token(emu: Emulator, cred) -> str:
    return httpx.get(emu.auth + "/tokens/generate", auth=cred).json()["token"]


def dns_client(emu: Emulator, bearer: str) -> sdk.ApiClient:
    return sdk.ApiClient(sdk.Configuration(host=emu.url + PREFIX, token=bearer))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A strict emulator process and, on the same data dir, the DNS server in this process."""
    data = tmp_path_factory.mktemp("dns") / "data"
    emu = Emulator(data)
    # transfers from this server are allowed to loopback here (the secondary zones below and the AXFR tests);
    # by default it refuses them (tests/test_reliability.py)
    local = InProcessEmulator(Settings(data_dir=str(data), database=emu.database, dns_transfer_allow="127.0.0.1"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_dns_server(local, "127.0.0.1", 0), loop).result(10)
    # transfers, from the emulator process and from the server here (on NOTIFY), ask that server
    emu.env = {TRANSFER_PORT: str(server.port)}
    saved = os.environ.get(TRANSFER_PORT)
    os.environ[TRANSFER_PORT] = str(server.port)
    emu.start()
    _RUNNING.append(emu)  # labels and spec violations like the shared emulator
    httpx.post(
        emu.url + "/_emulator/contracts", json=dict(zip(("contractNumber", "user", "password"), OTHER, strict=True))
    )
    e = Env(emu, server.port)
    e.server = server
    yield e
    _RUNNING.remove(emu)
    emu.stop()
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    local.store.close()
    if saved is None:
        os.environ.pop(TRANSFER_PORT, None)
    else:
        os.environ[TRANSFER_PORT] = saved


def zone_name() -> str:
    return f"z{uuid.uuid4().hex[:10]}.example"


def new_zone(env: Env, name: str | None = None, **kw) -> sdk.ZoneRead:
    z = sdk.ZonesApi(env.api).zones_post(sdk.ZoneCreate(properties=sdk.Zone(zone_name=name or zone_name(), **kw)))
    return sdk.ZonesApi(env.api).zones_find_by_id(z.id)  # instant timing: AVAILABLE at the first GET


def add(env_or_client, zone_id: str, name: str, rtype: str, content: str, **kw) -> sdk.RecordRead:
    api = sdk.RecordsApi(getattr(env_or_client, "api", env_or_client))
    r = api.zones_records_post(
        zone_id, sdk.RecordCreate(properties=sdk.Record(name=name, type=rtype, content=content, **kw))
    )
    return api.zones_records_find_by_id(zone_id, r.id)


def refused(fn, *args, status: int, **kw) -> str:
    with pytest.raises(ApiException) as e:
        fn(*args, **kw)
    assert e.value.status == status, e.value.body
    return e.value.body


def texts(section) -> list[str]:
    return sorted(rd.to_text() for rrset in section for rd in rrset)


# -- control plane -----------------------------------------------------------------------------------


def test_zone_lifecycle(env):
    zones = sdk.ZonesApi(env.api)
    name = zone_name()
    resp = zones.zones_post_with_http_info(sdk.ZoneCreate(properties=sdk.Zone(zone_name=name, description="shop")))
    created = resp.data
    # the real Cloud DNS answers the creation with the zone AVAILABLE already (issue 9, rule 7; this test
    # asserted PROVISIONING before)
    assert resp.status_code == 202 and created.metadata.state == "AVAILABLE"
    assert created.href == f"/zones/{created.id}" and created.metadata.nameservers[0] == "ns-ic.ui-dns.com"
    got = zones.zones_find_by_id(created.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.enabled is True
    assert got.properties.description == "shop"
    assert [z.id for z in zones.zones_get(filter_zone_name=name[:8]).items] == [created.id]
    assert created.id in [z.id for z in zones.zones_get(filter_state="AVAILABLE", limit=1000).items]
    # the zone name is unique per contract, secondary zones included
    body = refused(zones.zones_post, sdk.ZoneCreate(properties=sdk.Zone(zone_name=name.upper())), status=409)
    assert created.id in body
    refused(
        sdk.SecondaryZonesApi(env.api).secondaryzones_post,
        sdk.SecondaryZoneCreate(properties=sdk.SecondaryZone(zone_name=name, primary_ips=["192.0.2.53"])),
        status=409,
    )
    refused(zones.zones_post, sdk.ZoneCreate(properties=sdk.Zone(zone_name="not a name")), status=422)
    # PUT replaces: what is not sent falls back to the defaults
    put = zones.zones_put(created.id, sdk.ZoneEnsure(properties=sdk.Zone(zone_name=name, enabled=False)))
    # a description never sent is rendered as "" (ionosctl dereferences it; was None before)
    assert put.metadata.state == "AVAILABLE" and put.properties.description == ""
    assert zones.zones_find_by_id(created.id).properties.enabled is False
    body = refused(
        zones.zones_put, created.id, sdk.ZoneEnsure(properties=sdk.Zone(zone_name="other.example")), status=422
    )
    assert "zoneName" in body
    # PUT with a new id creates the zone under that id
    new_id = str(uuid.uuid4())
    assert zones.zones_put(new_id, sdk.ZoneEnsure(properties=sdk.Zone(zone_name=zone_name()))).id == new_id
    zones.zones_delete(created.id)
    refused(zones.zones_find_by_id, created.id, status=404)
    refused(zones.zones_delete, created.id, status=404)


def test_records_crud_conflicts_and_listing(env):
    zone = new_zone(env)
    api = sdk.RecordsApi(env.api)
    a = add(env, zone.id, "www", "A", "192.0.2.10", ttl=120)
    assert a.metadata.state == "AVAILABLE" and a.metadata.fqdn == f"www.{zone.properties.zone_name}"
    assert a.metadata.zone_id == zone.id and a.href == f"/zones/{zone.id}/records/{a.id}"
    add(env, zone.id, "www", "A", "192.0.2.11")  # a second address of the same name is fine
    add(env, zone.id, "www", "AAAA", "2001:db8::10")
    add(env, zone.id, "", "MX", "mail.example.net", priority=10)
    # content is checked per type, naming the attribute
    for props, attr in (
        (sdk.Record(name="x", type="A", content="2001:db8::1"), "content"),
        (sdk.Record(name="x", type="AAAA", content="192.0.2.1"), "content"),
        (sdk.Record(name="x", type="MX", content="mail.example.net"), "priority"),
        (sdk.Record(name="x", type="CNAME", content="not a host"), "content"),
        (sdk.Record(name="x", type="SRV", content="5060 sip.example.net", priority=1), "content"),
        (sdk.Record(name="x", type="CAA", content="0 issue"), "content"),
        (sdk.Record(name="bad name", type="A", content="192.0.2.1"), "name"),
    ):
        assert attr in refused(api.zones_records_post, zone.id, sdk.RecordCreate(properties=props), status=422)
    r = httpx.post(
        f"{env.emu.url}{PREFIX}/zones/{zone.id}/records",
        auth=OWNER,
        json={"properties": {"name": "x", "type": "A", "content": "192.0.2.1", "ttl": 30}},
    )
    assert r.status_code == 422 and "ttl" in r.json()["messages"][0]["message"]
    # conflicts: CNAME beside other records, the same record twice, two SPF records
    cname = sdk.RecordCreate(properties=sdk.Record(name="www", type="CNAME", content="web.example.net"))
    assert "CNAME" in refused(api.zones_records_post, zone.id, cname, status=409)
    add(env, zone.id, "alias", "CNAME", "web.example.net")
    refused(
        api.zones_records_post,
        zone.id,
        sdk.RecordCreate(properties=sdk.Record(name="alias", type="TXT", content="x")),
        status=409,
    )
    refused(
        api.zones_records_post,
        zone.id,
        sdk.RecordCreate(properties=sdk.Record(name="www", type="A", content="192.0.2.10")),
        status=409,
    )
    add(env, zone.id, "", "TXT", "v=spf1 -all")
    refused(
        api.zones_records_post,
        zone.id,
        sdk.RecordCreate(properties=sdk.Record(name="@", type="TXT", content="v=spf1 mx -all")),
        status=409,
    )
    # PUT replaces a record (and may keep its own content), or creates one under a new id
    put = api.zones_records_put(
        zone.id, a.id, sdk.RecordEnsure(properties=sdk.Record(name="www", type="A", content="192.0.2.12", ttl=300))
    )
    assert put.metadata.state == "AVAILABLE" and put.properties.content == "192.0.2.12"
    rid = str(uuid.uuid4())
    assert (
        api.zones_records_put(
            zone.id, rid, sdk.RecordEnsure(properties=sdk.Record(name="api", type="A", content="192.0.2.20"))
        ).id
        == rid
    )
    # the contract-wide listing filters exactly by type and zone
    listed = api.records_get(filter_zone_id=zone.id, filter_type="A")
    assert sorted(x.properties.content for x in listed.items) == ["192.0.2.11", "192.0.2.12", "192.0.2.20"]
    assert [x.properties.type for x in api.records_get(filter_zone_id=zone.id, filter_name="ali").items] == ["CNAME"]
    assert len(api.zones_records_get(zone.id).items) == 7
    api.zones_records_delete(zone.id, a.id)
    refused(api.zones_records_find_by_id, zone.id, a.id, status=404)
    # deleting the zone takes its records
    sdk.ZonesApi(env.api).zones_delete(zone.id)
    assert api.records_get(filter_zone_id=zone.id).items == []


def test_quota_counts_the_contract(env):
    before = sdk.QuotaApi(env.api).quota_get()
    assert before.quota_limits.zones == 50000 and before.quota_limits.reverse_records == 100000
    zone = new_zone(env)
    add(env, zone.id, "q", "TXT", "quota")
    after = sdk.QuotaApi(env.api).quota_get()
    assert after.quota_usage.zones == before.quota_usage.zones + 1
    assert after.quota_usage.records == before.quota_usage.records + 1


def test_zone_file_import_replaces_records_and_export(env):
    zone = new_zone(env)
    name = zone.properties.zone_name
    old = add(env, zone.id, "old", "A", "192.0.2.99")
    text = f"""$ORIGIN {name}.
$TTL 3600
@  86400  IN  SOA  ns.other.example. hostmaster.other.example. 1 7200 3600 1209600 300
@  7200  IN  NS  ns.other.example.
www  300  IN  A  192.0.2.1
@  IN  MX  10 mail.{name}.
_sip._tcp  IN  SRV  10 60 5060 sip.{name}.
txt  IN  TXT  "hello world"
@  IN  ALIAS  lb.example.net.
"""
    imported = sdk.ZoneFilesApi(env.api).zones_zonefile_put(zone.id, text)
    got = {(r.properties.name, r.properties.type): r.properties for r in imported.items}
    assert set(got) == {("www", "A"), ("", "MX"), ("_sip._tcp", "SRV"), ("txt", "TXT"), ("", "ALIAS")}
    assert got[("", "MX")].priority == 10 and got[("", "MX")].content == f"mail.{name}"
    assert got[("_sip._tcp", "SRV")].content == f"60 5060 sip.{name}" and got[("txt", "TXT")].content == "hello world"
    refused(sdk.RecordsApi(env.api).zones_records_find_by_id, zone.id, old.id, status=404)
    # the export is a BIND zone file with the zone's SOA and NS and the records
    raw = sdk.ZoneFilesApi(env.api).zones_zonefile_get_with_http_info(zone.id).raw_data.decode()
    assert f"$ORIGIN {name}." in raw and "IN  SOA  ns-ic.ui-dns.com." in raw
    assert "www  300  IN  A  192.0.2.1" in raw and '"hello world"' in raw and "IN  NS  ns-ic.ui-dns.de." in raw
    assert "old" not in raw
    r = httpx.put(
        f"{env.emu.url}{PREFIX}/zones/{zone.id}/zonefile",
        auth=OWNER,
        content="www IN BOGUS 1",
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 400 and r.json()["messages"][0]["message"]


def test_reverse_records_need_an_owned_ip(env):
    with sdk_client(env.emu) as cloud:
        block, _, h = ionoscloud.IPBlocksApi(cloud).ipblocks_post_with_http_info(
            ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=2))
        )
        wait(cloud, h)
        ips = ionoscloud.IPBlocksApi(cloud).ipblocks_find_by_id(block.id).properties.ips
    api = sdk.ReverseRecordsApi(env.api)
    resp = api.reverserecords_post_with_http_info(
        sdk.ReverseRecordCreate(properties=sdk.ReverseRecord(name="mail.example.com", ip=ips[0]))
    )
    rec = resp.data
    assert resp.status_code == 201 and rec.href == f"/reverserecords/{rec.id}" and rec.properties.ip == ips[0]
    refused(
        api.reverserecords_post,
        sdk.ReverseRecordCreate(properties=sdk.ReverseRecord(name="again.example.com", ip=ips[0])),
        status=409,
    )
    assert "not available" in refused(
        api.reverserecords_post,
        sdk.ReverseRecordCreate(properties=sdk.ReverseRecord(name="x.example.com", ip="198.51.100.200")),
        status=409,
    )
    refused(
        api.reverserecords_post,
        sdk.ReverseRecordCreate(properties=sdk.ReverseRecord(name="x.example.com", ip="999.1.1.1")),
        status=422,
    )
    assert [r.id for r in api.reverserecords_get(filter_record_ip=[ips[0]]).items] == [rec.id]
    assert api.reverserecords_get(filter_record_ip=[ips[1]]).items == []
    put = api.reverserecords_put(
        rec.id,
        sdk.ReverseRecordEnsure(properties=sdk.ReverseRecord(name="smtp.example.com", ip=ips[0], description="mail")),
    )
    assert put.properties.name == "smtp.example.com" and put.properties.description == "mail"
    # the DNS server answers the PTR query for the address
    ans = env.query(dns.reversename.from_address(ips[0]).to_text(), "PTR")
    assert texts(ans.answer) == ["smtp.example.com."] and ans.flags & dns.flags.AA
    api.reverserecords_delete(rec.id)
    refused(api.reverserecords_find_by_id, rec.id, status=404)
    assert env.query(dns.reversename.from_address(ips[0]).to_text(), "PTR").rcode() == dns.rcode.REFUSED


def test_dnssec_keys_are_served_and_sign_answers(env):
    zone = new_zone(env)
    name = zone.properties.zone_name
    add(env, zone.id, "www", "A", "192.0.2.7")
    api = sdk.DNSSECApi(env.api)
    params = sdk.DnssecKeyParameters(
        key_parameters=sdk.KeyParameters(algorithm="RSASHA256", ksk_bits=2048, zsk_bits=1024),
        nsec_parameters=sdk.NsecParameters(nsec_mode="NSEC3", nsec3_iterations=0, nsec3_salt_bits=64),
        validity=90,
    )
    refused(
        api.zones_keys_post,
        zone.id,
        sdk.DnssecKeyCreate(
            properties=sdk.DnssecKeyParameters(
                key_parameters=sdk.KeyParameters(algorithm="RSASHA256", ksk_bits=1024, zsk_bits=2048),
                nsec_parameters=params.nsec_parameters,
                validity=90,
            )
        ),
        status=422,
    )
    created = api.zones_keys_post(zone.id, sdk.DnssecKeyCreate(properties=params))
    assert created.type == "dnsseckeys" and created.properties.key_parameters.ksk_bits == 2048
    refused(api.zones_keys_post, zone.id, sdk.DnssecKeyCreate(properties=params), status=409)
    keys = api.zones_keys_get(zone.id)
    assert keys.metadata.zone_id == zone.id and keys.properties.nsec_parameters.nsec_mode == "NSEC3"
    by_flags = {k.key_data.flags: k for k in keys.metadata.items}
    assert set(by_flags) == {256, 257}
    assert sdk.ZonesApi(env.api).zones_find_by_id(zone.id).metadata.state == "AVAILABLE"
    # the DNS server serves the DNSKEYs; key tags and the DS digest derive from them
    served = env.query(name, "DNSKEY", tcp=True)
    (dnskeys,) = served.answer
    ksk = next(k for k in dnskeys if k.flags == 257)
    assert by_flags[257].key_tag == dns.dnssec.key_id(ksk)
    assert by_flags[257].digest == dns.dnssec.make_ds(name + ".", ksk, "SHA256").digest.hex().upper()
    assert by_flags[257].key_data.pub_key == base64.b64encode(ksk.key).decode()
    # a DO query gets RRSIGs that validate with the served keys
    signed = env.query(f"www.{name}", "A", tcp=True, want_dnssec=True)
    a = next(r for r in signed.answer if r.rdtype == dns.rdatatype.A)
    sig = next(r for r in signed.answer if r.rdtype == dns.rdatatype.RRSIG)
    dns.dnssec.validate(a, sig, {dns.name.from_text(name + "."): dnskeys})
    api.zones_keys_delete(zone.id)
    assert api.zones_keys_get(zone.id).metadata.items == []
    refused(api.zones_keys_delete, zone.id, status=404)
    sdk.ZonesApi(env.api).zones_find_by_id(zone.id)
    assert env.query(name, "DNSKEY").answer == []


def test_secondary_zone_transfers_from_its_primary(env):
    """Contract B serves a primary zone; contract A's secondary zone of the same name transfers it by AXFR
    from the DNS server (here the primary), and reports a primary that does not answer as failed."""
    name = zone_name()
    other = dns_client(env.emu, token(env.emu, OTHER[1:]))
    primary = sdk.ZonesApi(other).zones_post(sdk.ZoneCreate(properties=sdk.Zone(zone_name=name)))
    sdk.ZonesApi(other).zones_find_by_id(primary.id)
    add(other, primary.id, "www", "A", "192.0.2.80")
    add(other, primary.id, "", "MX", f"mail.{name}", priority=5)
    api = sdk.SecondaryZonesApi(env.api)
    sz = api.secondaryzones_post(
        sdk.SecondaryZoneCreate(
            properties=sdk.SecondaryZone(zone_name=name, description="copy", primary_ips=["127.0.0.1", "127.0.0.2"])
        )
    )
    assert sz.metadata.nameservers[0] == "nscs.ui-dns.com" and sz.properties.primary_ips == ["127.0.0.1", "127.0.0.2"]
    assert api.secondaryzones_find_by_id(sz.id).metadata.state == "AVAILABLE"
    status = transferred(api, sz.id)
    assert status["127.0.0.1"].status == "OK", status
    assert status["127.0.0.2"].status == "FAILED" and status["127.0.0.2"].error_message
    records = sdk.RecordsApi(env.api).secondaryzones_records_get(sz.id)
    assert records.metadata.primary_ips == ["127.0.0.1", "127.0.0.2"]
    got = {(r.properties.name, r.properties.type, r.properties.content) for r in records.items}
    assert ("www", "A", "192.0.2.80") in got and ("", "MX", f"mail.{name}") in got
    assert all(r.metadata.zone_id == sz.id and r.metadata.root_name == name for r in records.items)
    assert api.secondaryzones_axfr_put_with_http_info(sz.id).status_code == 202
    put = api.secondaryzones_put(
        sz.id, sdk.SecondaryZoneEnsure(properties=sdk.SecondaryZone(zone_name=name, primary_ips=["127.0.0.1"]))
    )
    assert put.properties.description == ""
    assert set(transferred(api, sz.id)) == {"127.0.0.1"}
    # a change at the primary and a NOTIFY from it: the secondary transfers again
    add(other, primary.id, "new", "TXT", "after notify")
    notify = dns.message.make_query(name, "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    notify.flags |= dns.flags.AA
    ack = dns.query.udp(notify, "127.0.0.1", port=env.dns_port, timeout=3)
    assert ack.rcode() == dns.rcode.NOERROR and ack.opcode() == dns.opcode.NOTIFY
    deadline = time.time() + 10
    while time.time() < deadline and "new" not in {
        r.properties.name for r in sdk.RecordsApi(env.api).secondaryzones_records_get(sz.id).items
    }:
        time.sleep(0.1)
    assert "new" in {r.properties.name for r in sdk.RecordsApi(env.api).secondaryzones_records_get(sz.id).items}
    notify.question[0].name = dns.name.from_text("not-secondary.example.")
    assert dns.query.udp(notify, "127.0.0.1", port=env.dns_port, timeout=3).rcode() == dns.rcode.REFUSED
    api.secondaryzones_delete(sz.id)
    refused(api.secondaryzones_find_by_id, sz.id, status=404)


def transferred(api, zone_id: str, timeout: float = 15) -> dict:
    """The transfer status per primary IP once no transfer runs any more."""
    deadline = time.time() + timeout
    while True:
        status = {s.primary_ip: s for s in api.secondaryzones_axfr_get(zone_id).items}
        if all(s.status != "IN_PROGRESS" for s in status.values()) or time.time() > deadline:
            return status
        time.sleep(0.05)


def test_dns_needs_the_group_privilege(env):
    email, password = f"u-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with sdk_client(env.emu) as cloud:
        um = ionoscloud.UserManagementApi(cloud)
        user, _, h = um.um_users_post_with_http_info(
            ionoscloud.UserPost(
                properties=ionoscloud.UserPropertiesPost(
                    firstname="Dns", lastname="User", email=email, password=password, administrator=False
                )
            )
        )
        wait(cloud, h)
        r = httpx.get(f"{env.emu.url}{PREFIX}/zones", auth=(email, password))
        assert r.status_code == 403 and "accessAndManageDns" in r.json()["messages"][0]["message"]
        group, _, h = um.um_groups_post_with_http_info(
            ionoscloud.Group(
                properties=ionoscloud.GroupProperties(name=f"dns-{uuid.uuid4().hex[:6]}", access_and_manage_dns=True)
            )
        )
        wait(cloud, h)
        wait(cloud, um.um_groups_users_post_with_http_info(group.id, ionoscloud.UserGroupPost(id=user.id))[2])
    with dns_client(env.emu, token(env.emu, (email, password))) as c:
        assert sdk.ZonesApi(c).zones_get().type == "collection"


def test_http_conventions(env):
    url = env.emu.url + PREFIX
    zone = new_zone(env)
    # Basic authentication works too; the real host name routes here by Host header
    assert httpx.get(f"{url}/zones/{zone.id}", auth=OWNER).json()["id"] == zone.id
    r = httpx.get(
        f"{env.emu.url}/zones/{zone.id}",
        headers={"Host": "dns.de-fra.ionos.com", "Authorization": f"Bearer {env.token}"},
    )
    assert r.status_code == 200 and r.json()["properties"]["zoneName"] == zone.properties.zone_name
    r = httpx.get(f"{url}/zones")
    assert r.status_code == 401 and r.json()["httpStatus"] == 401
    r = httpx.get(f"{url}/zones/{uuid.uuid4()}", auth=OWNER)
    assert r.status_code == 404 and r.json()["messages"][0]["errorCode"]
    r = httpx.post(f"{url}/zones", auth=OWNER, json={"properties": {"description": "no name"}})
    assert r.status_code == 422 and "zoneName" in r.json()["messages"][0]["message"]
    r = httpx.delete(f"{url}/zones/{zone.id}", auth=OWNER)
    assert r.status_code == 202 and r.json() == {}
    assert env.emu.admin("GET", "endpoints").json()["dns"] == {"de/fra": url}


# -- data plane ----------------------------------------------------------------------------------------


def test_dns_server_answers_from_the_api(env):
    zone = new_zone(env)
    name = zone.properties.zone_name
    a = add(env, zone.id, "www", "A", "192.0.2.1", ttl=300)
    add(env, zone.id, "web", "CNAME", f"www.{name}")
    add(env, zone.id, "*.apps", "A", "192.0.2.50")
    add(env, zone.id, "blog", "NS", "ns1.hoster.example")
    add(env, zone.id, "off", "A", "192.0.2.9", enabled=False)
    ans = env.query(f"www.{name}", "A")
    assert ans.rcode() == dns.rcode.NOERROR and ans.flags & dns.flags.AA
    assert texts(ans.answer) == ["192.0.2.1"] and ans.answer[0].ttl == 300
    # NODATA: the name exists without the type; the SOA comes in the authority section
    nodata = env.query(f"www.{name}", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    assert env.query(f"missing.{name}", "A").rcode() == dns.rcode.NXDOMAIN
    assert env.query(f"off.{name}", "A").rcode() == dns.rcode.NXDOMAIN  # disabled records are not served
    # the apex: SOA and the zone's name servers
    ns = env.query(name, "NS")
    assert texts(ns.answer) == sorted(f"{n}." for n in zone.metadata.nameservers)
    # CNAME chasing inside the zone, wildcards, and a referral at a delegation
    chased = env.query(f"web.{name}", "A")
    assert [r.rdtype for r in chased.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    wild = env.query(f"x.apps.{name}", "A")
    assert texts(wild.answer) == ["192.0.2.50"] and wild.answer[0].name.to_text() == f"x.apps.{name}."
    referral = env.query(f"a.blog.{name}", "A")
    assert not referral.flags & dns.flags.AA and texts(referral.authority) == ["ns1.hoster.example."]
    # the serial rises with each completed change; a deleted record is gone
    serial = env.query(name, "SOA").answer[0][0].serial
    sdk.RecordsApi(env.api).zones_records_delete(zone.id, a.id)
    sdk.ZonesApi(env.api).zones_find_by_id(zone.id)  # completes the deletion (instant timing)
    assert env.query(f"www.{name}", "A").rcode() == dns.rcode.NXDOMAIN
    assert env.query(name, "SOA").answer[0][0].serial > serial
    # TCP works; names outside every zone are refused, and so is a disabled zone
    assert env.query(f"web.{name}", "CNAME", tcp=True).answer[0][0].target.to_text() == f"www.{name}."
    assert env.query("www.not-served.example", "A").rcode() == dns.rcode.REFUSED
    sdk.ZonesApi(env.api).zones_put(zone.id, sdk.ZoneEnsure(properties=sdk.Zone(zone_name=name, enabled=False)))
    sdk.ZonesApi(env.api).zones_find_by_id(zone.id)
    assert env.query(f"web.{name}", "CNAME").rcode() == dns.rcode.REFUSED


def test_the_packet_cache_never_answers_what_the_store_no_longer_holds(env):
    """Answers come again from the packet cache while the store is unchanged; a change by the emulator process
    (another connection, another process) is answered at once, over UDP and TCP. On PostgreSQL, whose version
    cannot be read without I/O from the datagram callback, there is no packet cache: every answer is fresh."""
    zone = new_zone(env)
    name = zone.properties.zone_name
    record = add(env, zone.id, "cached", "A", "192.0.2.7")
    cached = env.server.cache.store.peek_version() is not None
    for tcp in (False, True):
        assert texts(env.query(f"cached.{name}", "A", tcp=tcp).answer) == ["192.0.2.7"]
        hits = env.server.cache.hits
        again = env.query(f"cached.{name}", "A", tcp=tcp)
        assert texts(again.answer) == ["192.0.2.7"] and env.server.cache.hits == hits + cached
    api = sdk.RecordsApi(env.api)
    api.zones_records_put(
        zone.id, record.id, sdk.RecordEnsure(properties=sdk.Record(name="cached", type="A", content="192.0.2.8"))
    )
    api.zones_records_find_by_id(zone.id, record.id)  # completes the change (instant timing)
    for tcp in (False, True):
        assert texts(env.query(f"cached.{name}", "A", tcp=tcp).answer) == ["192.0.2.8"]
    api.zones_records_delete(zone.id, record.id)
    sdk.ZonesApi(env.api).zones_find_by_id(zone.id)
    assert env.query(f"cached.{name}", "A").rcode() == dns.rcode.NXDOMAIN


def test_every_record_type_the_api_accepts_is_served(env):
    zone = new_zone(env)
    name = zone.properties.zone_name
    cases = [
        ("A", "192.0.2.1", None),
        ("AAAA", "2001:db8::1", None),
        ("CNAME", "target.example.net", None),
        ("MX", "mx.example.net", 10),
        ("NS", "ns.example.net", None),
        ("SRV", "5 5060 sip.example.net", 1),
        ("TXT", "some text", None),
        ("CAA", '0 issue "letsencrypt.org"', None),
        ("SSHFP", "4 2 " + "ab" * 32, None),
        ("TLSA", "3 1 1 " + "cd" * 32, None),
        ("SMIMEA", "3 1 1 " + "ef" * 32, None),
        ("DS", "12345 8 2 " + "01" * 32, None),
        ("HTTPS", "1 . alpn=h2", None),
        ("SVCB", "1 svc.example.net. port=8443", None),
        ("OPENPGPKEY", base64.b64encode(b"key material").decode(), None),
        ("CERT", "PKIX 0 0 " + base64.b64encode(b"cert").decode(), None),
        ("URI", '1 "https://example.com/"', 10),
        ("RP", "admin.example.com. txt.example.com.", None),
        ("LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", None),
    ]
    for rtype, content, priority in cases:
        add(env, zone.id, f"t-{rtype.lower()}", rtype, content, priority=priority)
    for rtype, _, _ in cases:
        ans = env.query(f"t-{rtype.lower()}.{name}", rtype)
        served = ans.authority if rtype == "NS" else ans.answer  # NS below the apex delegates: a referral
        assert [r.rdtype for r in served] == [dns.rdatatype.from_text(rtype)], rtype
    # ALIAS: the target's addresses under the alias name, when the target is served here
    add(env, zone.id, "", "ALIAS", f"t-a.{name}")
    assert texts(env.query(name, "A").answer) == ["192.0.2.1"]


def test_large_answers_set_tc_over_udp_and_come_whole_over_tcp(env):
    zone = new_zone(env)
    name = zone.properties.zone_name
    for i in range(12):
        add(env, zone.id, "big", "TXT", f"{i:02d}" + "x" * 100)
    udp = env.query(f"big.{name}", "TXT", use_edns=False)
    assert udp.flags & dns.flags.TC
    tcp = env.query(f"big.{name}", "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC and len(tcp.answer[0]) == 12


def test_protocol_edges(env):
    zone = new_zone(env)
    name = zone.properties.zone_name
    add(env, zone.id, "www", "A", "192.0.2.1")
    # zone transfers: AXFR over TCP ends with the SOA it starts with; over UDP an IXFR gets the SOA only
    xfr = dns.query.xfr("127.0.0.1", name, port=env.dns_port, timeout=3, relativize=False)
    messages = list(xfr)
    rrsets = [rrset for m in messages for rrset in m.answer]
    assert rrsets[0].rdtype == rrsets[-1].rdtype == dns.rdatatype.SOA
    assert any(r.rdtype == dns.rdatatype.A and r.name.to_text() == f"www.{name}." for r in rrsets)
    ixfr = env.query(name, "IXFR")
    assert [r.rdtype for r in ixfr.answer] == [dns.rdatatype.SOA]
    assert env.query(name, "AXFR").rcode() == dns.rcode.NOTIMP
    # another class, another opcode, a malformed message
    chaos = dns.message.make_query("version.bind", "TXT", rdclass=dns.rdataclass.CH)
    assert dns.query.udp(chaos, "127.0.0.1", port=env.dns_port, timeout=3).rcode() == dns.rcode.REFUSED
    update = dns.message.make_query(name, "SOA")
    update.set_opcode(dns.opcode.UPDATE)
    assert dns.query.udp(update, "127.0.0.1", port=env.dns_port, timeout=3).rcode() == dns.rcode.NOTIMP
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff", ("127.0.0.1", env.dns_port))
        reply = s.recv(512)
    assert reply[:2] == b"\x12\x34" and reply[3] & 0x0F == dns.rcode.FORMERR
    # EDNS: the response carries it, and the answer is the same
    edns = env.query(f"www.{name}", "A", use_edns=0)
    assert edns.edns == 0 and texts(edns.answer) == ["192.0.2.1"]


def test_emulator_process_serves_its_zones_on_the_dns_port(make_emulator):
    """The quick start: `ionos-emulator serve --dns-port P` answers for the zones created through the API."""
    port = udp_and_tcp_port()
    emu = make_emulator("dnsport", args=("--dns-port", str(port)))
    with dns_client(emu, token(emu, OWNER)) as c:
        zones, records = sdk.ZonesApi(c), sdk.RecordsApi(c)
        zone = zones.zones_post(sdk.ZoneCreate(properties=sdk.Zone(zone_name="quickstart.example")))
        records.zones_records_post(
            zone.id, sdk.RecordCreate(properties=sdk.Record(name="www", type="A", content="192.0.2.7", ttl=3600))
        )
        deadline = time.time() + 10
        while zones.zones_find_by_id(zone.id).metadata.state != "AVAILABLE" and time.time() < deadline:
            time.sleep(0.05)
        sdk.RecordsApi(c).records_get()  # one more request: the record's own change is due now
    q = dns.message.make_query("www.quickstart.example.", dns.rdatatype.A)
    for ask in (dns.query.udp, dns.query.tcp):
        answer = ask(q, "127.0.0.1", port=port, timeout=3)
        assert answer.rcode() == dns.rcode.NOERROR
        assert [r.to_text() for rrset in answer.answer for r in rrset] == ["192.0.2.7"]
    missing = dns.query.udp(
        dns.message.make_query("nope.quickstart.example.", dns.rdatatype.A), "127.0.0.1", port=port, timeout=3
    )
    assert missing.rcode() == dns.rcode.NXDOMAIN


def test_ensure_edges_and_synchronous_reverse_records(env):
    """PUT under a client id: a UUID, not one of another zone's records; a rename moves the fqdn; each change
    of a zone raises its SOA serial. Reverse records have no state and are written (and deleted) at once."""
    url = env.emu.url + PREFIX
    zone, other = new_zone(env), new_zone(env)
    name = zone.properties.zone_name
    api = sdk.RecordsApi(env.api)

    def serial_of() -> int:
        raw = httpx.get(f"{url}/zones/{zone.id}/zonefile", auth=OWNER).text
        return int(next(line for line in raw.splitlines() if " SOA " in line).split()[6])

    first = serial_of()
    rec = add(env, zone.id, "a", "A", "192.0.2.1")
    r = httpx.put(
        f"{url}/zones/{other.id}/records/{rec.id}",
        auth=OWNER,
        json={"properties": {"name": "b", "type": "A", "content": "192.0.2.2"}},
    )
    assert r.status_code == 409, r.text
    r = httpx.put(
        f"{url}/zones/{zone.id}/records/not-a-uuid",
        auth=OWNER,
        json={"properties": {"name": "b", "type": "A", "content": "192.0.2.2"}},
    )
    assert r.status_code == 422 and "UUID" in r.json()["messages"][0]["message"]
    r = httpx.put(
        f"{url}/zones/{zone.id}/records/{rec.id}",
        auth=OWNER,
        json={"properties": {"name": "b", "type": "A", "content": "192.0.2.2"}},
    )
    assert r.status_code == 202 and r.json()["metadata"]["fqdn"] == f"b.{name}"
    assert api.zones_records_find_by_id(zone.id, rec.id).metadata.fqdn == f"b.{name}"
    assert serial_of() == first + 2
    api.zones_records_delete(zone.id, rec.id)
    assert serial_of() == first + 3
    r = httpx.put(
        f"{url}/zones/{uuid.uuid4()}/records/{uuid.uuid4()}",
        auth=OWNER,
        json={"properties": {"name": "b", "type": "A", "content": "192.0.2.2"}},
    )
    assert r.status_code == 404
    # secondary zones: the name cannot change, the primaries must be addresses
    sz = sdk.SecondaryZonesApi(env.api).secondaryzones_put(
        str(uuid.uuid4()),
        sdk.SecondaryZoneEnsure(properties=sdk.SecondaryZone(zone_name=zone_name(), primary_ips=["127.0.0.2"])),
    )
    for props, attr in (
        ({"zoneName": "x.example", "primaryIps": ["127.0.0.2"]}, "zoneName"),
        ({"zoneName": sz.properties.zone_name, "primaryIps": ["nope"]}, "primaryIps[0]"),
    ):
        r = httpx.put(f"{url}/secondaryzones/{sz.id}", auth=OWNER, json={"properties": props})
        assert r.status_code == 422 and attr in r.json()["messages"][0]["message"], r.text
    # reverse records
    with sdk_client(env.emu) as cloud:
        block, _, h = ionoscloud.IPBlocksApi(cloud).ipblocks_post_with_http_info(
            ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=1))
        )
        wait(cloud, h)
        ip = ionoscloud.IPBlocksApi(cloud).ipblocks_find_by_id(block.id).properties.ips[0]
    # slow changes: a zone being deleted takes no more records; reverse records do not wait for the lifecycle
    assert (
        env.emu.admin(
            "PUT", "timing", json={"profile": "instant", "overrides": {"dns.zone": 60, "dns.reverserecord": 60}}
        ).status_code
        == 200
    )
    try:
        sdk.ZonesApi(env.api).zones_delete(other.id)
        r = httpx.post(
            f"{url}/zones/{other.id}/records",
            auth=OWNER,
            json={"properties": {"name": "b", "type": "A", "content": "192.0.2.2"}},
        )
        assert r.status_code == 404 and "being deleted" in r.json()["messages"][0]["message"], r.text
        rid = str(uuid.uuid4())
        r = httpx.put(
            f"{url}/reverserecords/{rid}", auth=OWNER, json={"properties": {"name": "h.example.com", "ip": ip}}
        )
        assert r.status_code == 200 and "state" not in r.json()["metadata"], r.text
        listed = httpx.get(f"{url}/reverserecords", auth=OWNER, params={"filter.recordIp": ip}).json()["items"]
        assert [x["id"] for x in listed] == [rid] and "state" not in listed[0]["metadata"]
        r = httpx.get(f"{url}/reverserecords", auth=OWNER, params={"filter.recordIp": "nope"})
        assert r.status_code == 422 and "filter.recordIp" in r.json()["messages"][0]["message"]
        r = httpx.delete(f"{url}/reverserecords/{rid}", auth=OWNER)
        assert r.status_code == 202 and r.json() == {}
        assert httpx.get(f"{url}/reverserecords", auth=OWNER, params={"filter.recordIp": ip}).json()["items"] == []
        assert httpx.get(f"{url}/reverserecords/{rid}", auth=OWNER).status_code == 404
    finally:
        env.emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {}})


def test_creations_answer_available_with_every_optional_property(env):
    """Issue 9, rule 7: the real Cloud DNS answers a POST or PUT of a zone, secondary zone or record with the
    resource AVAILABLE already, even while the change is still pending; a description never set reads ""."""
    assert env.emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {"dns.zone": 60}}).status_code == 200
    try:
        zones, records = sdk.ZonesApi(env.api), sdk.RecordsApi(env.api)
        z = zones.zones_post(sdk.ZoneCreate(properties=sdk.Zone(zone_name=zone_name())))
        assert z.metadata.state == "AVAILABLE" and z.properties.description == ""
        assert zones.zones_find_by_id(z.id).metadata.state == "AVAILABLE"
        put = zones.zones_put(str(uuid.uuid4()), sdk.ZoneEnsure(properties=sdk.Zone(zone_name=zone_name())))
        assert put.metadata.state == "AVAILABLE" and put.properties.description == ""
        r = records.zones_records_post(
            z.id, sdk.RecordCreate(properties=sdk.Record(name="www", type="A", content="192.0.2.7"))
        )
        assert r.metadata.state == "AVAILABLE" and r.properties.ttl == 3600 and r.properties.enabled is True
        sz = sdk.SecondaryZonesApi(env.api).secondaryzones_post(
            sdk.SecondaryZoneCreate(properties=sdk.SecondaryZone(zone_name=zone_name(), primary_ips=["127.0.0.2"]))
        )
        assert sz.metadata.state == "AVAILABLE" and sz.properties.description == ""
        listed = httpx.get(
            f"{env.emu.url}{PREFIX}/zones", auth=OWNER, params={"filter.zoneName": put.properties.zone_name}
        )
        assert listed.json()["items"][0]["properties"]["description"] == ""
    finally:
        env.emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {}})
