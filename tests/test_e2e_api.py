"""End-to-end: Cloud API v6 conventions through the unmodified `ionoscloud` SDK (plain httpx where the SDK
cannot express the call): API info, depth, paging, filters, errors, headers, the async request model,
contracts and durability (api-behaviour.md §2-§5)."""

from __future__ import annotations

import importlib
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import ionoscloud
import pytest
from ionoscloud.exceptions import ApiFailedRequest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import OWNER, request_id, wait

DC_ENTITIES = {"servers", "volumes", "loadbalancers", "lans", "networkloadbalancers", "natgateways", "securitygroups"}
REF_KEYS = {"id", "type", "href"}


def tag() -> str:
    return "t" + uuid.uuid4().hex[:10]


def create_dc(client, name: str, location: str = "de/fra", *, done: bool = True):
    dc, _, headers = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location=location)
        )
    )
    if done:
        wait(client, headers)
    return dc, headers


def delete_dc(client, dc_id: str) -> None:
    _, _, h = ionoscloud.DataCentersApi(client).datacenters_delete_with_http_info(dc_id)
    wait(client, h)


def create_lan(client, dc_id: str, name: str = "lan"):
    lan, _, headers = ionoscloud.LANsApi(client).datacenters_lans_post_with_http_info(
        dc_id, lan=ionoscloud.Lan(properties=ionoscloud.LanProperties(name=name, public=False))
    )
    wait(client, headers)
    return lan


def raw_dc(client, dc_id: str, **kw) -> dict:
    return ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc_id, response_type="object", **kw)


def raw_dcs(client, **kw) -> dict:
    return ionoscloud.DataCentersApi(client).datacenters_get(response_type="object", **kw)


def envelope(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["httpStatus"] == status
    assert body["messages"] and all(isinstance(m["errorCode"], str) and m["message"] for m in body["messages"])
    return body["messages"][0]


def api_error(exc: pytest.ExceptionInfo, status: int) -> dict:
    assert exc.value.status == status, exc.value.body
    body = json.loads(exc.value.body)
    assert body["httpStatus"] == status and isinstance(body["messages"][0]["errorCode"], str)
    return body["messages"][0]


@pytest.fixture(scope="module")
def shared_dc(emulator):
    """A data center for tests that read it, fail to change it, or only rename it."""
    with sdk_client(emulator) as c:
        dc, _ = create_dc(c, "e2e-api-shared")
        yield dc.id
        delete_dc(c, dc.id)


@pytest.fixture
def http(emulator):
    with emulator.http() as h:
        yield h


# -- API info -----------------------------------------------------------------------------------------


def test_api_info(emulator, client):
    api = importlib.import_module("ionoscloud.api.__api").Api(client)
    info = api.api_info_get(depth=0)
    assert (info.href, info.name, info.version) == (emulator.cloud + "/", "CLOUD API", "6.0")
    # ionosctl's credential test
    r = httpx.get(emulator.cloud + "/", params={"maxResults": 1, "depth": 0}, auth=OWNER)
    assert r.status_code == 200
    assert r.json() == {"href": emulator.cloud + "/", "name": "CLOUD API", "version": "6.0"}


def test_api_info_needs_no_credentials_as_the_spec_says(emulator):
    # apiInfoGet declares no `security` and the spec has no global one: it is open
    r = httpx.get(emulator.cloud + "/")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "CLOUD API"
    # ... while everything that declares security still wants it
    envelope(httpx.get(emulator.cloud + "/datacenters"), 401)


# -- depth --------------------------------------------------------------------------------------------


def test_depth_of_a_single_resource(emulator, client):
    dc, _ = create_dc(client, tag())
    create_lan(client, dc.id, "depth-lan")
    base = f"{emulator.cloud}/datacenters/{dc.id}"
    try:
        d0 = raw_dc(client, dc.id, depth=0)
        assert {"id", "type", "href", "metadata", "properties", "entities"} <= set(d0)
        assert d0["properties"]["location"] == "de/fra"
        assert set(d0["entities"]) == DC_ENTITIES
        for name, coll in d0["entities"].items():
            # bare collection references, no items
            assert coll == {"id": f"{dc.id}/{name}", "type": "collection", "href": f"{base}/{name}"}

        d1 = raw_dc(client, dc.id, depth=1)
        assert set(d1["entities"]) == DC_ENTITIES
        assert d1["entities"]["lans"]["items"] == [{"id": "1", "type": "lan", "href": f"{base}/lans/1"}]
        for name in DC_ENTITIES - {"lans"}:
            assert d1["entities"][name]["items"] == [], name
            assert d1["entities"][name]["id"] == f"{dc.id}/{name}"

        d2 = raw_dc(client, dc.id, depth=2)
        (lan,) = d2["entities"]["lans"]["items"]
        assert lan["id"] == "1" and lan["properties"]["name"] == "depth-lan"
        assert lan["metadata"]["state"] == "AVAILABLE"
        assert set(lan["entities"]) == {"nics"}
        assert "items" not in lan["entities"]["nics"]
        assert lan["entities"]["nics"]["type"] == "collection"

        d3 = raw_dc(client, dc.id, depth=3)
        assert d3["entities"]["lans"]["items"][0]["entities"]["nics"]["items"] == []
    finally:
        delete_dc(client, dc.id)


def test_depth_of_a_collection(emulator, client):
    name = tag()
    dc, _ = create_dc(client, name)
    create_lan(client, dc.id)
    only_mine = {"filter.name": name}
    try:
        c0 = raw_dcs(client, depth=0)
        assert c0["id"] == "datacenters" and c0["type"] == "collection"
        assert c0["href"] == emulator.cloud + "/datacenters"
        assert all(set(i) == REF_KEYS for i in c0["items"])
        assert {"id": dc.id, "type": "datacenter", "href": f"{emulator.cloud}/datacenters/{dc.id}"} in c0["items"]

        c1 = raw_dcs(client, depth=1, query_params=only_mine)  # filters at depth >= 1, as every client lists
        (item,) = c1["items"]
        assert item["properties"]["name"] == name and item["metadata"]["state"] == "AVAILABLE"
        assert set(item["entities"]) == DC_ENTITIES
        for coll in item["entities"].values():
            assert "items" not in coll and coll["type"] == "collection"

        c2 = raw_dcs(client, depth=2, query_params=only_mine)
        lans = c2["items"][0]["entities"]["lans"]["items"]
        assert lans == [{"id": "1", "type": "lan", "href": f"{emulator.cloud}/datacenters/{dc.id}/lans/1"}]

        c10 = raw_dcs(client, depth=10, query_params=only_mine)  # the top of the documented range
        assert c10["items"][0]["entities"]["lans"]["items"][0]["entities"]["nics"]["items"] == []
    finally:
        delete_dc(client, dc.id)


@pytest.mark.parametrize("depth", ["11", "abc", "-1"])
def test_depth_out_of_range_is_422(http, depth):
    for path in ("/cloudapi/v6/datacenters", "/cloudapi/v6/locations"):
        msg = envelope(http.get(path, params={"depth": depth}), 422)
        assert "depth" in msg["message"]


# -- pagination, filters, ordering --------------------------------------------------------------------


def _page(client, offset: int, limit: int):
    return ionoscloud.DataCentersApi(client).datacenters_get(offset=offset, limit=limit, depth=1)


def _qs(url: str) -> dict:
    return {k: int(v[0]) for k, v in parse_qs(urlsplit(url).query).items() if k in ("offset", "limit")}


def test_pagination_links(make_emulator):
    emu = make_emulator("paging")
    with sdk_client(emu) as c:
        made = [create_dc(c, f"page-{i}", done=False)[0].id for i in range(5)]
        listing = emu.cloud + "/datacenters"
        seen = []
        for offset, expect_n, prev, nxt in ((0, 2, None, 2), (2, 2, 0, 4), (4, 1, 2, None)):
            page = _page(c, offset, 2)
            assert (page.offset, page.limit) == (offset, 2)
            assert len(page.items) == expect_n
            seen += [d.id for d in page.items]
            links = page.links
            for url in filter(None, (links._self, links.prev, links.next)):
                assert url.startswith(listing + "?"), url
            assert _qs(links._self) == {"offset": offset, "limit": 2}
            assert (links.prev and _qs(links.prev)) == (None if prev is None else {"offset": prev, "limit": 2})
            assert (links.next and _qs(links.next)) == (None if nxt is None else {"offset": nxt, "limit": 2})
            if links.next:  # the link works as given
                r = httpx.get(links.next, auth=OWNER)
                assert r.status_code == 200 and r.json()["offset"] == nxt
        assert sorted(seen) == sorted(made)

        # the whole list, and a page past the end
        whole = _page(c, 0, 1000)
        assert len(whole.items) == 5 and whole.links.next is None and whole.links.prev is None
        assert _page(c, 10, 2).items == []

        # maxResults truncates before filters and paging (ionosctl: "applied before filtering")
        first3 = [d["id"] for d in raw_dcs(c)["items"]][:3]
        assert [d["id"] for d in raw_dcs(c, query_params={"maxResults": 3})["items"]] == first3
        assert len(raw_dcs(c, limit=2, query_params={"maxResults": 3})["items"]) == 2
        outside = next(i for i in made if i not in first3)
        name = ionoscloud.DataCentersApi(c).datacenters_find_by_id(outside).properties.name
        assert raw_dcs(c, depth=1, query_params={"maxResults": 3, "filter.name": name})["items"] == []
        assert len(raw_dcs(c, depth=1, query_params={"filter.name": name})["items"]) == 1


def _names(client, **query) -> list[str]:
    return [d["properties"]["name"] for d in raw_dcs(client, depth=1, query_params=query)["items"]]


def test_filters_contains_case_insensitive_or_and_unknown_keys(client):
    t = tag()
    made = [
        create_dc(client, f"{t}-{n}", loc, done=False)[0].id
        for n, loc in (("Alpha", "de/fra"), ("beta", "de/txl"), ("GAMMA", "de/fra"))
    ]
    try:
        assert sorted(_names(client, **{"filter.name": t})) == [f"{t}-Alpha", f"{t}-GAMMA", f"{t}-beta"]
        assert _names(client, **{"filter.name": f"{t}-ALPHA"}) == [f"{t}-Alpha"]
        assert _names(client, **{"filter.name": f"{t}-gam"}) == [f"{t}-GAMMA"]
        # comma = OR (ionosctl joins repeated -F values with a comma)
        assert sorted(_names(client, **{"filter.name": f"{t}-alpha,{t}-beta"})) == [f"{t}-Alpha", f"{t}-beta"]
        # several keys must all match
        assert _names(client, **{"filter.name": t, "filter.location": "de/txl"}) == [f"{t}-beta"]
        # metadata fields filter too
        assert len(_names(client, **{"filter.name": t, "filter.createdBy": OWNER[0]})) == 3
        # a key that is neither a property nor a metadata field matches nothing
        assert _names(client, **{"filter.name": t, "filter.noSuchProperty": "x"}) == []
        assert _names(client, **{"filter.name": f"{t}-delta"}) == []
    finally:
        for dc in made:
            delete_dc(client, dc)


def test_order_by_and_hyphenated_order_by(client):
    t = tag()
    made = [create_dc(client, f"{t}-{n}", done=False)[0].id for n in ("c", "a", "b")]
    try:
        want = [f"{t}-a", f"{t}-b", f"{t}-c"]
        assert _names(client, **{"filter.name": t, "orderBy": "name"}) == want
        assert _names(client, **{"filter.name": t, "order-by": "name"}) == want
        assert sorted(_names(client, **{"filter.name": t})) == want
    finally:
        for dc in made:
            delete_dc(client, dc)


# -- representation and query parameters --------------------------------------------------------------


def test_pretty(http, shared_dc):
    for q in ({"pretty": "false"}, {"pretty": "False"}):
        r = http.get("/cloudapi/v6/datacenters", params=q)
        assert r.status_code == 200 and "\n" not in r.text and ": " not in r.text, r.text[:200]
        assert shared_dc in {d["id"] for d in r.json()["items"]}
        r = http.get("/cloudapi/v6/datacenters/nope", params=q)
        assert r.status_code == 404 and "\n" not in r.text
    for q in ({}, {"pretty": "true"}, {"pretty": "True"}):
        r = http.get("/cloudapi/v6/datacenters", params=q)
        assert r.status_code == 200 and r.text.startswith("{\n  "), r.text[:50]


def test_unknown_query_parameters_are_ignored(http, shared_dc):
    name = tag()
    # ionosctl adds its list parameters to every request, POST included
    junk = {"limit": "1", "offset": "7", "order-by": "name", "filter.x": "y", "maxResults": "1", "whatever": "1"}
    r = http.post("/cloudapi/v6/datacenters", params=junk, json={"properties": {"name": name, "location": "de/fra"}})
    assert r.status_code == 202, r.text
    dc_id = r.json()["id"]
    assert r.json()["properties"]["name"] == name
    r = http.get(f"/cloudapi/v6/datacenters/{dc_id}", params={"filter.x": "y", "order-by": "name", "foo": "bar"})
    assert r.status_code == 200 and r.json()["properties"]["name"] == name
    r = http.get("/cloudapi/v6/locations", params={"whatever": "1"})
    assert r.status_code == 200 and r.json()["items"]
    r = http.delete(f"/cloudapi/v6/datacenters/{dc_id}", params=junk)
    assert r.status_code == 202


# -- errors -------------------------------------------------------------------------------------------


def test_not_found(client, http, shared_dc):
    dcs = ionoscloud.DataCentersApi(client)
    with pytest.raises(ApiException) as e:
        dcs.datacenters_find_by_id(str(uuid.uuid4()))
    assert api_error(e, 404)["errorCode"] == "309"
    with pytest.raises(ApiException) as e:
        ionoscloud.ServersApi(client).datacenters_servers_find_by_id(shared_dc, str(uuid.uuid4()))
    assert api_error(e, 404)["errorCode"] == "309"
    with pytest.raises(ApiException) as e:
        ionoscloud.ServersApi(client).datacenters_servers_get(str(uuid.uuid4()))
    assert api_error(e, 404)["errorCode"] == "309"
    envelope(http.get("/cloudapi/v6/no/such/path"), 404)
    envelope(http.get(f"/cloudapi/v6/datacenters/{shared_dc}/teapots"), 404)


def test_wrong_method_is_405_with_allow(http, shared_dc):
    r = http.delete("/cloudapi/v6/datacenters")
    envelope(r, 405)
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "POST"}
    r = http.post("/cloudapi/v6/locations", json={})
    envelope(r, 405)
    assert "GET" in r.headers["Allow"] and "POST" not in r.headers["Allow"]
    r = http.post(f"/cloudapi/v6/datacenters/{shared_dc}", json={})
    envelope(r, 405)
    assert {"GET", "PUT", "PATCH", "DELETE"} <= {m.strip() for m in r.headers["Allow"].split(",")}


def _count_dcs(client) -> int:
    return len(raw_dcs(client)["items"])


def test_body_that_is_not_json_is_400(http, client):
    before = _count_dcs(client)
    for raw in (b"{not json", b"properties=1", b'{"properties": {"name": "x",'):
        r = http.post("/cloudapi/v6/datacenters", content=raw, headers={"Content-Type": "application/json"})
        envelope(r, 400)
    assert _count_dcs(client) == before


@pytest.mark.parametrize(
    "body, attribute",
    [
        ({"properties": {"name": "no-location"}}, "location"),
        ({"properties": {"name": 5, "location": "de/fra"}}, "name"),
        ({"properties": {"name": "x", "location": "de/fra", "version": 3}}, "version"),
        ({"properties": {"name": "x", "location": "de/fra", "secAuthProtection": "yes"}}, "secAuthProtection"),
        ({"properties": {"name": "x", "location": "xx/nowhere"}}, "location"),
    ],
    ids=["missing-location", "wrong-type", "read-only-version", "wrong-type-bool", "unknown-location"],
)
def test_invalid_datacenter_is_422_naming_the_attribute(http, client, body, attribute):
    before = _count_dcs(client)
    msg = envelope(http.post("/cloudapi/v6/datacenters", json=body), 422)
    assert attribute in msg["message"]
    assert _count_dcs(client) == before


@pytest.mark.parametrize(
    "props, attribute",
    [
        ({"name": "s", "cores": 1, "ram": 1024, "availabilityZone": "ZONE_9"}, "availabilityZone"),
        pytest.param({"name": "s", "cores": 1, "ram": 1024, "type": "MAINFRAME"}, "type", id="bad-enum-type"),
        ({"name": "s", "cores": "two", "ram": 1024}, "cores"),
        ({"name": "s", "cores": 1, "ram": 1024, "vmState": "RUNNING"}, "vmState"),
    ],
    ids=["bad-enum-zone", "bad-enum-type", "wrong-type", "read-only-vmState"],
)
def test_invalid_server_is_422_naming_the_attribute(http, client, shared_dc, props, attribute):
    servers = ionoscloud.ServersApi(client)
    before = len(servers.datacenters_servers_get(shared_dc).items)
    version = raw_dc(client, shared_dc)["properties"]["version"]
    msg = envelope(http.post(f"/cloudapi/v6/datacenters/{shared_dc}/servers", json={"properties": props}), 422)
    assert attribute in msg["message"]
    assert len(servers.datacenters_servers_get(shared_dc).items) == before
    assert raw_dc(client, shared_dc)["properties"]["version"] == version


def test_operation_not_implemented_is_501_envelope(emulator, client, http, shared_dc):
    from ionos_emulator import spec as specs

    implemented = emulator.admin("GET", "coverage").json()["implemented"]
    if implemented.get("cloud:datacentersLabelsGet") is False:
        with pytest.raises(ApiException) as e:
            ionoscloud.LabelsApi(client).datacenters_labels_get(shared_dc)
        assert "datacentersLabelsGet" in api_error(e, 501)["message"]
        return
    # labels are done: any other GET or DELETE the emulator does not implement yet must answer the same way
    ops = [
        op
        for op in specs.load("cloud").operations
        if op.method in ("GET", "DELETE") and implemented.get(f"cloud:{op.id}") is False
    ]
    if not ops:
        pytest.skip("every Cloud API GET and DELETE is implemented (see the in-process test below)")
    path = ops[0].path.replace("{datacenterId}", shared_dc)
    while "{" in path:
        path = path[: path.index("{")] + "x" + path[path.index("}") + 1 :]
    r = http.request(ops[0].method, "/cloudapi/v6" + path)
    assert ops[0].id in envelope(r, 501)["message"]


def test_gateway_answers_501_for_an_operation_without_handler(tmp_path):
    """Once every operation has a handler the served emulator cannot show it: take one away in-process
    (from this app's own mount: no other app sees the change)."""
    import asyncio

    from ionos_emulator.app import create_app
    from ionos_emulator.settings import Settings

    app = create_app(Settings(data_dir=str(tmp_path / "inproc"), strict=True))
    cloud = next(api for api in app.apis if api.name == "cloud")
    del cloud.handlers["datacentersLabelsGet"]
    other = create_app(Settings(data_dir=str(tmp_path / "other"), strict=True))
    assert "datacentersLabelsGet" in next(api for api in other.apis if api.name == "cloud").handlers
    other.store.close()

    async def call():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emu", auth=OWNER) as c:
            return await c.get(f"/cloudapi/v6/datacenters/{uuid.uuid4()}/labels")

    try:
        r = asyncio.run(call())
    finally:
        app.store.close()
    assert "datacentersLabelsGet" in envelope(r, 501)["message"]


# -- headers ------------------------------------------------------------------------------------------


def test_etag_header_matches_metadata_and_changes_after_patch(client, shared_dc):
    dcs = ionoscloud.DataCentersApi(client)
    dc, _, h = dcs.datacenters_find_by_id_with_http_info(shared_dc)
    assert h["ETag"] == dc.metadata.etag
    assert len(dc.metadata.etag) == 32 and int(dc.metadata.etag, 16) >= 0
    _, _, h1 = dcs.datacenters_find_by_id_with_http_info(shared_dc, depth=1)
    assert "ETag" not in h1  # only on GETs without depth

    new_name = tag()
    patched, status, ph = dcs.datacenters_patch_with_http_info(
        shared_dc, ionoscloud.DatacenterPropertiesPut(name=new_name)
    )
    assert status == 202 and patched.properties.name == new_name
    wait(client, ph)
    dc2, _, h2 = dcs.datacenters_find_by_id_with_http_info(shared_dc)
    assert dc2.properties.name == new_name
    assert dc2.metadata.etag != dc.metadata.etag
    assert h2["ETag"] == dc2.metadata.etag


def test_rate_limit_headers(client, emulator):
    dcs = ionoscloud.DataCentersApi(client)
    _, _, h = dcs.datacenters_get_with_http_info()
    limit, remaining, burst = (int(h[k]) for k in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Burst"))
    assert limit > 0 and burst > 0 and 0 <= remaining < limit
    dc, headers = create_dc(client, tag(), done=False)
    assert int(headers["X-RateLimit-Limit"]) == limit
    wait(client, headers)
    delete_dc(client, dc.id)
    # the auth API declares them as well
    r = httpx.get(emulator.auth + "/tokens", auth=OWNER)
    assert int(r.headers["X-RateLimit-Limit"]) > 0 and "X-RateLimit-Remaining" in r.headers


# -- the asynchronous model ---------------------------------------------------------------------------


def test_location_is_absolute_and_request_goes_done(emulator, client):
    dc, headers = create_dc(client, tag(), done=False)
    loc = headers["Location"]
    rid = request_id(headers)
    assert loc == f"{emulator.cloud}/requests/{rid}/status"
    assert dc.metadata.state == "BUSY"
    reqs = ionoscloud.RequestsApi(client)
    first = reqs.requests_status_get(rid)
    assert first.metadata.status in ("QUEUED", "RUNNING", "DONE")
    # the Location URL answers verbatim (ionosctl and the Node SDK GET it as given)
    r = httpx.get(loc, auth=OWNER)
    assert r.status_code == 200 and r.json()["id"] == rid
    wait(client, headers)
    st = reqs.requests_status_get(rid)
    assert st.metadata.status == "DONE" and st.href == loc
    (target,) = st.metadata.targets
    assert (target.target.id, target.target.type) == (dc.id, "datacenter")
    assert target.target.href == f"{emulator.cloud}/datacenters/{dc.id}"
    assert target.status == "DONE"
    assert ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id).metadata.state == "AVAILABLE"
    delete_dc(client, dc.id)


def test_realistic_timing_goes_through_queued_running_busy(make_emulator):
    emu = make_emulator("realistic")
    r = emu.admin("PUT", "timing", json={"profile": "realistic", "overrides": {"datacenter": 1.5}})
    assert r.status_code == 200 and r.json()["overrides"] == {"datacenter": 1.5}
    assert emu.admin("GET", "timing").json()["profile"] == "realistic"
    with sdk_client(emu) as c:
        started = time.monotonic()
        dc, headers = create_dc(c, "slow", done=False)
        rid = request_id(headers)
        reqs, dcs = ionoscloud.RequestsApi(c), ionoscloud.DataCentersApi(c)
        assert reqs.requests_status_get(rid).metadata.status in ("QUEUED", "RUNNING")
        assert dcs.datacenters_find_by_id(dc.id).metadata.state == "BUSY"
        seen = set()
        while time.monotonic() - started < 10:
            s = reqs.requests_status_get(rid).metadata.status
            seen.add(s)
            if s == "DONE":
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert "DONE" in seen and "RUNNING" in seen, seen
        assert elapsed >= 1.2, elapsed
        assert dcs.datacenters_find_by_id(dc.id).metadata.state == "AVAILABLE"
        # back to instant: the next change is done by the first poll
        emu.admin("PUT", "timing", json={"profile": "instant"})
        _, _, h = dcs.datacenters_patch_with_http_info(dc.id, ionoscloud.DatacenterPropertiesPut(name="fast"))
        assert reqs.requests_status_get(request_id(h)).metadata.status == "DONE"


def test_datacenter_version_rises_with_changes_inside(client):
    dc, _ = create_dc(client, tag())
    dcs = ionoscloud.DataCentersApi(client)
    try:
        v0 = dcs.datacenters_find_by_id(dc.id).properties.version
        assert isinstance(v0, int)
        create_lan(client, dc.id)
        v1 = dcs.datacenters_find_by_id(dc.id).properties.version
        assert v1 > v0
        _, _, h = dcs.datacenters_patch_with_http_info(dc.id, ionoscloud.DatacenterPropertiesPut(description="d"))
        wait(client, h)
        assert dcs.datacenters_find_by_id(dc.id).properties.version > v1
    finally:
        delete_dc(client, dc.id)


def test_requests_list_shows_method_url_body_and_status(emulator, client):
    since = (datetime.now(timezone.utc) - timedelta(seconds=2)).strftime("%Y-%m-%d %H:%M:%S")
    name = tag()
    dc, headers = create_dc(client, name)
    rid = request_id(headers)
    reqs = ionoscloud.RequestsApi(client)
    try:
        page = reqs.requests_get(depth=1, filter_method="POST", filter_created_after=since)
        assert page.items and all(i.properties.method == "POST" for i in page.items)
        mine = [i for i in page.items if i.id == rid]
        assert mine, [i.id for i in page.items]
        req = mine[0]
        assert req.href == f"{emulator.cloud}/requests/{rid}"
        assert req.properties.url == f"{emulator.cloud}/datacenters"
        assert json.loads(req.properties.body)["properties"]["name"] == name
        assert isinstance(req.properties.headers, dict)
        assert req.metadata.request_status.metadata.status == "DONE"
        assert req.metadata.created_by == OWNER[0]
        created = req.metadata.created_date  # the SDK parses it into an aware datetime
        assert created.tzinfo is not None
        assert created >= datetime.strptime(since + "+0000", "%Y-%m-%d %H:%M:%S%z")

        # the same request through the other filters
        ids = lambda **kw: {i.id for i in reqs.requests_get(depth=1, **kw).items}
        assert rid not in ids(filter_method="DELETE", filter_created_after=since)
        future = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        assert ids(filter_created_after=future) == set()
        assert rid in ids(filter_created_before=future, filter_created_after=since)
        assert rid in ids(filter_body=name)
        # createdDate in the documented format, to the second and to the day
        stamp = created.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        assert rid in ids(filter_created_date=stamp)
        assert rid in ids(filter_created_date=stamp[:10], filter_created_after=since)
        assert rid in ids(filter_url="datacenters", filter_created_after=since)
        assert ids(filter_body=tag()) == set()

        one = reqs.requests_find_by_id(rid, depth=1)
        assert one.properties.method == "POST" and one.metadata.request_status.metadata.status == "DONE"
    finally:
        delete_dc(client, dc.id)


def test_requests_date_filter_rejects_other_formats(http):
    envelope(http.get("/cloudapi/v6/requests", params={"filter.createdAfter": "yesterday"}), 422)


def test_forced_failure_fails_the_request_and_removes_the_resource(emulator, client):
    message = f"[VDC-5-0] forced by the e2e test {tag()}"
    r = emulator.admin(
        "POST", "failures", json={"method": "POST", "path": "^/datacenters$", "message": message, "count": 1}
    )
    assert r.status_code == 200
    try:
        dc, headers = create_dc(client, tag(), done=False)
        assert emulator.admin("GET", "failures").json() == []  # used up by this request
        with pytest.raises(ApiFailedRequest) as e:
            wait(client, headers)
        assert message in str(e.value)
        assert e.value.request_id == request_id(headers)
        st = ionoscloud.RequestsApi(client).requests_status_get(request_id(headers))
        assert st.metadata.status == "FAILED" and st.metadata.message == message
        with pytest.raises(ApiException) as nf:
            ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id)
        assert api_error(nf, 404)["errorCode"] == "309"
        # only one failure was asked for
        dc2, _ = create_dc(client, tag())
        delete_dc(client, dc2.id)
    finally:
        emulator.admin("DELETE", "failures")


def test_forced_failure_with_a_bad_pattern_is_refused(emulator, client):
    try:
        for bad in ({"path": "(unclosed"}, {"path": "^/datacenters$", "count": 0}, {"method": "POST"}):
            r = emulator.admin("POST", "failures", json=bad)
            assert r.status_code == 422, (bad, r.text)
        assert emulator.admin("GET", "failures").json() == []
        # and changes keep working
        dc, _ = create_dc(client, tag())
        delete_dc(client, dc.id)
    finally:
        emulator.admin("DELETE", "failures")


# -- contracts ----------------------------------------------------------------------------------------


def _limits(client):
    (contract,) = ionoscloud.ContractResourcesApi(client).contracts_get().items
    return contract.properties, contract.properties.resource_limits


def test_contract_counters_are_live_and_cores_per_server_is_enforced(emulator, client):
    props, lim0 = _limits(client)
    assert type(props.contract_number) is int and props.contract_number > 0
    raw = httpx.get(emulator.cloud + "/contracts", auth=OWNER).json()
    assert type(raw["items"][0]["properties"]["contractNumber"]) is int

    dc, _ = create_dc(client, tag())
    servers = ionoscloud.ServersApi(client)
    try:
        s, _, h = servers.datacenters_servers_post_with_http_info(
            dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="counted", cores=2, ram=1024))
        )
        wait(client, h)
        _, lim1 = _limits(client)
        assert lim1.cores_provisioned == lim0.cores_provisioned + 2
        assert lim1.ram_provisioned == lim0.ram_provisioned + 1024

        with pytest.raises(ApiException) as e:
            servers.datacenters_servers_post(
                dc.id,
                ionoscloud.Server(
                    properties=ionoscloud.ServerProperties(name="too-big", cores=lim0.cores_per_server + 1, ram=1024)
                ),
            )
        assert "cores" in api_error(e, 422)["message"]
        assert [x.id for x in servers.datacenters_servers_get(dc.id).items] == [s.id]
        assert _limits(client)[1].cores_provisioned == lim1.cores_provisioned
    finally:
        delete_dc(client, dc.id)
    # deleting the data center deletes its server, and frees its cores
    assert _limits(client)[1].cores_provisioned == lim0.cores_provisioned


# -- durability ---------------------------------------------------------------------------------------


def test_restart_keeps_datacenters_and_requests(make_emulator):
    emu = make_emulator("restart")
    with sdk_client(emu) as c:
        dc, headers = create_dc(c, "durable", "de/txl")
        create_lan(c, dc.id, "durable-lan")
        before = raw_dc(c, dc.id, depth=2)
        reqs_before = {r.id: r.properties.url for r in ionoscloud.RequestsApi(c).requests_get(depth=1).items}
        assert len(reqs_before) == 2
    emu.stop()
    emu.start()
    with sdk_client(emu) as c:
        assert raw_dc(c, dc.id, depth=2) == before
        assert ionoscloud.RequestsApi(c).requests_status_get(request_id(headers)).metadata.status == "DONE"
        reqs_after = {r.id: r.properties.url for r in ionoscloud.RequestsApi(c).requests_get(depth=1).items}
        assert reqs_after == reqs_before
        # and it keeps working: LAN ids continue where they were
        assert create_lan(c, dc.id).id == "2"
