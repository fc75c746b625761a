"""Log lines of a cluster's instances, made up on demand (there is no real mongod): a start-up sequence
while the cluster is being created (it ends as the cluster becomes ready), then one line a minute. They are
a pure function of the cluster and the time window, so any window can be asked for in either direction
without storing anything."""

from __future__ import annotations

import itertools
import json
import math
from datetime import datetime, timezone

from ...engine import clock
from .catalogue import PATCH_RELEASE

EVERY = 60.0  # seconds between the periodic lines
FIRST_PERIODIC = 30.0  # seconds after start-up
STARTUP_MIN = 0.005  # seconds the start-up lines span at least


def instance_name(cluster_id: str, i: int) -> str:
    return f"mongodb-{cluster_id[:8]}-{i}"


def _line(ts: float, severity: str, component: str, code: int, context: str, msg: str, attr: dict) -> dict:
    # mongod writes structured JSON lines; the API hands them out as the message text
    stamp = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"
    text = json.dumps(
        {"t": {"$date": stamp}, "s": severity, "c": component, "id": code, "ctx": context, "msg": msg, "attr": attr},
        separators=(",", ":"),
    )
    return {"time": clock.iso_precise(ts), "message": text}


def _startup(host: str, version: str, primary: bool) -> list[tuple[float, tuple]]:
    """(share of the start-up elapsed, line arguments) of one instance's start-up."""
    state = "PRIMARY" if primary else "SECONDARY"
    return [
        (
            0.0,
            (
                "I",
                "CONTROL",
                4615611,
                "initandlisten",
                "MongoDB starting",
                {"pid": 1, "port": 27017, "dbPath": "/data/db", "architecture": "64-bit", "host": host},
            ),
        ),
        (0.05, ("I", "CONTROL", 23403, "initandlisten", "Build Info", {"buildInfo": {"version": version}})),
        (0.1, ("I", "STORAGE", 22315, "initandlisten", "Opening WiredTiger", {"config": "cache_size=256M"})),
        (0.6, ("I", "NETWORK", 23016, "listener", "Waiting for connections", {"port": 27017, "ssl": "on"})),
        (
            1.0,
            (
                "I",
                "REPL",
                21358,
                "ReplCoord-0",
                "Replica set state transition",
                {"newState": state, "oldState": "STARTUP2"},
            ),
        ),
    ]


def _periodic(k: int, host: str) -> tuple:
    kind = k % 3
    if kind == 0:
        return (
            "I",
            "STORAGE",
            22430,
            "Checkpointer",
            "WiredTiger message",
            {"message": f"saving checkpoint snapshot min: {1000 + k}, snapshot max: {1000 + k}"},
        )
    if kind == 1:
        return (
            "I",
            "NETWORK",
            22943,
            "listener",
            "Connection accepted",
            {"remote": f"127.0.0.1:{40000 + k % 20000}", "connectionId": k, "connectionCount": 2},
        )
    return (
        "I",
        "NETWORK",
        22944,
        f"conn{k - 1}",
        "Connection ended",
        {"remote": f"127.0.0.1:{40000 + (k - 1) % 20000}", "connectionId": k - 1, "connectionCount": 1},
    )


def instance_lines(
    cluster_id: str,
    i: int,
    version: str,
    created_at: float,
    ready_at: float,
    start: float,
    end: float,
    forward: bool,
    limit: int,
) -> list[dict]:
    """The lines of instance i with start <= time <= end, oldest first when forward, at most `limit`."""
    host = instance_name(cluster_id, i)
    release = PATCH_RELEASE.get(version, version)
    span = max(ready_at - created_at, STARTUP_MIN)  # instant timing still gets a visible sequence
    boot = [(ready_at - span * (1 - share), args) for share, args in _startup(host, release, primary=i == 0)]
    boot = [(ts, args) for ts, args in boot if start <= ts <= end]
    first = ready_at + FIRST_PERIODIC
    k_lo = max(0, math.ceil((start - first) / EVERY))
    k_hi = math.floor((end - first) / EVERY)
    ks = range(k_lo, k_hi + 1) if forward else range(k_hi, k_lo - 1, -1)
    periodic = ((first + k * EVERY, _periodic(k, host)) for k in ks)
    ordered = itertools.chain(boot, periodic) if forward else itertools.chain(periodic, reversed(boot))
    return [_line(ts, *args) for ts, args in itertools.islice(ordered, limit)]
