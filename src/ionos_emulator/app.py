"""Builds the emulator: store, identity, lifecycle, the enabled APIs, and the ASGI entry point."""
from __future__ import annotations

import asyncio
import base64
import gc
import logging
import traceback

import orjson
from starlette.datastructures import Headers, QueryParams

from . import spec as specs
from .engine import clock
from .engine.errors import ApiError, forbidden
from .engine.lifecycle import Lifecycle, Timing
from .gateway.context import ApiModule, Ctx, Reply
from .gateway.router import Router
from .identity import Identity
from .settings import Settings
from .store import open_store

log = logging.getLogger("ionos_emulator")

RATE_LIMIT = 600   # per minute, as X-RateLimit-Limit; informative, not enforced
RATE_BURST = 50


class Emulator:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = open_store(settings.data_dir, settings.database)
        self.identity = Identity(self.store, contract_number=settings.contract_number,
                                 owner_email=settings.user, owner_password=settings.password)
        self.identity.ensure_default()
        self.lifecycle = Lifecycle(self.store, Timing(settings.timing))
        self.violations: list[dict] = []
        self.dns_server = None
        # operationId -> labels of the tests that called it (label set through /_emulator/coverage)
        self.coverage: dict[str, set[str]] = {}
        self.coverage_label = ""
        self.apis: list[tuple[ApiModule, object, Router]] = []
        self._routers: dict[str, Router] = {}
        self._hosts: dict[str, list[tuple[str, str]]] = {}  # real host -> [(its path prefix, our prefix)]
        self._calls: dict[str, tuple[int, int]] = {}  # user -> (minute, calls) for X-RateLimit-Remaining
        from .admin import build_admin
        from .apis import enabled_apis
        for api in enabled_apis():
            self.mount(api)
        from .engine.lifecycle import EFFECT_FACTORIES
        for name, factory in EFFECT_FACTORIES.items():  # the APIs' own effects (data planes)
            self.lifecycle.effects[name] = factory(self)
        self.admin = build_admin(self)

    def mount(self, api: ApiModule) -> None:
        spec = specs.load(api.spec_name)
        router = self._routers.get(api.spec_name)
        if router is None:  # regional instances of one product share their spec's router
            router = self._routers[api.spec_name] = Router()
            for op in spec.operations:
                router.add(op.method, op.path, op)
        self.apis.append((api, spec, router))
        for host, host_prefix in api.hosts.items():
            self._hosts.setdefault(host.lower(), []).append((host_prefix, api.prefix))
        # longest prefix first, so "/databases/postgresql" is not taken by a shorter one
        self.apis.sort(key=lambda t: -len(t[0].prefix))

    def reset(self) -> None:
        timing = self.lifecycle.timing
        self.store.reset()
        self.lifecycle.timing = timing
        self.identity._cache.clear()
        self.identity._key = None
        self.identity.ensure_default()
        self.violations.clear()

    # -- ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        reply, pretty = self.handle(scope, body)
        await _send(send, reply, pretty)

    async def _lifespan(self, receive, send):
        ticker = None
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                # build the validators off the request path, so the first request does not pay for them
                loop = asyncio.get_running_loop()
                for _, spec, _ in self.apis:
                    loop.run_in_executor(None, spec.warm)
                ticker = asyncio.get_running_loop().create_task(self._tick())
                await self._start_dataplanes()
                # the compiled specs and the modules are tens of thousands of long-lived objects: kept out of
                # the collector's full passes, which otherwise stall a request for tens of milliseconds
                gc.collect()
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if ticker:
                    ticker.cancel()
                if self.dns_server:
                    self.dns_server.close()
                self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start_dataplanes(self) -> None:
        """The authoritative DNS server for Cloud DNS zones; the APIs work without it if its port is taken."""
        if self.settings.dns_port:
            from .dataplanes.dns import start_dns_server
            try:
                self.dns_server = await start_dns_server(self, self.settings.host, self.settings.dns_port,
                                                         reuse_port=self.settings.workers > 1)
            except OSError as e:
                log.error("DNS server not started on %s port %d: %s", self.settings.host, self.settings.dns_port, e)

    async def _tick(self):
        """Completes due requests even when nobody polls (realistic timing, restarts)."""
        while True:
            await asyncio.sleep(0.25)
            try:
                self.lifecycle.settle()
            except Exception:  # a busy database must not stop the ticker
                log.exception("settling requests failed")

    def handle(self, scope, raw: bytes) -> tuple[Reply, bool]:
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        method = scope["method"].upper()
        pretty = query.get("pretty", "true").lower() != "false"
        base_url = _base_url(scope, headers)
        path = self._from_real_host(headers.get("host", ""), path)
        try:
            if path.startswith("/_emulator"):
                return self.admin(method, path, query, raw, base_url), pretty
            for api, spec, router in self.apis:
                if path == api.prefix or path.startswith(api.prefix + "/"):
                    try:
                        return self._api_call(api, spec, router, method, path[len(api.prefix):] or "/", query,
                                              headers, raw, base_url), pretty
                    except ApiError as e:
                        return Reply(e.status, e.body(api.errors), e.headers), pretty
            raise ApiError(404, f"No API is served at {path}")
        except ApiError as e:
            return Reply(e.status, e.body(), e.headers), pretty
        except Exception:
            log.error("unexpected error on %s %s\n%s", method, path, traceback.format_exc())
            return Reply(500, ApiError(500, "[VDC-5-0] An unexpected error occurred", "500").body()), pretty

    def _from_real_host(self, host: str, path: str) -> str:
        """A request addressed to a real IONOS host name (dns.de-fra.ionos.com, api.ionos.com/...) is served
        by the API mounted for it, as if it had come to our own path prefix."""
        for host_prefix, prefix in self._hosts.get(host.split(":")[0].lower(), ()):
            if path == host_prefix or path.startswith(host_prefix + "/") or not host_prefix:
                return prefix + path[len(host_prefix):]
        return path

    def _api_call(self, api, spec, router, method, rel, query, headers, raw, base_url) -> Reply:
        op, params, allowed = router.match(method, rel)
        if op is None:
            if allowed:
                raise ApiError(405, f"Method {method} is not allowed on this resource",
                               headers={"Allow": ", ".join(allowed)})
            raise ApiError(404, "Resource does not exist")
        try:
            self.lifecycle.settle()
        except Exception:  # completing other requests must never fail this one
            log.exception("settling requests failed")
        ctx = Ctx(emu=self, api=api, op=op, method=method, path=rel, params=params, query=query,
                  headers=headers, body=None, raw_body=raw, base_url=base_url, now=clock.now())
        if op.security != []:
            ctx.principal = self.identity.authenticate(headers.get("authorization"))
            if api.privilege and not ctx.principal.can(api.privilege):
                raise forbidden(f"Access Denied: this product needs the group privilege '{api.privilege}'")
        errors = spec.query_errors(op, dict(query))
        if errors:
            raise ApiError(422, errors[0][1])
        if op.body is not None and method in ("POST", "PUT", "PATCH") and not _json_body(op):
            # a text body (a DNS zone file): handed over as text
            ctx.body = raw.decode("utf-8", "replace") if raw.strip() else None
            if ctx.body is None and op.body.get("required"):
                raise ApiError(400, "The request body is missing or empty")
        elif op.body is not None and method in ("POST", "PUT", "PATCH"):
            ctx.body = _parse_json(raw, headers)
            if ctx.body is None and op.body.get("required"):
                raise ApiError(400, "The request body is missing or empty")
            if ctx.body is not None:
                errors = spec.body_errors(op, ctx.body)
                if errors:
                    raise ApiError(422, "; ".join(msg for _, msg in errors[:5]), vdc="VDC-1-1")
        handler = api.handlers.get(op.id)
        if self.coverage_label:
            self.coverage.setdefault(f"{api.name}:{op.id}", set()).add(self.coverage_label)
        if handler is None:
            raise ApiError(501, f"Operation {op.id} ({op.method} {op.path}) is not implemented by the emulator")
        if method == "GET":
            reply = handler(ctx)
        else:
            # a change reads and writes inside one transaction, so concurrent changes (other workers,
            # other processes on the same database) cannot interleave and lose an update
            with self.store.tx():
                reply = handler(ctx)
        reply.headers.update(self._rate_headers(ctx))
        if (self.settings.strict and reply.content_type.startswith("application/json")
                and reply.body is not None and not isinstance(reply.body, (bytes, bytearray))):
            self._check_response(spec, op, reply, f"{method} {api.prefix}{rel}")
        return reply

    def _check_response(self, spec, op, reply: Reply, where: str) -> None:
        errors = spec.response_errors(op, reply.status, reply.body)
        if errors:
            v = {"request": where, "status": reply.status, "errors": [f"{p}: {m}" for p, m in errors[:10]]}
            self.violations.append(v)
            log.error("response violates the spec: %s", v)
            reply.status, reply.body = 500, ApiError(
                500, f"emulator response violates the spec: {v['errors']}", "500").body()

    def _rate_headers(self, ctx: Ctx) -> dict[str, str]:
        key = ctx.principal.user_id if ctx.principal else "-"
        minute = int(ctx.now // 60)
        m, n = self._calls.get(key, (minute, 0))
        n = n + 1 if m == minute else 1
        self._calls[key] = (minute, n)
        return {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Burst": str(RATE_BURST),
                "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - n))}


def _json_body(op) -> bool:
    types = op.body.get("mediaTypes") or ["application/json"]
    return any("json" in t or t == "*/*" for t in types)


def _parse_json(raw: bytes, headers: Headers):
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise ApiError(400, f"The request body is not valid JSON: {e}") from None


def _base_url(scope, headers: Headers) -> str:
    """Absolute hrefs and Location must route back to us as the client addressed us (ionosctl follows them)."""
    proto = headers.get("x-forwarded-proto") or scope.get("scheme", "http")
    host = headers.get("x-forwarded-host") or headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{proto}://{host}"


async def _send(send, reply: Reply, pretty: bool) -> None:
    if reply.body is None:
        payload = b""
    elif isinstance(reply.body, (bytes, bytearray)):
        payload = bytes(reply.body)
    elif isinstance(reply.body, str) and reply.content_type != "application/json":
        payload = reply.body.encode()
    else:
        payload = orjson.dumps(reply.body, option=orjson.OPT_INDENT_2 if pretty else 0)
    hdrs = [(b"content-length", str(len(payload)).encode())]
    if payload or reply.status >= 400:
        hdrs.append((b"content-type", reply.content_type.encode()))
    hdrs += [(k.lower().encode(), str(v).encode()) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": hdrs})
    await send({"type": "http.response.body", "body": payload})


def create_app(settings: Settings | None = None) -> Emulator:
    return Emulator(settings or Settings.from_env())


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
