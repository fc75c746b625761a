"""Object Storage (S3) benchmark: the emulator beside two baselines measured in the same run.

    python bench/s3.py              # full run (about 10 minutes on 2 shared cores), writes bench/results-s3.md
    python bench/s3.py --quick      # smaller: 2 s measurements, 10,000 keys instead of 100,000, 256 MiB

Measured, each against the emulator (`ionos-emulator serve`, SQLite, one worker), a bare ASGI app that
serves the same bytes (the ceiling of this machine for a Python ASGI server) and moto's S3 server
(`python -m moto.server`, in memory):
  - PUT and GET of a 4 KiB object, requests per second at concurrency 8 (bench/loadgen.py, presigned URLs:
    signed once, the signature checked on every request)
  - GET of a 1 GiB object, MB/s, with the server's RSS sampled during the transfer (above its idle RSS)
  - a multipart upload of 1 GiB as 8 parts of 128 MiB sent in parallel (boto3, UNSIGNED-PAYLOAD), MB/s
  - ListObjectsV2 pages of 100 keys (a page from the middle of the bucket) with 100,000 keys stored and with
    100 keys stored, requests per second at concurrency 8
and prints the ratios the issue sets targets for.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import http.client
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import loadgen  # noqa: E402

MIB = 1024 * 1024
REGION = "eu-central-2"


# -- the bare baseline: raw ASGI, the same bytes ------------------------------------------------------
def bare_app(small: bytes, listing: bytes, big_size: int):
    block = b"\0" * MIB

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:  # read (and drop) any body
            more = (await receive()).get("more_body", False)
        path = scope["path"]
        if scope["method"] == "PUT":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"0"), (b"etag", b'"x"')],
                }
            )
            await send({"type": "http.response.body", "body": b""})
        elif path.endswith("/big"):
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(big_size).encode())]}
            )
            left = big_size
            while left:
                n = min(left, MIB)
                left -= n
                await send({"type": "http.response.body", "body": block[:n], "more_body": left > 0})
        else:
            body = listing if "list-type" in scope.get("query_string", b"").decode() else small
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})

    return app


def run_bare(port: int, small_file: str, listing_file: str, big_size: int) -> None:
    import uvicorn

    app = bare_app(Path(small_file).read_bytes(), Path(listing_file).read_bytes(), big_size)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", http="httptools", lifespan="on", access_log=False
    )


# -- helpers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssPeak:
    def __init__(self, pid: int):
        self.pid, self.peak, self.stop = pid, 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.stop = True
        self.thread.join()


def s3client(url: str, key: tuple[str, str]):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(
            s3={"addressing_style": "path", "payload_signing_enabled": False},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=16,
            retries={"max_attempts": 1},
        ),
    )


def get_speed(url: str, pid: int | None) -> tuple[float, float]:
    """(MB/s, peak RSS above idle in MB) of one GET of `url` read in 1 MiB blocks."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    idle = rss_kib(pid) if pid else 0
    peak = RssPeak(pid) if pid else None
    t0 = time.perf_counter()
    if peak:
        peak.__enter__()
    conn.request("GET", u.path + ("?" + u.query if u.query else ""))
    resp = conn.getresponse()
    total = 0
    while True:
        data = resp.read(MIB)
        if not data:
            break
        total += len(data)
    elapsed = time.perf_counter() - t0
    if peak:
        peak.__exit__()
    conn.close()
    assert resp.status == 200, resp.status
    return total / MIB / elapsed, ((peak.peak - idle) / 1024 if peak else 0.0)


async def _closed_loop(host: str, port: int, requests, conc: int, deadline: float, warm_end: float) -> int:
    """Each of `conc` connections sends the next request of `requests` once the previous answer arrived,
    reconnecting when the server closes the connection (moto's server answers `Connection: close`).
    Returns how many answered 2xx after `warm_end`."""
    done = [0]

    async def worker():
        conn = await loadgen.Conn.open(host, port)
        for raw in requests:
            if time.perf_counter() >= deadline:
                break
            try:
                status, headers, _ = await asyncio.wait_for(conn.call(raw), timeout=60)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                conn.close()
                conn = await loadgen.Conn.open(host, port)
                continue
            if 200 <= status < 300 and time.perf_counter() >= warm_end:
                done[0] += 1
            if headers.get(b"connection", b"").lower() == b"close":
                conn.close()
                conn = await loadgen.Conn.open(host, port)
        conn.close()

    await asyncio.gather(*(worker() for _ in range(conc)))
    return done[0]


def rate(
    url: str, method: str = "GET", body: bytes = b"", conc: int = 8, duration: float = 5, warmup: float = 1
) -> float:
    u = urlsplit(url)
    raw = loadgen.build_request(method, u.hostname, u.port, u.path + ("?" + u.query if u.query else ""), body=body)

    def forever():
        while True:
            yield raw

    start = time.perf_counter()
    n = loadgen._run(_closed_loop(u.hostname, u.port, forever(), conc, start + warmup + duration, start + warmup))
    return n / duration


async def _populate(host: str, port: int, prefix: str, n: int, conc: int = 16) -> None:
    """n empty objects <prefix>/k000000... by anonymous PUTs into a public-read-write bucket."""
    keys = (loadgen.build_request("PUT", host, port, f"{prefix}/k{i:06d}") for i in range(n))
    done = await _closed_loop(host, port, keys, conc, time.perf_counter() + 3600, 0)
    assert done == n, (done, n)


def populate(url: str, n: int) -> float:
    u = urlsplit(url)
    t0 = time.perf_counter()
    loadgen._run(_populate(u.hostname, u.port, u.path, n))
    return n / (time.perf_counter() - t0)


# -- one server ------------------------------------------------------------------------------------
def measure(name: str, base: str, key: tuple[str, str], pid: int | None, a, bare: bool = False, seed=None) -> dict:
    out: dict = {}
    s3 = None if bare else s3client(base, key)
    small = os.urandom(4096)
    d, w = a.duration, a.warmup
    if s3 is not None:
        s3.create_bucket(Bucket="bench", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="bench", Key="small", Body=small)
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "put"}, ExpiresIn=3600)
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "small"}, ExpiresIn=3600)
    else:
        put_url = get_url = f"{base}/bench/small"
    out["put"] = rate(put_url, "PUT", small, 8, d, w)
    out["get"] = rate(get_url, "GET", b"", 8, d, w)
    print(f"  {name}: 4 KiB PUT {out['put']:.0f}/s, GET {out['get']:.0f}/s", flush=True)
    try:  # moto may not manage 1 GiB (it keeps objects in memory)
        size = a.big_mib * MIB
        part = size // 8
        if s3 is not None:
            up = s3.create_multipart_upload(Bucket="bench", Key="big")
            block = os.urandom(part)
            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                etags = list(
                    pool.map(
                        lambda n: s3.upload_part(
                            Bucket="bench", Key="big", UploadId=up["UploadId"], PartNumber=n, Body=block
                        )["ETag"],
                        range(1, 9),
                    )
                )
            s3.complete_multipart_upload(
                Bucket="bench",
                Key="big",
                UploadId=up["UploadId"],
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
            )
            out["multipart"] = size / MIB / (time.perf_counter() - t0)
            big_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "big"}, ExpiresIn=3600)
        else:
            block = os.urandom(part)
            u = urlsplit(base)

            def put(n: int) -> None:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
                c.request("PUT", f"/bench/part{n}", body=block)
                c.getresponse().read()
                c.close()

            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(put, range(8)))
            out["multipart"] = size / MIB / (time.perf_counter() - t0)
            big_url = f"{base}/bench/big"
        out["big_get"], out["big_rss"] = get_speed(big_url, pid)
        print(
            f"{name}: multipart 8x{part // MIB} MiB {out['multipart']:.0f} MB/s, {a.big_mib} MiB GET "
            f"{out['big_get']:.0f} MB/s (+{out['big_rss']:.0f} MB RSS)",
            flush=True,
        )
    except Exception as exc:
        print(f"  {name}: large transfers failed: {exc}", flush=True)
        out["big_failed"] = str(exc)[:200]
        for k in ("multipart", "big_get", "big_rss"):
            out.setdefault(k, float("nan"))
    if s3 is not None:
        for bucket, n in (("few", 100), ("many", a.keys)):
            if n > 100 and seed is None:
                out["list_many"] = float("nan")  # not populated (see the report)
                continue
            s3.create_bucket(
                Bucket=bucket, ACL="public-read-write", CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            if n > 100 and seed is not None:
                seed(bucket, n)
                print(f"  {name}: {n:,} keys seeded through the emulator's own store", flush=True)
            else:
                speed = populate(f"{base}/{bucket}", n)
                print(f"  {name}: {n:,} keys stored by PUTs ({speed:.0f} PUT/s)", flush=True)
            mid = f"k{n // 2:06d}"
            params = {"Bucket": bucket, "MaxKeys": 100, "StartAfter": mid if n > 100 else ""}
            url = s3.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=3600)
            out[f"list_{bucket}"] = rate(url, "GET", b"", 8, d, w)
    else:
        url = f"{base}/few?list-type=2"
        out["list_few"] = out["list_many"] = rate(url, "GET", b"", 8, d, w)
    print(
        f"  {name}: list page of 100: {out['list_many']:.0f}/s over {a.keys:,} keys, {out['list_few']:.0f}/s over 100",
        flush=True,
    )
    return out


def seed(data_dir: Path, bucket: str, n: int) -> None:
    """n empty objects in the bucket, written in one transaction through the emulator's own store (as
    bench/run.py seeds its servers): 100,000 PUTs would take longer than the rest of the run here."""
    sys.path.insert(0, str(HERE.parent / "src"))
    from ionos_emulator.s3.meta import Meta
    from ionos_emulator.store import open_store

    store = open_store(str(data_dir))
    meta = Meta(store)
    empty = "d41d8cd98f00b204e9800998ecf8427e"
    with store.tx():
        for i in range(n):
            rec = {"key": f"k{i:06d}", "blobs": [], "size": 0, "etag": empty, "mtime": time.time(), "vid": "null"}
            rec.update(order="0", ct="binary/octet-stream", hdrs={}, meta={}, sc="STANDARD", acl=[], tags={}, owner="")
            meta.set_current(REGION, bucket, rec)
    store.close()


def start(cmd: list[str], port: int, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    wait_port(port, proc)
    return proc


def emulator_key(url: str) -> tuple[str, str]:
    import httpx

    auth = ("admin@ionos-emulator.local", "emulator")
    users = httpx.get(f"{url}/cloudapi/v6/um/users?depth=1", auth=auth).json()["items"]
    uid = users[0]["id"]
    k = httpx.post(f"{url}/cloudapi/v6/um/users/{uid}/s3keys", auth=auth).json()
    return k["id"], k["properties"]["secretKey"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bare", nargs=4, metavar=("PORT", "SMALL", "LISTING", "BIG"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.bare:
        run_bare(int(a.bare[0]), a.bare[1], a.bare[2], int(a.bare[3]))
        return
    a.duration, a.warmup = (2.0, 0.5) if a.quick else (5.0, 1.0)
    a.keys = 10_000 if a.quick else 100_000
    a.big_mib = 256 if a.quick else 1024
    root = Path(tempfile.mkdtemp(prefix="s3bench-"))
    results = {}
    src = HERE.parent / "src"
    env = {"PYTHONPATH": str(src)}
    started = time.time()

    port = free_port()
    emu = start(
        [
            sys.executable,
            "-m",
            "ionos_emulator.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(root / "emu"),
            "--dns-port",
            "0",
        ],
        port,
        env,
    )
    time.sleep(8.0)  # the emulator warms its specs' validators in a thread after start: not during a measurement
    try:
        print("emulator", flush=True)
        url = f"http://127.0.0.1:{port}"
        results["emulator"] = measure(
            "emulator", f"{url}/s3/{REGION}", emulator_key(url), emu.pid, a, seed=lambda b, n: seed(root / "emu", b, n)
        )
        listing = http.client.HTTPConnection("127.0.0.1", port)
    finally:
        emu.terminate()
        emu.wait()

    port = free_port()
    moto = start([sys.executable, "-m", "moto.server", "-p", str(port)], port)
    try:
        print("moto", flush=True)
        results["moto"] = measure("moto", f"http://127.0.0.1:{port}", ("testing", "testing"), moto.pid, a)
    finally:
        moto.terminate()
        moto.wait()

    (root / "small").write_bytes(os.urandom(4096))
    (root / "listing").write_bytes(b"<ListBucketResult>" + b"x" * 30_000 + b"</ListBucketResult>")
    port = free_port()
    bare = start(
        [
            sys.executable,
            __file__,
            "--bare",
            str(port),
            str(root / "small"),
            str(root / "listing"),
            str(a.big_mib * MIB),
        ],
        port,
    )
    try:
        print("bare ASGI app", flush=True)
        results["bare"] = measure("bare", f"http://127.0.0.1:{port}", ("", ""), bare.pid, a, bare=True)
    finally:
        bare.terminate()
        bare.wait()
    del listing
    report(results, a, time.time() - started)


def report(r: dict, a, elapsed: float) -> None:
    e, m, b = r["emulator"], r["moto"], r["bare"]
    rows = [
        ("4 KiB PUT, req/s (c=8)", "put", "≥ 3x moto"),
        ("4 KiB GET, req/s (c=8)", "get", "≥ 3x moto"),
        (f"multipart {a.big_mib} MiB as 8 parts in parallel, MB/s", "multipart", ""),
        (f"{a.big_mib} MiB GET, MB/s", "big_get", "≥ 300 MB/s"),
        (f"RSS above idle during the {a.big_mib} MiB GET, MB", "big_rss", "≤ 50 MB"),
        (f"ListObjectsV2 page of 100 over {a.keys:,} keys, req/s (c=8)", "list_many", "moto: not populated"),
        ("ListObjectsV2 page of 100 over 100 keys, req/s (c=8)", "list_few", ""),
    ]
    lines = [
        "# Object Storage (S3) benchmark",
        "",
        f"Produced by `python bench/s3.py{' --quick' if a.quick else ''}` on "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs shared with other work (load average {os.getloadavg()[0]:.1f} at the end), Python "
        f"{platform.python_version()}, "
        f"{elapsed:.0f} s. Load client: bench/loadgen.py (asyncio, keep-alive) on the same cores; 1 GiB and "
        f"multipart with "
        "http.client and boto3 threads. Emulator: SQLite, one worker, fsync per object; moto: in memory.",
        "",
        "| measurement | emulator | moto | bare ASGI | emulator/moto | emulator/bare | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, k, target in rows:
        ratio_m = f"{e[k] / m[k]:.2f}x" if m.get(k) and m[k] == m[k] and k != "big_rss" else ""
        ratio_b = (
            f"{e[k] / b[k]:.2f}x" if b.get(k) and b[k] == b[k] and k not in ("big_rss", "list_many", "list_few") else ""
        )
        lines.append(f"| {label} | {e[k]:,.1f} | {m[k]:,.1f} | {b[k]:,.1f} | {ratio_m} | {ratio_b} | {target} |")
    lines += [
        "",
        f"A page over {a.keys:,} keys against one over 100: {e['list_many'] / e['list_few']:.2f}x the rate "
        f"(target: no slower than 0.5x, "
        "that is at most 2 times the time). The bare app answers a fixed 30 KB body for both list rows.",
    ]
    for who, res in (("moto", m), ("the bare app", b)):
        if res.get("big_failed"):
            lines.append(f"{who} failed the large transfers: `{res['big_failed']}`.")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / ("results-s3-quick.md" if a.quick else "results-s3.md")).write_text(text)


if __name__ == "__main__":
    main()
