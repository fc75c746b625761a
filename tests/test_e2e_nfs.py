"""End-to-end: Network File Storage (no official Python SDK) with httpx, as the tools send their requests, against
the strict shared emulator: clusters connected to a Cloud API data center's private LAN (POST, PUT ensure,
filter.datacenterId, delete) and their shares with quotas and client groups."""

from __future__ import annotations

import uuid

import httpx
import pytest

from support import OWNER, bearer, datacenter_with_lan

PREFIX = "/nfs/de-txl"
LOCATION = "de/txl"


@pytest.fixture(scope="module")
def http(emulator):
    token = bearer(emulator)
    with httpx.Client(base_url=emulator.url + PREFIX, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture(scope="module")
def lan(emulator):
    return datacenter_with_lan(emulator, LOCATION)


def cluster(dc, lan, *, name="files", address="192.168.100.10/24", size=2, **extra) -> dict:
    props = {"name": name, "connections": [{"datacenterId": dc, "lan": lan, "ipAddress": address}], "size": size}
    return {"properties": {**props, **extra}}


def share(name="export", **extra) -> dict:
    group = {"ipNetworks": ["10.234.50.0/24"], "hosts": ["10.234.62.123"], "nfs": {"squash": "all-anonymous"}}
    return {"properties": {"name": name, "quota": 512, "clientGroups": [group], **extra}}


def error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["httpStatus"] == status and isinstance(body["messages"][0]["errorCode"], str)
    return body["messages"][0]["message"]


def test_cluster_and_shares(http, lan):
    dc, lan_id = lan
    r = http.post("/clusters", json=cluster(dc, lan_id))
    assert r.status_code == 201, r.text
    made = r.json()
    cid = made["id"]
    assert made["type"] == "cluster" and made["metadata"]["status"] in ("PROVISIONING", "AVAILABLE")
    got = http.get(f"/clusters/{cid}").json()
    assert got["metadata"]["status"] == "AVAILABLE" and got["metadata"]["used"] == 0
    assert got["properties"]["nfs"] == {"minVersion": "4.2"} and got["properties"]["size"] == 2
    assert got["properties"]["connections"] == [{"datacenterId": dc, "lan": lan_id, "ipAddress": "192.168.100.10/24"}]
    assert got["href"].endswith(f"{PREFIX}/clusters/{cid}")
    # shares: defaults filled, nfsPath is the share's id
    r = http.post(f"/clusters/{cid}/shares", json=share())
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    s = http.get(f"/clusters/{cid}/shares/{sid}").json()
    assert s["metadata"]["status"] == "AVAILABLE" and s["metadata"]["nfsPath"] == f"/{sid}"
    assert s["properties"]["uid"] == 65534 and s["properties"]["gid"] == 65534 and s["properties"]["quota"] == 512
    assert s["properties"]["clientGroups"][0]["nfs"]["squash"] == "all-anonymous"
    # PUT ensures a share under the client's id, and replaces (defaults again for what it leaves out)
    new = str(uuid.uuid4())
    r = http.put(f"/clusters/{cid}/shares/{new}", json={"id": new, **share("second", uid=1000, gid=1000)})
    assert r.status_code == 201 and r.json()["id"] == new
    group = {"ipNetworks": ["10.0.0.0/8"], "nfs": {"squash": "root-anonymous"}}
    r = http.put(
        f"/clusters/{cid}/shares/{new}", json={"id": new, "properties": {"name": "2nd", "clientGroups": [group]}}
    )
    assert r.status_code == 200 and r.json()["properties"]["uid"] == 65534 and r.json()["properties"]["quota"] == 0
    listed = http.get(f"/clusters/{cid}/shares").json()
    assert sorted(i["id"] for i in listed["items"]) == sorted([sid, new]) and listed["limit"] == 100
    # a cluster with shares is not deleted
    message = error(http.delete(f"/clusters/{cid}"), 409)
    assert "share" in message
    for x in (sid, new):
        assert http.delete(f"/clusters/{cid}/shares/{x}").status_code == 202
        assert http.get(f"/clusters/{cid}/shares/{x}").status_code == 404
    # size grows, never shrinks
    r = http.put(f"/clusters/{cid}", json={"id": cid, **cluster(dc, lan_id, size=5)})
    assert r.status_code == 200 and r.json()["properties"]["size"] == 5
    assert "reduced" in error(http.put(f"/clusters/{cid}", json={"id": cid, **cluster(dc, lan_id, size=3)}), 422)
    assert http.delete(f"/clusters/{cid}").status_code == 202
    assert http.get(f"/clusters/{cid}").status_code == 404


def test_ensure_filter_and_address_rules(http, emulator, lan):
    dc, lan_id = lan
    cid = str(uuid.uuid4())
    r = http.put(
        f"/clusters/{cid}", json={"id": cid, **cluster(dc, lan_id, name="ensured", address="192.168.100.20/24")}
    )
    assert r.status_code == 201 and r.json()["id"] == cid
    # the address is taken in that LAN by this cluster
    message = error(http.post("/clusters", json=cluster(dc, lan_id, address="192.168.100.20/24")), 422)
    assert "ipAddress" in message and cid in message
    other_dc, other_lan = datacenter_with_lan(emulator, LOCATION)
    r = http.post("/clusters", json=cluster(other_dc, other_lan, name="other", address="192.168.100.20/24"))
    assert r.status_code == 201
    other = r.json()["id"]
    ids = [i["id"] for i in http.get("/clusters", params={"filter.datacenterId": dc}).json()["items"]]
    assert cid in ids and other not in ids
    ids = [i["id"] for i in http.get("/clusters", params={"filter.datacenterId": other_dc}).json()["items"]]
    assert ids == [other]
    # IPv6 (the spec allows both): a documentation address
    r = http.post("/clusters", json=cluster(dc, lan_id, name="v6", address="2001:db8::10/64"))
    assert r.status_code == 201 and r.json()["properties"]["connections"][0]["ipAddress"] == "2001:db8::10/64"
    for x in (cid, other, r.json()["id"]):
        assert http.delete(f"/clusters/{x}").status_code == 202


def test_validation_names_the_attribute_and_changes_nothing(http, emulator, lan):
    dc, lan_id = lan
    before = http.get("/clusters").json()["items"]
    fra_dc, fra_lan = datacenter_with_lan(emulator, "de/fra")
    pub_dc, pub_lan = datacenter_with_lan(emulator, LOCATION, public=True)
    cases = [
        (cluster(str(uuid.uuid4()), lan_id), "datacenterId"),
        (cluster(dc, "99"), "connections[0].lan"),
        (cluster(fra_dc, fra_lan), "de/fra"),
        (cluster(pub_dc, pub_lan), "public"),
        (cluster(dc, lan_id, address="192.168.100.10"), "ipAddress"),
        (cluster(dc, lan_id, address="2001:db8::1"), "ipAddress"),
        (cluster(dc, lan_id, address="192.168.100.0/24"), "ipAddress"),
        (cluster(dc, lan_id, nfs={"minVersion": "3"}), "minVersion"),
        (cluster(dc, lan_id, size=1), "size"),
        (cluster(dc, lan_id, size=43), "size"),
        ({"properties": {"name": "x", "connections": []}}, "connections"),
    ]
    for body, needle in cases:
        assert needle in error(http.post("/clusters", json=body), 422), needle
    assert http.get("/clusters").json()["items"] == before
    r = http.post("/clusters", json=cluster(dc, lan_id, address="192.168.100.30/24"))
    cid = r.json()["id"]
    bad_shares = [
        (share(quota=-1), "quota"),
        (share(quota=2 * 1024 * 1024 + 1), "quota"),
        (share(uid=70000), "uid"),
        (share(clientGroups=[]), "clientGroups"),
        (share(clientGroups=[{"ipNetworks": ["10.0.0.0"]}]), "ipNetworks"),
        (share(clientGroups=[{"hosts": ["host.example"]}]), "hosts"),
        (share(clientGroups=[{"ipNetworks": ["10.0.0.0/8"], "nfs": {"squash": "root"}}]), "squash"),
        (share(clientGroups=[{"description": "nobody"}]), "clientGroups[0]"),
    ]
    for body, needle in bad_shares:
        assert needle in error(http.post(f"/clusters/{cid}/shares", json=body), 422), needle
    assert http.get(f"/clusters/{cid}/shares").json()["items"] == []
    assert http.post(f"/clusters/{uuid.uuid4()}/shares", json=share()).status_code == 404
    assert http.post("/clusters", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert http.delete(f"/clusters/{cid}").status_code == 202


def test_routing_privilege_and_locations(emulator):
    r = httpx.get(emulator.url + "/clusters", auth=OWNER, headers={"Host": "nfs.us-las.ionos.com"})
    assert r.status_code == 200 and r.json()["type"] == "collection"
    regions = ("de-fra", "de-txl", "es-vit", "fr-par", "gb-lhr", "us-ewr", "us-las", "us-mci")
    for region in regions:
        assert httpx.get(f"{emulator.url}/nfs/{region}/clusters", auth=OWNER).status_code == 200
    assert len(emulator.admin("GET", "endpoints").json()["nfs"]) == len(regions)
    assert httpx.get(emulator.url + PREFIX + "/clusters").status_code == 401
    email, pw = f"nfs-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    flag = "accessAndManageNetworkFileStorage"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        user = h.post(
            "/um/users", json={"properties": {"firstname": "N", "lastname": "F", "email": email, "password": pw}}
        ).json()["id"]
        r = httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw))
        assert r.status_code == 403 and flag in r.json()["messages"][0]["message"]
        group = h.post("/um/groups", json={"properties": {"name": f"nfs-{uuid.uuid4().hex[:6]}", flag: True}}).json()
        assert h.post(f"/um/groups/{group['id']}/users", json={"id": user}).status_code == 202
    assert httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw)).status_code == 200
