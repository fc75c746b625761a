"""The emulated clock, and time in the formats the IONOS APIs use.

Every API reads the time through one `Clock` (timestamps, token expiry, lifecycle timing, billing accrual,
activity times): real time moved by an offset and run at a speed factor, both kept in the store so every
worker and process sharing it agrees (set through /_emulator/clock). Emulated time is

    base_emulated + (real - base_real) * speed

with the bases taken when the clock was last set; with nothing set it is real time."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store

KEY = "emulator:clock"
MAX_SPEED = 1_000_000.0  # a year of emulated time in half a minute
MAX_OFFSET = 100 * 365 * 86400.0


def real_now() -> float:
    return time.time()


class Clock:
    """One store's emulated clock. `now()` uses the state read last; `refresh()` reads it again (the pipeline
    does at the start of every request, the ticker at every tick), `set()` stores a new one."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self._state: dict[str, float] | None = None
        self.refresh()

    def refresh(self) -> None:
        data = self.store.kv_get(KEY) if self.store is not None else None
        self._state = data if isinstance(data, dict) else None

    def now(self) -> float:
        s = self._state
        real = time.time()
        if s is None:
            return real
        return float(s["base_emulated"]) + (real - float(s["base_real"])) * float(s["speed"])

    @property
    def speed(self) -> float:
        return float(self._state["speed"]) if self._state else 1.0

    def describe(self) -> dict[str, Any]:
        now, real = self.now(), time.time()
        return {
            "now": iso_precise(now),
            "epochSeconds": now,
            "realNow": iso_precise(real),
            "offsetSeconds": now - real,
            "speed": self.speed,
        }

    def set(self, *, offset: float | None = None, advance: float = 0.0, speed: float | None = None) -> None:
        """From this moment on: emulated time `offset` seconds from real time (or as it is), moved forward by
        `advance` seconds, running at `speed` (or as it does)."""
        real = time.time()
        base = real + offset if offset is not None else self.now()
        state = {"base_real": real, "base_emulated": base + advance, "speed": self.speed if speed is None else speed}
        self._save(None if state["base_emulated"] == real and state["speed"] == 1.0 else state)

    def reset(self) -> None:
        """Back to real time at real speed."""
        self._save(None)

    def _save(self, state: dict[str, float] | None) -> None:
        if self.store is not None:
            with self.store.tx():
                if state is None:
                    self.store.kv_delete(KEY)
                else:
                    self.store.kv_set(KEY, state)
        self._state = state


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
