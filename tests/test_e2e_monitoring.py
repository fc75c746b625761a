"""End-to-end: the Monitoring Service (no official Python SDK) with httpx, as the tools send their requests,
against the strict shared emulator: pipelines (POST, PUT ensure, delete), the key endpoint, central monitoring;
and the data plane: each pipeline's Prometheus remote-write endpoint takes bodies with its key (by Host header
and by path prefix), counted at /_emulator/monitoring/<pipelineId> (no snappy/protobuf decoder is installed)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from support import OWNER, bearer

PREFIX = "/monitoring/de-fra"
# a Prometheus remote-write request: a snappy-compressed protobuf WriteRequest (its bytes are not decoded)
REMOTE_WRITE = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
SAMPLE = bytes.fromhex("1c6c0a1a0a0a0a085f5f6e616d655f5f120c7570")  # any bytes: counted, not decoded


@pytest.fixture(scope="module")
def http(emulator):
    token = bearer(emulator)
    with httpx.Client(base_url=emulator.url + PREFIX, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def create(http, name="metrics") -> dict:
    r = http.post("/pipelines", json={"properties": {"name": name}})
    assert r.status_code == 201, r.text
    return r.json()


def write(emu, endpoint: str, key=None, *, by_host=True, bearer_key=False, body=SAMPLE) -> httpx.Response:
    host = endpoint.removeprefix("https://")
    headers = dict(REMOTE_WRITE)
    if key is not None:
        headers.update({"Authorization": f"Bearer {key}"} if bearer_key else {"APIKEY": key})
    if by_host:
        return httpx.post(emu.url + "/api/v1/write", headers={"Host": host, **headers}, content=body)
    return httpx.post(f"{emu.url}/_ingest/{host}/api/v1/write", headers=headers, content=body)


def received(emu, pipeline_id) -> dict:
    r = emu.admin("GET", f"monitoring/{pipeline_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_pipeline_create_read_ensure_delete(http):
    made = create(http)
    meta = made["metadata"]
    assert made["type"] == "pipeline" and meta["status"] in ("PROVISIONING", "AVAILABLE") and "state" not in meta
    assert len(meta["key"]) == 24  # shown once, at creation
    assert meta["httpEndpoint"].startswith("https://") and "-metrics." in meta["httpEndpoint"]
    assert meta["httpEndpoint"].endswith(".monitoring.de-fra.ionos.com")
    got = http.get(f"/pipelines/{made['id']}").json()
    assert got["metadata"]["status"] == "AVAILABLE" and "key" not in got["metadata"]
    assert got["metadata"]["grafanaEndpoint"].startswith("https://grafana.")
    listed = http.get("/pipelines", params={"limit": 1000}).json()
    assert made["id"] in [i["id"] for i in listed["items"]] and listed["_links"]["self"]
    other = create(http, "aaa-first")["id"]
    # orderBy, "-" for descending; newest first by default (the spec's default "-createdDate")
    for order, first in (("name", other), ("-name", made["id"]), ("-createdDate", other), ("createdDate", made["id"])):
        ids = [i["id"] for i in http.get("/pipelines", params={"orderBy": order}).json()["items"]]
        mine = [i for i in ids if i in (made["id"], other)]
        assert mine[0] == first, (order, mine)
    ids = [i["id"] for i in http.get("/pipelines").json()["items"]]
    assert [i for i in ids if i in (made["id"], other)] == [other, made["id"]]
    assert http.delete(f"/pipelines/{other}").status_code == 202
    # PUT replaces; PUT to a new id creates under it (with a key, once)
    r = http.put(f"/pipelines/{made['id']}", json={"id": made["id"], "properties": {"name": "renamed"}})
    assert r.status_code == 200 and r.json()["properties"]["name"] == "renamed" and "key" not in r.json()["metadata"]
    rid = str(uuid.uuid4())
    r = http.put(f"/pipelines/{rid}", json={"id": rid, "properties": {"name": "ensured"}})
    assert r.status_code == 201 and r.json()["id"] == rid and r.json()["metadata"]["key"]
    r = http.put(f"/pipelines/{rid}", json={"id": str(uuid.uuid4()), "properties": {"name": "x"}})
    assert r.status_code == 422
    for pid in (made["id"], rid):
        assert http.delete(f"/pipelines/{pid}").status_code == 202
        assert http.get(f"/pipelines/{pid}").status_code == 404


def test_validation(http):
    before = http.get("/pipelines").json()["items"]
    for body, status in (
        ({"properties": {"name": "x" * 21}}, 422),
        ({"properties": {"name": ""}}, 422),
        ({"properties": {}}, 422),
        ({"nothing": 1}, 422),
    ):
        r = http.post("/pipelines", json=body)
        assert r.status_code == status and r.json()["httpStatus"] == status, (body, r.text)
    assert http.post("/pipelines", content=b"[1,", headers={"Content-Type": "application/json"}).status_code == 400
    assert http.get("/pipelines").json()["items"] == before


def test_remote_write_needs_the_key(http, emulator):
    made = create(http, "rw")
    endpoint, key = made["metadata"]["httpEndpoint"], made["metadata"]["key"]
    for given in (None, "wrong"):
        r = write(emulator, endpoint, given)
        assert r.status_code == 401 and r.json()["httpStatus"] == 401
    assert received(emulator, made["id"])["bodies"] == 0
    assert write(emulator, endpoint, key).status_code == 204
    assert write(emulator, endpoint, key, by_host=False).status_code == 204
    assert write(emulator, endpoint, key, bearer_key=True).status_code == 204  # Prometheus' authorization block
    data = received(emulator, made["id"])
    assert data["bodies"] == 3 and data["bytes"] == 3 * len(SAMPLE) and data["decoded"] is False
    assert data["lastContentEncoding"] == "snappy"
    # a new key revokes the old one
    r = http.post(f"/pipelines/{made['id']}/key", json={})
    assert r.status_code == 201 and r.json()["key"] != key
    assert write(emulator, endpoint, key).status_code == 401
    assert write(emulator, endpoint, r.json()["key"]).status_code == 204
    assert http.post(f"/pipelines/{uuid.uuid4()}/key", json={}).status_code == 404
    # a body too large for an ingest request
    assert write(emulator, endpoint, r.json()["key"], body=b"\0" * (1024 * 1024 + 1)).status_code == 413
    assert received(emulator, made["id"])["bodies"] == 4
    assert http.delete(f"/pipelines/{made['id']}").status_code == 202
    assert write(emulator, endpoint, r.json()["key"]).status_code == 404
    assert emulator.admin("GET", f"monitoring/{made['id']}").status_code == 404


def test_pipeline_limit_per_location(emulator):
    token = bearer(emulator)
    with httpx.Client(base_url=emulator.url + "/monitoring/es-vit", headers={"Authorization": f"Bearer {token}"}) as h:
        made = [create(h, f"p{i}")["id"] for i in range(10 - len(h.get("/pipelines").json()["items"]))]
        r = h.post("/pipelines", json={"properties": {"name": "one-too-many"}})
        assert r.status_code == 422 and "10" in r.json()["messages"][0]["message"]
        for pid in made:
            assert h.delete(f"/pipelines/{pid}").status_code == 202
        assert h.post("/pipelines", json={"properties": {"name": "fits"}}).status_code == 201


def test_central_monitoring(http, emulator):
    listed = http.get("/central").json()
    assert listed["type"] == "collection" and len(listed["items"]) == 1
    item = listed["items"][0]
    assert item["type"] == "centralmonitoring" and item["properties"]["enabled"] is False
    r = http.put(f"/central/{item['id']}", json={"properties": {"enabled": True}})
    assert r.status_code == 200 and r.json()["properties"]["enabled"] is True
    assert http.get(f"/central/{item['id']}").json()["properties"]["enabled"] is True
    assert http.get(f"/central/{uuid.uuid4()}").status_code == 404
    assert http.put(f"/central/{uuid.uuid4()}", json={"properties": {"enabled": True}}).status_code == 404
    assert http.put(f"/central/{item['id']}", json={"properties": {"enabled": "maybe"}}).status_code == 422
    r = http.put(f"/central/{item['id']}", json={"properties": {"enabled": False}})
    assert r.json()["properties"]["enabled"] is False


def test_routing_privilege_and_locations(emulator):
    r = httpx.get(emulator.url + "/pipelines", auth=OWNER, headers={"Host": "monitoring.gb-lhr.ionos.com"})
    assert r.status_code == 200 and r.json()["type"] == "collection"
    for region in ("de-fra", "de-txl", "es-vit", "gb-bhx", "gb-lhr", "fr-par", "us-mci"):
        assert httpx.get(f"{emulator.url}/monitoring/{region}/pipelines", auth=OWNER).status_code == 200
    assert set(emulator.admin("GET", "endpoints").json()["monitoring"]) >= {"de/fra", "us/mci"}
    assert httpx.get(emulator.url + PREFIX + "/pipelines").status_code == 401
    email, pw = f"mon-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        user = h.post(
            "/um/users", json={"properties": {"firstname": "M", "lastname": "N", "email": email, "password": pw}}
        ).json()["id"]
        r = httpx.get(emulator.url + PREFIX + "/pipelines", auth=(email, pw))
        assert r.status_code == 403 and "accessAndManageMonitoring" in r.json()["messages"][0]["message"]
        group = h.post(
            "/um/groups",
            json={"properties": {"name": f"mon-{uuid.uuid4().hex[:6]}", "accessAndManageMonitoring": True}},
        ).json()["id"]
        assert h.post(f"/um/groups/{group}/users", json={"id": user}).status_code == 202
    assert httpx.get(emulator.url + PREFIX + "/pipelines", auth=(email, pw)).status_code == 200
