"""The API Gateway's data plane: a request to a gateway is matched to one of its routes by method and path and
proxied to one of the route's upstreams (dataplanes/forward.py), chosen by weight.

Matching: a path without '*' matches itself exactly; one ending in '*' matches every path that starts with
what comes before it. An exact match beats a wildcard, a longer wildcard a shorter one, and among equals the
route created first wins. Only AVAILABLE gateways and routes serve. The request goes upstream with its path and
query unchanged.

Upstream choice: smooth weighted round robin (nginx's), so 3:1 weights split every 4 requests 3 and 1; with
`least_conn`, the upstream with the fewest requests in flight for its weight. Both are kept in this process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ..settings import Settings
from ..store import Row, Store
from . import forward
from .web import WebRequest, page, respond

NOT_FOUND = orjson.dumps({"error_msg": "404 Route Not Found"})


def path_score(pattern: str, path: str) -> tuple[int, int] | None:
    """How well a route's path matches the request's: (2, n) exact, (1, n) a wildcard of n characters, None."""
    if pattern.endswith("*"):
        stem = pattern[:-1]
        return (1, len(stem)) if path.startswith(stem) else None
    return (2, len(pattern)) if path == pattern else None


def best_route(routes: list[Row], method: str, path: str) -> Row | None:
    best: tuple[tuple[int, int], Row] | None = None
    for route in routes:
        if method not in route.props.get("methods", []):
            continue
        for pattern in route.props.get("paths", []):
            score = path_score(pattern, path)
            if score is not None and (best is None or score > best[0]):
                best = (score, route)
    return best[1] if best else None


class GatewayPlane:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: dict[tuple[str, tuple[int, ...]], list[int]] = {}  # smooth WRR state per route and weights
        self.in_flight: dict[tuple[str, int], int] = {}  # (route id, upstream index) -> requests in flight

    def choose(self, route: Row) -> int:
        ups = route.props["upstreams"]
        weights = tuple(int(u.get("weight", 100)) for u in ups)
        if ups[0].get("loadbalancer") == "least_conn":
            live = [i for i, w in enumerate(weights) if w > 0]
            return min(live, key=lambda i: (self.in_flight.get((route.id, i), 0) / weights[i], i))
        current = self.current.setdefault((route.id, weights), [0] * len(ups))
        for i, w in enumerate(weights):
            current[i] += w
        chosen = max(range(len(ups)), key=lambda i: (current[i], -i))
        current[chosen] -= sum(weights)
        return chosen

    @staticmethod
    def routes(gateway: Row | None, store: Store) -> list[Row]:
        """The routes that serve now: the AVAILABLE ones of an AVAILABLE gateway (a store read: in the pool)."""
        if gateway is None or gateway.meta.get("state") != "AVAILABLE":
            return []
        rows = store.list(gateway.tenant, "apigateway.route", gateway.id)
        return [r for r in rows if r.meta.get("state") == "AVAILABLE"]

    async def serve(
        self, req: WebRequest, routes: list[Row], send: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        """Serves the request by the best of the routes that serve now (`routes`), or answers 404."""
        route = best_route(routes, req.method, req.path)
        if route is None:
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(NOT_FOUND)).encode())]
            await respond(send, 404, headers, NOT_FOUND)
            return
        index = self.choose(route)
        up = route.props["upstreams"][index]
        target = forward.Target(up.get("scheme", "http"), up["host"], int(up.get("port", 80)))
        headers = forward.request_headers(
            req.headers,
            method=req.method,
            host=target.authority,
            client=req.client,
            proto=req.scheme,
            original_host=req.host,
            length=len(req.body),
        )
        key = (route.id, index)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        try:
            try:
                answer = await forward.send(self.settings, target, req.method, req.target, headers, req.body)
            except forward.UpstreamError as e:
                text = "Gateway Timeout" if e.status == 504 else "Bad Gateway"
                await respond(send, *page(e.status, text, e.message))
                return
            await respond(send, answer.status, forward.response_headers(answer), answer.body)
        finally:
            self.in_flight[key] -= 1
