"""Where a request's time goes inside the emulator, without HTTP: cProfile around `Emulator.handle` plus the
JSON encoding `_send` does, for (a) GET one server at depth=1 and (b) GET a page of 100 servers.

    python bench/profile_inproc.py [--servers 10000] [--requests 2000] [--top 25]

It builds a fresh emulator in a temporary data dir, creates a data center and a server through the real
handlers, seeds more servers through the store (as bench/run.py does), then profiles each operation.
Comparing its per-request time with bench/run.py's latency gives the share of uvicorn and the socket.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import orjson

import run as bench


def scope(method: str, path: str, query: str = "") -> dict:
    from ionos_emulator.app import request_scope

    return request_scope(method, path, bench.AUTH, query)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    from ionos_emulator.app import Emulator
    from ionos_emulator.settings import Settings

    data = tempfile.mkdtemp(prefix="ionos-prof-")
    try:
        emu = Emulator(Settings(data_dir=data, timing="instant", strict=False))

        def call(method, path, query="", body=b""):
            reply, pretty = emu.handle(scope(method, path, query), body)
            if reply.body is None or isinstance(reply.body, bytes):  # a cached answer is already encoded
                payload = reply.body or b""
            else:
                payload = orjson.dumps(reply.body, option=orjson.OPT_INDENT_2 if pretty else 0)
            return reply, payload

        r, _ = call("POST", "/cloudapi/v6/datacenters", body=bench.DC_BODY.encode())
        dc = r.body["id"]
        r, _ = call(
            "POST",
            f"/cloudapi/v6/datacenters/{dc}/servers",
            body=json.dumps({"properties": bench.SERVER_PROPS}).encode(),
        )
        server = r.body["id"]
        call("GET", "/cloudapi/v6/requests")  # settles both requests
        emu.store.close()
        added, secs = bench.seed_servers(data, dc, server, a.servers)
        print(f"seeded {added} servers in {secs:.1f} s")
        emu = Emulator(Settings(data_dir=data, timing="instant", strict=False))
        ops = [
            ("(a) GET one server, depth=1", f"/cloudapi/v6/datacenters/{dc}/servers/{server}", "depth=1"),
            ("(b) GET first page of 100", f"/cloudapi/v6/datacenters/{dc}/servers", "depth=1&offset=0&limit=100"),
            (
                "(b) GET last page of 100",
                f"/cloudapi/v6/datacenters/{dc}/servers",
                f"depth=1&offset={max(0, a.servers - 100)}&limit=100",
            ),
        ]
        for label, path, query in ops:
            r, payload = call("GET", path, query)
            assert r.status == 200, (r.status, r.body)
            n = a.requests if "one" in label else max(20, a.requests // 10)
            t0 = time.perf_counter()
            for _ in range(n):
                call("GET", path, query)
            per = (time.perf_counter() - t0) / n
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(n):
                call("GET", path, query)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(a.top)
            print(
                f"\n=== {label}, {a.servers} servers stored: {per * 1000:.3f} ms per request in-process "
                f"(no HTTP), {len(payload)} bytes; cProfile by own time, {n} requests ==="
            )
            text = out.getvalue()
            print(text[text.find("   ncalls") :].rstrip())
        emu.store.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
