"""The response cache is never stale: after any change, by this emulator or another one sharing its
database (another worker or process: a connection of its own), the next GET answers what is stored now.

Two emulators on one data dir (SQLite) or one PostgreSQL database, driven in-process through
`Emulator.handle` with the requests the SDKs send."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from ionos_emulator.app import Emulator, basic_header, request_scope
from ionos_emulator.engine.lifecycle import Timing
from ionos_emulator.gateway.context import Reply
from ionos_emulator.settings import Settings
from test_store import pg_database  # noqa: F401 (a fixture)

OWNER = basic_header("admin@ionos-emulator.local", "emulator")
DCS = "/cloudapi/v6/datacenters"


def scope(method: str, path: str, query: str = "", auth: str = OWNER, accept: str = "application/json") -> dict:
    return request_scope(method, path, auth, query, accept=accept)


def call(emu: Emulator, method: str, path: str, body: dict | None = None, **kw) -> tuple[int, object, dict]:
    reply, pretty = emu.handle(scope(method, path, **kw), orjson.dumps(body) if body is not None else b"")
    raw = reply.body
    if isinstance(raw, (bytes, bytearray)):
        raw = orjson.loads(raw) if raw else None
    return reply.status, raw, reply.headers


@pytest.fixture(params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Emulator, Emulator]]:
    """Two emulators sharing one database, like two workers."""
    database = request.getfixturevalue("pg_database") if request.param == "postgres" else ""
    settings = dict(data_dir=str(tmp_path / "data"), database=database, timing="instant", strict=True)
    a = Emulator(Settings(**settings))
    a.reset()
    b = Emulator(Settings(**settings))
    yield a, b
    a.store.close()
    b.store.close()


def settled(emu: Emulator) -> None:
    call(emu, "GET", "/cloudapi/v6/requests")


def twice(send, cache, emu: Emulator, *args, **kw) -> tuple[int, object, dict]:
    """The GET twice, by `send`: the second answer must come from `cache`, and equal the first."""
    first = send(emu, "GET", *args, **kw)
    hits = cache.hits
    second = send(emu, "GET", *args, **kw)
    assert cache.hits == hits + 1, "the repeated GET was not served from the cache"
    assert second[:2] == first[:2]
    return second


def served_from_cache(emu: Emulator, *args, **kw) -> tuple[int, object, dict]:
    """The pipeline's response cache (requests through `Emulator.handle`)."""
    return twice(call, emu.pipeline.responses, emu, *args, **kw)


def test_no_stale_answer_after_any_change_by_either_emulator(pair):
    a, b = pair
    status, dc, _ = call(a, "POST", DCS, {"properties": {"name": "one", "location": "de/fra"}})
    assert status == 202
    dc_path = f"{DCS}/{dc['id']}"
    settled(a)
    assert served_from_cache(a, dc_path)[1]["properties"]["name"] == "one"
    served_from_cache(a, DCS, query="depth=1")

    for writer, name in ((b, "two"), (a, "three"), (b, "four")):  # a change by the other, then by itself
        assert call(writer, "PATCH", dc_path, {"name": name})[0] == 202
        assert call(a, "GET", dc_path)[1]["properties"]["name"] == name  # settles it: DONE at once (instant)
        assert served_from_cache(a, dc_path)[1]["properties"]["name"] == name
        assert [d["properties"]["name"] for d in call(a, "GET", DCS, query="depth=1")[1]["items"]] == [name]

    assert call(b, "POST", DCS, {"properties": {"name": "other", "location": "de/fra"}})[0] == 202
    settled(b)
    assert len(served_from_cache(a, DCS)[1]["items"]) == 2

    assert call(b, "DELETE", dc_path)[0] == 202
    settled(b)
    assert call(a, "GET", dc_path)[0] == 404
    assert len(call(a, "GET", DCS)[1]["items"]) == 1

    b.reset()  # /_emulator/reset of the other worker
    assert call(a, "GET", DCS)[1]["items"] == []


def test_each_caller_and_form_has_its_own_answer(pair):
    a, b = pair
    status, dc, _ = call(a, "POST", DCS, {"properties": {"name": "mine", "location": "de/fra"}})
    settled(a)
    dc_path = f"{DCS}/{dc['id']}"
    served_from_cache(a, dc_path)
    user = {"firstname": "U", "lastname": "Ser", "email": "u@example.com", "password": "secret-12", "active": True}
    assert call(b, "POST", "/cloudapi/v6/um/users", {"properties": user})[0] == 202
    settled(b)
    as_user = basic_header("u@example.com", "secret-12")
    assert call(a, "GET", dc_path, auth=as_user)[0] in (403, 404)  # not the owner's remembered answer
    assert call(a, "GET", DCS, auth=as_user)[1]["items"] == []

    compact, _ = a.handle(scope("GET", dc_path, query="pretty=false"), b"")
    pretty, _ = a.handle(scope("GET", dc_path), b"")
    assert isinstance(compact.body, bytes) and isinstance(pretty.body, bytes)
    assert b"\n" not in compact.body and b"\n" in pretty.body
    assert orjson.loads(compact.body) == orjson.loads(pretty.body)

    # a password changed by the other worker: the old credentials are refused at once
    users = call(a, "GET", "/cloudapi/v6/um/users", query="depth=1")[1]["items"]
    uid = next(u["id"] for u in users if u["properties"]["email"] == "u@example.com")
    changed = {"properties": dict(user, password="changed-34", administrator=False, forceSecAuth=False)}
    assert call(b, "PUT", f"/cloudapi/v6/um/users/{uid}", changed)[0] in (200, 202)
    settled(b)
    assert call(a, "GET", DCS, auth=as_user)[0] == 401


def test_nothing_cached_while_a_request_is_pending(pair):
    a, b = pair
    a.lifecycle.timing = Timing("realistic")
    status, dc, _ = call(b, "POST", DCS, {"properties": {"name": "slow", "location": "de/fra"}})
    dc_path = f"{DCS}/{dc['id']}"
    hits = a.pipeline.responses.hits
    states = {call(a, "GET", dc_path)[1]["metadata"]["state"] for _ in range(3)}
    assert states == {"BUSY"} and a.pipeline.responses.hits == hits and len(a.pipeline.responses) == 0
    b.clock.set(advance=3600)  # the emulated clock, moved by the other emulator
    assert call(a, "GET", dc_path)[1]["metadata"]["state"] == "AVAILABLE"
    assert served_from_cache(a, dc_path)[1]["metadata"]["state"] == "AVAILABLE"  # nothing pending any more


def test_rate_limit_headers_stay_per_request(pair):
    a, _ = pair
    settled(a)
    remaining = [int(call(a, "GET", DCS)[2]["X-RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == 3


def test_bounded(pair):
    a, _ = pair
    cache = a.pipeline.responses
    cache.max_entries = 5
    settled(a)
    for i in range(12):
        call(a, "GET", DCS, query=f"depth={i % 6}&offset={i}")
    assert len(cache) <= 5
    assert cache.bytes == sum(len(e.payload) for e in cache._entries.values())


def test_no_stale_answer_across_threads(pair):
    """One emulator, requests on several threads (its thread pool): readers keep filling the cache while a
    writer creates data centers; once a POST is answered, a GET on any thread lists what it made."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    a, _ = pair
    settled(a)
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            call(a, "GET", DCS, query="depth=1")

    with ThreadPoolExecutor(4) as pool:
        readers = [pool.submit(read) for _ in range(2)]
        try:
            for i in range(15):
                status, body, _ = pool.submit(
                    call, a, "POST", DCS, {"properties": {"name": f"t{i}", "location": "de/fra"}}
                ).result()
                assert status == 202, body
                made = body["id"]  # type: ignore[index]
                for _ in range(2):
                    status, listed, _ = pool.submit(call, a, "GET", DCS, query="depth=1").result()
                    assert status == 200
                    assert made in {d["id"] for d in listed["items"]}, i  # type: ignore[index]
        finally:
            stop.set()
        for r in readers:
            r.result()


def test_an_answer_made_before_a_clear_is_not_kept_after_it():
    from ionos_emulator.gateway.cache import ResponseCache
    from ionos_emulator.gateway.context import Reply

    cache = ResponseCache()
    epoch = cache.epoch  # a GET begins
    assert cache.get("k", 1, None) is None
    cache.clear()  # an admin change the store does not see
    assert cache.get("k", 1, None) is None  # another GET, after it, at the same store version
    cache.put("k", 1, None, Reply(200, b"{}", {}, content_type="application/json"), epoch)
    assert len(cache) == 0
    cache.put("k", 1, None, Reply(200, b"{}", {}, content_type="application/json"), cache.epoch)
    assert cache.get("k", 1, None) is not None


# -- the front: cached answers served on the event loop (gateway/front.py) ---------------------------------


def asgi(emu: Emulator, method: str, path: str, body: dict | None = None, **kw) -> tuple[int, object, dict]:
    """The request as uvicorn hands it over: through `Emulator.__call__`, where the front answers."""
    import asyncio

    raw = orjson.dumps(body) if body is not None else b""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(emu(scope(method, path, **kw), receive, send))
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    payload = sent[1]["body"]
    return sent[0]["status"], orjson.loads(payload) if payload else None, headers


def from_front(emu: Emulator, *args, **kw) -> tuple[int, object, dict]:
    """The front (requests through `Emulator.__call__`, as uvicorn hands them over)."""
    return twice(asgi, emu.front.answers, emu, *args, **kw)


def test_the_front_is_never_stale(pair):
    a, b = pair
    status, dc, _ = asgi(a, "POST", DCS, {"properties": {"name": "one", "location": "de/fra"}})
    assert status == 202
    dc_path = f"{DCS}/{dc['id']}"
    asgi(a, "GET", "/cloudapi/v6/requests")  # settled
    assert from_front(a, dc_path)[1]["properties"]["name"] == "one"
    for writer, name in ((b, "two"), (a, "three")):  # a change by the other emulator, then by this one
        assert asgi(writer, "PATCH", dc_path, {"name": name})[0] == 202
        assert asgi(a, "GET", dc_path)[1]["properties"]["name"] == name
        assert from_front(a, dc_path)[1]["properties"]["name"] == name
    remaining = [int(asgi(a, "GET", dc_path)[2]["x-ratelimit-remaining"]) for _ in range(3)]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == 3  # per request still
    b.reset()
    assert asgi(a, "GET", dc_path)[0] == 404


def test_the_front_steps_aside_for_chaos_and_replaced_handlers(pair):
    a, _ = pair
    asgi(a, "GET", "/cloudapi/v6/requests")
    from_front(a, DCS)
    rule = {"path": "/cloudapi/v6/datacenters", "method": "GET", "status": 503}
    assert asgi(a, "POST", "/_emulator/chaos", rule)[0] in (200, 201)
    assert asgi(a, "GET", DCS)[0] == 503  # the rule, not the remembered answer
    assert asgi(a, "DELETE", "/_emulator/chaos")[0] in (200, 204)
    from_front(a, DCS)
    cloud = next(m.api for m in a.mounts.all if m.api.prefix == "/cloudapi/v6")
    original = cloud.handlers["datacentersGet"]
    cloud.handlers["datacentersGet"] = lambda ctx: Reply(200, {"items": [], "replaced": True})
    try:
        assert asgi(a, "GET", DCS)[1] == {"items": [], "replaced": True}
    finally:
        cloud.handlers["datacentersGet"] = original


def test_logins_leave_the_front_alone_but_no_answer_outlives_its_token(pair):
    a, b = pair
    assert asgi(b, "GET", "/auth/v1/tokens/generate")[0] == 200  # the first makes the signing key (kept once)
    asgi(a, "GET", "/cloudapi/v6/requests")
    from_front(a, DCS)
    hits = a.front.answers.hits
    status, body, _ = asgi(b, "GET", "/auth/v1/tokens/generate")  # a login by the other emulator
    assert status == 200
    bearer = f"Bearer {body['token']}"
    assert asgi(a, "GET", DCS)[0] == 200
    if a.store.peek_tokens_version() is not None:  # SQLite: tokens are in a file of their own
        assert a.front.answers.hits == hits + 1, "a login made the front forget an answer it does not change"
    listed = asgi(a, "GET", "/auth/v1/tokens")[1]["tokens"]
    from_front(a, DCS, auth=bearer)
    assert asgi(b, "GET", "/auth/v1/tokens/generate")[0] == 200  # another token: the token list changed
    assert len(asgi(a, "GET", "/auth/v1/tokens")[1]["tokens"]) == len(listed) + 1
    from_front(a, DCS, auth=bearer)
    assert asgi(b, "DELETE", "/auth/v1/tokens", query="criteria=ALL")[0] == 200
    assert asgi(a, "GET", DCS, auth=bearer)[0] == 401  # the remembered answer is not its caller's any more
    assert asgi(a, "GET", DCS)[0] == 200
