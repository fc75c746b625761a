"""Benchmark of the emulator against two baselines, in one command.

    python bench/run.py            # full run (7-10 minutes on 2 cores), writes bench/results.md
    python bench/run.py --quick    # smoke run (about 2 minutes): 2 s measurements, 100/1,000/10,000 servers,
                                   # 3 start-ups, no profile; writes bench/results-quick.md
    python bench/run.py --client python   # use bench/loadgen.py even where wrk is installed

It starts everything itself on 127.0.0.1 (free ports, a fresh temporary data dir, `--timing instant`, not
strict) and measures, at concurrency 1 and 8, throughput and p50/p99 latency of
  (a) GET one server at depth=1
  (b) GET a page of 100 servers at depth=1 (the first page and the last one) with 100, 10,000 and 100,000
      servers in one data center (seeded in-process through the emulator's own store, in one transaction)
  (c) POST a data center (202 accepted)
  (d) POST a data center and poll its Location until the request is DONE (one operation = the whole cycle)
plus start-up time to the first 200 of /_emulator/health (median), idle RSS, and RSS with 100,000 stored.
Each figure is printed with its verdict against the targets of the issue "Speed, scale-out on PostgreSQL,
and durability".
Baselines measured with the same load client: a bare uvicorn + starlette app answering a fixed body of the
size of (a)'s response (bench/bare_app.py), and Prism (@stoplight/prism-cli) mocking the Cloud API spec.

The load client is wrk (with bench/wrk/report.lua) when installed, otherwise bench/loadgen.py; (d) always
uses bench/loadgen.py, because it pairs each POST with the polls of its own Location. With --profile
(default in a full run when py-spy is installed) the emulator is sampled by py-spy under (a) and (b) load in
a separate pass, and the hottest functions are written to the results; a full run also measures (a) and
the first page with Python's cyclic GC off, as a diagnostic.

The machine is shared: a full run first waits (up to --wait-idle seconds) for other processes to go quiet,
records how much of the machine they used during every measurement ("other load"), and repeats a disturbed
measurement (up to --attempts runs) keeping the least disturbed one.

Tools, all optional (the run says what it used or why a part is missing):
    apt-get install -y wrk                                   # the load client
    npm install --prefix bench/.prism @stoplight/prism-cli   # the Prism baseline (done on first run)
    pip install py-spy                                       # the profile
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from types import SimpleNamespace
from urllib.parse import urlsplit

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PRISM_DIR = os.path.join(BENCH, ".prism")
PRISM_BIN = os.path.join(PRISM_DIR, "node_modules", ".bin", "prism")
USER, PASSWORD = "admin@ionos-emulator.local", "emulator"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
API = "/cloudapi/v6"
DC_BODY = json.dumps({"properties": {"name": "bench", "description": "benchmark", "location": "de/fra"}})
SERVER_PROPS = {"name": "bench-server", "cores": 2, "ram": 2048, "availabilityZone": "AUTO"}

# targets of the issue "Speed, scale-out on PostgreSQL, and durability"
T_GET_VS_BARE = 0.5
T_GET_VS_PRISM = 3.0
T_P99_MS = 10.0
T_PAGE_GROWTH = 1.5
T_POST_RPS = 1000.0
T_STARTUP_S = 0.5
T_IDLE_RSS_MB = 80.0
T_RSS_GROWTH_MB = 16.0  # our reading of "does not grow with stored resources beyond bounded caches"


def _ensure_interpreter() -> None:
    """The emulator package must be importable; fall back to the repository's own .venv if it is not."""
    try:
        import ionos_emulator  # noqa: F401

        return
    except ImportError:
        pass
    for cand in (os.path.join(ROOT, ".venv", "bin", "python"),):
        if os.path.exists(cand) and os.path.realpath(cand) != os.path.realpath(sys.executable):
            os.execv(cand, [cand] + sys.argv)
    sys.exit(
        "bench: the ionos_emulator package is not importable; run with the project's virtualenv "
        "(e.g. .venv/bin/python bench/run.py after ./ionos-emulator serve created it)"
    )


# -- small helpers -----------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(
    method: str, url: str, body: str | bytes | None = None, *, auth: bool = True, timeout: float = 30.0
) -> tuple[int, dict[str, str], bytes]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        headers = {"Authorization": AUTH} if auth else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, u.path + (("?" + u.query) if u.query else ""), body=body, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def wait_http(
    url: str, *, deadline_s: float, auth: bool = False, proc: subprocess.Popen | None = None, interval: float = 0.002
) -> float:
    """Seconds until `url` answers 200; bounded by deadline_s (and by the process dying)."""
    t0 = time.perf_counter()
    end = t0 + deadline_s
    while time.perf_counter() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            status, _, _ = call("GET", url, auth=auth, timeout=2)
            if status == 200:
                return time.perf_counter() - t0
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(interval)
    raise RuntimeError(f"{url} did not answer 200 within {deadline_s}s")


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def wait_quiet(pid: int, *, interval: float = 0.2, max_s: float = 15.0) -> None:
    """Waits (bounded) until the process stops using CPU: the spec validators are built in a thread after
    start-up, and a measurement should not share the process with that."""
    end = time.perf_counter() + max_s
    last = cpu_seconds(pid)
    while last is not None and time.perf_counter() < end:
        time.sleep(interval)
        now = cpu_seconds(pid)
        if now is None or now - last <= 0.05 * interval:
            return
        last = now


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over `seconds` (other work on the machine competes with the benchmark)."""

    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + (v[4] if len(v) > 4 else 0)

    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
        return 1 - (i1 - i0) / (t1 - t0) if t1 > t0 else None
    except (OSError, ValueError):
        return None


class CpuWindow:
    """CPU used on the whole machine during a measurement by processes other than the server under test, the
    load client (a child of this process) and this process: the share of all CPUs that other work took."""

    def __init__(self, pid: int | None):
        self.pid = pid
        self.start = self._snap()

    def _snap(self):
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal: busy = user+nice+system+steal (softirq time of
            # our own loopback traffic is left out, it is not another process's)
            busy = (v[0] + v[1] + v[2] + (v[7] if len(v) > 7 else 0)) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None
        ours = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            ours += ru.ru_utime + ru.ru_stime
        server = cpu_seconds(self.pid) if self.pid is not None else 0.0
        return time.perf_counter(), busy, ours + (server or 0.0)

    def other(self) -> float | None:
        end = self._snap()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        other = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, other / (wall * len(os.sched_getaffinity(0)))) if wall > 0 else None


def wait_machine_idle(max_s: float, threshold: float) -> tuple[float, bool]:
    """Waits (at most max_s) until the other processes on the machine use less than `threshold` of it for
    3 seconds in a row: on a shared 2-core machine, a test suite running beside the benchmark halves it."""
    t0 = time.perf_counter()
    calm = 0
    told = False
    while time.perf_counter() - t0 < max_s:
        busy = cpu_busy(1.0)
        calm = calm + 1 if busy is not None and busy < threshold else 0
        if calm >= 3:
            return time.perf_counter() - t0, True
        if not told and time.perf_counter() - t0 > 5:
            log(f"bench: waiting (up to {max_s:.0f} s) for other work on the machine to stop (busy {_pct(busy)})")
            told = True
    return time.perf_counter() - t0, False


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def stop(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


# the emulator's bytecode cache, outside the source tree: an installed package has one (pip compiles it), so a
# start-up is measured with one, also where the caller's environment says PYTHONDONTWRITEBYTECODE (without it,
# compiling every module from source was about half of a start-up)
PYCACHE = os.path.join(ROOT, "build", "bench-pycache")


def clean_env() -> dict[str, str]:
    """The environment for the emulator: no IONOS_EMULATOR_* from the caller (e.g. STRICT=1 in CI), and a
    bytecode cache (PYCACHE)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IONOS_EMULATOR_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env


# -- processes under test ----------------------------------------------------------------------------


class Emulator:
    def __init__(self, data_dir: str, logdir: str, name: str, prelude: str = "", extra: tuple[str, ...] = ()):
        # prelude: Python run before the CLI in the same process (diagnostics only, e.g. "import gc; gc.disable()")
        # extra: more `serve` options (--database, --workers, --dns-port)
        self.data_dir, self.logdir, self.name, self.prelude = data_dir, logdir, name, prelude
        self.extra = extra
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.startup_s = 0.0

    versions: list[tuple[str, str]] = []  # (phase, source version) of every start, across instances

    def start(self, quiet: bool = True) -> Emulator:
        Emulator.versions.append((self.name, source_version()))
        entry = (
            ["-m", "ionos_emulator.cli"]
            if not self.prelude
            else ["-c", f"{self.prelude}\nfrom ionos_emulator.cli import main\nmain()"]
        )
        cmd = [
            sys.executable,
            *entry,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            self.data_dir,
            "--timing",
            "instant",
            "--no-strict",
            *self.extra,
        ]
        out = open(os.path.join(self.logdir, f"{self.name}.log"), "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=clean_env(), cwd=ROOT)
        out.close()
        wait_http(self.base + "/_emulator/health", deadline_s=120, proc=self.proc, interval=0.002)
        self.startup_s = time.perf_counter() - t0
        if quiet:
            wait_quiet(self.pid)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> float | None:
        return rss_mb(self.pid)

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None


def start_bare(body_file: str, logdir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = open(os.path.join(logdir, f"bare-{os.path.basename(body_file)}.log"), "ab")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(BENCH, "bare_app.py"), "--port", str(port), "--body-file", body_file],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    out.close()
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/_emulator/health", deadline_s=60, proc=proc)
    wait_quiet(proc.pid)
    return proc, base


def ensure_prism(install: bool) -> tuple[str | None, str]:
    """Path to the prism binary, or None and the reason."""
    if os.path.exists(PRISM_BIN):
        return PRISM_BIN, ""
    if not install:
        return None, "Prism is not installed in bench/.prism and --no-prism-install was given"
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed, so Prism (@stoplight/prism-cli) could not be installed"
    log("installing Prism: npm install --prefix bench/.prism @stoplight/prism-cli")
    try:
        r = subprocess.run(
            [npm, "install", "--prefix", PRISM_DIR, "@stoplight/prism-cli"], capture_output=True, text=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        return None, "npm install of @stoplight/prism-cli did not finish within 10 minutes"
    if r.returncode != 0 or not os.path.exists(PRISM_BIN):
        return None, f"npm install of @stoplight/prism-cli failed: {(r.stderr or r.stdout).strip()[-300:]}"
    return PRISM_BIN, ""


def start_prism(prism: str, spec: str, logdir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = open(os.path.join(logdir, "prism.log"), "ab")
    # -v silent: Prism logs every response-schema violation it finds in the spec's examples; not logging
    # them is its fastest configuration, so the baseline is not handicapped by its own logging
    proc = subprocess.Popen(
        [prism, "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "silent", spec],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    out.close()
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/datacenters/x/servers/y?depth=1", deadline_s=180, auth=True, proc=proc, interval=0.05)
    wait_quiet(proc.pid)
    return proc, base


# -- the load client ---------------------------------------------------------------------------------


class Load:
    def __init__(
        self,
        duration: int,
        warmup: int,
        logdir: str,
        max_duration: int = 60,
        client: str = "auto",
        attempts: int = 1,
        max_other: float = 0.10,
    ):
        self.duration, self.warmup, self.logdir, self.max_duration = duration, warmup, logdir, max_duration
        # a run during which other processes used more than max_other of the machine is repeated (up to
        # `attempts` runs), and the least disturbed one is kept
        self.attempts, self.max_other = max(1, attempts), max_other
        self.retry_budget = 20  # repeated runs over the whole benchmark, so a busy machine cannot triple it
        self.wrk = shutil.which("wrk") if client in ("auto", "wrk") else None
        if client == "wrk" and not self.wrk:
            raise SystemExit("bench: --client wrk, but wrk is not installed (apt-get install -y wrk)")
        self.loadgen = os.path.join(BENCH, "loadgen.py")
        self.lua = os.path.join(BENCH, "wrk", "report.lua")

    def describe(self) -> str:
        if self.wrk:
            v = subprocess.run([self.wrk, "-v"], capture_output=True, text=True).stdout.strip().splitlines()
            return f"{v[0] if v else 'wrk'} (1 thread, c connections, keep-alive; --latency via Lua done())"
        why = "wrk is not installed" if not shutil.which("wrk") else "--client python"
        return f"bench/loadgen.py (Python asyncio raw-socket HTTP/1.1 keep-alive client; {why})"

    def _wrk(self, url: str, c: int, seconds: int, method: str, body: str) -> dict:
        env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY=body)
        cmd = [
            self.wrk,
            "-t1",
            f"-c{c}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            self.lua,
            "-H",
            f"Authorization: {AUTH}",
            url,
        ]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 120)
        m = re.search(r"^BENCH_JSON (.*)$", r.stdout, re.M)
        if not m:
            raise RuntimeError(f"wrk gave no result: {r.stdout[-500:]} {r.stderr[-500:]}")
        d = json.loads(m.group(1))
        dur = d["duration_us"] / 1e6
        errors = sum(d[k] for k in d if k.startswith("errors_"))
        return {
            "requests": d["requests"],
            "duration": dur,
            "rps": d["requests"] / dur if dur else 0.0,
            "p50_ms": d["p50_us"] / 1000,
            "p90_ms": d["p90_us"] / 1000,
            "p99_ms": d["p99_us"] / 1000,
            "max_ms": d["max_us"] / 1000,
            "errors": errors,
            "client": "wrk",
        }

    def run(
        self, url: str, c: int, *, pid: int | None = None, method: str = "GET", body: str = "", expect: int = 200
    ) -> dict:
        # the server must be idle first: a run that ended with slow requests in flight leaves the server
        # working on them after the client has gone
        if pid is not None:
            wait_quiet(pid, max_s=90)
        # one request checks the answer (and lets a server that compiles lazily, like Prism, do so);
        # a second one is timed
        single = 0.0
        for _ in range(2):
            t0 = time.perf_counter()
            status, _, raw = call(method, url, body or None, timeout=180)
            single = time.perf_counter() - t0
            if status != expect:
                raise RuntimeError(f"{method} {url} answered {status}, not {expect}: {raw[:300]!r}")
        # a request that takes seconds would leave a fixed-length run with a handful of samples, or none:
        # such runs last long enough for about 10 requests per connection, up to max_duration
        duration = self.duration
        if single * 10 * c > duration:
            duration = max(duration, min(self.max_duration, math.ceil(single * 10 * c)))
        attempts = []
        for attempt in range(self.attempts):
            if self.wrk:
                if attempt == 0:
                    self._wrk(url, c, self.warmup, method, body)
                if pid is not None:
                    wait_quiet(pid, max_s=90)
                win = CpuWindow(pid)
                out = self._wrk(url, c, duration, method, body)
            else:
                cmd = [
                    sys.executable,
                    self.loadgen,
                    "--url",
                    url,
                    "--method",
                    method,
                    "-H",
                    f"Authorization: {AUTH}",
                    "-c",
                    str(c),
                    "-d",
                    str(duration),
                    "-w",
                    str(self.warmup if attempt == 0 else 0),
                    "--expect",
                    str(expect),
                ]
                if body:
                    cmd += ["-H", "Content-Type: application/json", "--body", body]
                win = CpuWindow(pid)
                out = self._loadgen(cmd)
            out["other_load"] = win.other()
            if not out["requests"]:
                out.update(p50_ms=None, p90_ms=None, p99_ms=None)
            out["single_ms"] = single * 1000
            attempts.append(out)
            if pid is not None:
                wait_quiet(pid, max_s=90)
            if out["other_load"] is None or out["other_load"] <= self.max_other or self.retry_budget <= 0:
                break
            self.retry_budget -= 1
        return self._least_disturbed(attempts)

    @staticmethod
    def _least_disturbed(attempts: list[dict]) -> dict:
        best = min(attempts, key=lambda a: a["other_load"] if a["other_load"] is not None else 0.0)
        best["attempts"] = len(attempts)
        best["other_load_all"] = [a["other_load"] for a in attempts]
        return best

    def create_and_wait(self, url: str, c: int, body: str, pid: int | None = None) -> dict:
        cmd = [
            sys.executable,
            self.loadgen,
            "--url",
            url,
            "--create-and-wait",
            "-H",
            f"Authorization: {AUTH}",
            "-H",
            "Content-Type: application/json",
            "--body",
            body,
            "-c",
            str(c),
            "-d",
            str(self.duration),
            "-w",
            str(self.warmup),
        ]
        attempts = []
        for attempt in range(self.attempts):
            if pid is not None:
                wait_quiet(pid, max_s=90)
            win = CpuWindow(pid)
            out = self._loadgen(cmd if attempt == 0 else cmd[:-1] + ["0"])
            out["other_load"] = win.other()
            attempts.append(out)
            if out["other_load"] is None or out["other_load"] <= self.max_other or self.retry_budget <= 0:
                break
            self.retry_budget -= 1
        return self._least_disturbed(attempts)

    def _loadgen(self, cmd: list[str]) -> dict:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=self.max_duration + self.warmup + 180)
        if r.returncode != 0:
            raise RuntimeError(f"load client failed: {r.stderr[-800:]}")
        d = json.loads(r.stdout.strip().splitlines()[-1])
        d["client"] = "loadgen"
        return d


# -- seeding through the emulator's own store --------------------------------------------------------


def seed_servers(data_dir: str, dc_id: str, template_id: str, total: int) -> tuple[int, float]:
    """Adds servers to data center `dc_id` until it holds `total`, in one transaction, through the package's
    store and its `new_row` (the same row shape as a POST makes; state AVAILABLE). Returns (added, seconds)."""
    from ionos_emulator.apis.cloud.model import REGISTRY, new_row
    from ionos_emulator.app import Emulator as App
    from ionos_emulator.app import basic_header
    from ionos_emulator.engine import clock
    from ionos_emulator.settings import Settings

    t0 = time.perf_counter()
    app = App(Settings(data_dir=data_dir, timing="instant", strict=False))
    try:
        store = app.store
        principal = app.identity.authenticate(basic_header(USER, PASSWORD))
        tenant = principal.tenant
        server_kind = REGISTRY["server"]
        dc = store.get(tenant, "datacenter", "", dc_id)
        template = store.get(tenant, "server", dc_id, template_id)
        if dc is None or template is None:
            raise RuntimeError("the data center or the template server is missing from the store")
        have = store.count(tenant, "server", dc_id)
        added = 0
        with store.tx():
            for i in range(have, total):
                ctx = SimpleNamespace(tenant=tenant, principal=principal, now=clock.real_now())
                props = dict(template.props, name=f"bench-server-{i:06d}")
                store.insert(new_row(ctx, server_kind, dc, props, state="AVAILABLE"))
                added += 1
        if store.count(tenant, "server", dc_id) != max(total, have):
            raise RuntimeError("seeding did not reach the wanted count")
    finally:
        app.store.close()
    return added, time.perf_counter() - t0


# -- profiling ---------------------------------------------------------------------------------------


def _frame_name(frame: str, keep_line: bool = False) -> str:
    """'handle (/x/src/ionos_emulator/app.py:110)' -> 'handle (ionos_emulator/app.py)' (or ...:110)."""
    m = re.match(r"^(.*) \((.*?)(:\d+)?\)$", frame)
    if not m:
        return frame
    fn, path, line = m.groups()
    for marker in ("site-packages/", "/src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{fn} ({path}{line if keep_line and line else ''})"


def summarise_profile(raw_file: str, top: int = 15) -> dict:
    """Self (leaf) and inclusive sample shares per function from py-spy's raw (collapsed) output."""
    self_c: Counter[str] = Counter()
    incl_c: Counter[str] = Counter()
    total = 0
    with open(raw_file) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, n = line.rpartition(" ")
            try:
                count = int(n)
            except ValueError:
                continue
            raw_frames = stack.split(";")
            if raw_frames[0].startswith("Thread._bootstrap"):
                continue  # executor threads parked on their queue (py-spy does not always see them idle)
            frames = [_frame_name(x) for x in raw_frames]
            if not frames:
                continue
            total += count
            leaf = _frame_name(raw_frames[-1], keep_line=True)
            if leaf.startswith("Runner.run (asyncio/runners.py"):
                leaf = "event loop itself (uvloop and httptools C code: sockets, parsing)"
            self_c[leaf] += count
            for name in set(frames):
                incl_c[name] += count
    return {
        "samples": total,
        "self": [(k, v / total) for k, v in self_c.most_common(top)] if total else [],
        "inclusive": [(k, v / total) for k, v in incl_c.most_common(top + 40)] if total else [],
    }


def profile_under_load(
    emu: Emulator, load: Load, url: str, name: str, workdir: str, seconds: int, c: int
) -> dict | None:
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    spy = shutil.which("py-spy") or (here if os.path.exists(here) else None)
    if spy is None:
        return None
    out = os.path.join(workdir, f"profile-{name}.txt")
    wait_quiet(emu.pid, max_s=90)
    # no -d: py-spy records until SIGINT, so the profile spans exactly the load run (idle is not sampled)
    p = subprocess.Popen(
        [spy, "record", "-p", str(emu.pid), "-r", "200", "-f", "raw", "-o", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    saved = load.duration, load.warmup, load.max_duration
    load.duration, load.warmup, load.max_duration = seconds, 1, seconds
    try:
        load.run(url, c, pid=emu.pid)
    finally:
        load.duration, load.warmup, load.max_duration = saved
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        return None
    return summarise_profile(out)


# -- the run -----------------------------------------------------------------------------------------


def source_version() -> str:
    """The commit, and whether the emulator's sources differ from it (read-only git commands)."""
    try:
        head = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return head + (" with uncommitted changes in src/" if dirty else "")


def machine_info(load: Load) -> dict:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = source_version()
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model or platform.processor(),
        "ram_gib": mem_kb / 1024 / 1024,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "client": load.describe(),
        "commit": commit,
    }


def run(args) -> dict:
    workdir = tempfile.mkdtemp(prefix="ionos-bench-")
    logdir = os.path.join(workdir, "logs")
    os.makedirs(logdir)
    load = Load(args.duration, args.warmup, logdir, args.max_duration, args.client, args.attempts, args.max_other / 100)
    res: dict = {
        "mode": "quick" if args.quick else "full",
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "attempts": args.attempts,
        "max_other": args.max_other / 100,
        "machine": machine_info(load),
        "emulator": {},
        "bare": {},
        "prism": {},
        "notes": [],
        "sizes": args.sizes,
        "workdir": workdir,
    }
    if args.wait_idle:
        res["waited_for_idle_s"], idle = wait_machine_idle(args.wait_idle, args.max_other / 100)
        if not idle:
            res["notes"].append(
                f"the machine did not become idle within {args.wait_idle} s (other processes used "
                f"more than {args.max_other:.0f}% of it); the figures are disturbed where the "
                "*other load* column says so"
            )
    res["loadavg_start"] = loadavg()
    res["cpu_busy_start"] = cpu_busy()
    log(f"bench: work dir {workdir}; load client: {res['machine']['client']}; load average {res['loadavg_start']}")
    procs: list = []
    try:
        _run(args, res, load, workdir, logdir, procs)
    finally:
        for p in procs:
            if isinstance(p, Emulator):
                p.stop()
            else:
                stop(p)
    res["loadavg_end"] = loadavg()
    res["commit_end"] = source_version()
    seen: dict[str, list[str]] = {}
    for phase, version in Emulator.versions:
        names = seen.setdefault(version, [])
        if phase not in names:
            names.append(phase)
    res["versions"] = seen
    if len(seen) > 1 or res["commit_end"] != res["machine"]["commit"]:
        res["notes"].append(
            "the emulator's sources changed during the run (other work landed meanwhile); the "
            "emulator instances ran: "
            + "; ".join(f"{v or '?'}: {', '.join(p)}" for v, p in seen.items())
            + f"; at the end: {res['commit_end']}"
        )
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return res


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{v:.0%}"


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def _show(label: str, m: dict) -> None:
    err = f"  errors {m['errors']}" if m.get("errors") else ""
    other = m.get("other_load")
    tries = f" (best of {m['attempts']})" if m.get("attempts", 1) > 1 else ""
    log(
        f"  {label:<44} {m['rps']:>9.1f} req/s  p50 {_ms(m['p50_ms']):>8} ms  p99 {_ms(m['p99_ms']):>8} ms  "
        f"n={m['requests']} in {m['duration']:.0f} s  other load {_pct(other)}{tries}{err}"
    )


def _both(load: Load, store: dict, key: str, label: str, url: str, pid: int, **kw) -> None:
    store[key] = {}
    for c in (1, 8):
        m = load.run(url, c, pid=pid, **kw)
        store[key][str(c)] = m
        _show(f"{label} c={c}", m)


def _run(args, res, load: Load, workdir: str, logdir: str, procs: list) -> None:
    emu_res = res["emulator"]

    # start-up: fresh data dir each time, after one start that is not counted (it fills PYCACHE)
    log(f"start-up time, {args.starts} starts on a fresh data dir each")
    emu = Emulator(os.path.join(workdir, "start-first"), logdir, "start-first")
    procs.append(emu)
    emu.start(quiet=False)
    emu.stop()
    procs.remove(emu)
    times, others = [], []
    for i in range(args.starts):
        tries = []
        for attempt in range(load.attempts):
            emu = Emulator(os.path.join(workdir, f"start-{i}-{attempt}"), logdir, f"start-{i}")
            procs.append(emu)
            win = CpuWindow(None)
            emu.start(quiet=False)
            win.pid = emu.pid  # the process began inside the window: all its CPU time is its own
            other = win.other()
            tries.append((other if other is not None else 0.0, emu.startup_s))
            emu.stop()
            procs.remove(emu)
            if other is None or other <= load.max_other or load.retry_budget <= 0:
                break
            load.retry_budget -= 1
        other, t = min(tries)
        times.append(t)
        others.append(other)
    res["startup_s"] = {"median": statistics.median(times), "all": times, "other_load": others}
    log(
        f"  median {statistics.median(times) * 1000:.0f} ms  ({', '.join(f'{t * 1000:.0f}' for t in times)} ms; "
        f"other load {', '.join(_pct(o) for o in others)})"
    )

    # the main instance: idle RSS, a data center and one real server, then (a)
    data = os.path.join(workdir, "data")
    emu = Emulator(data, logdir, "emulator")
    procs.append(emu)
    emu.start()
    status, _, _ = call("GET", emu.base + API + "/datacenters?depth=1")
    if status != 200:
        raise RuntimeError(f"GET datacenters answered {status}")
    time.sleep(1.0)  # the spec validators are built in a thread after start-up
    res["rss_idle_mb"] = emu.rss()
    log(f"idle RSS {res['rss_idle_mb']:.1f} MB")

    dc_id = create_and_wait_once(emu.base, API + "/datacenters", DC_BODY)
    server_id = create_and_wait_once(
        emu.base, f"{API}/datacenters/{dc_id}/servers", json.dumps({"properties": SERVER_PROPS})
    )
    one_url = f"{emu.base}{API}/datacenters/{dc_id}/servers/{server_id}?depth=1"
    status, _, body = call("GET", one_url)
    if status != 200:
        raise RuntimeError(f"GET one server answered {status}")
    res["get_one_bytes"] = len(body)
    body_file = os.path.join(workdir, "get-one-body.json")
    with open(body_file, "wb") as f:
        f.write(body)
    log(f"(a) GET one server at depth=1 ({len(body)} bytes)")
    _both(load, emu_res, "get_one", "emulator GET one server", one_url, emu.pid)
    deep_url = one_url.replace("depth=1", "depth=3")
    status, _, deep_body = call("GET", deep_url)
    res["get_one_depth3_bytes"] = len(deep_body)
    deep_file = os.path.join(workdir, "get-one-depth3-body.json")
    with open(deep_file, "wb") as f:
        f.write(deep_body)
    _both(load, emu_res, "get_one_depth3", "emulator GET one server depth=3", deep_url, emu.pid)
    emu.stop()
    procs.remove(emu)
    # the same bytes from the bare app, right after
    proc, base = start_bare(deep_file, logdir)
    procs.append(proc)
    _both(load, res["bare"], "get_one_depth3", "bare GET fixed body (depth=3 bytes)", base + "/x", proc.pid)
    stop(proc)
    procs.remove(proc)

    # baseline 1, measured right after (a) so that both see the machine in the same state: bare uvicorn +
    # starlette answering the same body
    log(f"baseline: bare uvicorn + starlette, fixed {res['get_one_bytes']}-byte body")
    proc, base = start_bare(body_file, logdir)
    procs.append(proc)
    _both(
        load,
        res["bare"],
        "get_one",
        "bare GET fixed body",
        base + "/cloudapi/v6/datacenters/x/servers/y?depth=1",
        proc.pid,
    )
    res["bare_rss_mb"] = rss_mb(proc.pid)
    stop(proc)
    procs.remove(proc)

    # (b) pages, growing the same data center
    rss_at: dict[str, float | None] = {}
    res["seeding"] = {}
    res["startup_with_rows_s"] = {}
    for n in args.sizes:
        added, secs = seed_servers(data, dc_id, server_id, n)
        res["seeding"][str(n)] = {"added": added, "seconds": secs}
        log(f"(b) {n} servers in one data center (seeded {added} rows in {secs:.1f} s)")
        emu = Emulator(data, logdir, f"emulator-{n}")
        procs.append(emu)
        emu.start()
        res["startup_with_rows_s"][str(n)] = emu.startup_s
        coll = f"{emu.base}{API}/datacenters/{dc_id}/servers?depth=1"
        first = f"{coll}&offset=0&limit=100"
        deep = f"{coll}&offset={max(0, n - 100)}&limit=100"
        middle = f"{coll}&offset={n // 2}&limit=100"
        for url in (first, deep):
            status, _, page = call("GET", url)
            items = json.loads(page).get("items", []) if status == 200 else []
            if status != 200 or len(items) != min(100, n):
                raise RuntimeError(f"GET {url} answered {status} with {len(items)} items")
        res.setdefault("page_bytes", {})[str(n)] = len(page)
        _both(load, emu_res, f"page_first@{n}", f"emulator page offset=0 of {n}", first, emu.pid)
        _both(load, emu_res, f"page_middle@{n}", f"emulator page offset={n // 2} of {n}", middle, emu.pid)
        _both(load, emu_res, f"page_deep@{n}", f"emulator page offset={max(0, n - 100)} of {n}", deep, emu.pid)
        if n == args.sizes[0]:  # the bare app serving the same page bytes, right after
            page_file = os.path.join(workdir, f"page-{n}.json")
            with open(page_file, "wb") as f:
                f.write(page)
            proc, base = start_bare(page_file, logdir)
            procs.append(proc)
            _both(load, res["bare"], "page", f"bare GET fixed body ({len(page):,} B page)", base + "/x", proc.pid)
            stop(proc)
            procs.remove(proc)
        if n == args.sizes[-1]:
            _both(
                load,
                emu_res,
                f"get_one@{n}",
                f"emulator GET one server, {n} stored",
                one_url.replace(urlsplit(one_url).netloc, urlsplit(emu.base).netloc),
                emu.pid,
            )
        rss_at[str(n)] = emu.rss()
        log(f"  RSS after reading pages: {rss_at[str(n)]:.1f} MB")
        if n == args.sizes[-1] and args.gc_diagnostic:
            # the same emulator with Python's cyclic garbage collector off: how much of the time (and of the
            # p99) full collections over the long-lived objects (compiled specs, modules) take
            emu.stop()
            procs.remove(emu)
            emu = Emulator(data, logdir, f"emulator-{n}-nogc", prelude="import gc; gc.disable()")
            procs.append(emu)
            emu.start()
            log("diagnostic: the same with the cyclic garbage collector off (gc.disable())")
            nogc_res = res.setdefault("diagnostic_nogc", {})
            _both(
                load,
                nogc_res,
                "get_one",
                f"GC off: GET one server, {n} stored",
                one_url.replace(urlsplit(one_url).netloc, urlsplit(emu.base).netloc),
                emu.pid,
            )
            _both(
                load,
                nogc_res,
                f"page_first@{n}",
                f"GC off: page offset=0 of {n}",
                first.replace(urlsplit(first).netloc, urlsplit(emu.base).netloc),
                emu.pid,
            )
            first = first.replace(urlsplit(first).netloc, urlsplit(emu.base).netloc)
            deep = deep.replace(urlsplit(deep).netloc, urlsplit(emu.base).netloc)
            emu.stop()
            procs.remove(emu)
            emu = Emulator(data, logdir, f"emulator-{n}-profile")
            procs.append(emu)
            emu.start()
            first = first.replace(urlsplit(first).netloc, urlsplit(emu.base).netloc)
            deep = deep.replace(urlsplit(deep).netloc, urlsplit(emu.base).netloc)
        if n == args.sizes[-1] and args.profile:
            log("profiling (py-spy, 200 Hz) under load")
            prof = {}
            # the last page takes seconds at this size: one connection is enough to see where they go
            for key, url, c in (
                ("get_one", one_url.replace(urlsplit(one_url).netloc, urlsplit(emu.base).netloc), 8),
                ("page_first", first, 8),
                ("page_deep", deep, 1),
            ):
                p = profile_under_load(emu, load, url, key, workdir, args.profile_seconds, c)
                if p is not None:
                    p["concurrency"] = c
                if p is None:
                    res["notes"].append("py-spy is not installed or could not attach; no profile")
                    break
                prof[key] = p
                log(
                    f"  {key}: {p['samples']} samples; top self: " + "; ".join(f"{k} {v:.0%}" for k, v in p["self"][:3])
                )
            res["profile"] = prof
        emu.stop()
        procs.remove(emu)
    res["rss_mb"] = rss_at

    # (c) and (d) on a fresh instance
    emu = Emulator(os.path.join(workdir, "data-post"), logdir, "emulator-post")
    procs.append(emu)
    emu.start()
    fresh_dc = create_and_wait_once(emu.base, API + "/datacenters", DC_BODY)
    fresh_url = f"{emu.base}{API}/datacenters/{fresh_dc}?depth=1"
    _both(load, emu_res, "get_dc_fresh", "emulator GET one data center, fresh store", fresh_url, emu.pid)
    log("(c) POST a data center (202)")
    _both(
        load,
        emu_res,
        "post_dc",
        "emulator POST data center",
        f"{emu.base}{API}/datacenters",
        emu.pid,
        method="POST",
        body=DC_BODY,
        expect=202,
    )
    log("(d) POST a data center and poll until DONE")
    emu_res["create_wait"] = {}
    for c in (1, 8):
        m = load.create_and_wait(f"{emu.base}{API}/datacenters", c, DC_BODY, emu.pid)
        emu_res["create_wait"][str(c)] = m
        _show(f"emulator create + wait DONE c={c}", m)
    res["rss_after_posts_mb"] = emu.rss()
    status, _, raw = call("GET", f"{emu.base}{API}/requests?limit=1")
    res["writes_before_get_after"] = sum(
        m["requests"] for m in [*emu_res["post_dc"].values(), *emu_res["create_wait"].values()]
    )
    _both(
        load,
        emu_res,
        "get_dc_after_writes",
        f"emulator GET one data center after {res['writes_before_get_after']:,} writes",
        fresh_url,
        emu.pid,
    )
    emu.stop()
    procs.remove(emu)

    _run_backends(args, res, load, workdir, logdir, procs, data, one_url)

    # baseline 2: Prism
    spec = os.path.abspath(args.spec)
    prism, why = ensure_prism(not args.no_prism_install) if not args.no_prism else (None, "--no-prism was given")
    if prism and not os.path.exists(spec):
        prism, why = None, f"the spec {spec} does not exist"
    if prism:
        try:
            t0 = time.perf_counter()
            proc, base = start_prism(prism, spec, logdir)
            procs.append(proc)
            res["prism_startup_s"] = time.perf_counter() - t0
            log(f"baseline: Prism mock of {os.path.relpath(spec, ROOT)} (up in {res['prism_startup_s']:.1f} s)")
            prism_res = res["prism"]
            _both(
                load,
                prism_res,
                "get_one",
                "Prism GET one server",
                f"{base}/datacenters/{dc_id}/servers/{server_id}?depth=1",
                proc.pid,
            )
            _both(
                load,
                prism_res,
                "page_first",
                "Prism GET page of servers",
                f"{base}/datacenters/{dc_id}/servers?depth=1&offset=0&limit=100",
                proc.pid,
            )
            _both(
                load,
                prism_res,
                "post_dc",
                "Prism POST data center",
                f"{base}/datacenters",
                proc.pid,
                method="POST",
                body=DC_BODY,
                expect=202,
            )
            res["prism_rss_mb"] = rss_mb(proc.pid)
            stop(proc)
            procs.remove(proc)
        except Exception as e:  # a baseline that cannot run is reported, not fatal
            why = f"Prism could not be started or measured: {e}"
            prism = None
    if not prism:
        res["prism_unavailable"] = why
        res["notes"].append(why)
        log(f"baseline: Prism unavailable: {why}")


def _run_backends(args, res, load: Load, workdir: str, logdir: str, procs: list, data: str, one_url: str) -> None:
    """(e) the same GET and POST on PostgreSQL, (f) GET with two workers, (g) the DNS server's queries."""
    # (e) PostgreSQL: a fresh database on the server --database names (skipped when none answers)
    url = args.database
    try:
        import psycopg

        db = f"ionos_bench_{os.getpid()}"
        with psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=3) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {db}")
            admin.execute(f"CREATE DATABASE {db}")
    except Exception as e:  # no server: reported, not fatal
        res["notes"].append(f"PostgreSQL backend not measured: {e}")
        db = ""
    if db:
        emu = Emulator(os.path.join(workdir, "data-pg"), logdir, "emulator-pg", extra=("--database", f"{url}/{db}"))
        procs.append(emu)
        emu.start()
        log(f"(e) PostgreSQL backend ({url})")
        dc = create_and_wait_once(emu.base, API + "/datacenters", DC_BODY)
        srv = create_and_wait_once(
            emu.base, f"{API}/datacenters/{dc}/servers", json.dumps({"properties": SERVER_PROPS})
        )
        pg_res = res.setdefault("postgres", {})
        _both(
            load,
            pg_res,
            "get_one",
            "PostgreSQL GET one server",
            f"{emu.base}{API}/datacenters/{dc}/servers/{srv}?depth=1",
            emu.pid,
        )
        _both(
            load,
            pg_res,
            "post_dc",
            "PostgreSQL POST data center",
            f"{emu.base}{API}/datacenters",
            emu.pid,
            method="POST",
            body=DC_BODY,
            expect=202,
        )
        emu.stop()
        procs.remove(emu)
        with psycopg.connect(f"{url}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    # (f) two workers on the main data dir, one worker right before it
    for workers in (1, 2):
        emu = Emulator(data, logdir, f"emulator-workers-{workers}", extra=("--workers", str(workers)))
        procs.append(emu)
        emu.start()
        if workers == 2:
            time.sleep(1.0)  # both workers up
        log(f"(f) {workers} worker(s): GET one server")
        url_w = one_url.replace(urlsplit(one_url).netloc, urlsplit(emu.base).netloc)
        _both(
            load,
            res.setdefault("workers", {}),
            f"get_one@{workers}",
            f"{workers} worker(s) GET one server",
            url_w,
            None,
        )
        emu.stop()
        procs.remove(emu)

    # (g) the DNS server at a few and at many zones
    port = free_port()
    emu = Emulator(os.path.join(workdir, "data-dns"), logdir, "emulator-dns", extra=("--dns-port", str(port)))
    procs.append(emu)
    emu.start()
    dns_res = res.setdefault("dns", {})
    made = 0
    for zones in args.zones:
        log(f"(g) DNS server, {zones:,} zones")
        t0 = time.perf_counter()
        while made < zones:
            status, _, raw = call(
                "POST",
                f"{emu.base}/dns/de-fra/zones",
                json.dumps({"properties": {"zoneName": f"z{made}.bench.example"}}),
            )
            if status not in (200, 201, 202):
                raise RuntimeError(f"POST zone answered {status}: {raw[:200]!r}")
            made += 1
        log(f"  made zones in {time.perf_counter() - t0:.1f} s")
        names = [f"z{i}.bench.example" for i in range(0, zones, max(1, zones // 50))]
        wait_quiet(emu.pid)
        m = dns_load(port, names, 8, load.duration)
        dns_res[str(zones)] = m
        _show(f"DNS SOA queries, {zones:,} zones c=8", m)
    emu.stop()
    procs.remove(emu)


def dns_load(port: int, names: list[str], c: int, seconds: float) -> dict:
    """A bounded UDP load generator: `c` queries in flight (SOA of the zones in turn), each sent when the
    previous answer came; queries per second and latency. Lost answers count as errors after 1 s."""
    import asyncio

    import dns.message

    wires = [dns.message.make_query(n, "SOA").to_wire() for n in names]
    lat: list[float] = []
    errors = 0

    async def main() -> None:
        nonlocal errors
        loop = asyncio.get_running_loop()
        end = time.perf_counter() + seconds

        class Client(asyncio.DatagramProtocol):
            def __init__(self) -> None:
                self.waiter: asyncio.Future | None = None

            def datagram_received(self, data: bytes, addr) -> None:
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(data)

        async def worker(i: int) -> None:
            nonlocal errors
            transport, proto = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
            k = i
            try:
                while time.perf_counter() < end:
                    proto.waiter = loop.create_future()
                    t0 = time.perf_counter()
                    transport.sendto(wires[k % len(wires)])
                    k += 1
                    try:
                        await asyncio.wait_for(proto.waiter, 1.0)
                        lat.append(time.perf_counter() - t0)
                    except asyncio.TimeoutError:
                        errors += 1
            finally:
                transport.close()

        await asyncio.gather(*(worker(i) for i in range(c)))

    asyncio.run(main())
    lat.sort()

    def pct(q: float) -> float | None:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else None

    return {
        "rps": len(lat) / seconds,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "requests": len(lat),
        "duration": seconds,
        "errors": errors,
        "other_load": None,
        "client": "python asyncio UDP",
    }


def create_and_wait_once(base: str, path: str, body: str) -> str:
    status, headers, raw = call("POST", base + path, body)
    if status != 202:
        raise RuntimeError(f"POST {path} answered {status}: {raw[:300]!r}")
    rid = json.loads(raw)["id"]
    loc = urlsplit(headers["location"]).path
    for _ in range(500):
        st, _, b = call("GET", base + loc)
        state = json.loads(b).get("metadata", {}).get("status")
        if state == "DONE":
            return rid
        if state == "FAILED":
            raise RuntimeError(f"POST {path} failed: {b[:300]!r}")
        time.sleep(0.01)
    raise RuntimeError(f"POST {path} did not complete")


# -- the report --------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def _ge(value: float | None, target: float, unit: str = "") -> tuple[str, str]:
    if value is None:
        return "n/a", "not measured"
    diff = f"; {value - target:+,.0f}{unit}" if unit else ""
    if value >= target:
        return "**met**", f"{value / target:.2f}x the target{diff}"
    if value <= 0:
        return "**missed**", "nothing measured above zero"
    return "**missed**", f"{value / target:.0%} of the target{diff}; needs {target / value:.2f}x"


def _le(value: float | None, limit: float, unit: str = "") -> tuple[str, str]:
    if value is None:
        return "n/a", "not measured"
    if value <= limit:
        return "**met**", f"{value / limit:.0%} of the limit ({limit - value:,.2f}{unit} to spare)"
    return "**missed**", f"{value / limit:.2f}x the limit (over by {value - limit:,.2f}{unit})"


def report(res: dict) -> str:
    emu_res, bare_res, prism_res = res["emulator"], res["bare"], res["prism"]
    m = res["machine"]
    sizes = res["sizes"]
    big, small = str(sizes[-1]), str(sizes[0])
    lines: list[str] = []
    lines += [
        "# Benchmark results",
        "",
        f"Produced by `python bench/run.py{' --quick' if res['mode'] == 'quick' else ''}` "
        f"({res['mode']} run: {res['duration_s']} s per measurement after a {res['warmup_s']} s warm-up).",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m['date']} |",
        f"| machine | {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['ram_gib']:.1f} GiB RAM, Linux {m['kernel']} |",
        f"| Python | {m['python']} |",
        f"| emulator | commit {m['commit'] or '?'}, `ionos-emulator serve --timing instant` (not strict), "
        f"SQLite in a fresh temporary data dir, one uvicorn worker (httptools) |",
        f"| load client | {m['client']} |",
        "",
        "The load client runs on the same 2 cores as the server under test, and takes a share of them "
        "(wrk with one thread: a few per cent of a core at these rates), so every figure is a little "
        "below what the server would do alone. Concurrency = open keep-alive connections, each sending "
        "its next request when the previous answer arrived (closed loop). Latency is per request, "
        "as the client sees it. Figures vary by a few per cent between runs; the load averages "
        f"(1, 5, 15 min) were {res.get('loadavg_start', '?')} before the run and "
        f"{res.get('loadavg_end', '?')} "
        "after it, and "
        + (f"{res['cpu_busy_start']:.0%}" if res.get("cpu_busy_start") is not None else "?")
        + " of the CPUs were busy with other work in the second before it started. *other load* is "
        "the share of the machine that other processes (not the server, the load client or the "
        f"benchmark) used during each measurement; one above {res.get('max_other', 0.1):.0%} was run "
        f"again, up to {res.get('attempts', 1)} times, keeping the least disturbed run.",
        "",
    ]
    if res.get("prism_unavailable"):
        lines += [f"**Prism baseline unavailable:** {res['prism_unavailable']}", ""]

    def row(label: str, key: str, prism_key: str | None) -> list[str]:
        out = []
        for c in ("1", "8"):
            x = emu_res.get(key, {}).get(c)
            if not x:
                continue
            bare = bare_res.get("get_one", {}).get(c)
            pr = prism_res.get(prism_key, {}).get(c) if prism_key else None
            err = f" ({x['errors']} errors)" if x.get("errors") else ""
            out.append(
                f"| {label} | {c} | {x['rps']:,.1f}{err} | {_ms(x['p50_ms'])} | {_ms(x['p99_ms'])} | "
                f"{x['requests']:,} in {x['duration']:.0f} s | {_pct(x.get('other_load'))} | "
                f"{_fmt_ratio(_ratio(x['rps'], bare and bare['rps']))} | "
                f"{_fmt_ratio(_ratio(x['rps'], pr and pr['rps'])) if prism_key else 'n/a (Prism cannot)'} |"
            )
        return out

    lines += [
        "## Emulator",
        "",
        "Ratios are the emulator's throughput divided by the baseline's at the same concurrency: *vs bare* "
        "against the bare uvicorn + starlette app (GET of a fixed body as large as (a)'s response: the "
        "ceiling of this machine), *vs Prism* against Prism's answer to the same operation.",
        "",
        "| operation | concurrency | req/s | p50 ms | p99 ms | requests | other load | vs bare | vs Prism |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += row(f"(a) GET one server, depth=1 ({res.get('get_one_bytes', 0):,} B)", "get_one", "get_one")
    for n in sizes:
        pb = res.get("page_bytes", {}).get(str(n))
        lines += row(
            f"(b) GET page offset=0 limit=100, {n:,} servers stored" + (f" ({pb:,} B)" if pb else ""),
            f"page_first@{n}",
            "page_first",
        )
        lines += row(
            f"(b) GET page offset={max(0, n - 100):,} limit=100, {n:,} servers stored", f"page_deep@{n}", "page_first"
        )
    lines += row(f"(a) GET one server, depth=1, {int(big):,} servers stored", f"get_one@{big}", "get_one")
    lines += row("(c) POST data center (202 accepted)", "post_dc", "post_dc")
    lines += row("(d) POST data center + poll until DONE (one cycle)", "create_wait", None)
    cw = emu_res.get("create_wait", {}).get("8")
    if cw and cw.get("requests"):
        lines += [
            "",
            f"(d) is measured with bench/loadgen.py whatever the client above (it pairs each POST with "
            f"the polls of its own Location): {cw['http_requests'] / cw['requests']:.2f} HTTP requests "
            f"per cycle at concurrency 8 (instant timing: the first poll answers DONE).",
        ]

    a, b = emu_res.get(f"page_first@{small}", {}).get("1"), emu_res.get(f"page_deep@{small}", {}).get("1")
    if int(small) <= 100 and a and b and a.get("p50_ms") and b.get("p50_ms"):
        lines += [
            "",
            f"With {int(small)} servers the first and the last page are the same request, measured twice: "
            f"p50 {a['p50_ms']:.2f} and {b['p50_ms']:.2f} ms, {a['rps']:,.0f} and {b['rps']:,.0f} req/s. "
            "Differences of that size between figures are run-to-run noise on this shared machine.",
        ]
    lines += [
        "",
        "## Baselines",
        "",
        "| baseline | operation | concurrency | req/s | p50 ms | p99 ms | requests | other load |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, store, ops in (
        ("bare uvicorn + starlette", bare_res, (("get_one", "GET fixed body"),)),
        (
            "Prism (static examples)",
            prism_res,
            (("get_one", "GET one server"), ("page_first", "GET page of servers"), ("post_dc", "POST data center")),
        ),
    ):
        for key, label in ops:
            for c in ("1", "8"):
                x = store.get(key, {}).get(c)
                if x:
                    lines.append(
                        f"| {name} | {label} | {c} | {x['rps']:,.1f} | {_ms(x['p50_ms'])} | "
                        f"{_ms(x['p99_ms'])} | "
                        f"{x['requests']:,} in {x['duration']:.0f} s | {_pct(x.get('other_load'))} |"
                    )
    if not prism_res:
        lines.append(f"| Prism | - | - | unavailable: {res.get('prism_unavailable', '')} | | | | |")
    if res.get("prism_startup_s"):
        lines += [
            "",
            "Prism runs `prism mock -v silent` on the Cloud API spec "
            f"(it was ready {res['prism_startup_s']:.1f} s "
            f"after start); it answers every call with the spec's example, whatever is stored.",
        ]

    lines += [
        "",
        "## Start-up and memory",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| start-up to the first 200 of /_emulator/health, median of {len(res['startup_s']['all'])} "
        f"(fresh data dir) | {res['startup_s']['median'] * 1000:.0f} ms |",
        f"| start-up, each | {', '.join(f'{t * 1000:.0f}' for t in res['startup_s']['all'])} ms |",
        f"| other load during each start-up | {', '.join(_pct(o) for o in res['startup_s'].get('other_load', []))} |",
    ]
    for n, s in res.get("startup_with_rows_s", {}).items():
        lines.append(f"| start-up with {int(n):,} servers stored | {s * 1000:.0f} ms |")
    lines.append(f"| idle RSS (after start and one request) | {res['rss_idle_mb']:.1f} MB |")
    for n, r in res.get("rss_mb", {}).items():
        lines.append(f"| RSS with {int(n):,} servers stored, after reading pages | {r:.1f} MB |")
    if res.get("rss_after_posts_mb"):
        lines.append(f"| RSS after the POST runs (c) and (d) | {res['rss_after_posts_mb']:.1f} MB |")
    if res.get("bare_rss_mb"):
        lines.append(f"| bare baseline RSS | {res['bare_rss_mb']:.1f} MB |")
    if res.get("prism_rss_mb"):
        lines.append(f"| Prism RSS | {res['prism_rss_mb']:.1f} MB |")
    for n, s in res.get("seeding", {}).items():
        lines.append(
            f"| seeding up to {int(n):,} servers (in-process, one transaction) "
            f"| {s['added']:,} rows in {s['seconds']:.1f} s |"
        )

    # targets
    def g(key, c, f="rps"):
        x = emu_res.get(key, {}).get(c)
        return x[f] if x else None

    def gb(store, key, c, f="rps"):
        x = store.get(key, {}).get(c)
        return x[f] if x else None

    targets: list[tuple[str, str, str, str, str]] = []
    for c in ("1", "8"):
        v = _ratio(g("get_one", c), gb(bare_res, "get_one", c))
        targets.append(
            (
                f"GET one resource >= 50% of bare throughput (c={c})",
                f"{v:.0%} ({g('get_one', c):,.0f} vs {gb(bare_res, 'get_one', c):,.0f} req/s)" if v else "n/a",
                ">= 50%",
                *_ge(v, T_GET_VS_BARE),
            )
        )
    for c in ("1", "8"):
        v = _ratio(g("get_one", c), gb(prism_res, "get_one", c))
        targets.append(
            (
                f"GET one resource >= 3x Prism's throughput (c={c})",
                f"{v:.2f}x ({g('get_one', c):,.0f} vs {gb(prism_res, 'get_one', c):,.0f} req/s)"
                if v
                else "n/a (Prism unavailable)",
                ">= 3x",
                *_ge(v, T_GET_VS_PRISM),
            )
        )
    p99_rows = [
        ("GET one server", "get_one"),
        (f"GET first page, {int(big):,} stored", f"page_first@{big}"),
        (f"GET deep page, {int(big):,} stored", f"page_deep@{big}"),
        ("POST data center", "post_dc"),
        ("create + wait DONE", "create_wait"),
    ]
    for label, key in p99_rows:
        v = g(key, "8", "p99_ms")
        targets.append(
            (
                f"p99 <= 10 ms at c=8: {label}",
                f"{v:.2f} ms" if v is not None else "n/a",
                "<= 10 ms",
                *_le(v, T_P99_MS, " ms"),
            )
        )
    for which, label in (("first", "offset=0"), ("deep", "last page")):
        for c in ("1", "8"):
            a, b = g(f"page_{which}@{big}", c, "p50_ms"), g(f"page_{which}@{small}", c, "p50_ms")
            v = _ratio(a, b)
            targets.append(
                (
                    f"page latency ({label}) at {int(big):,} <= 1.5x at {int(small):,} (p50, c={c})",
                    f"{v:.2f}x ({a:.2f} vs {b:.2f} ms)" if v else "n/a (no request completed)",
                    "<= 1.5x",
                    *_le(v, T_PAGE_GROWTH, "x"),
                )
            )
    for c in ("1", "8"):
        v = g("post_dc", c)
        targets.append(
            (f"POST >= 1,000/s (c={c})", f"{v:,.0f}/s" if v else "n/a", ">= 1,000/s", *_ge(v, T_POST_RPS, "/s"))
        )
    v = res["startup_s"]["median"]
    targets.append(("start-up <= 0.5 s (median)", f"{v:.3f} s", "<= 0.5 s", *_le(v, T_STARTUP_S, " s")))
    v = res["rss_idle_mb"]
    targets.append(("idle RSS <= 80 MB", f"{v:.1f} MB", "<= 80 MB", *_le(v, T_IDLE_RSS_MB, " MB")))
    r_small, r_big = res.get("rss_mb", {}).get(small), res.get("rss_mb", {}).get(big)
    if r_small and r_big:
        v = r_big - r_small
        targets.append(
            (
                f"memory does not grow with stored resources (RSS at {int(big):,} minus RSS at {int(small):,}, "
                f"same pages read; bounded caches allowed up to {T_RSS_GROWTH_MB:.0f} MB)",
                f"{v:+.1f} MB ({r_small:.1f} -> {r_big:.1f} MB)",
                f"<= {T_RSS_GROWTH_MB:.0f} MB",
                *_le(v, T_RSS_GROWTH_MB, " MB"),
            )
        )
    lines += [
        "",
        "## Targets",
        "",
        'Targets of the issue "Speed, scale-out on PostgreSQL, and durability".',
        "",
        "| target | measured | target | verdict | by how much |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in targets]
    met = sum(1 for t in targets if t[3] == "**met**")
    missed = sum(1 for t in targets if t[3] == "**missed**")
    lines += ["", f"{met} met, {missed} missed."]

    nogc_res = res.get("diagnostic_nogc") or {}
    if nogc_res:
        lines += [
            "",
            "## Diagnostic: the cyclic garbage collector",
            "",
            f"The same data dir ({int(big):,} servers) served by an emulator started with `gc.disable()` "
            "before the CLI (the emulator's code unchanged). The difference is what Python's cyclic garbage "
            "collector costs: a full collection walks every long-lived object (compiled specs, modules), and "
            "a request that triggers one waits for it.",
            "",
            "| operation | concurrency | GC on req/s | GC off req/s | GC on p50 / p99 ms | GC off p50 / p99 ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, label in (
            ("get_one", "(a) GET one server, depth=1"),
            (f"page_first@{big}", "(b) GET page offset=0 limit=100"),
        ):
            on_key = f"get_one@{big}" if key == "get_one" else key
            for c in ("1", "8"):
                on, off = emu_res.get(on_key, {}).get(c), nogc_res.get(key, {}).get(c)
                if on and off:
                    lines.append(
                        f"| {label} | {c} | {on['rps']:,.0f} | {off['rps']:,.0f} "
                        f"({_fmt_ratio(_ratio(off['rps'], on['rps']))}) | {_ms(on['p50_ms'])} / "
                        f"{_ms(on['p99_ms'])} | {_ms(off['p50_ms'])} / {_ms(off['p99_ms'])} |"
                    )

    prof = res.get("profile") or {}
    if prof:
        lines += [
            "",
            "## Where the time goes",
            "",
            f"py-spy (200 Hz) on the emulator process while the load client ran with "
            f"{int(big):,} servers stored, in a separate pass (the figures above are without the profiler). "
            "*self* = samples with this line on top of the Python stack "
            "(time in C code it calls, e.g. sqlite3 or "
            "orjson, counts for the calling line); *incl.* = samples with the emulator's function anywhere on "
            "the stack. Idle time in the event loop is not sampled.",
            "",
        ]
        for key, label in (
            ("get_one", "(a) GET one server, depth=1"),
            ("page_first", "(b) GET first page of 100"),
            ("page_deep", "(b) GET last page of 100"),
        ):
            p = prof.get(key)
            if not p:
                continue
            lines += [
                f"### {label}, concurrency {p.get('concurrency', 8)} ({p['samples']:,} samples)",
                "",
                "| self | function | | incl. | function |",
                "|---:|---|---|---:|---|",
            ]
            incl = [
                x for x in p["inclusive"] if "ionos_emulator/" in x[0] and not x[0].startswith(("<module>", "serve ("))
            ][:12]
            for i in range(max(len(p["self"][:12]), len(incl))):
                s = p["self"][i] if i < len(p["self"][:12]) else ("", 0)
                n = incl[i] if i < len(incl) else ("", 0)
                lines.append(
                    f"| {s[1]:.1%} | `{s[0]}` | | {n[1]:.1%} | `{n[0]}` |"
                    if s[0]
                    else f"| | | | {n[1]:.1%} | `{n[0]}` |"
                )
            lines.append("")
    lines += issue15_targets(res)
    for n in res.get("notes", []):
        lines += ["", f"Note: {n}"]
    return "\n".join(lines).rstrip() + "\n"


def issue15_targets(res: dict) -> list[str]:
    """Every figure of issue 15 beside its baseline of this same run, as a ratio, and its target."""
    emu, bare = res["emulator"], res["bare"]
    sizes = [str(n) for n in res.get("sizes", [])]

    def f(store: dict | None, key: str, c: str = "8", field: str = "rps") -> float | None:
        x = (store or {}).get(key, {}).get(c) if store else None
        return x.get(field) if x else None

    rows: list[tuple[str, str, str, str, str]] = []

    def ratio_row(label: str, a: float | None, b: float | None, target: float, unit: str = "req/s") -> None:
        r = _ratio(a, b)
        shown = f"{a:,.0f} / {b:,.0f} {unit}" if a is not None and b is not None else "n/a"
        met = "n/a" if r is None else ("met" if r >= target else f"missed by {target - r:.2f}x")
        rows.append((label, shown, _fmt_ratio(r), f">= {target}x", met))

    def limit_row(label: str, v: float | None, limit: float, unit: str, baseline: str = "") -> None:
        met = "n/a" if v is None else ("met" if v <= limit else f"missed by {v - limit:.2f} {unit}")
        rows.append((label, "n/a" if v is None else f"{v:,.2f} {unit}", baseline, f"<= {limit} {unit}", met))

    for c in ("1", "8"):
        ratio_row(
            f"GET one server depth=1, c={c}, vs bare (same bytes)", f(emu, "get_one", c), f(bare, "get_one", c), 1.0
        )
        ratio_row(
            f"GET one server depth=3, c={c}, vs bare (same bytes)",
            f(emu, "get_one_depth3", c),
            f(bare, "get_one_depth3", c),
            1.0,
        )
    limit_row("GET one server p99 at c=8", f(emu, "get_one", "8", "p99_ms"), 5.0, "ms")
    for c in ("1", "8"):
        ratio_row(
            f"page of 100 ({sizes[0] if sizes else '?'} stored, offset 0), c={c}, vs bare (same bytes)",
            f(emu, f"page_first@{sizes[0]}" if sizes else "", c),
            f(bare, "page", c),
            0.5,
        )
    for n in sizes:
        first = f(emu, f"page_first@{n}", "1", "p50_ms")
        for where in ("middle", "deep"):
            v = f(emu, f"page_{where}@{n}", "1", "p50_ms")
            r = _ratio(v, first)
            met = "n/a" if r is None else ("met" if r <= 1.5 else f"missed by {r - 1.5:.2f}x")
            rows.append(
                (
                    f"page of 100 at {int(n):,} stored, {'last' if where == 'deep' else 'middle'} page p50 / first",
                    f"{_ms(v)} / {_ms(first)} ms",
                    _fmt_ratio(r),
                    "<= 1.5x",
                    met,
                )
            )
    post = f(emu, "post_dc", "8")
    rows.append(
        (
            "POST data center (durable), c=8",
            f"{post or 0:,.0f} req/s",
            "",
            ">= 2,000/s",
            "met" if post and post >= 2000 else f"missed by {2000 - (post or 0):,.0f}/s",
        )
    )
    cw = (emu.get("create_wait") or {}).get("8", {}).get("rps")
    rows.append(
        (
            "create-and-wait cycles, c=8",
            f"{cw or 0:,.0f} /s",
            "",
            ">= 1,200/s",
            "met" if cw and cw >= 1200 else f"missed by {1200 - (cw or 0):,.0f}/s",
        )
    )
    pg = res.get("postgres")
    for c in ("1", "8"):
        ratio_row(f"PostgreSQL GET one server, c={c}, vs SQLite", f(pg, "get_one", c), f(emu, "get_one", c), 0.5)
    ratio_row("PostgreSQL POST data center, c=8, vs SQLite", f(pg, "post_dc", "8"), f(emu, "post_dc", "8"), 0.5)
    w = res.get("workers")
    ratio_row("2 workers GET one server, c=8, vs 1 worker", f(w, "get_one@2"), f(w, "get_one@1"), 1.6)
    for zones, m in (res.get("dns") or {}).items():
        rows.append(
            (
                f"DNS queries/s, {int(zones):,} zones, c=8",
                f"{m['rps']:,.0f} q/s",
                "",
                ">= 5,000/s",
                "met" if m["rps"] >= 5000 else f"missed by {5000 - m['rps']:,.0f}/s",
            )
        )
        limit_row(f"DNS p99, {int(zones):,} zones", m.get("p99_ms"), 5.0, "ms")
    st = res.get("startup_s", {}).get("median")
    limit_row("start-up to the first 200 (median)", st, 0.3, "s")
    limit_row("idle RSS", res.get("rss_idle_mb"), 60.0, "MB", f"bare {res.get('bare_rss_mb') or 0:.1f} MB")
    big = sizes[-1] if sizes else ""
    limit_row(f"RSS after {int(big or 0):,} servers stored", (res.get("rss_mb") or {}).get(big), 60.0, "MB")
    fresh, after = f(emu, "get_dc_fresh", "1"), f(emu, "get_dc_after_writes", "1")
    r = _ratio(after, fresh)
    rows.append(
        (
            f"GET after {res.get('writes_before_get_after', 0):,} writes vs fresh store, c=1",
            f"{after or 0:,.0f} / {fresh or 0:,.0f} req/s",
            _fmt_ratio(r),
            ">= 0.95x",
            "n/a" if r is None else ("met" if r >= 0.95 else f"missed by {0.95 - r:.2f}x"),
        )
    )
    out = [
        "",
        "## Issue 15: every figure beside its baseline of this run",
        "",
        "Ratios are this run's figure divided by its baseline, measured in the same run right before or after "
        "(throughput: higher is better; latency and size: lower is better).",
        "",
        "| figure | value / baseline | ratio | target | |",
        "|---|---:|---:|---:|---|",
    ]
    out += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="Benchmark the emulator against a bare ASGI app and Prism.")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 s measurements, 3 start-ups, no profile")
    ap.add_argument("--duration", type=int, default=None, help="seconds per measurement (full 8, quick 2)")
    ap.add_argument("--warmup", type=int, default=None, help="seconds of warm-up before each (full 2, quick 1)")
    ap.add_argument(
        "--max-duration",
        type=int,
        default=None,
        help="longest a measurement of a slow operation may run (full 60, quick 4 s)",
    )
    ap.add_argument(
        "--sizes", default=None, help="servers stored for the page runs (full 100,10000,100000; quick 100,1000,10000)"
    )
    ap.add_argument("--starts", type=int, default=None, help="start-ups to take the median of (full 5, quick 3)")
    ap.add_argument(
        "--spec",
        default=os.path.join(ROOT, "..", "shared", "specs", "cloud-v6.yaml"),
        help="the Cloud API spec Prism mocks (default ../shared/specs/cloud-v6.yaml)",
    )
    ap.add_argument(
        "--database",
        default=os.environ.get("IONOS_BENCH_DATABASE", "postgresql://postgres@127.0.0.1:5432"),
        help="a PostgreSQL server for the backend figures (a fresh database is made there and dropped)",
    )
    ap.add_argument("--zones", default=None, help="zones for the DNS figures (full 10,10000; quick 10,1000)")
    ap.add_argument("--no-prism", action="store_true", help="skip the Prism baseline")
    ap.add_argument("--no-prism-install", action="store_true", help="do not npm-install Prism when missing")
    ap.add_argument(
        "--profile",
        dest="profile",
        action="store_true",
        default=None,
        help="sample the emulator with py-spy under (a) and (b) load (default: on in a full run)",
    )
    ap.add_argument("--no-profile", dest="profile", action="store_false")
    ap.add_argument("--profile-seconds", type=int, default=None)
    ap.add_argument(
        "--gc-diagnostic",
        dest="gc_diagnostic",
        action="store_true",
        default=None,
        help="also measure (a) and the first page with Python's cyclic GC off (default: on in a full run)",
    )
    ap.add_argument("--no-gc-diagnostic", dest="gc_diagnostic", action="store_false")
    ap.add_argument(
        "--attempts",
        type=int,
        default=None,
        help="runs of a measurement at most, when other processes disturb it (full 3, quick 1)",
    )
    ap.add_argument(
        "--max-other",
        type=float,
        default=10.0,
        help="per cent of the machine other processes may use before a run is repeated (10)",
    )
    ap.add_argument(
        "--wait-idle",
        type=int,
        default=None,
        help="seconds to wait at most for the machine to be idle before starting (full 600, quick 0)",
    )
    ap.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load client: wrk when installed (auto), or bench/loadgen.py",
    )
    ap.add_argument(
        "--output", default=None, help="where to write the Markdown (bench/results.md; --quick: bench/results-quick.md)"
    )
    ap.add_argument("--json", default=None, help="where to write the raw figures (beside the Markdown, .json)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work dir (logs, data, profiles)")
    args = ap.parse_args()
    args.duration = args.duration or (2 if args.quick else 8)
    args.warmup = args.warmup or (1 if args.quick else 2)
    args.starts = args.starts or (3 if args.quick else 5)
    args.max_duration = args.max_duration or (4 if args.quick else 60)
    args.attempts = args.attempts or (1 if args.quick else 3)
    if args.wait_idle is None:
        args.wait_idle = 0 if args.quick else 600
    args.sizes = sorted(
        int(s) for s in (args.sizes or ("100,1000,10000" if args.quick else "100,10000,100000")).split(",") if s.strip()
    )
    args.zones = [int(z) for z in (args.zones or ("10,1000" if args.quick else "10,10000")).split(",") if z.strip()]
    if args.profile is None:
        args.profile = not args.quick
    if args.gc_diagnostic is None:
        args.gc_diagnostic = not args.quick
    args.profile_seconds = args.profile_seconds or (3 if args.quick else 8)
    args.output = args.output or os.path.join(BENCH, "results-quick.md" if args.quick else "results.md")
    args.json = args.json or os.path.splitext(args.output)[0] + ".json"
    if any(n < 1 for n in args.sizes):
        ap.error("--sizes must be positive")
    _ensure_interpreter()
    t0 = time.perf_counter()
    res = run(args)
    res["elapsed_s"] = time.perf_counter() - t0
    md = report(res)
    with open(args.output, "w") as f:
        f.write(md)
    with open(args.json, "w") as f:
        json.dump(res, f, indent=1, default=str)
    log("")
    log(md)
    log(f"wrote {os.path.relpath(args.output)} and {os.path.relpath(args.json)} in {res['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
