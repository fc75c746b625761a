"""Builds the emulator: store, identity, lifecycle, the enabled APIs, and the ASGI entry point."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import re
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from starlette.datastructures import Headers, QueryParams

from . import console
from .apis import build_apis
from .chaos import Chaos, Rule
from .dataplanes import ingest
from .dataplanes.local import fleets as local_fleets
from .dataplanes.registry import RegistryPlane
from .dataplanes.registry import match as registry_request
from .endpoints import real_hosts
from .engine.clock import Clock
from .engine.errors import ApiError, internal_error, too_large
from .engine.lifecycle import FailureRule, Lifecycle, Timing
from .gateway.context import ApiModule, Reply, Services, encode_reply
from .gateway.front import Front
from .gateway.mounts import Mounts
from .gateway.pipeline import Observations, Pipeline, Request, wants_pretty
from .identity import Identity
from .identity.throttle import LoginThrottle
from .journal import Journal
from .settings import Settings
from .store import open_store

if TYPE_CHECKING:
    from .dataplanes.dnsserver import DnsServer
    from .https import HttpsServer

log = logging.getLogger("ionos_emulator")
SWITCH_INTERVAL_S = 0.00025  # sys.setswitchinterval of a serving process (Python: 0.005)
TICK_GRACE = 1.0  # seconds


class Emulator:
    """The emulator as an ASGI app: its services, the mounted APIs, the pipeline and /_emulator."""

    def __init__(self, settings: Settings):
        from .admin.guard import resolve

        resolve(settings)  # --admin-open from --host, and the admin token of a protected emulator
        self.settings = settings
        # every request runs in this pool, off the event loop (see __call__): a slow one (a zone file, a
        # password hash, a data plane) holds one thread, never the loop; the store gives each thread its own
        # connection and serialises write transactions
        self.pool = ThreadPoolExecutor(max(1, settings.threads), thread_name_prefix="request")
        self.checkpointer = ThreadPoolExecutor(1, thread_name_prefix="checkpoint")  # the ticker's, off the pool
        self.mounts = Mounts(build_apis())
        # the store keeps what the APIs count (the Cloud API's contract usage) with every write
        counts = {kind: count for api in self.mounts.apis for kind, count in api.counts.items()}
        self.store = open_store(settings.data_dir, settings.database, counts)
        self.clock = Clock(self.store)  # emulated time, shared by every API of this app (/_emulator/clock)
        self.identity = Identity(
            self.store,
            contract_number=settings.contract_number,
            owner_email=settings.user,
            owner_password=settings.password,
            throttle=LoginThrottle(settings.login_failures_per_user, settings.login_failures_per_source),
            clock=self.clock,
        )
        self.identity.ensure_default()
        self.lifecycle = Lifecycle(self.store, Timing(settings.timing), self.clock)
        self.dns_server: DnsServer | None = None
        self.https_server: HttpsServer | None = None
        self.services = Services(self.store, self.identity, self.lifecycle, settings)
        from .s3 import S3Service, object_dir

        self.s3 = S3Service(self.services, object_dir(settings))  # Object Storage: before the JSON pipeline
        self.observations = Observations()
        self.journal = Journal(settings.journal_size, self.url_of)
        self.chaos = Chaos(self.store)
        # enforced rate limits are a chaos setting (429 past X-RateLimit-Limit)
        self.pipeline = Pipeline(self.services, self.mounts, self.observations, lambda: self.chaos.enforce_rate_limits)
        self.front = Front(self.store, self.pipeline, self.chaos.calm)  # cached GETs answered on the event loop
        self.registries = RegistryPlane(
            self.store, settings, self.lifecycle.settle, self.clock.now
        )  # Container Registry's OCI API
        self.api_hosts = frozenset(real_hosts(self.mounts.apis))  # their /v2 is theirs, not a registry's
        for mount in self.mounts.all:  # the APIs' own effects (data planes), once each
            for name, factory in mount.api.effects.items():
                if name not in self.lifecycle.effects:
                    self.lifecycle.effects[name] = factory(settings)
        from .admin import build_admin
        from .dataplanes.web import WebPlanes

        self.admin = build_admin(self)
        self.web = WebPlanes(self)  # API Gateway and CDN traffic, served before the API pipeline

    @property
    def apis(self) -> list[ApiModule]:
        return self.mounts.apis

    @property
    def violations(self) -> list[dict]:
        return self.observations.violations

    def reset(self) -> None:
        timing = self.lifecycle.timing
        self.store.reset()
        self.s3.s3.blobs.wipe()
        self.lifecycle.timing = timing
        self._state_replaced()
        self.registries.drop_all()  # the registries are gone, and so are their blobs (a snapshot brings its own)
        self.identity.ensure_default()
        self.observations.violations.clear()

    def load_snapshot(self, source) -> dict:
        """The state of a snapshot (snapshots.py) instead of this one; its manifest."""
        from . import snapshots

        manifest = snapshots.load(self.store, self.settings.data_dir, source)
        self._state_replaced()
        self.identity.ensure_default()
        return manifest

    def _state_replaced(self) -> None:
        """What this process remembers of the store's state is stale."""
        self.clock.refresh()  # the clock is the store's: real time again after a reset, a snapshot's after a load
        self.identity._cache.clear()
        self.identity._verified.clear()
        self.identity._key = None
        self.identity.throttle.clear()
        self.chaos.forget()
        for fleet in local_fleets(self.settings):  # the clusters are gone, and so are their servers
            fleet.drop_all()

    # -- ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        # a GET answered before, while the store has not moved since: here, without the pool, before anything
        # else (the same request, at the same store version, goes where it went then)
        arrived, t0 = time.time(), time.perf_counter()
        hit, ticket = await self.front.serve(scope)
        if hit is not None:
            status, headers, payload = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            self.journal_entry(scope, arrived, time.perf_counter() - t0, b"", status, headers, payload, None)
            return
        # the data planes that stream (object bytes, image blobs), before any body is read: S3 first by its
        # hosts and /s3/ prefix, then a registry's /v2
        s3 = self.s3.match(scope)
        if s3 is not None:
            await self.s3(scope, receive, send, s3)
            return
        registry = registry_request(scope, self.api_hosts)
        if registry is not None and (registry.namespaced or registry.base) and await self.web.find(scope) is not None:
            registry = None  # a gateway's or CDN distribution's own host: its /v2 is its upstream's
        if registry is not None:
            await self.registries(scope, receive, send, registry)
            return
        started = False

        async def respond(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            web = await self.web.find(scope)
            body = await self._read_body(scope, receive)
            if web is not None:  # not an API call: no chaos rule, no journal entry
                from .dataplanes.web import serve as serve_web

                await serve_web(web, scope, body, respond)
                return
            reply, pretty, rule = await self._answer(scope, body)
            if body == b"":
                self.front.keep(scope, ticket, reply)
            status, headers, payload = encode_reply(reply, pretty)
            await respond({"type": "http.response.start", "status": status, "headers": headers})
            await respond({"type": "http.response.body", "body": payload})
            self.journal_entry(scope, arrived, time.perf_counter() - t0, body, status, headers, payload, rule)
        except Exception:  # never uvicorn's plain-text 500: the envelope, or a closed connection once started
            log.error("unexpected error on %s %s\n%s", scope.get("method"), scope.get("path"), traceback.format_exc())
            if started:
                raise
            await _send(respond, self.unexpected(scope), False)

    async def _answer(self, scope, body: bytes | ApiError) -> tuple[Reply, bool, Rule | None]:
        """The answer from the pool, with the chaos rule that applied to it."""
        loop = asyncio.get_running_loop()
        # the chaos rule, then the request itself, in the pool (either may read or write the store): one
        # trip there, unless the rule delays the request or answers for it
        if isinstance(body, ApiError):
            rule, answered = await loop.run_in_executor(self.pool, self.chaos_rule, scope), None
        else:
            rule, answered = await loop.run_in_executor(self.pool, self.answer, scope, body)
        if rule is not None and rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if isinstance(body, ApiError):  # refused unread: the connection closes after the answer
            reply, pretty = self.handle(scope, b"", refused=body)
            reply.headers["Connection"] = "close"
        elif rule is not None and rule.status:  # the chaos rule's answer, in the API's envelope
            err = rule.error()
            reply, pretty = (
                Reply(err.status, err.body(self.pipeline.error_style_of(*_host_path(scope))), err.headers),
                True,
            )
        elif answered is None:  # delayed by the rule: served now
            reply, pretty = await loop.run_in_executor(self.pool, self.serve, scope, body, rule)
        else:
            reply, pretty = answered
        return reply, pretty, rule

    async def _read_body(self, scope, receive) -> bytes | ApiError:
        """The body, or a 413 once it is longer than --max-body-bytes: by its Content-Length before reading
        any of it, else (chunked) as soon as what has arrived is longer; the rest is never read."""
        limit = self.settings.max_body_bytes
        length = Headers(scope=scope).get("content-length", "")
        if length.strip().isdigit() and int(length) > limit:
            return too_large(limit)
        chunks, size = [], 0
        while True:
            msg = await receive()
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > limit:
                return too_large(limit)
            chunks.append(chunk)
            if not msg.get("more_body"):
                return b"".join(chunks)

    async def _lifespan(self, receive, send):
        ticker = None
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                # an API's validators are built in a thread on its first request (gateway/mounts.py), not here
                ticker = asyncio.get_running_loop().create_task(self._tick())
                try:
                    await self._start_https()
                except Exception as e:  # --tls was asked for: no HTTPS is a failed start, not a warning
                    log.error("HTTPS not started on %s port %d: %s", self.settings.host, self.settings.https_port, e)
                    ticker.cancel()
                    await send({"type": "lifespan.startup.failed", "message": f"HTTPS not started: {e}"})
                    return
                await self._start_dataplanes()
                # the compiled specs and the modules are tens of thousands of long-lived objects: kept out of
                # the collector's full passes, which otherwise stall a request for tens of milliseconds
                gc.collect()
                gc.freeze()
                gc.enable()  # `serve` built the app with it off (cli.py)
                # a request thread that computes (validation, rendering) hands the interpreter lock to the event
                # loop after 0.25 ms rather than 5: what the loop answers itself (cached GETs, DNS) waits less
                sys.setswitchinterval(SWITCH_INTERVAL_S)
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if ticker:
                    ticker.cancel()
                if self.https_server:  # drained before the store closes
                    await self.https_server.stop()
                if self.dns_server:
                    self.dns_server.close()
                for fleet in local_fleets(self.settings):  # started again with the emulator
                    fleet.stop_all()
                # every thread that may be running a statement finishes before the store closes the connections:
                # one closed under a running statement crashed the interpreter (CI: the ticker's checkpoint)
                await asyncio.get_running_loop().run_in_executor(None, self._drain_threads)
                self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _drain_threads(self) -> None:
        """Waits for the requests, the ticker's checkpoint and the DNS server's answers in progress (at shutdown)."""
        self.pool.shutdown()
        self.checkpointer.shutdown()
        if self.dns_server:
            self.dns_server.pool.shutdown()

    async def _start_https(self) -> None:
        """With --tls: HTTPS beside HTTP, a second uvicorn server on this event loop serving this same app (one
        lifespan: this one). With workers, each worker listens on the port with SO_REUSEPORT."""
        if not self.settings.tls:
            return
        from .https import start_https

        self.https_server = await start_https(self, self.settings)

    async def _start_dataplanes(self) -> None:
        """The authoritative DNS server for Cloud DNS zones; the APIs work without it if its port is taken. With
        --dataplanes local, the private servers of the clusters left from the last run start again, in a thread."""
        loop = asyncio.get_running_loop()
        for fleet in local_fleets(self.settings):
            loop.run_in_executor(None, fleet.start_all)
        if self.settings.dns_port:
            from .dataplanes.dnsserver import start_dns_server

            try:
                self.dns_server = await start_dns_server(
                    self, self.settings.host, self.settings.dns_port, reuse_port=self.settings.workers > 1
                )
            except OSError as e:
                log.error("DNS server not started on %s port %d: %s", self.settings.host, self.settings.dns_port, e)

    async def _tick(self):
        """Completes due requests even when nobody polls (realistic timing, restarts), in the pool: completing
        a change may provision a data plane."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.25)
            try:
                # a change due less than TICK_GRACE ago is left to the client polling it: that request completes
                # it, waiting for its data plane's follow-up, instead of finding the cluster still busy
                await loop.run_in_executor(self.pool, lambda: self.lifecycle.settle(grace=TICK_GRACE))
                # the WAL into the database file here, on a thread of its own, not in some request's commit
                await loop.run_in_executor(self.checkpointer, self.store.checkpoint)
            except ApiError as e:  # the database is away (503): said once per tick, without a traceback
                log.warning("settling requests failed: %s", e.message)
            except Exception:  # a busy database must not stop the ticker
                log.exception("settling requests failed")

    def chaos_rule(self, scope) -> Rule | None:
        """The chaos rule for this request, if any (/_emulator itself is never disturbed)."""
        host, path = _host_path(scope)
        if path.startswith("/_emulator"):
            return None
        auth = Headers(scope=scope).get("authorization")
        try:
            return self.chaos.pick(self.mounts, scope["method"].upper(), host, path, auth)
        except ApiError:  # the database is away: no rule; the request's own store calls answer it (503)
            return None

    def fail_next_change(self, scope, message: str) -> None:
        """The lifecycle's forced failure for exactly this request's path (as the API sees it)."""
        host, raw_path = _host_path(scope)
        found = self.mounts.find(self.mounts.from_real_host(host, raw_path)[0])
        if found is not None:
            exact = "^" + re.escape(found[1].split("?", 1)[0]) + "$"
            self.lifecycle.add_failure(FailureRule(scope["method"].upper(), exact, message, 1))

    def journal_entry(
        self, scope, arrived: float, took: float, body, status: int, headers, payload: bytes, rule
    ) -> None:
        """Records an answered request; never fails it (the answer is sent already)."""
        if not self.journal.enabled:
            return
        try:
            self.journal.record(
                started=arrived,
                duration=took,
                scope=scope,
                request_body=body if isinstance(body, bytes) else b"",
                status=status,
                response_headers=headers,
                response_body=payload,
                chaos=rule.id if rule is not None else "",
            )
        except Exception:
            log.exception("journaling %s %s failed", scope.get("method"), scope.get("path"))

    def url_of(self, scope) -> str:
        """The URL (without its query) the client of a request addressed."""
        return _base_url(scope, Headers(scope=scope), self.settings.trust_proxy_headers) + _host_path(scope)[1]

    def answer(self, scope, body: bytes) -> tuple[Rule | None, tuple[Reply, bool] | None]:
        """In the pool: the chaos rule and, unless that rule delays the request or answers for it, the answer."""
        rule = self.chaos_rule(scope)
        if rule is not None and (rule.latency_ms or rule.status):
            return rule, None
        return rule, self.serve(scope, body, rule)

    def serve(self, scope, body: bytes, rule) -> tuple[Reply, bool]:
        """The request, in the pool; with a chaos rule that fails it, the change it makes ends FAILED."""
        if rule is not None and rule.failed:
            self.fail_next_change(scope, rule.message)
        return self.handle(scope, body)

    def handle(self, scope, raw: bytes, refused: ApiError | None = None) -> tuple[Reply, bool]:
        """One request; `refused` is the answer already decided before its body was read (413)."""
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        req = Request(
            method=scope["method"].upper(),
            path=path,
            query=query,
            headers=headers,
            body=raw,
            base_url=_base_url(scope, headers, self.settings.trust_proxy_headers),
            client=(scope.get("client") or ("",))[0],
        )
        pretty = wants_pretty(query)
        try:
            if refused is not None:
                raise refused
            plane = ingest.match(headers.get("host", ""), req.path)  # a Logging or Monitoring pipeline's own
            if plane is not None:
                return ingest.handle(self.store, self.lifecycle, req.method, *plane, headers, raw), pretty
            if req.method == "GET" and self.mounts.from_real_host(req.headers.get("host", ""), req.path)[1] is None:
                page = console.reply(req.path.split("?", 1)[0])  # the web console, on the emulator's own host
                if page is not None:
                    return page, pretty
            if req.path.startswith("/_emulator"):
                if req.method != "GET":  # an admin change may be one the store does not see (in memory)
                    self.forget_answers()
                try:
                    admin = self.admin(req.method, req.path, query, raw, req.base_url, headers.get("authorization"))
                finally:
                    if req.method != "GET":  # and again once it is made: answers read during it are not kept
                        self.forget_answers()
                return admin, pretty
            return self.pipeline.handle(req), pretty
        except ApiError as e:
            return Reply(e.status, e.body(self.pipeline.error_style(req)), e.headers), pretty
        except Exception:
            log.error("unexpected error on %s %s\n%s", req.method, req.path, traceback.format_exc())
            return self.unexpected(scope), pretty

    def forget_answers(self) -> None:
        """Every cached answer is dropped (the front's and the pipeline's)."""
        self.front.clear()
        self.pipeline.responses.clear()

    def unexpected(self, scope) -> Reply:
        """The 500 for an exception nobody expected, in the envelope of the API the path belongs to."""
        path = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
        style = self.pipeline.error_style_of(Headers(scope=scope).get("host", ""), path)
        return Reply(500, internal_error().body(style))


def _base_url(scope, headers: Headers, trust_proxy_headers: bool = False) -> str:
    """Absolute hrefs and Location must route back to us as the client addressed us (ionosctl follows them):
    the scheme of the connection (https on the TLS port) and the Host header. X-Forwarded-Proto/-Host only
    count with --trust-proxy-headers: any client can send them, and they would redirect its pollers."""
    proto = host = None
    if trust_proxy_headers:
        proto = (headers.get("x-forwarded-proto") or "").split(",")[0].strip() or None
        host = (headers.get("x-forwarded-host") or "").split(",")[0].strip() or None
    proto = proto or scope.get("scheme", "http")
    host = host or headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{proto}://{host}"


def _host_path(scope) -> tuple[str, str]:
    return Headers(scope=scope).get("host", ""), scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")


async def _send(send, reply: Reply, pretty: bool) -> None:
    status, headers, payload = encode_reply(reply, pretty)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def create_app(settings: Settings | None = None) -> Emulator:
    return Emulator(settings or Settings.from_env())


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request_scope(
    method: str,
    path: str,
    authorization: str,
    query: str = "",
    host: str = "127.0.0.1",
    port: int = 8765,
    accept: str | None = None,
) -> dict:
    """The ASGI scope of a client's JSON request, to drive `Emulator.handle` in-process (seeds, tests, benchmarks)."""
    headers = [(b"host", f"{host}:{port}".encode()), (b"authorization", authorization.encode())]
    if accept is not None:
        headers.append((b"accept", accept.encode()))
    headers.append((b"content-type", b"application/json"))
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "scheme": "http",
        "server": (host, port),
        "headers": headers,
    }
