"""The API Gateway and CDN data planes' rules, one by one (the end-to-end tests drive them through HTTP): the
upstream policy and map, route matching and the weighted choice, the cache's Cache-Control and its bounds."""

from __future__ import annotations

import asyncio

import pytest

from ionos_emulator.dataplanes import cdn, forward
from ionos_emulator.dataplanes.apigateway import GatewayPlane, best_route, path_score
from ionos_emulator.settings import Settings
from ionos_emulator.store import Row


def test_upstream_policy():
    loopback, private, anything = (Settings(proxy_upstreams=p) for p in ("loopback", "private", "any"))
    assert forward.allowed(loopback, "127.0.0.9") and forward.allowed(loopback, "::1")
    assert not forward.allowed(loopback, "10.0.0.1") and not forward.allowed(loopback, "93.184.215.14")
    assert forward.allowed(private, "10.0.0.1") and forward.allowed(private, "fd00::1")
    assert not forward.allowed(private, "93.184.215.14")
    assert forward.allowed(anything, "93.184.215.14")
    with pytest.raises(forward.UpstreamError) as e:  # refused before any connection
        asyncio.run(forward.resolve(loopback, forward.Target("http", "192.0.2.1", 80)))
    assert e.value.status == 502
    assert asyncio.run(forward.resolve(loopback, forward.Target("http", "app.localhost", 80))) == ["127.0.0.1"]


def test_upstream_map():
    s = Settings(upstream_map="origin.example.com=127.0.0.1:8080, api.example.com:443=http://[::1]:9000")
    assert forward.mapped(s, forward.Target("https", "Origin.Example.com", 443)) == forward.Target(
        "https", "127.0.0.1", 8080
    )
    assert forward.mapped(s, forward.Target("https", "api.example.com", 443)) == forward.Target("http", "::1", 9000)
    assert forward.mapped(s, forward.Target("http", "api.example.com", 80)).host == "api.example.com"  # another port
    assert forward.Target("http", "::1", 9000).authority == "[::1]:9000"
    for bad in ("origin.example.com", "x=127.0.0.1", "x=127.0.0.1:port"):
        with pytest.raises(ValueError):
            forward.parse_map(bad)


def route(rid: str, paths: list[str], methods: list[str], weights=(100,), lb="roundrobin") -> Row:
    ups = [{"host": "127.0.0.1", "port": 1, "weight": w, "loadbalancer": lb} for w in weights]
    return Row(
        tenant=1,
        kind="apigateway.route",
        id=rid,
        doc={"properties": {"paths": paths, "methods": methods, "upstreams": ups}},
    )


def test_route_matching():
    assert path_score("/api/*", "/api/x") == (1, 5) and path_score("/api/*", "/api") is None
    assert path_score("/api", "/api") == (2, 4) and path_score("/api", "/api/") is None
    wide, narrow, exact = route("w", ["/*"], ["GET"]), route("n", ["/api/*"], ["GET"]), route("e", ["/api/a"], ["GET"])
    routes = [wide, narrow, exact]
    assert best_route(routes, "GET", "/api/a").id == "e"
    assert best_route(routes, "GET", "/api/b").id == "n"
    assert best_route(routes, "GET", "/other").id == "w"
    assert best_route(routes, "POST", "/api/a") is None
    assert best_route([route("old", ["/x"], ["GET"]), route("new", ["/x"], ["GET"])], "GET", "/x").id == "old"


def test_weighted_choice_is_exact_and_smooth():
    plane = GatewayPlane(Settings())
    r = route("r", ["/"], ["GET"], weights=(5, 1, 1))
    picks = [plane.choose(r) for _ in range(70)]
    assert [picks.count(i) for i in range(3)] == [50, 10, 10]
    assert picks[:7].count(0) == 5 and picks[:7] != [0] * 5 + [1, 2]  # spread out, not in a block
    least = route("l", ["/"], ["GET"], weights=(1, 1), lb="least_conn")
    plane.in_flight[("l", 0)] = 3
    assert plane.choose(least) == 1


def test_cache_control_and_bounds():
    h = lambda v: [(b"cache-control", v.encode())]
    assert cdn.ttl_of([]) == cdn.DEFAULT_TTL
    assert cdn.ttl_of(h("public, max-age=60")) == 60 and cdn.ttl_of(h("max-age=60, s-maxage=5")) == 5
    for never in ("no-store", "private, max-age=60", "no-cache"):
        assert cdn.ttl_of(h(never)) is None
    assert cdn.ttl_of([(b"set-cookie", b"a=b")]) is None
    cache = cdn.Cache(max_entry=10, max_total=20, max_entries=3)
    entry = lambda body: cdn.Entry(200, [], body, 0.0, 100.0)
    cache.put(("big",), entry(b"x" * 11))
    assert cache.get(("big",), 1.0) is None  # over the entry limit: never kept
    for k in "abc":
        cache.put((k,), entry(b"x" * 8))
    assert cache.get(("a",), 1.0) is None and cache.size <= 20  # the oldest went to keep the total
    assert cache.get(("c",), 1.0) is not None and cache.get(("c",), 101.0) is None  # stale: gone
    rules = [{"prefix": "/", "scheme": "http"}, {"prefix": "/api", "scheme": "https"}]
    assert cdn.best_rule(rules, "/api/x", "https")["prefix"] == "/api"
    assert cdn.best_rule(rules, "/api/x", "http")["prefix"] == "/"  # the https rule does not take http


def test_rate_limit_classes():
    plane = cdn.CdnPlane(Settings())
    assert [plane.allow("d", "c", "R5", 0.0) for _ in range(6)] == [True] * 5 + [False]
    assert plane.allow("d", "c", "R5", 0.2)  # refilled: one request per 0.2 s
    assert plane.allow("d", "other", "R5", 0.2)  # per client


def test_the_store_is_read_in_the_pool_never_on_the_event_loop(tmp_path, monkeypatch):
    """A request for a name that may be a gateway's or a distribution's: its lookup (and the settling of due
    requests before it) is a store call, which on PostgreSQL is a round trip that would hold every client."""
    import asyncio
    import threading

    from ionos_emulator.apis import webhosts
    from ionos_emulator.app import Emulator, request_scope

    emu = Emulator(Settings(data_dir=str(tmp_path / "data"), timing="instant"))
    threads: list[str] = []
    owner = webhosts.owner

    def recorded(store, host):
        threads.append(threading.current_thread().name)
        return owner(store, host)

    monkeypatch.setattr(webhosts, "owner", recorded)
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    try:
        for host, path in (("shop.example.com", "/anything"), ("127.0.0.1", "/_cdn/cdn.example.com/x")):
            scope = request_scope("GET", path, "", "")
            scope["headers"] = [(b"host", host.encode())]
            asyncio.run(emu(scope, receive, send))
        assert sent and all(m["status"] in (404, 502) for m in sent if m["type"] == "http.response.start")
        assert threads and all(name.startswith("request") for name in threads), threads
    finally:
        emu.store.close()
