"""A small closed-loop HTTP/1.1 load client: asyncio (uvloop when installed), raw sockets, keep-alive.

Used when `wrk` is not installed, and always for the create-and-wait scenario (a POST followed by polls of
its Location until the request is DONE), which wrk cannot pair per connection. Each of `concurrency`
connections sends one request, reads the whole response (Content-Length framing), and sends the next;
every loop is bounded by a deadline and by a maximum number of requests.

Run as a module for a one-off measurement:
    python bench/loadgen.py --url http://127.0.0.1:8765/_emulator/health -c 8 -d 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - the emulator depends on orjson
    _loads = json.loads

MAX_REQUESTS = 2_000_000  # hard bound on requests per measurement, whatever the duration
MAX_POLLS = 200  # hard bound on status polls for one created resource


@dataclass
class Result:
    requests: int = 0  # completed operations (a request, or a create-and-wait cycle)
    http_requests: int = 0  # HTTP exchanges, including polls
    errors: int = 0  # unexpected status, broken connection or timeout
    duration: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self) -> dict:
        lat = sorted(self.latencies_ns)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] / 1e6

        return {
            "requests": self.requests,
            "http_requests": self.http_requests,
            "errors": self.errors,
            "duration": self.duration,
            "rps": self.requests / self.duration if self.duration else 0.0,
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class Conn:
    """One keep-alive connection that sends a request and returns (status, headers, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Conn:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        return cls(reader, writer)

    async def call(self, raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(b":")
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get(b"content-length", b"0"))
        body = await self.reader.readexactly(length) if length else b""
        return status, headers, body

    def close(self) -> None:
        self.writer.close()


def build_request(
    method: str, host: str, port: int, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _fixed(
    host, port, raw: bytes, concurrency: int, duration: float, warmup: float, expect: tuple[int, ...]
) -> Result:
    """The same request again and again on every connection."""
    res = Result()
    conns = [await Conn.open(host, port) for _ in range(concurrency)]
    t_warm_end = time.perf_counter() + warmup
    deadline = t_warm_end + duration
    counter = [0]

    async def worker(conn: Conn):
        while True:
            t0 = time.perf_counter_ns()
            if t0 / 1e9 >= deadline or counter[0] >= MAX_REQUESTS:
                return
            try:
                status, _, _ = await asyncio.wait_for(conn.call(raw), timeout=30)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                res.errors += 1
                return
            t1 = time.perf_counter_ns()
            if t0 / 1e9 < t_warm_end:
                continue
            counter[0] += 1
            res.requests += 1
            res.http_requests += 1
            res.statuses[status] = res.statuses.get(status, 0) + 1
            if status not in expect:
                res.errors += 1
            res.latencies_ns.append(t1 - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    res.duration = max(1e-9, time.perf_counter() - max(start, t_warm_end))
    for c in conns:
        c.close()
    return res


async def _create_and_wait(
    host, port, raw_post: bytes, auth_header: dict[str, str], concurrency: int, duration: float, warmup: float
) -> Result:
    """POST, then GET the Location until metadata.status is DONE; one operation is the whole cycle."""
    res = Result()
    conns = [await Conn.open(host, port) for _ in range(concurrency)]
    t_warm_end = time.perf_counter() + warmup
    deadline = t_warm_end + duration
    counter = [0]

    async def worker(conn: Conn):
        while True:
            t0 = time.perf_counter_ns()
            if t0 / 1e9 >= deadline or counter[0] >= MAX_REQUESTS:
                return
            try:
                status, headers, _ = await asyncio.wait_for(conn.call(raw_post), timeout=30)
                http = 1
                ok = status == 202 and b"location" in headers
                if ok:
                    path = urlsplit(headers[b"location"].decode()).path
                    poll = build_request("GET", host, port, path, auth_header)
                    ok = False
                    for _ in range(MAX_POLLS):
                        st, _, body = await asyncio.wait_for(conn.call(poll), timeout=30)
                        http += 1
                        if st != 200:
                            break
                        state = (_loads(body).get("metadata") or {}).get("status")
                        if state == "DONE":
                            ok = True
                            break
                        if state == "FAILED":
                            break
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                res.errors += 1
                return
            t1 = time.perf_counter_ns()
            if t0 / 1e9 < t_warm_end:
                continue
            counter[0] += 1
            res.requests += 1
            res.http_requests += http
            res.statuses[status] = res.statuses.get(status, 0) + 1
            if not ok:
                res.errors += 1
            res.latencies_ns.append(t1 - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    res.duration = max(1e-9, time.perf_counter() - max(start, t_warm_end))
    for c in conns:
        c.close()
    return res


def _run(coro):
    try:
        import uvloop

        return uvloop.run(coro) if hasattr(uvloop, "run") else asyncio.run(coro)
    except ImportError:
        return asyncio.run(coro)


def fixed(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    concurrency: int = 1,
    duration: float = 5.0,
    warmup: float = 1.0,
    expect: tuple[int, ...] = (200,),
) -> dict:
    u = urlsplit(url)
    path = u.path + (("?" + u.query) if u.query else "")
    raw = build_request(method, u.hostname, u.port, path, headers, body)
    return _run(_fixed(u.hostname, u.port, raw, concurrency, duration, warmup, expect)).summary()


def create_and_wait(
    url: str, *, headers: dict[str, str], body: bytes, concurrency: int = 1, duration: float = 5.0, warmup: float = 1.0
) -> dict:
    u = urlsplit(url)
    raw = build_request("POST", u.hostname, u.port, u.path, headers, body)
    auth = {k: v for k, v in headers.items() if k.lower() == "authorization"}
    return _run(_create_and_wait(u.hostname, u.port, raw, auth, concurrency, duration, warmup)).summary()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--method", default="GET")
    ap.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    ap.add_argument("--body", default="")
    ap.add_argument("-c", "--concurrency", type=int, default=1)
    ap.add_argument("-d", "--duration", type=float, default=5.0)
    ap.add_argument("-w", "--warmup", type=float, default=1.0)
    ap.add_argument("--expect", default="200", help="comma-separated acceptable statuses")
    ap.add_argument(
        "--create-and-wait",
        action="store_true",
        help="POST --body to --url, then poll its Location until DONE; one cycle is one operation",
    )
    a = ap.parse_args()
    headers = dict(h.split(":", 1) for h in a.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    if a.create_and_wait:
        out = create_and_wait(
            a.url,
            headers=headers,
            body=a.body.encode(),
            concurrency=a.concurrency,
            duration=a.duration,
            warmup=a.warmup,
        )
    else:
        out = fixed(
            a.url,
            method=a.method,
            headers=headers,
            body=a.body.encode(),
            concurrency=a.concurrency,
            duration=a.duration,
            warmup=a.warmup,
            expect=tuple(int(s) for s in a.expect.split(",")),
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
