"""Failed logins, counted per source address and user: past the limit, a login answers 429 without its password
being checked, so guessing passwords (or flooding the password hash) gets nowhere and costs the server nothing.

A credential that already worked is remembered by Identity and never reaches this check: a client that logged
in keeps working while someone else guesses its password. Counts live in the process (each worker its own).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from ..engine.errors import too_many

WINDOW = 60.0  # seconds a failure counts for
MAX_KEYS = 10_000  # distinct sources and users remembered; past that the oldest are forgotten


class LoginThrottle:
    def __init__(self, per_user: int, per_source: int):
        """per_user: failures per minute for one user from one address; per_source: for all users from one
        address (password spraying). 0 turns a limit off."""
        self.per_user, self.per_source = per_user, per_source
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, source: str, user: str) -> None:
        """429 when the source (for this user, or for all users) is over its limit."""
        now = time.monotonic()
        with self._lock:
            for key, limit in (((source, user.lower()), self.per_user), ((source, ""), self.per_source)):
                if limit and len(self._recent(key, now)) >= limit:
                    retry = int(self._failures[key][0] + WINDOW - now) + 1
                    raise too_many(
                        f"Too many failed logins from {source or 'this client'}; try again in {retry} seconds", retry
                    )

    def failed(self, source: str, user: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > MAX_KEYS:
                self._failures.clear()
            for key in ((source, user.lower()), (source, "")):
                self._recent(key, now).append(now)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - WINDOW:
            times.popleft()
        return times
