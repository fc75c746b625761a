"""A soak run: one `ionos-emulator serve` process under a mixed load held for a bounded time, then its figures.

The load, each kind on its own client process(es) with keep-alive connections: reads (GET data centers, depth
1), writes (create a data center, poll its request until DONE, delete it, poll again: the store stays the same
size, so memory should stay flat), DNS queries over UDP (dnspython) into a zone of 200 records, and logins
(an Auth API token made and deleted again). Before the load, each kind runs alone for a moment, unmeasured
(what happens once per data dir or process, such as the first login's signing key, is not latency under
load), then an idle figure: one reader alone.

The server runs on one CPU and the clients on the others (where there are two or more; --no-pin: anywhere),
as a load generator on other machines would: six client processes take about as much CPU as the server, and
sharing its cores they measured their own wait for one as the server's latency.

Printed: per kind and in all, requests, errors (an unexpected status, a broken connection or a timeout),
p50/p99 in ms; the idle p50/p99; the server's RSS at the start of the load and at its end; the time the
server itself took for the last requests of the load, by kind (its journal's durations, from the request to
its answer sent), which tells how much of a client's figure is the server's; how late a 5 ms sleep on the
clients' CPUs wakes during the load (their own wait for a CPU, which every client's figure includes); and the
server's CPU time over the load (the share of its CPU it was busy: what a request queues behind).

    python bench/soak.py                 # 60 s
    python bench/soak.py --duration 10   # shorter
    python bench/soak.py --src ../other/src   # another checkout's emulator, as a baseline of the same run
    python bench/soak.py --rate 0        # unpaced: every client as fast as it can (saturates the machine)
    python bench/soak.py --clients read,login   # one kind beside a reader: which kind slows the others
    python bench/soak.py --clients read,read,read,read,read,read   # the harness's own floor: cheap answers only
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dns.message
import dns.query
import httpx

ROOT = Path(__file__).resolve().parents[1]
OWNER = ("admin@ionos-emulator.local", "emulator")
DCS = "/cloudapi/v6/datacenters"
ZONE = "soak.example"


def free_port() -> int:
    with socket.socket() as s, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        u.bind(("127.0.0.1", port))  # the DNS server needs the same port for UDP
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[str]] = defaultdict(list)

    def __getstate__(self) -> dict:  # sent back from a client's process
        return {"latencies": dict(self.latencies), "errors": dict(self.errors), "samples": dict(self.samples)}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self.merge_state(state)

    def merge(self, other: Tally) -> None:
        self.merge_state(other.__getstate__())

    def merge_state(self, state: dict) -> None:
        for kind, values in state["latencies"].items():
            self.latencies[kind] += values
        for kind, n in state["errors"].items():
            self.errors[kind] += n
        for kind, samples in state["samples"].items():
            self.samples[kind] += samples

    def record(self, kind: str, started: float, ok: bool, what: str = "") -> None:
        took = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(took)
            if not ok:
                self.errors[kind] += 1
                if len(self.samples[kind]) < 3:
                    self.samples[kind].append(what)


class Pace:
    """Holds one client thread to `rate` operations per second (0: as fast as it can). A paced load measures
    latency under load; an unpaced one saturates the two cores, and then measures the queue."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.perf_counter()

    def wait(self) -> None:
        if self.interval:
            self.next += self.interval
            delay = self.next - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:  # behind: start again from now rather than send a burst to catch up
                self.next = time.perf_counter()


RATE = 0.0  # operations per second of each client thread (--rate)


def run_client(fn, args: tuple, until: float, rate: float) -> Tally:
    """One client (in a process of its own), until `until`; what it measured."""
    global RATE
    RATE = rate
    tally = Tally()
    fn(*args, tally, until)
    return tally


def timed(tally: Tally, kind: str, fn, expect: tuple[int, ...]):
    started = time.perf_counter()
    try:
        r = fn()
    except Exception as e:  # a broken connection or a timeout is an error of the run
        tally.record(kind, started, False, f"{type(e).__name__}: {e}")
        return None
    ok = r.status_code in expect
    tally.record(kind, started, ok, f"{r.status_code} {r.text[:200]}")
    return r if ok else None


def reader(url: str, tally: Tally, until: float, kind: str = "read") -> None:
    pace = Pace(RATE)
    with httpx.Client(base_url=url, auth=OWNER, timeout=30) as c:
        while time.time() < until:
            pace.wait()
            timed(tally, kind, lambda: c.get(DCS, params={"depth": 1}), (200,))


def writer(url: str, tally: Tally, until: float) -> None:
    def settle(c: httpx.Client, location: str) -> None:
        for _ in range(200):
            r = timed(tally, "poll", lambda: c.get(location), (200,))
            if r is None or r.json()["metadata"]["status"] in ("DONE", "FAILED"):
                return
            time.sleep(0.01)

    body = {"properties": {"name": "soak", "location": "de/fra"}}
    pace = Pace(RATE / 4)  # a cycle is four or more requests
    with httpx.Client(base_url=url, auth=OWNER, timeout=30) as c:
        while time.time() < until:
            pace.wait()
            r = timed(tally, "write", lambda: c.post(DCS, json=body), (202,))
            if r is None:
                continue
            settle(c, r.headers["Location"])
            href = f"{DCS}/{r.json()['id']}"
            r = timed(tally, "write", lambda href=href: c.delete(href), (202,))
            if r is not None:
                settle(c, r.headers["Location"])


def resolver(dns_port: int, tally: Tally, until: float) -> None:
    i = 0
    pace = Pace(RATE)
    while time.time() < until:
        pace.wait()
        i += 1
        name = f"h{i % 200}.{ZONE}"
        started = time.perf_counter()
        try:
            answer = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=dns_port, timeout=5)
            tally.record("dns", started, bool(answer.answer), f"{name}: {answer.rcode()}")
        except Exception as e:
            tally.record("dns", started, False, f"{type(e).__name__}: {e}")


def login(url: str, tally: Tally, until: float) -> None:
    pace = Pace(RATE / 2)
    with httpx.Client(base_url=url, timeout=30) as c:
        while time.time() < until:
            pace.wait()
            if timed(tally, "login", lambda: c.get("/auth/v1/tokens/generate", auth=OWNER), (200,)) is not None:
                # the user's tokens are bounded (100): each one made is deleted again
                timed(
                    tally, "login", lambda: c.delete("/auth/v1/tokens", params={"criteria": "ALL"}, auth=OWNER), (200,)
                )


def prepare(url: str) -> None:
    with httpx.Client(base_url=url, auth=OWNER, timeout=60) as c:
        r = c.post("/dns/de-fra/zones", json={"properties": {"zoneName": ZONE}})
        r.raise_for_status()
        text = "$TTL 3600\n" + "".join(f"h{i} IN A 192.0.2.{i % 250 + 1}\n" for i in range(200))
        r = c.put(f"/dns/de-fra/zones/{r.json()['id']}/zonefile", content=text, headers={"Content-Type": "text/plain"})
        r.raise_for_status()
        for i in range(20):  # a store that is not empty
            c.post(DCS, json={"properties": {"name": f"base{i}", "location": "de/fra"}}).raise_for_status()


def server_side(url: str) -> Tally:
    """The durations of the requests the server's journal still holds (the last ones of the load), in seconds
    as the tallies hold theirs, by the client kind that sends such a request."""
    served = Tally()
    for e in httpx.get(url + "/_emulator/journal", auth=OWNER, timeout=60).json():
        path = e["url"].partition("?")[0]
        if "/auth/" in path:
            kind = "login"
        elif "/requests/" in path:
            kind = "poll"
        elif e["method"] in ("POST", "DELETE"):
            kind = "write"
        else:
            kind = "read"
        served.latencies[kind].append(e["duration_ms"] / 1000)
    return served


def report(title: str, tally: Tally, seconds: float) -> None:
    """A table of `tally` by kind; `seconds` 0: no rates (a sample, not a run)."""

    def rate(n: int) -> str:
        return f"{n / seconds:.1f}" if seconds else "-"

    print(f"\n{title}" + (f" ({seconds:.0f} s)" if seconds else ""))
    print(f"{'kind':<8} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    every: list[float] = []
    for kind in sorted(tally.latencies):
        lat = tally.latencies[kind]
        every += lat
        print(
            f"{kind:<8} {len(lat):>9} {tally.errors[kind]:>7} {rate(len(lat)):>8} "
            f"{pct(lat, 50):>8.2f} {pct(lat, 99):>8.2f}"
        )
    errors = sum(tally.errors.values())
    print(f"{'all':<8} {len(every):>9} {errors:>7} {rate(len(every)):>8} {pct(every, 50):>8.2f} {pct(every, 99):>8.2f}")
    for kind, samples in tally.samples.items():
        for s in samples:
            print(f"  {kind} error: {s}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of mixed load (default 60)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of the idle figure first (default 5)")
    parser.add_argument("--src", default=str(ROOT / "src"), help="the emulator's source tree (default: this one)")
    parser.add_argument(
        "--rate",
        type=float,
        default=50.0,
        help="requests per second of each client (default 50, about 300/s in all with the default clients; 0: unpaced)",
    )
    parser.add_argument(
        "--clients",
        default="read,read,write,write,dns,login",
        type=lambda text: text.split(","),
        help="the client processes, by kind: read, write, dns, login (default: %(default)s); one kind with a "
        "reader beside it tells which kind slows the others",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds each kind runs alone first (default 1)")
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the server on one CPU, the clients on the others, where there are two or more (default: on)",
    )
    args = parser.parse_args()
    if unknown := set(args.clients) - {"read", "write", "dns", "login"}:
        parser.error(f"--clients: no such kind {', '.join(sorted(unknown))}")
    global RATE
    RATE = args.rate

    port, dns_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="emulator-soak-")
    env = {**os.environ, "PYTHONPATH": args.src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "ionos_emulator.cli", "serve", "--port", str(port), "--dns-port", str(dns_port)]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, client_cpus = ({cpus[0]}, set(cpus[1:])) if args.pin and len(cpus) > 1 else (set(cpus), set(cpus))
    server = subprocess.Popen(
        [*cmd, "--data-dir", data],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, server_cpus),  # before exec: every thread of the server
    )
    os.sched_setaffinity(0, client_cpus)  # this process and the clients it forks
    print(f"server on CPUs {sorted(server_cpus)}, clients on CPUs {sorted(client_cpus)}")
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(url + "/_emulator/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the emulator did not start")
        prepare(url)
        kinds = {
            "read": (reader, (url,)),
            "write": (writer, (url,)),
            "dns": (resolver, (dns_port,)),
            "login": (login, (url,)),
        }
        for kind in dict.fromkeys(args.clients):  # each kind alone, unmeasured
            fn, fn_args = kinds[kind]
            run_client(fn, fn_args, time.time() + args.warmup, RATE)

        idle = Tally()
        reader(url, idle, time.time() + args.idle, kind="idle")
        report("idle: one reader alone", idle, args.idle)

        tally = Tally()
        until = time.time() + args.duration
        rss_start, cpu_start = rss_mb(server.pid), cpu_seconds(server.pid)
        # each client in a process of its own: client threads would share one interpreter lock and measure
        # their wait for it as the server's latency
        jobs = [kinds[k] for k in args.clients]
        rss_at: list[float] = []  # at each tenth of the run: memory that levels off is bounded caches filling
        with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(run_client, fn, args_, until, RATE) for fn, args_ in jobs]
            late: list[float] = []  # how late a 5 ms sleep wakes here, on the clients' CPUs
            while not all(f.done() for f in futures):
                started = time.perf_counter()
                time.sleep(0.005)
                late.append(time.perf_counter() - started - 0.005)
                if len(rss_at) < 10 and time.time() >= until - args.duration * (9 - len(rss_at)) / 10:
                    rss_at.append(rss_mb(server.pid))
            for f in futures:
                tally.merge(f.result())
        rss_end, cpu_used = rss_mb(server.pid), cpu_seconds(server.pid) - cpu_start
        served = server_side(url)
        paced = f"each paced at {args.rate:g}/s" if args.rate else "unpaced"
        report(
            f"mixed load: clients {','.join(args.clients)} (a writer: create, poll, delete, poll); {paced}",
            tally,
            args.duration,
        )
        idle_p50 = pct(idle.latencies["idle"], 50)
        load_p99 = pct([x for v in tally.latencies.values() for x in v], 99)
        report("the server's own time for the last requests of the load (its journal; DNS is not in it)", served, 0)
        print(f"a 5 ms sleep on the clients' CPUs woke late by: p50 {pct(late, 50):.2f} ms, p99 {pct(late, 99):.2f} ms")
        # how busy the server was: at a given load, the queue a request waits in grows with this share
        print(f"the server's CPU time during the load: {cpu_used / args.duration * 100:.0f} % of one CPU")
        print(f"RSS MB: start {rss_start:.1f}, each tenth {' '.join(f'{r:.0f}' for r in rss_at)}, end {rss_end:.1f}")
        print(f"p99 under load / idle p50: {load_p99 / idle_p50:.1f}x")
        return 1 if sum(tally.errors.values()) else 0
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    raise SystemExit(main())
