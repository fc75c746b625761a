"""Python function calls and SQL statements per request, in-process: figures that other load on the machine
does not move (cProfile's call counts), for a GET of one server, a GET of a page of 100 servers and the bare
starlette app (bench/bare_app.py) answering the same bytes. Requests go through each ASGI app's own
__call__ (no socket, no uvicorn: the same for both).

    python bench/calls.py
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run as bench
from bare_app import build
from profile_inproc import scope

N = 200


async def drive(app, sc: dict, n: int) -> bytes:
    out: list[bytes] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict) -> None:
        if msg["type"] == "http.response.body":
            out.append(msg["body"])

    for _ in range(n):
        out.clear()
        await app(dict(sc), receive, send)
    return b"".join(out)


def counted(app, sc: dict) -> tuple[float, float]:
    asyncio.run(drive(app, sc, 3))  # warm: validators, the first answer, the caches
    prof = cProfile.Profile()
    prof.enable()
    asyncio.run(drive(app, sc, N))
    prof.disable()
    st = pstats.Stats(prof)
    sql = sum(v[1] for k, v in st.stats.items() if k[0] == "~" and "of 'sqlite3" in k[2] and "execute" in k[2])
    return st.total_calls / N, sql / N  # type: ignore[attr-defined]


def main() -> None:
    from ionos_emulator.app import Emulator
    from ionos_emulator.settings import Settings

    data = tempfile.mkdtemp(prefix="ionos-calls-")
    try:
        emu = Emulator(Settings(data_dir=data, timing="instant", strict=False))
        r, _ = emu.handle(scope("POST", "/cloudapi/v6/datacenters"), bench.DC_BODY.encode())
        dc = r.body["id"]
        body = json.dumps({"properties": bench.SERVER_PROPS}).encode()
        r, _ = emu.handle(scope("POST", f"/cloudapi/v6/datacenters/{dc}/servers"), body)
        server = r.body["id"]
        for _ in range(99):
            emu.handle(scope("POST", f"/cloudapi/v6/datacenters/{dc}/servers"), body)
        emu.handle(scope("GET", "/cloudapi/v6/requests"), b"")
        one = scope("GET", f"/cloudapi/v6/datacenters/{dc}/servers/{server}", "depth=1")
        page = scope("GET", f"/cloudapi/v6/datacenters/{dc}/servers", "depth=1&offset=0&limit=100")
        for label, sc in (("GET one server", one), ("GET page of 100", page)):
            calls, sql = counted(emu, sc)
            bare, _ = counted(build(asyncio.run(drive(emu, sc, 1))), sc)
            print(f"{label}: {calls:,.0f} Python calls, {sql:.1f} SQL statements a request; bare app {bare:,.0f} calls")
        emu.store.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
