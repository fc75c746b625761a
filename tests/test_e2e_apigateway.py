"""End-to-end: API Gateway through the unmodified `ionoscloud_api_gateway` SDK against the shared strict
emulator, and its data plane: HTTP requests to a gateway's public endpoint (by Host header, and under
/_gateway/<id>/) proxied to loopback upstreams started here."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import uuid

import httpx
import ionoscloud_api_gateway as sdk
import pytest
from ionoscloud_api_gateway.exceptions import ApiException

from ionos_emulator.dataplanes import forward, webtls
from support import OWNER, bearer, grant, new_user, uploaded_certificate
from upstreams import Upstream

PREFIX = "/apigateway/de-txl"
ENDPOINT = re.compile(r"^[a-z0-9]{12}-ag\.[a-z0-9]{12}\.apigateway\.de-txl\.ionos\.com$")


@pytest.fixture(scope="module")
def api(emulator):
    with sdk.ApiClient(sdk.Configuration(host=emulator.url + PREFIX, token=bearer(emulator))) as c:
        yield c


def gateways(api) -> sdk.APIGatewaysApi:
    return sdk.APIGatewaysApi(api)


def routes(api) -> sdk.RoutesApi:
    return sdk.RoutesApi(api)


def new_gateway(api, **kw) -> sdk.GatewayRead:
    kw.setdefault("name", f"gw-{uuid.uuid4().hex[:6]}")
    g = gateways(api).apigateways_post(sdk.GatewayCreate(properties=sdk.Gateway(**kw)))
    return gateways(api).apigateways_find_by_id(g.id)  # instant timing: AVAILABLE at the first GET


def upstream(port: int, weight: int | None = None, host: str = "127.0.0.1") -> sdk.RouteUpstreamsInner:
    return sdk.RouteUpstreamsInner(scheme="http", host=host, port=port, weight=weight, loadbalancer="roundrobin")


def new_route(api, gateway_id: str, ups, paths=("/api/*",), methods=("GET", "POST"), **kw) -> sdk.RouteRead:
    route = sdk.Route(name=kw.pop("name", "r1"), paths=list(paths), methods=list(methods), upstreams=ups, **kw)
    r = routes(api).apigateways_routes_post(gateway_id, sdk.RouteCreate(properties=route))
    return routes(api).apigateways_routes_find_by_id(gateway_id, r.id)


def refused(fn, *args, status: int) -> str:
    with pytest.raises(ApiException) as e:
        fn(*args)
    assert e.value.status == status, e.value.body
    return e.value.body


def via_host(emulator, gateway: sdk.GatewayRead, method: str, path: str, **kw) -> httpx.Response:
    headers = {"Host": gateway.metadata.public_endpoint, **kw.pop("headers", {})}
    return httpx.request(method, emulator.url + path, headers=headers, timeout=10, **kw)


# -- the API -----------------------------------------------------------------------------------------


def test_gateway_lifecycle(api, emulator):
    g = new_gateway(api, metrics=True)
    assert g.type == "gateway" and g.href == f"/gateways/{g.id}"
    assert g.metadata.status == "AVAILABLE"
    assert ENDPOINT.match(g.metadata.public_endpoint), g.metadata.public_endpoint
    assert g.properties.logs is False and g.properties.metrics is True  # logs defaults to false
    assert g.id in [i.id for i in gateways(api).apigateways_get().items]
    # PUT ensures: the whole gateway, what it leaves out is gone
    put = sdk.GatewayEnsure(id=g.id, properties=sdk.Gateway(name="renamed", logs=True))
    again = gateways(api).apigateways_put(g.id, put)
    assert again.properties.name == "renamed" and again.properties.metrics is False
    assert again.metadata.public_endpoint == g.metadata.public_endpoint  # the endpoint stays
    # PUT under a new id creates
    # lists are newest first unless orderBy says otherwise ("-name": descending)
    later = new_gateway(api, name="aaa-later")
    assert [i.id for i in gateways(api).apigateways_get(limit=2).items] == [later.id, g.id]
    by_name = [i.properties.name for i in gateways(api).apigateways_get(order_by="name").items]
    assert by_name == sorted(by_name, key=str.lower) and by_name[0] == "aaa-later"
    assert gateways(api).apigateways_get(order_by="-name").items[-1].id == later.id
    gateways(api).apigateways_delete(later.id)
    new_id = str(uuid.uuid4())
    made = gateways(api).apigateways_put_with_http_info(
        new_id, sdk.GatewayEnsure(id=new_id, properties=sdk.Gateway(name="ensured"))
    )
    assert made.status_code == 201 and made.data.id == new_id
    for gid in (g.id, new_id):
        gateways(api).apigateways_delete(gid)
        refused(gateways(api).apigateways_find_by_id, gid, status=404)


def test_gateway_rules(api, emulator):
    before = len(gateways(api).apigateways_get().items)
    refused(gateways(api).apigateways_post, sdk.GatewayCreate(properties=sdk.Gateway(logs=True)), status=422)
    missing = sdk.GatewayCustomDomainsInner(name="api.example.com", certificate_id=str(uuid.uuid4()))
    body = refused(
        gateways(api).apigateways_post,
        sdk.GatewayCreate(properties=sdk.Gateway(name="gw", custom_domains=[missing])),
        status=422,
    )
    assert "certificateId" in body and "Certificate Manager" in body
    assert len(gateways(api).apigateways_get().items) == before  # nothing was created
    # with a certificate of the contract the custom domain is taken, and answers
    cert = uploaded_certificate(emulator, "api.example.com")
    domain = f"api-{uuid.uuid4().hex[:6]}.example.com"
    g = new_gateway(api, custom_domains=[sdk.GatewayCustomDomainsInner(name=domain.upper(), certificate_id=cert)])
    assert g.properties.custom_domains[0].name == domain
    # with --tls the domain's handshake gets this certificate (test_e2e_cdn.py drives it over TLS)
    assert webtls.certificate_of(emulator.app, domain).id == cert
    assert webtls.certificate_of(emulator.app, g.metadata.public_endpoint) is None  # no certificate of its own
    # another gateway cannot claim the same domain
    twice = sdk.GatewayCustomDomainsInner(name=domain, certificate_id=cert)
    refused(
        gateways(api).apigateways_post,
        sdk.GatewayCreate(properties=sdk.Gateway(name="x", custom_domains=[twice])),
        status=409,
    )
    with Upstream("custom") as up:
        new_route(api, g.id, [upstream(up.port)])
        r = httpx.get(emulator.url + "/api/x", headers={"Host": domain}, timeout=10)
        assert r.status_code == 200 and r.json()["upstream"] == "custom"
        # a PUT that moves the gateway to another domain: the old one answers no more, the new one does
        moved = f"new-{domain}"
        put = sdk.GatewayEnsure(
            properties=sdk.Gateway(
                name="moved", custom_domains=[sdk.GatewayCustomDomainsInner(name=moved, certificate_id=cert)]
            )
        )
        gateways(api).apigateways_put(g.id, put)
        assert httpx.get(emulator.url + "/api/x", headers={"Host": domain}, timeout=10).status_code == 404
        r = httpx.get(emulator.url + "/api/x", headers={"Host": moved}, timeout=10)
        assert r.status_code == 200 and r.json()["upstream"] == "custom"
        # the first domain is free again for another gateway
        other = new_gateway(api, custom_domains=[sdk.GatewayCustomDomainsInner(name=domain, certificate_id=cert)])
        gateways(api).apigateways_delete(other.id)
    gateways(api).apigateways_delete(g.id)
    # once deleted, the domain answers for nobody: the request goes to the APIs, which serve no such path
    r = httpx.get(emulator.url + "/api/x", headers={"Host": moved}, timeout=10)
    assert r.status_code == 404 and "No API is served" in r.text


def test_route_defaults_and_rules(api, emulator):
    g = new_gateway(api)
    bare = sdk.RouteUpstreamsInner(host="127.0.0.1")
    r = new_route(api, g.id, [bare], paths=["/v1/*"], methods=["get"])
    assert r.type == "route" and r.href == f"/gateways/{g.id}/routes/{r.id}"
    assert r.metadata.status == "AVAILABLE" and r.metadata.public_endpoint == g.metadata.public_endpoint
    p = r.properties
    assert (p.type, p.websocket, p.methods) == ("http", False, ["GET"])
    u = p.upstreams[0]
    assert (u.scheme, u.loadbalancer, u.port, u.weight) == ("http", "roundrobin", 80, 100)
    bad = [
        sdk.Route(name="r", paths=["v1"], methods=["GET"], upstreams=[bare]),
        sdk.Route(name="r", paths=["/v1"], methods=["FETCH"], upstreams=[bare]),
        sdk.Route(name="r", paths=["/v1"], methods=["GET"], upstreams=[sdk.RouteUpstreamsInner(host="h", port=0)]),
        sdk.Route(
            name="r", paths=["/v1"], methods=["GET"], upstreams=[sdk.RouteUpstreamsInner(host="h", scheme="ftp")]
        ),
        sdk.Route(name="r", paths=["/v1"], methods=["GET"], upstreams=[sdk.RouteUpstreamsInner(host="h", weight=0)]),
        sdk.Route(paths=["/v1"], methods=["GET"], upstreams=[bare]),
        sdk.Route(name="r", paths=["/v1"], methods=["GET"], upstreams=[sdk.RouteUpstreamsInner(host="http://h/x")]),
    ]
    for route in bad:
        refused(routes(api).apigateways_routes_post, g.id, sdk.RouteCreate(properties=route), status=422)
    assert [i.id for i in routes(api).apigateways_routes_get(g.id).items] == [r.id]
    # PUT replaces the route; under a new id it creates one
    ensured = routes(api).apigateways_routes_put(
        g.id,
        r.id,
        sdk.RouteEnsure(id=r.id, properties=sdk.Route(name="r2", paths=["/v2"], methods=["PUT"], upstreams=[bare])),
    )
    assert ensured.properties.paths == ["/v2"] and ensured.properties.methods == ["PUT"]
    rid = str(uuid.uuid4())
    made = routes(api).apigateways_routes_put_with_http_info(
        g.id,
        rid,
        sdk.RouteEnsure(id=rid, properties=sdk.Route(name="r3", paths=["/v3"], methods=["GET"], upstreams=[bare])),
    )
    assert made.status_code == 201
    routes(api).apigateways_routes_delete(g.id, rid)
    refused(routes(api).apigateways_routes_find_by_id, g.id, rid, status=404)
    refused(routes(api).apigateways_routes_get, str(uuid.uuid4()), status=404)  # no such gateway
    gateways(api).apigateways_delete(g.id)


def test_needs_the_group_privilege(api, emulator):
    user, cred = new_user(emulator, "gw")
    r = httpx.get(f"{emulator.url}{PREFIX}/gateways", auth=cred)
    assert r.status_code == 403 and "accessAndManageApiGateway" in r.json()["messages"][0]["message"]
    grant(emulator, user, access_and_manage_api_gateway=True)
    with sdk.ApiClient(sdk.Configuration(host=emulator.url + PREFIX, token=bearer(emulator, cred))) as c:
        assert sdk.APIGatewaysApi(c).apigateways_get().type == "collection"


# -- the data plane ----------------------------------------------------------------------------------


def test_weighted_upstreams(api, emulator):
    g = new_gateway(api)
    with Upstream("heavy") as a, Upstream("light") as b:
        new_route(api, g.id, [upstream(a.port, 3), upstream(b.port, 1)])
        seen = {"heavy": 0, "light": 0}
        with httpx.Client(base_url=emulator.url, headers={"Host": g.metadata.public_endpoint}, timeout=10) as h:
            for i in range(200):
                r = h.get(f"/api/items/{i}", params={"q": "x y"})
                assert r.status_code == 200, r.text
                seen[r.json()["upstream"]] += 1
        assert 130 <= seen["heavy"] <= 170 and seen["heavy"] + seen["light"] == 200, seen
        assert a.hits + b.hits == 200
        got = a.seen[-1]
        assert got["path"].startswith("/api/items/") and got["path"].endswith("?q=x+y")  # path and query unchanged
        assert got["host"] == f"127.0.0.1:{a.port}" and got["forwardedFor"] == "127.0.0.1"
        assert [k for k, _ in r.headers.raw].count(b"date") == 1 and r.headers["server"] == "uvicorn"  # no doubles
    gateways(api).apigateways_delete(g.id)


def test_methods_paths_and_prefix(api, emulator):
    g = new_gateway(api)
    with Upstream("wild") as wild, Upstream("exact") as exact:
        new_route(api, g.id, [upstream(wild.port)], paths=["/api/*"], methods=["GET", "POST"], name="wild")
        new_route(api, g.id, [upstream(exact.port)], paths=["/api/health"], methods=["GET"], name="exact")
        assert via_host(emulator, g, "GET", "/api/health").json()["upstream"] == "exact"  # exact beats wildcard
        r = via_host(emulator, g, "POST", "/api/orders", content=b'{"n": 1}')
        assert r.status_code == 201 and r.json()["body"] == '{"n": 1}' and r.json()["upstream"] == "wild"
        # the same through the path prefix on the emulator's port
        r = httpx.post(f"{emulator.url}/_gateway/{g.id}/api/orders", content=b"hi", timeout=10)
        assert r.status_code == 201 and r.json()["path"] == "/api/orders" and r.json()["body"] == "hi"
        for method, path in (("DELETE", "/api/orders"), ("GET", "/other"), ("PUT", "/api/health"), ("GET", "/api")):
            r = via_host(emulator, g, method, path)
            assert r.status_code == 404 and r.json() == {"error_msg": "404 Route Not Found"}, (method, path)
        assert httpx.get(f"{emulator.url}/_gateway/{uuid.uuid4()}/api/x", timeout=10).status_code == 404
    gateways(api).apigateways_delete(g.id)


def test_slow_upstreams_do_not_hold_up_the_emulator(api, emulator):
    """20 requests to an upstream that takes 0.5 s each, at once: they wait together (the proxy is async), and
    the APIs answer meanwhile."""
    g = new_gateway(api)
    with Upstream("slow", delay=0.5) as up:
        new_route(api, g.id, [upstream(up.port)], paths=["/slow"], methods=["GET"])

        async def burst() -> tuple[list[int], float, int]:
            headers = {"Host": g.metadata.public_endpoint}
            async with httpx.AsyncClient(base_url=emulator.url, timeout=30) as h:
                started = time.perf_counter()
                calls = [h.get("/slow", headers=headers) for _ in range(20)]
                api_call = h.get(PREFIX + "/gateways", headers={"Authorization": f"Bearer {bearer(emulator)}"})
                *answers, listed = await asyncio.gather(*calls, api_call)
                return [r.status_code for r in answers], time.perf_counter() - started, listed.status_code

        statuses, elapsed, listed = asyncio.run(burst())
        assert statuses == [200] * 20 and listed == 200 and up.hits == 20
        assert elapsed < 7, f"20 slow answers took {elapsed:.1f} s: one after the other would take 10"
    gateways(api).apigateways_delete(g.id)


def test_streamed_answer(api, emulator):
    g = new_gateway(api)
    with Upstream("chunks") as up:
        new_route(api, g.id, [upstream(up.port)], paths=["/chunked*"], methods=["GET"])
        r = via_host(emulator, g, "GET", "/chunked/1")
        assert r.status_code == 200 and r.text == "one,two,three"
    gateways(api).apigateways_delete(g.id)


def test_upstream_down_or_refused(api, emulator, monkeypatch):
    g = new_gateway(api)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # bound, never listening: refused
    new_route(api, g.id, [upstream(closed)], paths=["/down"], methods=["GET"], name="down")
    new_route(api, g.id, [upstream(80, host="203.0.113.7")], paths=["/public"], methods=["GET"], name="pub")
    r = via_host(emulator, g, "GET", "/down")
    assert r.status_code == 502 and "refused" in r.headers["x-emulator-reason"]
    r = via_host(emulator, g, "GET", "/public")  # not loopback: never contacted
    assert r.status_code == 502 and "proxy-upstreams" in r.headers["x-emulator-reason"]
    # an upstream that accepts and never answers: 504 once the read times out
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    monkeypatch.setattr(forward, "READ_TIMEOUT", 0.5)
    new_route(api, g.id, [upstream(silent.getsockname()[1])], paths=["/slow"], methods=["GET"], name="slow")
    r = via_host(emulator, g, "GET", "/slow")
    assert r.status_code == 504, r.text
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    silent.close()
    gateways(api).apigateways_delete(g.id)


def test_the_dns_server_resolves_a_gateways_endpoint_while_it_exists(api, emulator):
    import dns.message
    import dns.rdatatype

    from ionos_emulator.dataplanes.dns import Authority

    authority = Authority(emulator.app)  # the DNS server's answers, over the shared emulator's store

    def addresses(name):
        (resp,) = authority.handle(dns.message.make_query(name, "A"), False, "127.0.0.1")
        return [r.address for rrset in resp.answer for r in rrset if rrset.rdtype == dns.rdatatype.A]

    g = new_gateway(api)
    assert addresses(g.metadata.public_endpoint) == ["127.0.0.1"]
    gateways(api).apigateways_delete(g.id)
    gateways(api).apigateways_get()  # the deletion completes (instant timing)
    assert addresses(g.metadata.public_endpoint) == []


def test_deleted_route_and_gateway_stop_serving(api, emulator):
    g = new_gateway(api)
    with Upstream("gone") as up:
        r = new_route(api, g.id, [upstream(up.port)], paths=["/x"], methods=["GET"])
        assert via_host(emulator, g, "GET", "/x").status_code == 200
        routes(api).apigateways_routes_delete(g.id, r.id)
        assert via_host(emulator, g, "GET", "/x").status_code == 404
        new_route(api, g.id, [upstream(up.port)], paths=["/x"], methods=["GET"])
        gateways(api).apigateways_delete(g.id)
        assert httpx.get(f"{emulator.url}/_gateway/{g.id}/x", timeout=10).status_code == 404
        assert up.hits == 1
    # the API itself is untouched by the data plane: its own host still routes to it
    r = httpx.get(emulator.url + "/gateways", headers={"Host": "apigateway.de-txl.ionos.com"}, auth=OWNER)
    assert r.status_code == 200 and r.json()["type"] == "collection"
