"""The asynchronous lifecycle, kept as data: a change writes its resource (BUSY), a request record and
the effects that complete it, all in one transaction. `settle()` applies whatever has come due; it is
called before every API request (so `instant` timing is done by the first poll) and by a background
tick, and it is exactly-once because only the caller that flips a request from PENDING applies it.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..store import Row, Store
from . import clock
from .clock import Clock

log = logging.getLogger("ionos_emulator")

# Seconds a change spends RUNNING under the `realistic` profile, by resource kind (QUEUED lasts
# QUEUED_SECONDS first). Chosen to resemble the real cloud without making a demo tedious.
REALISTIC_RUNNING = {
    "datacenter": 3.0,
    "server": 8.0,
    "volume": 5.0,
    "nic": 3.0,
    "lan": 2.0,
    "firewallrule": 2.0,
    "ipblock": 2.0,
    "snapshot": 6.0,
    "cdrom": 3.0,
    "image": 3.0,
    "k8s": 20.0,
    "nodepool": 30.0,
    "k8snode": 15.0,
}
REALISTIC_DEFAULT = 3.0
QUEUED_SECONDS = 0.5


# An effect: (store, the effect's data, the time it completes) -> None, or a follow-up: work that must not hold
# the write lock (a data plane's calls to its server), run once the batch has committed, by the same thread.
FollowUp = Callable[[], None]
Effect = Callable[[Store, dict[str, Any], float], "FollowUp | None"]

# What must be kept of a row (and what lies below it) before a completed delete removes it: (store, the row,
# the time it goes) -> None. Registered once by what needs it (billing keeps the lifetimes of metered resources).
RETIRING: list[Callable[[Store, Row, float], None]] = []


@dataclass
class Timing:
    """`instant`: done by the first poll. `realistic`: seconds, per kind. `overrides`: kind -> seconds."""

    profile: str = "instant"
    overrides: dict[str, float] = field(default_factory=dict)

    def durations(self, kind: str) -> tuple[float, float]:
        if kind in self.overrides:
            total = float(self.overrides[kind])
            return (min(QUEUED_SECONDS, total / 4), total - min(QUEUED_SECONDS, total / 4))
        if self.profile == "realistic":
            return QUEUED_SECONDS, REALISTIC_RUNNING.get(kind, REALISTIC_DEFAULT)
        return 0.0, 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "overrides": dict(self.overrides),
            "realisticSeconds": {**REALISTIC_RUNNING, "default": REALISTIC_DEFAULT},
        }


@dataclass
class FailureRule:
    """Make the next `count` matching changes end FAILED with `message` (set through /_emulator/failures)."""

    method: str
    path: str  # a regular expression searched in the request path
    message: str = "[VDC-5-0] An unexpected error occurred"
    count: int = 1
    mode: str = "regex"  # or "substring": `path` is plain text found in the request path

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        return self.path in path if self.mode == "substring" else re.search(self.path, path) is not None


class Lifecycle:
    def __init__(self, store: Store, timing: Timing | None = None, clock: Clock | None = None):
        self.store = store
        self.clock = clock or Clock(store)  # the emulated clock every change is timed by
        # effect name -> function(store, effect dict, now); APIs may register their own
        self.effects: dict[str, Effect] = {
            "state": _effect_state,
            "delete": _effect_delete,
            "props": _effect_props,
            "link": _effect_link,
            "bump": _effect_bump,
        }
        # (store version, earliest done_at pending) as the last settle_if_due left them
        self._settled: tuple[int | None, float] = (None, math.inf)
        self._clock_version: int | None = None  # the store's version when the clock was last read
        if timing is not None:  # the start-up profile; afterwards /_emulator/timing changes it for everyone
            self.timing = timing

    # Timing and forced failures live in the store, so that every worker and process sharing it agrees.
    @property
    def timing(self) -> Timing:
        data = self.store.kv_get("lifecycle:timing") or {}
        return Timing(data.get("profile", "instant"), data.get("overrides", {}))

    @timing.setter
    def timing(self, value: Timing) -> None:
        with self.store.tx():
            self.store.kv_set("lifecycle:timing", {"profile": value.profile, "overrides": value.overrides})

    @property
    def failures(self) -> list[FailureRule]:
        return [FailureRule(**f) for f in self.store.kv_get("lifecycle:failures") or []]

    def add_failure(self, rule: FailureRule) -> None:
        with self.store.tx():
            self._save_failures(self.failures + [rule])

    def clear_failures(self) -> None:
        with self.store.tx():
            self._save_failures([])

    def _save_failures(self, rules: list[FailureRule]) -> None:
        self.store.kv_set("lifecycle:failures", [vars(r) for r in rules if r.count > 0])

    # -- creating --------------------------------------------------------------------------------
    def begin(self, tenant: int, scope: str, kind: str, asked: dict[str, Any]) -> dict[str, Any]:
        """A new request record (not yet stored); the handler adds targets and effects, `commit` stores it.
        `asked` is what the client asked, as the record keeps it (method, url, body, headers, user), and the
        path below the API (which failure rules match; not kept)."""
        now = self.clock.now()
        queued, running = self.timing.durations(kind)
        start = now
        if queued or running:
            # Changes in one data center run one after another, as the real cloud queues them.
            last = self.store.last_pending_done_at(tenant, scope) if scope else None
            start = max(now, last or now)
        req = {
            "id": str(uuid.uuid4()),
            "tenant": tenant,
            "scope": scope,
            "created": now,
            "run_at": start + queued,
            "done_at": start + queued + running,
            "state": "PENDING",
            "message": None,
            **{k: v for k, v in asked.items() if k != "path"},
            "targets": [],
            "effects": [],
            "on_fail": [],
        }
        rules = self.failures
        rule = next((r for r in rules if r.count > 0 and r.matches(asked["method"], asked["path"])), None)
        if rule is not None:
            req["fail"] = rule.message
            req["fail_rule"] = rules.index(rule)
        return req

    def commit(self, req: dict[str, Any]) -> None:
        self.store.insert_request(req)
        if "fail" in req:  # used up only now: a change refused before this point did not take its turn
            rules = self.failures
            i = req.pop("fail_rule", None)
            if i is not None and i < len(rules):
                rules[i].count -= 1
                self._save_failures(rules)

    # -- completing ------------------------------------------------------------------------------
    def refresh(self) -> int:
        """The store's version (`Store.version`); the emulated clock is read again when the store moved since
        the last call (another process may have set it), else kept: it lives in the store."""
        version = self.store.version()
        if version != self._clock_version:
            self.clock.refresh()
            self._clock_version = version
        return version

    def settle_if_due(self, version: int) -> int:
        """`settle`, skipped by one integer compare when nothing can have come due: the store is as the
        last settle left it (`version`, from `refresh`) and the clock is before its earliest pending request.
        Returns the store's version afterwards, for the caches of the request that asked."""
        now = self.clock.now()
        settled_version, next_due = self._settled  # one tuple: threads see a version with its own next_due
        if version == settled_version and now < next_due:
            return version
        self.settle(now)
        version = self.refresh()  # first, then what it guards: a request queued after it moves it again
        due = self.store.next_due()
        self._settled = (version, math.inf if due is None else due)
        return version

    @property
    def quiet(self) -> bool:
        """No request was pending at the last settle (nothing will change by the clock alone)."""
        return self._settled[1] == math.inf

    def quiet_at(self, version: int) -> bool:
        """`quiet`, and the last settle saw the store at `version` (another thread's may have seen a newer one)."""
        return self._settled == (version, math.inf)

    def settle(self, now: float | None = None, grace: float = 0.0) -> int:
        """Apply every request that has come due (`grace` seconds ago at least). Returns how many were
        applied here."""
        if now is None:
            self.clock.refresh()  # the ticker's and every request's view of the clock another process set
            now = self.clock.now()
        done = 0
        while True:
            due = self.store.due_requests(now - grace)
            if not due:
                return done
            follow_ups: list[FollowUp] = []
            with self.store.tx():  # one transaction for the batch: a commit per request costs more than the work
                for req in due:
                    failed = "fail" in req
                    message = req.get("fail") if failed else None
                    effects = req["on_fail" if failed else "effects"]
                    unknown = sorted({e["op"] for e in effects} - set(self.effects))
                    if unknown:  # never block the queue: the request fails and says why
                        failed, effects = True, []
                        message = f"[VDC-5-0] this emulator cannot complete the change ({', '.join(unknown)})"
                    if not self.store.finish_request(req["id"], "FAILED" if failed else "DONE", message):
                        continue  # another process or caller applied it
                    for eff in effects:
                        follow_up = self.effects[eff["op"]](self.store, eff, req["done_at"])
                        if follow_up is not None:
                            follow_ups.append(follow_up)
                    done += 1
            for follow_up in follow_ups:  # committed: other writers go on while these talk to their servers
                try:
                    follow_up()
                except Exception:  # a follow-up reports its failure on its resource; it must not stop settling
                    log.exception("completing a change's follow-up failed")
            if len(due) < 200:
                return done

    @staticmethod
    def status(req: dict[str, Any], now: float) -> str:
        if req["state"] != "PENDING":
            return str(req["state"])
        return "QUEUED" if now < req["run_at"] else "RUNNING"


# -- effects: small, data-described changes applied when a request completes ---------------------


def _load(store: Store, eff: dict[str, Any]) -> Row | None:
    return store.get(eff["tenant"], eff["kind"], eff["parent"], eff["id"])


def touch(row: Row, ts: float) -> None:
    row.meta["lastModifiedDate"] = clock.iso(ts)
    row.meta["etag"] = uuid.uuid4().hex


def _effect_state(store: Store, eff: dict[str, Any], ts: float) -> None:
    row = _load(store, eff)
    if row is not None:
        row.meta["state"] = eff["state"]
        touch(row, ts)
        store.update(row)


def _effect_props(store: Store, eff: dict[str, Any], ts: float) -> None:
    row = _load(store, eff)
    if row is not None:
        row.props.update(eff["set"])
        touch(row, ts)
        store.update(row)


def _effect_link(store: Store, eff: dict[str, Any], ts: float) -> None:
    row = _load(store, eff)
    if row is not None:
        row.link = eff["link"]
        store.update(row)


def _effect_delete(store: Store, eff: dict[str, Any], ts: float) -> None:
    row = _load(store, eff)
    if row is not None:
        for keep in RETIRING:
            keep(store, row, ts)
        store.delete_tree(row)


def _effect_bump(store: Store, eff: dict[str, Any], ts: float) -> None:
    """A data center's version rises with each completed change inside it."""
    row = _load(store, eff)
    if row is not None:
        row.props["version"] = int(row.props.get("version") or 0) + 1
        touch(row, ts)
        store.update(row)
