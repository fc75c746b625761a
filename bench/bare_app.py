"""Baseline: a bare uvicorn + starlette app that answers every GET with one fixed JSON body.

It runs with the emulator's own uvicorn options (httptools, one worker, loop auto, lifespan on, no access
log), so its throughput is the practical ceiling of this machine for a Python ASGI server.

    python bench/bare_app.py --port 8799 --body-file body.json
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


def build(body: bytes) -> Starlette:
    async def fixed(request):
        return Response(body, media_type="application/json")

    async def health(request):
        return Response(b'{"status": "ok"}', media_type="application/json")

    return Starlette(routes=[Route("/_emulator/health", health), Route("/{path:path}", fixed, methods=["GET", "POST"])])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--body-file", required=True, help="the JSON body to answer with")
    a = ap.parse_args()
    with open(a.body_file, "rb") as f:
        body = f.read()
    uvicorn.run(
        build(body),
        host=a.host,
        port=a.port,
        log_level="warning",
        http="httptools",
        loop="auto",
        lifespan="on",
        access_log=False,
    )


if __name__ == "__main__":
    main()
