"""Durability and concurrency: nothing acknowledged is lost when the emulator is killed, requests never stay
stuck, sequential ids stay distinct and parallel PATCHes lose nothing, with several worker processes
(on SQLite and, in the PostgreSQL pass of ./run-tests, on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from support import OWNER

DC_BODY = {"properties": {"name": "durable", "location": "de/fra"}}


def _dc(http: httpx.Client) -> str:
    r = http.post("/cloudapi/v6/datacenters", json=DC_BODY)
    assert r.status_code == 202
    return r.json()["id"]


def _wait_done(http: httpx.Client, location: str, timeout: float = 20) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = http.get(location).json()["metadata"]["status"]
        if status in ("DONE", "FAILED"):
            return status
        time.sleep(0.05)
    return "STUCK"


def test_fifty_parallel_lans_get_fifty_distinct_sequential_ids(make_emulator):
    emu = make_emulator("lans", args=("--workers", "2"))
    with emu.http() as http:
        dc = _dc(http)

        def create(_):
            with httpx.Client(base_url=emu.url, auth=OWNER, timeout=30) as c:
                r = c.post(f"/cloudapi/v6/datacenters/{dc}/lans", json={"properties": {"name": "p"}})
                assert r.status_code == 202, r.text
                return r.json()["id"]

        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(create, range(50)))
        assert sorted(ids, key=int) == [str(i) for i in range(1, 51)]
        listed = http.get(f"/cloudapi/v6/datacenters/{dc}/lans", params={"limit": 100}).json()["items"]
        assert sorted((x["id"] for x in listed), key=int) == [str(i) for i in range(1, 51)]


def test_parallel_patches_lose_no_update(make_emulator):
    """Each PATCH adds a distinct label to the name read just before; with read and write in one
    transaction none is lost. The IP failover list of a LAN is the read-modify-write under test."""
    emu = make_emulator("patches", args=("--workers", "2"))
    with emu.http() as http:
        dc = _dc(http)
        r = http.post(f"/cloudapi/v6/datacenters/{dc}/lans", json={"properties": {"name": "", "public": False}})
        lan = r.json()["id"]
        names = [f"n{i}" for i in range(40)]

        def patch(name):
            with httpx.Client(base_url=emu.url, auth=OWNER, timeout=30) as c:
                r = c.patch(f"/cloudapi/v6/datacenters/{dc}", json={"name": name})
                assert r.status_code == 202, r.text
                return r.json()["properties"]["name"]

        with ThreadPoolExecutor(16) as pool:
            echoed = list(pool.map(patch, names))
        assert sorted(echoed) == sorted(names)
        # the data center's version counts every completed change: 40 patches + 1 LAN, none lost
        time.sleep(0.1)
        http.get("/cloudapi/v6/requests")  # settles whatever is due
        assert http.get(f"/cloudapi/v6/datacenters/{dc}").json()["properties"]["version"] == 1 + 40 + 1
        assert lan == "1"


def test_parallel_creates_across_workers_fill_the_core_limit_exactly(make_emulator):
    """60 parallel POSTs of 4-core servers on two worker processes against the default 200 cores: the limit
    check and the contract's counter run in each create's transaction, so exactly 50 fit, and the counter
    follows parallel deletes too."""
    emu = make_emulator("counters", args=("--workers", "2"))
    with emu.http() as http:
        dc = _dc(http)
        servers = f"/cloudapi/v6/datacenters/{dc}/servers"

        def call(method: str, path: str, **kw) -> httpx.Response:
            with httpx.Client(base_url=emu.url, auth=OWNER, timeout=30) as c:
                return c.request(method, path, **kw)

        def usage() -> tuple[int, int]:
            limits = http.get("/cloudapi/v6/contracts").json()["items"][0]["properties"]["resourceLimits"]
            assert limits["coresPerContract"] == 200
            return limits["coresProvisioned"], limits["ramProvisioned"]

        body = {"properties": {"name": "c", "cores": 4, "ram": 1024}}
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: call("POST", servers, json=body), range(60)))
        made = [r.json()["id"] for r in answers if r.status_code == 202]
        refused = [r for r in answers if r.status_code != 202]
        assert len(made) == 50 and all(r.status_code == 422 and "VDC-14-3" in r.text for r in refused)
        assert usage() == (200, 50 * 1024)
        with ThreadPoolExecutor(16) as pool:
            assert all(r.status_code == 202 for r in pool.map(lambda s: call("DELETE", f"{servers}/{s}"), made[:20]))
        time.sleep(0.1)
        http.get("/cloudapi/v6/requests")  # settles the deletes
        assert len(http.get(servers).json()["items"]) == 30
        assert usage() == (120, 30 * 1024)


def test_sigkill_during_sustained_mutations_loses_nothing(make_emulator):
    emu = make_emulator("crash", args=("--workers", "2", "--timing", "realistic"))
    # short realistic timings: many requests are still QUEUED or RUNNING when the process dies
    emu.admin("PUT", "timing", json={"profile": "realistic", "overrides": {"datacenter": 0.3, "lan": 0.4}})
    acked: list[tuple[str, str, str]] = []  # (kind, id, Location)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n):
        with httpx.Client(base_url=emu.url, auth=OWNER, timeout=5) as c:
            dc = None
            for i in range(400):
                if stop.is_set():
                    return
                try:
                    if dc is None or i % 5 == 0:
                        r = c.post("/cloudapi/v6/datacenters", json=DC_BODY)
                        kind = "datacenter"
                    else:
                        r = c.post(f"/cloudapi/v6/datacenters/{dc}/lans", json={"properties": {"name": f"w{n}"}})
                        kind = "lan"
                except httpx.HTTPError:
                    return  # the process died under us: anything not acknowledged may be lost
                if r.status_code != 202:
                    continue
                body = r.json()
                with lock:
                    acked.append((kind, f"{dc}/{body['id']}" if kind == "lan" else body["id"], r.headers["Location"]))
                if kind == "datacenter":
                    dc = body["id"]

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    emu.kill()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) > 20, "too few changes were made before the kill to test anything"
    emu.start()
    with emu.http() as http:
        for kind, rid, location in acked:
            path = location.split("/cloudapi/v6")[1]
            status = _wait_done(http, emu.cloud + path)
            assert status in ("DONE", "FAILED"), (kind, rid, status)
            if kind == "datacenter":
                r = http.get(f"/cloudapi/v6/datacenters/{rid}")
            else:
                dc, lan = rid.split("/")
                r = http.get(f"/cloudapi/v6/datacenters/{dc}/lans/{lan}")
            assert r.status_code == 200, (kind, rid, r.text)
            assert r.json()["metadata"]["state"] == "AVAILABLE"
        # no duplicates: every data center lists distinct LAN ids
        dcs = {rid for kind, rid, _ in acked if kind == "datacenter"}
        for dc in dcs:
            items = http.get(f"/cloudapi/v6/datacenters/{dc}/lans", params={"limit": 1000}).json()["items"]
            ids = [x["id"] for x in items]
            assert len(ids) == len(set(ids))
        # and no request anywhere is left behind
        reqs = http.get("/cloudapi/v6/requests", params={"depth": 1, "limit": 10000}).json()["items"]
        stuck = [
            r["id"] for r in reqs if r["metadata"]["requestStatus"]["metadata"]["status"] not in ("DONE", "FAILED")
        ]
        assert not stuck
