"""The web data planes on the emulator's own port: which requests are not API calls but traffic for an API
Gateway or a CDN distribution, and the ASGI plumbing they share.

A request is data-plane traffic when its path starts with /_gateway/<gateway id>/ or /_cdn/<domain>/, or when
its Host is a name a gateway or distribution answers on (apis/webhosts.py: a gateway's public endpoint or custom
domain, a distribution's domain). Everything else (the API hosts, addresses, localhost) goes to the API
pipeline untouched, after one key lookup at most. Every store call (that lookup, settling due requests, the
gateway's routes) runs in the request pool, never on the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

from ..apis import webhosts
from ..engine.errors import ApiError
from ..store import Row
from . import forward

if TYPE_CHECKING:
    from ..app import Emulator

log = logging.getLogger("ionos_emulator")

GATEWAY_PREFIX = "/_gateway/"
CDN_PREFIX = "/_cdn/"


@dataclass
class WebRequest:
    """One request to a data plane: the path it is served with (below a /_gateway/ or /_cdn/ prefix), the
    rest as the client sent it."""

    method: str
    path: str  # raw (percent-encoded) path as the plane sees it
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    client: str
    scheme: str
    host: str  # the Host the client addressed

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query.decode("latin-1") if self.query else "")

    def header(self, name: str) -> str:
        return Headers(raw=self.headers).get(name, "")


Serve = Callable[[WebRequest, Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


async def respond(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes | AsyncIterator[bytes],
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if isinstance(body, bytes):
        await send({"type": "http.response.body", "body": body})
        return
    try:
        async for chunk in body:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:  # the upstream connection closes even when the client went away
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()


def page(status: int, text: str, reason: str = "") -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A gateway's own error page (502, 504, ...), with the emulator's reason in a header."""
    body = f"<html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1></body></html>\n"
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if reason:
        headers.append((b"x-emulator-reason", reason.encode("ascii", "replace")[:500]))
    return status, headers, body.encode()


def host_of(scope: dict[str, Any]) -> str:
    host = Headers(scope=scope).get("host", "").strip().lower()
    if host.startswith("["):  # [::1]:8765
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class WebPlanes:
    """Finds the data plane a request is for, if any, and serves it there."""

    def __init__(self, emu: Emulator) -> None:
        from .apigateway import GatewayPlane
        from .cdn import CdnPlane

        forward.parse_map(emu.settings.upstream_map)  # a malformed --upstream-map stops the start, with its reason
        self.emu = emu
        self.api_hosts = {h.lower() for api in emu.apis for h in api.hosts}
        self.gateways = GatewayPlane(emu.settings)
        self.cdn = CdnPlane(emu.settings)

    async def find(self, scope: dict[str, Any]) -> tuple[Serve, str] | None:
        """(how to serve it, the path the plane sees) for data-plane traffic; None for the APIs."""
        path = scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or scope["path"]
        if path.startswith(GATEWAY_PREFIX):
            gateway_id, _, rest = path[len(GATEWAY_PREFIX) :].partition("/")
            return self._by_id(gateway_id), "/" + rest
        if path.startswith(CDN_PREFIX):
            domain, _, rest = path[len(CDN_PREFIX) :].partition("/")
            return self._by_host(domain.lower(), cdn_only=True), "/" + rest
        host = host_of(scope)
        if not host or host in self.api_hosts or host == "localhost" or webhosts.is_address(host):
            return None
        row = await self._in_pool(self._answering, host)
        if row is None:
            return None
        return self._by_host(host, found=row), path  # served by the row found here: one lookup, one settle

    async def _in_pool(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.emu.pool, fn, *args)

    def _answering(self, host: str) -> Row | None:
        """The gateway or distribution that answers for the host now, if any (in the pool)."""
        if webhosts.owner(self.emu.store, host) is None:  # API traffic under another name: one key lookup
            return None
        return self._owner(host)

    def _owner(self, host: str) -> Row | None:
        """What answers for the host, due requests settled first (in the pool): a resource whose deletion has
        come due answers for its names no more."""
        self._settle()
        return webhosts.owner(self.emu.store, host)

    def _gateway(self, gateway_id: str) -> Row | None:
        """The gateway of that id in any contract, due requests settled first (in the pool)."""
        self._settle()
        for contract in self.emu.identity.contracts():
            row = self.emu.store.find(int(contract["contractNumber"]), "apigateway.gateway", gateway_id)
            if row is not None:
                return row
        return None

    async def _serve_gateway(self, req: WebRequest, row: Row | None, send: Callable[..., Awaitable[None]]) -> None:
        routes = await self._in_pool(self.gateways.routes, row, self.emu.store)
        await self.gateways.serve(req, routes, send)

    def _settle(self) -> None:
        try:
            self.emu.lifecycle.settle()
        except Exception:  # completing other requests must never fail this one
            log.exception("settling requests failed")

    def _by_host(self, host: str, cdn_only: bool = False, found: Row | None = None) -> Serve:
        """Serves what answers for the host: `found` when `find` looked it up already, else looked up now."""

        async def serve(req: WebRequest, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
            row = found if found is not None else await self._in_pool(self._owner, host)
            if cdn_only or (row is not None and row.kind == "cdn.distribution"):
                await self.cdn.serve(req, row if row is not None and row.kind == "cdn.distribution" else None, send)
            else:
                await self._serve_gateway(req, row, send)

        return serve

    def _by_id(self, gateway_id: str) -> Serve:
        async def serve(req: WebRequest, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
            await self._serve_gateway(req, await self._in_pool(self._gateway, gateway_id), send)

        return serve


async def serve(
    found: tuple[Serve, str],
    scope: dict[str, Any],
    body: bytes | ApiError,
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Serves a request `WebPlanes.find` found, with its body as the app read it (an ApiError: too large)."""
    if isinstance(body, ApiError):  # refused unread, as the APIs refuse it
        status, headers, text = page(413, "Request Entity Too Large", body.message)
        await respond(send, status, headers + [(b"connection", b"close")], text)
        return
    if forward.looping(scope.get("headers", [])):
        await respond(send, *page(508, "Loop Detected", "the request came through the emulator's data planes again"))
        return
    handler, path = found
    await handler(web_request(scope, path, body), send)


def web_request(scope: dict[str, Any], path: str, body: bytes) -> WebRequest:
    client = scope.get("client") or ("", 0)
    return WebRequest(
        method=scope["method"].upper(),
        path=path,
        query=scope.get("query_string", b""),
        headers=list(scope.get("headers", [])),
        body=body,
        client=str(client[0]),
        scheme=scope.get("scheme", "http"),
        host=Headers(scope=scope).get("host", ""),
    )
