"""Log lines of a v1 cluster's instances, made up on demand in PostgreSQL's own format: the start-up when the
cluster became ready (the primary also says where the emulator put its database), then a checkpoint every
five minutes. A pure function of the cluster and the time window, so nothing is stored."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timezone

from ...engine import clock

STEP = 150.0  # seconds between periodic lines: a checkpoint starts, and completes a step later
FIRST_PERIODIC = 60.0  # seconds after start-up


def instance_name(cluster_id: str, i: int) -> str:
    return f"postgres-{cluster_id[:8]}-{i}"


def _line(ts: float, pid: int, level: str, text: str) -> dict:
    stamp = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return {"time": clock.iso_precise(ts), "message": f"{stamp} UTC [{pid}] {level}:  {text}"}


def _startup(version: str, primary: bool, note: str | None) -> list[tuple[int, str, str]]:
    """(pid, level, text) of one instance's start-up, a millisecond apart from the moment it is ready."""
    lines = [
        (1, "LOG", f"starting PostgreSQL {version} on x86_64-pc-linux-gnu"),
        (1, "LOG", 'listening on IPv4 address "0.0.0.0", port 5432'),
    ]
    if primary:
        lines += [
            (28, "LOG", "database system was shut down; redo is not required"),
            (1, "LOG", "database system is ready to accept connections"),
        ]
        if note:
            lines.append((1, "LOG", f"ionos-emulator: {note}"))
    else:
        lines += [
            (28, "LOG", "entering standby mode"),
            (31, "LOG", "started streaming WAL from primary at 0/3000000 on timeline 1"),
        ]
    return lines


def _periodic(k: int, primary: bool) -> tuple[int, str, str]:
    if k % 2 == 0:
        return 26, "LOG", "checkpoint starting: time" if primary else "restartpoint starting: time"
    return (
        26,
        "LOG",
        (
            f"checkpoint complete: wrote {3 + k % 17} buffers; distance={8 + k % 64} kB"
            if primary
            else f"restartpoint complete: wrote {2 + k % 11} buffers"
        ),
    )


def instance_lines(
    cluster_id: str,
    i: int,
    version: str,
    ready_at: float,
    note: str | None,
    start: float,
    end: float,
    forward: bool,
    limit: int,
) -> list[dict]:
    """Instance i's lines with start <= time <= end, oldest first when forward, at most `limit`."""
    boot = [(ready_at + k * 0.001, *line) for k, line in enumerate(_startup(version, i == 0, note))]
    boot = [line for line in boot if start <= line[0] <= end]
    first = ready_at + FIRST_PERIODIC
    k_lo = max(0, math.ceil((start - first) / STEP))
    k_hi = math.floor((end - first) / STEP)
    ks = range(k_lo, k_hi + 1) if forward else range(k_hi, k_lo - 1, -1)
    periodic = ((first + k * STEP, *_periodic(k, i == 0)) for k in ks)
    ordered = itertools.chain(boot, periodic) if forward else itertools.chain(periodic, reversed(boot))
    return [_line(ts, pid, level, text) for ts, pid, level, text in itertools.islice(ordered, limit)]
