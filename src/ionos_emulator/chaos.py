"""Chaos rules (/_emulator/chaos): ordered rules that change the answer to matching requests, so a client's
retry and error paths run for real. The first rule that matches a request (and wins its probability draw)
applies one effect:

- `status`: the answer is that status in the API's own error envelope (429 with `Retry-After`, 503, 500, ...)
  and the request is not served;
- `latency`: the request is served `latencyMs` later;
- `failed`: the request is served, and the change it makes ends FAILED (the lifecycle's forced failure).

A rule matches by `api` (the mount's API name, `cloud`, `dns`, ...), `operation` (an operationId) or `method`
and `path` (a safely compiled regular expression searched in the path), and `contract`. The rules live in
the store, so every worker applies the same ones (each re-reads them at most once a second).
Enforced rate limits (`enforceRateLimits`) make the X-RateLimit-* headers true: a caller past the limit
gets 429 with Retry-After."""

from __future__ import annotations

import random
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from .engine.errors import ApiError

KV_KEY = "chaos:rules"
REFRESH_SECONDS = 1.0
STATUSES = (400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)
MAX_RULES = 100
MAX_LATENCY_MS = 60_000


@dataclass
class Rule:
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    api: str = "*"
    operation: str = "*"
    method: str = "*"
    path: str = ""  # a regular expression searched in the request path ("" matches any)
    contract: int = 0  # 0: any contract
    probability: float = 1.0
    status: int = 0
    retry_after: int = 1
    message: str = "Injected by an emulator chaos rule"
    latency_ms: int = 0
    failed: bool = False
    times: int = 0  # applied at most this often (0: without end)
    applied: int = 0

    @property
    def effect(self) -> str:
        return "status" if self.status else "latency" if self.latency_ms else "failed"

    def matches(self, api: str, operation: str, method: str, path: str, contract: int) -> bool:
        return (
            self.api in ("*", api)
            and self.operation in ("*", operation)
            and self.method in ("*", method)
            and (not self.path or re.search(self.path, path) is not None)
            and self.contract in (0, contract)
            and (self.times == 0 or self.applied < self.times)
        )

    def error(self) -> ApiError:
        headers = {"Retry-After": str(self.retry_after)} if self.status in (429, 503) else {}
        return ApiError(self.status, self.message, headers=headers)


def parse(data: dict[str, Any], safe_pattern: Any) -> Rule:
    """A rule from its JSON form (camelCase as the admin API takes it), every field checked (422 otherwise)."""

    def pick(name: str, kind: type, default: Any) -> Any:
        value = data.get(name, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            raise ApiError(422, f"'{name}' must be a {kind.__name__}")
        return value

    rule = Rule(
        api=pick("api", str, "*")[:64],
        operation=pick("operation", str, "*")[:128],
        method=pick("method", str, "*").upper(),
        path=pick("path", str, "")[:256],
        contract=pick("contract", int, 0),
        probability=pick("probability", float, 1.0),
        status=pick("status", int, 0),
        retry_after=pick("retryAfter", int, 1),
        message=pick("message", str, Rule.message)[:1024] or Rule.message,
        latency_ms=pick("latencyMs", int, 0),
        failed=pick("failed", bool, False),
        times=pick("times", int, 0),
    )
    if not 0 <= rule.probability <= 1:
        raise ApiError(422, "'probability' must be between 0 and 1")
    if rule.status and rule.status not in STATUSES:
        raise ApiError(422, f"'status' must be one of {', '.join(map(str, STATUSES))}")
    if not 0 <= rule.latency_ms <= MAX_LATENCY_MS:
        raise ApiError(422, f"'latencyMs' must be between 0 and {MAX_LATENCY_MS}")
    if not 0 <= rule.retry_after <= 3600 or not 0 <= rule.times <= 1_000_000 or rule.contract < 0:
        raise ApiError(422, "'retryAfter' (0..3600), 'times' and 'contract' must be small positive integers")
    if sum(bool(x) for x in (rule.status, rule.latency_ms, rule.failed)) != 1:
        raise ApiError(422, "a rule has exactly one effect: 'status', 'latencyMs' or 'failed'")
    if rule.path:
        safe_pattern(rule.path)
    return rule


def public(rule: Rule, hits: int = 0) -> dict[str, Any]:
    """A rule as the admin API shows it; `applied` counts this process's applications where the rule does
    not end (only a rule with `times` keeps its count in the store)."""
    d = asdict(rule)
    return {
        "id": d["id"],
        "api": d["api"],
        "operation": d["operation"],
        "method": d["method"],
        "path": d["path"],
        "contract": d["contract"],
        "probability": d["probability"],
        "effect": rule.effect,
        "status": d["status"],
        "retryAfter": d["retry_after"],
        "message": d["message"],
        "latencyMs": d["latency_ms"],
        "failed": d["failed"],
        "times": d["times"],
        "applied": max(d["applied"], hits),
    }


class Chaos:
    """The rules of the store, cached for REFRESH_SECONDS; `pick` finds the rule for a request."""

    def __init__(self, store: Any):
        self.store = store
        self._cached: tuple[float, dict[str, Any]] = (0.0, {})
        self._random = random.Random()
        self.hits: dict[str, int] = {}  # rule id -> times this process applied it

    def state(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._cached[0] > REFRESH_SECONDS:
            self._cached = (now, self.store.kv_get(KV_KEY) or {})
        return self._cached[1]

    def forget(self) -> None:
        """Read the store again on next use (after a reset)."""
        self._cached = (0.0, {})

    def rules(self) -> list[Rule]:
        return [Rule(**r) for r in self.state().get("rules", [])]

    def calm(self) -> bool:
        """No rule and no enforced rate limit, as last read, and that reading still fresh (never reads the
        store: the event loop asks)."""
        read_at, state = self._cached
        return (
            time.monotonic() - read_at <= REFRESH_SECONDS
            and not state.get("rules")
            and not state.get("enforceRateLimits")
        )

    @property
    def enforce_rate_limits(self) -> bool:
        return bool(self.state().get("enforceRateLimits"))

    def save(self, rules: list[Rule], enforce_rate_limits: bool | None = None, seed: int | None = None) -> None:
        state = dict(self.state())
        state["rules"] = [asdict(r) for r in rules][:MAX_RULES]
        if enforce_rate_limits is not None:
            state["enforceRateLimits"] = enforce_rate_limits
        with self.store.tx():
            self.store.kv_set(KV_KEY, state)
        self._cached = (time.monotonic(), state)
        if seed is not None:  # a test that wants the same draws every run
            self._random.seed(seed)

    def pick(self, mounts: Any, method: str, host: str, raw_path: str, authorization: str | None) -> Rule | None:
        """The rule for this request, if one matches and wins its draw (the common case, no rules, is one dict
        lookup)."""
        state = self.state()
        if not state.get("rules"):
            return None
        rules = self.rules()
        path, _ = mounts.from_real_host(host, raw_path)
        found = mounts.find(path)
        api, operation = "", ""
        if found is not None:
            mount, rel = found
            api = mount.api.name
            op = mount.router.match(method, rel)[0]
            operation = op.id if op is not None else ""
        contract = contract_of(self.store, authorization) if any(r.contract for r in rules) else 0
        for rule in rules:
            if rule.matches(api, operation, method, path, contract) and self._random.random() < rule.probability:
                rule.applied += 1
                self.hits[rule.id] = self.hits.get(rule.id, 0) + 1
                if rule.times:  # the count matters only for rules that end
                    self.save(rules)
                return rule
        return None


def contract_of(store: Any, authorization: str | None) -> int:
    """The contract the credentials belong to, for matching only (the pipeline authenticates them)."""
    import base64
    import binascii

    import jwt  # only when a rule names a contract

    scheme, _, cred = (authorization or "").partition(" ")
    try:
        if scheme.lower() == "basic":
            email = base64.b64decode(cred, validate=True).decode().partition(":")[0]
            login = store.kv_get(f"login:{email.lower()}")
            return int(login["tenant"]) if login else 0
        if scheme.lower() == "bearer":
            claims = jwt.decode(cred, options={"verify_signature": False})
            return int((claims.get("identity") or {}).get("contractNumber") or 0)
    except (binascii.Error, UnicodeDecodeError, ValueError, jwt.PyJWTError):
        return 0
    return 0
