"""End-to-end: the Logging Service through the unmodified `ionoscloud_logging` SDK against the strict shared
emulator: pipelines with their log streams, PATCH, the key endpoint, central logging; and the data plane: each
pipeline's HTTP source takes log lines with its key (httpx, by Host header and by path prefix), read back at
/_emulator/logging/<pipelineId>."""

from __future__ import annotations

import uuid

import httpx
import ionoscloud_logging as sdk
import pytest

from support import OWNER, bearer, refused

PREFIX = "/logging/de-txl"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


@pytest.fixture
def api(emulator, token):
    with sdk.ApiClient(sdk.Configuration(host=emulator.url + PREFIX, token=token)) as c:
        yield c


def stream(tag="app", protocol="http", source="docker", days=7):
    return sdk.PipelineNoAddrLogsInner(
        source=source,
        tag=tag,
        protocol=protocol,
        destinations=[sdk.PipelineNoAddrLogsInnerDestinationsInner(type="loki", retention_in_days=days)],
    )


def create(api, name="web", logs=None) -> sdk.PipelineRead:
    body = sdk.PipelineCreate(properties=sdk.PipelineNoAddr(name=name, logs=logs or [stream()]))
    return sdk.PipelinesApi(api).pipelines_post(body)


def ingest(emu, host, tag, key=None, *, by_host=True, headers=None, **kw) -> httpx.Response:
    headers = {**({"APIKEY": key} if key is not None else {}), **(headers or {})}
    if by_host:
        return httpx.post(f"{emu.url}/{tag}", headers={"Host": host, **headers}, **kw)
    return httpx.post(f"{emu.url}/_ingest/{host}/{tag}", headers=headers, **kw)


def received(emu, pipeline_id) -> dict:
    r = emu.admin("GET", f"logging/{pipeline_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_pipeline_create_read_patch_delete(api, emulator):
    pipes = sdk.PipelinesApi(api)
    made = create(api, logs=[stream("app"), stream("sys", protocol="tcp", source="systemd", days=30)])
    assert made.metadata.state in ("PROVISIONING", "AVAILABLE") and made.type == "pipeline"
    p = made.properties
    assert p.key and len(p.key) == 24  # shown once, at creation
    assert p.http_address.endswith(".logging.de-txl.ionos.com") and "-logs." in p.http_address
    assert p.tcp_address == p.http_address + ":9000" and p.grafana_address.startswith("https://grafana.")
    got = pipes.pipelines_find_by_id(made.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.key is None
    assert [(s.tag, s.protocol, s.destinations[0].retention_in_days) for s in got.properties.logs] == [
        ("app", "http", 7),
        ("sys", "tcp", 30),
    ]
    assert made.id in [i.id for i in pipes.pipelines_get().items]
    patched = pipes.pipelines_patch(
        made.id, sdk.PipelinePatch(properties=sdk.PipelineNoAddr(name="web2", logs=[stream("app", days=14)]))
    )
    assert patched.properties.name == "web2" and len(patched.properties.logs) == 1
    assert pipes.pipelines_find_by_id(made.id).properties.logs[0].destinations[0].retention_in_days == 14
    pipes.pipelines_delete(made.id)
    status, _ = refused(pipes.pipelines_find_by_id, made.id)
    assert status == 404


def test_validation_names_the_attribute_and_changes_nothing(api, emulator):
    pipes = sdk.PipelinesApi(api)
    before = len(pipes.pipelines_get().items)
    cases = [
        ("x" * 21, [stream()], "properties.name"),
        ("ok", [stream(source="windows")], "properties.logs[0].source"),
        ("ok", [stream(protocol="udp")], "properties.logs[0].protocol"),
        ("ok", [stream(tag="a!")], "properties.logs[0].tag"),
        ("ok", [stream(days=5)], "properties.logs[0].destinations[0].retentionInDays"),
        ("ok", [stream("dup"), stream("dup")], "properties.logs[1].tag"),
    ]
    for name, logs, attr in cases:
        status, message = refused(create, api, name, logs)
        assert status == 422 and attr in message, (attr, message)
    assert len(pipes.pipelines_get().items) == before
    r = httpx.post(emulator.url + PREFIX + "/pipelines", auth=OWNER, content=b"{nope")
    assert r.status_code == 400 and r.json()["httpStatus"] == 400


def test_key_endpoint_revokes_the_previous_key(api, emulator):
    made = create(api, "keys")
    host, first = made.properties.http_address, made.properties.key
    assert ingest(emulator, host, "app", first, content=b"one").status_code == 200
    new = sdk.KeyApi(api).pipelines_key_post(made.id).key
    assert new and new != first
    assert ingest(emulator, host, "app", first, content=b"two").status_code == 401
    assert ingest(emulator, host, "app", new, content=b"three").status_code == 200
    assert [line["record"] for line in received(emulator, made.id)["lines"]] == ["one", "three"]
    status, _ = refused(sdk.KeyApi(api).pipelines_key_post, str(uuid.uuid4()))
    assert status == 404


def test_http_source_takes_lines_with_its_key(api, emulator):
    made = create(api, "ingest", logs=[stream("app"), stream("raw", protocol="tcp")])
    host, key = made.properties.http_address, made.properties.key
    # without a key, with a wrong one: 401 in the IONOS envelope, nothing kept
    for given in (None, "wrong-key"):
        r = ingest(emulator, host, "app", given, json={"msg": "no"})
        assert r.status_code == 401 and r.json()["httpStatus"] == 401
    assert received(emulator, made.id)["received"] == 0
    # a JSON record, an array of records (Fluent Bit's json format), plain text lines; by Host and by path
    assert ingest(emulator, host, "app", key, json={"msg": "hello", "level": "info"}).json() == {"accepted": 1}
    r = ingest(emulator, host, "app", key, by_host=False, json=[{"msg": "a"}, {"msg": "b"}])
    assert r.status_code == 200 and r.json() == {"accepted": 2}
    r = ingest(emulator, host, "app", key, content=b"line 1\nline 2\n", headers={"Content-Type": "text/plain"})
    assert r.status_code == 200
    data = received(emulator, made.id)
    assert data["received"] == 5 and data["pipelineId"] == made.id
    assert [line["record"] for line in data["lines"]] == [
        {"msg": "hello", "level": "info"},
        {"msg": "a"},
        {"msg": "b"},
        "line 1",
        "line 2",
    ]
    assert {line["tag"] for line in data["lines"]} == {"app"}
    # a tag of no HTTP stream, a wrong method, a body that is not JSON, a body too large
    assert ingest(emulator, host, "raw", key, content=b"x").status_code == 404
    assert ingest(emulator, host, "nope", key, content=b"x").status_code == 404
    assert httpx.get(f"{emulator.url}/app", headers={"Host": host, "APIKEY": key}).status_code == 405
    r = ingest(emulator, host, "app", key, content=b"{bad", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert ingest(emulator, host, "app", key, content=b"x" * (1024 * 1024 + 1)).status_code == 413
    assert received(emulator, made.id)["received"] == 5
    # a deleted pipeline takes nothing more, and its data is gone
    sdk.PipelinesApi(api).pipelines_delete(made.id)
    assert ingest(emulator, host, "app", key, content=b"late").status_code == 404
    assert emulator.admin("GET", f"logging/{made.id}").status_code == 404
    assert (
        httpx.post(f"{emulator.url}/_ingest/0123456789ab-logs.0123456789ab.logging.de-fra.ionos.com/app").status_code
        == 404
    )


def test_the_dns_server_resolves_a_pipelines_host_while_it_exists(api, emulator):
    import dns.message
    import dns.rdatatype

    from ionos_emulator.dataplanes.dns import Authority

    authority = Authority(emulator.app)  # the DNS server's answers, over the shared emulator's store

    def addresses(name):
        (resp,) = authority.handle(dns.message.make_query(name, "A"), False, "127.0.0.1")
        return [r.address for rrset in resp.answer for r in rrset if rrset.rdtype == dns.rdatatype.A]

    made = create(api, "resolved")
    host = made.properties.http_address
    assert addresses(host) == ["127.0.0.1"]
    sdk.PipelinesApi(api).pipelines_delete(made.id)
    assert addresses(host) == []
    assert addresses("0123456789ab-logs.0123456789ab.logging.de-txl.ionos.com") == []


def test_ingest_rate_per_pipeline(api, emulator, monkeypatch):
    from ionos_emulator.dataplanes import ingest as plane

    monkeypatch.setattr(plane, "RATE_PER_SECOND", 3)  # the real 50 per second, made small (same process)
    made = create(api, "busy")
    host, key = made.properties.http_address, made.properties.key
    with httpx.Client(base_url=emulator.url, headers={"Host": host, "APIKEY": key}) as h:
        statuses = [h.post("/app", content=b"x").status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:], statuses
    assert received(emulator, made.id)["received"] == statuses.count(200)


def test_kept_lines_are_bounded(api, emulator):
    made = create(api, "bounded")
    host, key = made.properties.http_address, made.properties.key
    body = "\n".join(f"line {i}" for i in range(600)).encode()
    assert ingest(emulator, host, "app", key, content=body).json() == {"accepted": 600}
    data = received(emulator, made.id)
    assert data["received"] == 600 and len(data["lines"]) == 500 and data["lines"][-1]["record"] == "line 599"


def test_central_logging(api, emulator):
    central = sdk.CentralApi(api)
    listed = central.central_get()
    assert len(listed.items) == 1
    item = listed.items[0]
    assert item.type == "centrallogging" and item.properties.enabled is False
    assert item.metadata.grafana_endpoint.startswith("https://grafana.")
    put = central.central_put(item.id, sdk.CentralLoggingEnsure(properties=sdk.CentralLogging(enabled=True)))
    assert put.properties.enabled is True
    assert central.central_find_by_id(item.id).properties.enabled is True
    status, _ = refused(central.central_find_by_id, str(uuid.uuid4()))
    assert status == 404
    status, _ = refused(
        central.central_put, str(uuid.uuid4()), sdk.CentralLoggingEnsure(properties=sdk.CentralLogging(enabled=True))
    )
    assert status == 404
    # another location has a central logging of its own
    r = httpx.get(emulator.url + "/logging/de-fra/central", auth=OWNER)
    assert r.status_code == 200 and r.json()["items"][0]["id"] != item.id


def test_routing_privilege_and_locations(emulator):
    # the real regional host routes to the same API; every location the SDK lists is served
    r = httpx.get(emulator.url + "/pipelines", auth=OWNER, headers={"Host": "logging.gb-lhr.ionos.com"})
    assert r.status_code == 200 and r.json()["type"] == "collection"
    for region in ("de-fra", "de-txl", "es-vit", "gb-bhx", "gb-lhr", "fr-par", "us-mci"):
        assert httpx.get(f"{emulator.url}/logging/{region}/pipelines", auth=OWNER).status_code == 200
    assert "logging" in emulator.admin("GET", "endpoints").json()
    assert httpx.get(emulator.url + PREFIX + "/pipelines").status_code == 401
    pw = "Passw0rd!"
    one, two = (f"log-{uuid.uuid4().hex[:8]}@example.com" for _ in range(2))
    url = emulator.url + PREFIX + "/pipelines"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        users = [
            h.post(
                "/um/users", json={"properties": {"firstname": "L", "lastname": "G", "email": email, "password": pw}}
            ).json()["id"]
            for email in (one, two)
        ]
        r = httpx.get(url, auth=(one, pw))
        assert r.status_code == 403 and "accessAndManageLogging" in r.json()["messages"][0]["message"]
        group = h.post(
            "/um/groups", json={"properties": {"name": f"log-{uuid.uuid4().hex[:6]}", "accessAndManageLogging": True}}
        ).json()["id"]
        for user in users:
            assert h.post(f"/um/groups/{group}/users", json={"id": user}).status_code == 202
    assert httpx.get(url, auth=(one, pw)).status_code == 200
    # a sub-user's pipeline is theirs and the administrators' only
    body = {"properties": {"name": "mine", "logs": [stream().to_dict()]}}
    r = httpx.post(url, auth=(one, pw), json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert httpx.get(f"{url}/{pid}", auth=(one, pw)).status_code == 200
    assert httpx.get(f"{url}/{pid}", auth=OWNER).status_code == 200
    assert httpx.get(f"{url}/{pid}", auth=(two, pw)).status_code == 404
    assert pid not in [i["id"] for i in httpx.get(url, auth=(two, pw)).json()["items"]]
    assert httpx.post(f"{url}/{pid}/key", auth=(two, pw)).status_code == 404
    assert httpx.delete(f"{url}/{pid}", auth=(two, pw)).status_code == 404
    assert httpx.delete(f"{url}/{pid}", auth=(one, pw)).status_code == 202


def test_what_a_pipeline_received_is_for_administrators(make_emulator):
    emu = make_emulator("protected", args=("--no-admin-open",))
    token = bearer(emu)
    with sdk.ApiClient(sdk.Configuration(host=emu.url + PREFIX, token=token)) as c:
        made = create(c, "guarded")
    url = f"{emu.url}/_emulator/logging/{made.id}"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, auth=OWNER).json()["received"] == 0
    assert httpx.get(f"{emu.url}/_emulator/monitoring/{made.id}", auth=OWNER).status_code == 404
