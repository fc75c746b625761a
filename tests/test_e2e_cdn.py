"""End-to-end: CDN through the unmodified `ionoscloud_cdn` SDK against a strict emulator of this module's own
(started with `upstream_map`, which points the upstream names of the distributions at loopback servers started
here), and its data plane: requests whose Host is a distribution's domain, served through the cache."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import uuid

import httpx
import ionoscloud_cdn as sdk
import pytest
from ionoscloud_cdn.exceptions import ApiException

from conftest import _RUNNING
from support import UPLOADED, InProcessEmulator, bearer, free_port, grant, new_user, uploaded_certificate
from upstreams import Upstream

PREFIX = "/cdn/de-fra"
MAX_BODY = 64 * 1024  # this emulator's --max-body-bytes


class Env:
    def __init__(self, emu: InProcessEmulator, ups: dict[str, Upstream]):
        self.emu, self.ups = emu, ups
        self.api = sdk.ApiClient(sdk.Configuration(host=emu.url + PREFIX, token=bearer(emu)))
        self.dists = sdk.DistributionsApi(self.api)

    def get(self, domain: str, path: str, **kw) -> httpx.Response:
        return httpx.get(self.emu.url + path, headers={"Host": domain, **kw.pop("headers", {})}, timeout=10, **kw)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    ups = {
        "cached": Upstream("cached", cache_control="public, max-age=60"),
        "fresh": Upstream("fresh", cache_control="no-store"),
        "plain": Upstream("plain"),
        "flaky": Upstream("flaky", cache_control="max-age=60"),
    }
    for up in ups.values():
        up.__enter__()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    mapping = ",".join(f"{name}.origin.test=http://127.0.0.1:{up.port}" for name, up in ups.items())
    emu = InProcessEmulator(
        tmp_path_factory.mktemp("cdn") / "data",
        upstream_map=f"{mapping},down.origin.test=127.0.0.1:{closed}",
        max_body_bytes=MAX_BODY,
        tls=True,
        https_port=free_port(),
    )
    emu.settings["upstream_map"] += f",self.origin.test=http://127.0.0.1:{emu.port}"  # the emulator itself
    emu.start()
    _RUNNING.append(emu)  # labels and spec violations like the shared emulator
    e = Env(emu, ups)
    yield e
    _RUNNING.remove(emu)
    emu.stop()
    for up in ups.values():
        if up.thread.is_alive():
            up.stop()


def rule(
    prefix: str, host: str, caching: bool = True, rate: str = "R500", scheme: str = "http/https", sni: str = "origin"
) -> sdk.RoutingRule:
    up = sdk.Upstream(host=host, caching=caching, waf=False, rate_limit_class=rate, sni_mode=sni)
    return sdk.RoutingRule(scheme=scheme, prefix=prefix, upstream=up)


def domain() -> str:
    return f"d{uuid.uuid4().hex[:10]}.example.com"


def new_distribution(env: Env, rules: list[sdk.RoutingRule], name: str | None = None, **kw) -> sdk.Distribution:
    props = sdk.DistributionProperties(domain=name or domain(), routing_rules=rules, **kw)
    d = env.dists.distributions_post(sdk.DistributionCreate(properties=props))
    assert d.metadata.state == "BUSY" and d.metadata.public_endpoint_ipv4 is None  # addresses once AVAILABLE
    return env.dists.distributions_find_by_id(d.id)


def refused(fn, *args, status: int) -> str:
    with pytest.raises(ApiException) as e:
        fn(*args)
    assert e.value.status == status, e.value.body
    return e.value.body


# -- the API -----------------------------------------------------------------------------------------


def test_distribution_lifecycle(env):
    name = domain()
    d = new_distribution(env, [rule("/", "plain.origin.test")], name=name.upper())
    assert d.type == "distribution" and d.href == f"/distributions/{d.id}"
    assert d.metadata.state == "AVAILABLE" and d.properties.domain == name
    assert ipaddress.ip_address(d.metadata.public_endpoint_ipv4) in ipaddress.ip_network("203.0.113.0/24")
    assert ipaddress.ip_address(d.metadata.public_endpoint_ipv6) in ipaddress.ip_network("2001:db8::/32")
    listed = env.dists.distributions_get(filter_domain=name)
    assert [i.id for i in listed.items] == [d.id]
    assert env.dists.distributions_get(filter_state="AVAILABLE").items
    # PUT replaces the whole distribution; under a new id it creates one
    put = sdk.DistributionUpdate(
        id=d.id, properties=sdk.DistributionProperties(domain=name, routing_rules=[rule("/v2", "plain.origin.test")])
    )
    assert env.dists.distributions_put(d.id, put).properties.routing_rules[0].prefix == "/v2"
    new_id = str(uuid.uuid4())
    made = env.dists.distributions_put_with_http_info(
        new_id,
        sdk.DistributionUpdate(
            properties=sdk.DistributionProperties(domain=domain(), routing_rules=[rule("/", "plain.origin.test")])
        ),
    )
    assert made.status_code == 201 and made.data.id == new_id
    for did in (d.id, new_id):
        env.dists.distributions_delete(did)
        refused(env.dists.distributions_find_by_id, did, status=404)


def test_distribution_rules(env):
    before = len(env.dists.distributions_get().items)
    missing = sdk.DistributionProperties(
        domain=domain(), certificate_id=str(uuid.uuid4()), routing_rules=[rule("/", "plain.origin.test")]
    )
    body = refused(env.dists.distributions_post, sdk.DistributionCreate(properties=missing), status=422)
    assert "certificateId" in body
    twice = sdk.DistributionProperties(
        domain=domain(), routing_rules=[rule("/a", "plain.origin.test"), rule("/a", "x.origin.test")]
    )
    refused(env.dists.distributions_post, sdk.DistributionCreate(properties=twice), status=422)
    assert len(env.dists.distributions_get().items) == before  # nothing was created
    d = new_distribution(env, [rule("/", "plain.origin.test")])
    taken = sdk.DistributionProperties(domain=d.properties.domain, routing_rules=[rule("/", "plain.origin.test")])
    refused(env.dists.distributions_post, sdk.DistributionCreate(properties=taken), status=409)
    # a certificate of the contract in Certificate Manager is accepted
    cert = uploaded_certificate(env.emu, "cdn.example.com")
    with_cert = new_distribution(env, [rule("/", "plain.origin.test")], certificate_id=cert)
    assert with_cert.properties.certificate_id == cert
    env.dists.distributions_delete(with_cert.id)
    # the spec's own rules, through the emulator's validation: a bad rate-limit class, both geo lists
    r = httpx.post(
        env.emu.url + PREFIX + "/distributions",
        headers={"Authorization": f"Bearer {bearer(env.emu)}"},
        json={
            "properties": {
                "domain": domain(),
                "routingRules": [
                    {
                        "scheme": "http",
                        "prefix": "/",
                        "upstream": {
                            "host": "plain.origin.test",
                            "caching": True,
                            "waf": False,
                            "rateLimitClass": "R7",
                            "sniMode": "origin",
                        },
                    }
                ],
            }
        },
    )
    assert r.status_code == 422 and "rateLimitClass" in r.text
    env.dists.distributions_delete(d.id)


def test_edge_ips(env):
    h = {"Authorization": f"Bearer {bearer(env.emu)}"}
    r = httpx.get(env.emu.url + PREFIX + "/ips", headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert r.json()["_links"]["self"].startswith(env.emu.url + PREFIX + "/ips")  # the spec's Links are URIs
    assert {i["properties"]["type"] for i in items} == {"ipv4", "ipv6"}
    for item in items:
        assert ipaddress.ip_address(item["properties"]["cidr"]).is_private  # documentation ranges
        one = httpx.get(env.emu.url + PREFIX + f"/ips/{item['id']}", headers=h)
        assert one.status_code == 200 and one.json()["properties"] == item["properties"]
    assert httpx.get(env.emu.url + PREFIX + f"/ips/{uuid.uuid4()}", headers=h).status_code == 404


# -- the data plane ----------------------------------------------------------------------------------


def test_cache_serves_while_the_upstream_is_down(env):
    flaky = env.ups["flaky"]
    d = new_distribution(env, [rule("/", "flaky.origin.test")])
    name = d.properties.domain
    first = env.get(name, "/img/logo.png")
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    assert first.json()["host"] == "flaky.origin.test"  # sniMode origin: the origin's own name
    again = env.get(name, "/img/logo.png")
    assert again.headers["x-cache"] == "HIT" and again.json() == first.json() and flaky.hits == 1
    flaky.stop()
    assert env.get(name, "/img/logo.png").status_code == 200  # from the cache
    assert env.get(name, "/img/other.png").status_code == 502  # not cached: the upstream is needed
    # the path prefix on the emulator's port reaches the same distribution and cache
    assert httpx.get(f"{env.emu.url}/_cdn/{name}/img/logo.png", timeout=10).headers["x-cache"] == "HIT"
    env.dists.distributions_delete(d.id)


def test_caching_rule_and_cache_control(env):
    cached, fresh, plain = env.ups["cached"], env.ups["fresh"], env.ups["plain"]
    d = new_distribution(
        env,
        [
            rule("/", "plain.origin.test", caching=False),
            rule("/static", "cached.origin.test"),
            rule("/live", "fresh.origin.test"),
        ],
    )
    name = d.properties.domain
    start = (cached.hits, fresh.hits, plain.hits)
    for _ in range(3):
        assert env.get(name, "/static/app.js").json()["upstream"] == "cached"  # longest prefix
        assert env.get(name, "/live/feed").json()["upstream"] == "fresh"
        assert env.get(name, "/index.html").json()["upstream"] == "plain"
    assert cached.hits - start[0] == 1  # caching on and a max-age: kept
    assert fresh.hits - start[1] == 3  # no-store: never kept
    assert plain.hits - start[2] == 3  # caching off
    assert env.get(name, "/static/app.js", params={"v": "2"}).headers["x-cache"] == "MISS"  # the query counts
    env.dists.distributions_delete(d.id)
    assert env.get(name, "/static/app.js").status_code == 404  # gone: the APIs serve no such path


def test_no_rule_rate_limit_and_down_upstream(env):
    d = new_distribution(
        env,
        [rule("/api", "plain.origin.test", caching=False, rate="R1"), rule("/down", "down.origin.test", scheme="http")],
    )
    name = d.properties.domain
    assert env.get(name, "/nothing").status_code == 404
    statuses = [env.get(name, "/api/x").status_code for _ in range(3)]
    assert statuses[0] == 200 and 429 in statuses, statuses
    assert env.get(name, "/down/x").status_code == 502
    secure = new_distribution(env, [rule("/", "plain.origin.test", scheme="https")])
    r = env.get(secure.properties.domain, "/login?next=/")  # plain http where only https is served
    assert r.status_code == 301 and r.headers["location"] == f"https://{secure.properties.domain}/login?next=/"
    env.dists.distributions_delete(secure.id)
    env.dists.distributions_delete(d.id)


def https_get(env: Env, name: str, path: str, cadata: str | None = None) -> tuple[bytes, dict]:
    """GET over the emulator's HTTPS port with `name` in the handshake (SNI) and the Host; the peer certificate."""
    ctx = ssl.create_default_context(cadata=cadata) if cadata else ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", env.emu.settings["https_port"]), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            return data, s.getpeercert() or {}


def test_https_with_the_certificate_from_certificate_manager(env):
    name = domain()
    cert = uploaded_certificate(env.emu, name)
    d = new_distribution(env, [rule("/", "plain.origin.test", caching=False)], name=name, certificate_id=cert)
    data, peer = https_get(env, name, "/secure", cadata=UPLOADED[cert])  # verified against the uploaded one
    assert data.startswith(b"HTTP/1.1 200") and b'"upstream": "plain"' in data
    assert dict(x[0] for x in peer["subject"])["commonName"] == name
    # a name without a certificate of its own gets the emulator's, which the uploaded one does not verify
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(env, "other.example.com", "/", cadata=UPLOADED[cert])
    env.dists.distributions_delete(d.id)


def test_geo_restrictions(env):
    def geo_rule(prefix: str, **lists) -> sdk.RoutingRule:
        r = rule(prefix, "plain.origin.test", caching=False)
        r.upstream.geo_restrictions = sdk.UpstreamGeoRestrictions(**lists)
        return r

    d = new_distribution(env, [geo_rule("/eu", allow_list=["DE", "FR"]), geo_rule("/", block_list=["RU"])])
    assert d.properties.routing_rules[0].upstream.geo_restrictions.allow_list == ["DE", "FR"]
    name = d.properties.domain
    country = lambda code: {"X-Emulator-Country": code}
    assert env.get(name, "/eu/x", headers=country("DE")).status_code == 200
    assert env.get(name, "/eu/x", headers=country("US")).status_code == 403  # not on the allow list
    assert env.get(name, "/x", headers=country("RU")).status_code == 403  # on the block list
    assert env.get(name, "/x", headers=country("us")).status_code == 200
    assert env.get(name, "/eu/x").status_code == 200  # no country known: not restricted
    env.dists.distributions_delete(d.id)


def test_a_loop_through_the_emulator_stops(env):
    """An origin that is the emulator itself, asked for the distribution's own domain (sniMode distribution):
    the request goes round a few times (each hop adds a Via) and then answers 508, not for ever."""
    d = new_distribution(env, [rule("/", "self.origin.test", caching=False, sni="distribution")])
    r = env.get(d.properties.domain, "/round")
    assert r.status_code == 508, r.text
    env.dists.distributions_delete(d.id)


def test_body_limit_and_methods(env):
    d = new_distribution(env, [rule("/", "plain.origin.test", caching=True)])
    name = d.properties.domain
    r = httpx.post(env.emu.url + "/form", headers={"Host": name}, content=b"x" * (MAX_BODY + 1), timeout=10)
    assert r.status_code == 413  # refused unread, as the APIs refuse it
    plain = env.ups["plain"]
    r = httpx.post(env.emu.url + "/form", headers={"Host": name}, content=b"a=1", timeout=10)
    assert r.status_code == 201 and r.json()["body"] == "a=1" and r.headers["x-cache"] == "MISS"
    hits = plain.hits
    assert httpx.post(env.emu.url + "/form", headers={"Host": name}, content=b"a=1", timeout=10).status_code == 201
    assert plain.hits == hits + 1  # a POST is never answered from the cache
    env.dists.distributions_delete(d.id)


def test_needs_the_group_privilege(env):
    user, cred = new_user(env.emu, "cdn")
    r = httpx.get(f"{env.emu.url}{PREFIX}/distributions", auth=cred)
    assert r.status_code == 403 and "accessAndManageCdn" in r.json()["messages"][0]["message"]
    grant(env.emu, user, access_and_manage_cdn=True)
    with sdk.ApiClient(sdk.Configuration(host=env.emu.url + PREFIX, token=bearer(env.emu, cred))) as c:
        assert sdk.DistributionsApi(c).distributions_get().type == "collection"
