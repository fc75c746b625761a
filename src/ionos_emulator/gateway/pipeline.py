"""The request pipeline: every API request passes these stages, in this order (see `Pipeline.handle`).

    rewrite real host  ->  find mount  ->  route  ->  settle due work  ->  authenticate  ->  cached answer?
    ->  validate  ->  dispatch (inside the change's transaction, with the strict response check)
    ->  remember the answer  ->  headers

Settling comes before authentication so that a change that has come due (a user created a moment ago,
a token revoked) is seen by the very request that follows it. Settling also reads the store's version,
which tells the identity and response caches whether anything stored may have changed (gateway/cache.py).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import Headers, QueryParams

from ..engine.change import refused
from ..engine.errors import CLOUD, ApiError, ErrorStyle, bad_request, forbidden, not_found, not_implemented
from ..spec import MAX_BODY_DEPTH, too_deep
from .cache import ResponseCache
from .context import Ctx, Reply, Services
from .mounts import Mount, Mounts

log = logging.getLogger("ionos_emulator")

RATE_LIMIT = 600  # per minute, as X-RateLimit-Limit; enforced only when chaos says so (/_emulator/chaos)
RATE_BURST = 50


@dataclass
class Request:
    method: str
    path: str  # the raw (still percent-encoded) path
    query: QueryParams
    headers: Headers
    body: bytes
    base_url: str  # scheme://host[:port] as the client addressed us
    client: str = ""  # the peer's address (failed logins are limited per address)


@dataclass(frozen=True, slots=True)
class Reuse:
    """A cached answer's operation and caller, so that the front (gateway/front.py) can serve it again."""

    mount: Mount
    op_id: str
    handler: Callable[..., Any] | None  # the handler that made it: a test may replace it
    caller: str  # whose calls the rate limit counts
    expires: float  # when the caller's credentials lapse by the clock alone (a token's expiry; inf for Basic)
    headers: tuple[tuple[str, str], ...]  # the answer's own headers, without the per-request ones


class SpecViolation(Exception):
    """A response that breaks the compiled spec (strict mode): raised inside the transaction, so the change
    it describes is rolled back instead of committed."""

    def __init__(self, record: dict[str, Any]):
        super().__init__(str(record["errors"]))
        self.record = record


@dataclass
class Observations:
    """What the tests read back through /_emulator: spec violations and which operations each test reached."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    coverage: dict[str, set[str]] = field(default_factory=dict)  # "api:operationId" -> test labels
    label: str = ""


class Pipeline:
    def __init__(
        self,
        services: Services,
        mounts: Mounts,
        observations: Observations,
        enforce_rate_limits: Callable[[], bool] = lambda: False,
    ):
        self.services = services
        self.mounts = mounts
        self.seen = observations
        self.enforce_rate_limits = enforce_rate_limits
        self._calls: dict[str, tuple[int, int]] = {}  # user -> (minute, calls) for X-RateLimit-Remaining
        self.responses = ResponseCache()

    def handle(self, req: Request) -> Reply:
        """One API request, stage by stage; an ApiError at any stage is the answer, in the API's style."""
        path, real = self.mounts.from_real_host(req.headers.get("host", ""), req.path)
        found = self.mounts.find(path)
        if found is None:
            raise ApiError(404, f"No API is served at {path}")
        mount, rel = found
        epoch = self.responses.epoch  # before anything is read: a clear() after it keeps this answer out
        # the store's version, and the emulated clock as /_emulator/clock set it in any process
        version = self.refresh()
        ctx: Ctx | None = None
        try:
            ctx = self.route(mount, req, rel)
            if real is not None and real[1] == mount.api.prefix:
                ctx.client_prefix = real[0]  # hrefs on the real host: https://dns.de-fra.ionos.com/zones/...
            version = self.settle(version)
            self.authenticate(ctx, version)
            calls = self.throttle(ctx)
            key = self.cache_key(mount, ctx, req, version)
            reply = self.cached(mount, ctx, key, version)
            if reply is None:
                self.validate(mount, ctx)
                reply = self.dispatch(mount, ctx)
                self.remember(mount, ctx, key, version, reply, epoch)
            reply.headers.update(self.rate_headers(calls))
            return reply
        except ApiError as e:
            if ctx is not None:
                self.refused(ctx, e)
            return Reply(e.status, e.body(mount.api.errors), e.headers)

    def refused(self, ctx: Ctx, error: ApiError) -> None:
        try:
            refused(ctx, error)  # an Error event in the Activity Log
        except Exception:  # recording it must never change the answer
            log.exception("recording a refused change failed")

    def error_style(self, req: Request) -> ErrorStyle:
        return self.error_style_of(req.headers.get("host", ""), req.path)

    def error_style_of(self, host: str, raw_path: str) -> ErrorStyle:
        """How the API a path belongs to spells its errors (the Cloud API's where no API is served)."""
        path, _ = self.mounts.from_real_host(host, raw_path)
        found = self.mounts.find(path)
        return found[0].api.errors if found else CLOUD

    # -- the stages ---------------------------------------------------------------------------------

    def route(self, mount: Mount, req: Request, rel: str) -> Ctx:
        op, params, allowed = mount.router.match(req.method, rel)
        if op is None:
            if allowed:
                raise ApiError(
                    405, f"Method {req.method} is not allowed on this resource", headers={"Allow": ", ".join(allowed)}
                )
            raise not_found()
        s = self.services
        return Ctx(
            store=s.store,
            identity=s.identity,
            lifecycle=s.lifecycle,
            settings=s.settings,
            api=mount.api,
            op=op,
            method=req.method,
            path=rel,
            params=params,
            query=req.query,
            headers=req.headers,
            body=None,
            raw_body=req.body,
            base_url=req.base_url,
            now=s.lifecycle.clock.now(),
            client=req.client,
        )

    def refresh(self) -> int | None:
        """The store's version (None: unknown, no caches, nothing settled)."""
        try:
            return self.services.lifecycle.refresh()
        except ApiError as e:  # the database is away: the request's own store calls answer it (503)
            log.warning("reading the store's version failed: %s", e.message)
            return None

    def settle(self, version: int | None) -> int | None:
        """Completes what has come due; the store's version afterwards (None: unknown, no caches)."""
        if version is None:
            return None
        try:
            return self.services.lifecycle.settle_if_due(version)
        except ApiError as e:  # the database is away: the request's own store calls answer it (503)
            log.warning("settling requests failed: %s", e.message)
            return None
        except Exception:  # completing other requests must never fail this one
            log.exception("settling requests failed")
            return None

    def authenticate(self, ctx: Ctx, version: int | None) -> None:
        if ctx.op.security == []:  # the operation is public
            return
        ctx.caller = self.services.identity.authenticate(ctx.headers.get("authorization"), ctx.client, version)
        if ctx.caller.token_id is None:  # Basic: X-Contract-Number picks the contract (a token names its own)
            ctx.caller = self.services.identity.on_contract(ctx.caller, ctx.headers.get("x-contract-number"))
        privilege = ctx.api.privilege
        if privilege and not ctx.principal.can(privilege):
            raise forbidden(f"Access Denied: this product needs the group privilege '{privilege}'")

    def validate(self, mount: Mount, ctx: Ctx) -> None:
        """Query parameters, then the body: JSON validated against the operation's schema, text (a DNS zone
        file) handed over as text."""
        canonical = mount.spec.canonical_query(ctx.op, ctx.query.multi_items())  # "available" -> "AVAILABLE"
        if canonical is not None:
            ctx.query = QueryParams(canonical)
        errors = mount.spec.query_errors(ctx.op, dict(ctx.query))
        if errors:
            raise ApiError(422, errors[0][1])
        op = ctx.op
        if op.body is None or ctx.method not in ("POST", "PUT", "PATCH"):
            return
        if _takes_json(op.body):
            ctx.body = _parse_json(ctx.raw_body)
        else:
            ctx.body = ctx.raw_body.decode("utf-8", "replace") if ctx.raw_body.strip() else None
        if ctx.body is None:
            if op.body.get("required"):
                raise bad_request("The request body is missing or empty")
            return
        if _takes_json(op.body):
            if too_deep(ctx.body):  # before the validator, which recurses once per level
                raise bad_request(f"The request body nests deeper than {MAX_BODY_DEPTH} levels")
            # lenient like the real services: "1" for 1, "true" for true, "static" for "STATIC"; handlers see
            # the canonical values
            ctx.body = mount.spec.coerce_body(op, ctx.body)
            errors = mount.spec.body_errors(op, ctx.body, keep_omitted=ctx.api.put_keeps_omitted)
            if errors:
                raise ApiError(422, "; ".join(msg for _, msg in errors[:5]), vdc="VDC-1-1")

    def cache_key(self, mount: Mount, ctx: Ctx, req: Request, version: int | None) -> tuple[Any, ...] | None:
        """The key of a GET whose answer may come from the response cache, or None: the whole request as a
        handler could see it (path, query, every header, the URL the client addressed), while the API's
        answers depend on the store alone and no lifecycle request is pending (the clock would move them)."""
        if ctx.method != "GET" or version is None or not mount.api.cached_reads:
            return None
        if not self.services.lifecycle.quiet_at(version):
            return None
        return (req.path, req.base_url, tuple(req.query.multi_items()), tuple(req.headers.raw))

    def cached(self, mount: Mount, ctx: Ctx, key: tuple[Any, ...] | None, version: int | None) -> Reply | None:
        if key is None or version is None:
            return None
        reply = self.responses.get(key, version, mount.api.handlers.get(ctx.op.id))
        if reply is not None:
            self.observe(mount, ctx.op.id)
            reply.reuse = self.reuse(mount, ctx, reply)
        return reply

    def remember(
        self,
        mount: Mount,
        ctx: Ctx,
        key: tuple[Any, ...] | None,
        version: int | None,
        reply: Reply,
        epoch: int | None = None,
    ) -> None:
        """A 200 JSON answer is encoded here (as the client asked: pretty or not) and kept for the same key."""
        if key is None or version is None or reply.status != 200 or reply.body is None:
            return
        if not reply.content_type.startswith("application/json") or isinstance(reply.body, (bytes, bytearray)):
            return
        try:
            reply.body = orjson.dumps(reply.body, option=orjson.OPT_INDENT_2 if wants_pretty(ctx.query) else 0)
        except TypeError:  # not JSON-able: left to the sender, which answers the bug as one
            return
        if self.responses.put(key, version, mount.api.handlers.get(ctx.op.id), reply, epoch):
            reply.reuse = self.reuse(mount, ctx, reply)

    def reuse(self, mount: Mount, ctx: Ctx, reply: Reply) -> Reuse:
        """What serving this cached answer again takes without the pipeline (gateway/front.py)."""
        authorization = ctx.headers.get("authorization")
        return Reuse(
            mount=mount,
            op_id=ctx.op.id,
            handler=mount.api.handlers.get(ctx.op.id),
            caller=self.caller_key(ctx),
            expires=self.services.identity.expires(authorization) if ctx.caller else math.inf,
            headers=tuple(reply.headers.items()),
        )

    def observe(self, mount: Mount, op_id: str) -> None:
        if self.seen.label:
            self.seen.coverage.setdefault(f"{mount.api.name}:{op_id}", set()).add(self.seen.label)

    def dispatch(self, mount: Mount, ctx: Ctx) -> Reply:
        """The handler; a change runs inside one transaction with its request record and the response check,
        so concurrent changes (other workers, other processes on the same database) cannot interleave."""
        handler: Callable[[Ctx], Reply] | None = mount.api.handlers.get(ctx.op.id)
        self.observe(mount, ctx.op.id)
        if handler is None:
            raise not_implemented(
                f"Operation {ctx.op.id} ({ctx.op.method} {ctx.op.path}) is not implemented by the emulator"
            )
        if ctx.method == "GET":
            reply = handler(ctx)
            self.check_response(mount, ctx, reply)
            return reply
        try:
            with self.services.store.tx():
                reply = handler(ctx)
                self.check_response(mount, ctx, reply)
        except SpecViolation as v:
            return Reply(
                500,
                ApiError(500, f"emulator response violates the spec: {v.record['errors']}", "500").body(
                    mount.api.errors
                ),
            )
        return reply

    def check_response(self, mount: Mount, ctx: Ctx, reply: Reply) -> None:
        if not (
            self.services.settings.strict
            and reply.content_type.startswith("application/json")
            and reply.body is not None
            and not isinstance(reply.body, (bytes, bytearray))
        ):
            return
        errors = mount.spec.response_errors(ctx.op, reply.status, reply.body)
        if not errors:
            return
        record = {
            "request": f"{ctx.method} {mount.api.prefix}{ctx.path}",
            "status": reply.status,
            "errors": [f"{p}: {m}" for p, m in errors[:10]],
        }
        self.seen.violations.append(record)
        log.error("response violates the spec: %s", record)
        if ctx.method == "GET":
            reply.status, reply.body = (
                500,
                ApiError(500, f"emulator response violates the spec: {record['errors']}", "500").body(mount.api.errors),
            )
            return
        raise SpecViolation(record)

    def throttle(self, ctx: Ctx) -> int:
        """Counts the caller's calls this minute; past the limit, with enforced rate limits (a chaos setting,
        /_emulator/chaos), the call answers 429 with Retry-After. Returns the count."""
        n = self.count_call(self.caller_key(ctx), ctx.now)
        if n > RATE_LIMIT and self.enforce_rate_limits():
            wait = str(max(1, int(60 - ctx.now % 60)))
            raise ApiError(429, "Rate limit exceeded", headers={**self.rate_headers(n), "Retry-After": wait})
        return n

    @staticmethod
    def caller_key(ctx: Ctx) -> str:
        return ctx.caller.user_id if ctx.caller else "-"

    def count_call(self, caller: str, now: float) -> int:
        """The caller's calls this minute, this one included."""
        minute = int(now // 60)
        m, n = self._calls.get(caller, (minute, 0))
        n = n + 1 if m == minute else 1
        self._calls[caller] = (minute, n)
        return n

    def rate_headers(self, calls: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Burst": str(RATE_BURST),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - calls)),
        }


def wants_pretty(query: QueryParams) -> bool:
    """JSON is indented unless the client asks ?pretty=false (the IONOS APIs' default is pretty)."""
    return query.get("pretty", "true").lower() != "false"


def _takes_json(body_spec: dict[str, Any]) -> bool:
    types = body_spec.get("mediaTypes") or ["application/json"]
    return any("json" in t or t == "*/*" for t in types)


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise bad_request(f"The request body is not valid JSON: {e}") from None
