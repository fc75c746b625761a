"""Time in the formats the IONOS APIs use."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    return time.time()


def iso(ts: float) -> str:
    """Cloud API style: second precision with a literal Z (sdk-go fails on +00:00)."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_filter_date(value: str) -> float | None:
    """The /requests date filters use 'yyyy-MM-dd HH:mm:ss' (ISO with T or Z also accepted)."""
    v = value.strip().replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(v, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def iso_precise(ts: float) -> str:
    """Product API style: sub-second precision with a literal Z, e.g. 2023-03-15T09:58:59.147746Z."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
