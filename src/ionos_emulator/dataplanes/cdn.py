"""The CDN's data plane: a request to a distribution's domain is served by the routing rule with the longest
prefix of its path whose scheme allows the request's, from that rule's upstream host through a small cache.

- Upstream: the rule's host on port 80 (http) or 443 (https): a rule for `https` reaches its origin over
  https, one for `http` over http, `http/https` the way the client came; `--upstream-map` points the name
  elsewhere. The Host sent upstream is the distribution's domain with sniMode `distribution`, the origin's
  host with `origin`.
- Cache (caching on): GET answers 200 are kept, per distribution and path with query, for the response's
  `s-maxage` or `max-age` (else an hour); never one marked no-store, no-cache or private, or that sets a
  cookie. HEAD is answered from a kept GET. Bounded: entries up to 1 MiB, 32 MiB and 1024 entries in all,
  the least recently used going first. `X-Cache: HIT` or `MISS` and, on a hit, `Age`.
- A request over http that only an `https` rule would serve is redirected there (301).
- Rate limit: the class R<n> allows n requests a second per client address (a token bucket); more answer 429.
- Geo restrictions: a loopback client has no country, so a request names its own in `X-Emulator-Country`
  (ISO 3166-1 alpha-2); one from a blocked country, or from one an allow list leaves out, answers 403. A
  request without it is not restricted.
- Not emulated: the WAF."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..settings import Settings
from ..store import Row
from . import forward
from .web import WebRequest, page, respond

DEFAULT_TTL = 3600.0
MAX_ENTRY = 1 << 20
MAX_TOTAL = 32 << 20
MAX_ENTRIES = 1024
CACHED_STATUS = (200,)
COUNTRY_HEADER = "x-emulator-country"  # the client's country (ISO 3166-1 alpha-2) for geo restrictions
MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d+)")


@dataclass
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored: float
    ttl: float

    def fresh(self, now: float) -> bool:
        return now - self.stored < self.ttl


@dataclass
class Cache:
    """A bounded in-memory LRU of whole responses."""

    max_entry: int = MAX_ENTRY
    max_total: int = MAX_TOTAL
    max_entries: int = MAX_ENTRIES
    entries: OrderedDict[tuple[str, ...], Entry] = field(default_factory=OrderedDict)
    size: int = 0

    def get(self, key: tuple[str, ...], now: float) -> Entry | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if not entry.fresh(now):
            self.drop(key)
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, ...], entry: Entry) -> None:
        if len(entry.body) > self.max_entry:
            return
        self.drop(key)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.max_total or len(self.entries) > self.max_entries:
            self.drop(next(iter(self.entries)))

    def drop(self, key: tuple[str, ...]) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body)


def ttl_of(headers: list[tuple[bytes, bytes]]) -> float | None:
    """How long a response may be kept, from its Cache-Control; None: not at all."""
    control = b",".join(v for k, v in headers if k == b"cache-control").decode("latin-1").lower()
    if any(k == b"set-cookie" for k, _ in headers):
        return None
    if re.search(r"(?:^|,)\s*(no-store|no-cache|private)\b", control):
        return None
    ages = dict(MAX_AGE.findall(control))
    if "s-maxage" in ages:
        return float(ages["s-maxage"])
    if "max-age" in ages:
        return float(ages["max-age"])
    return DEFAULT_TTL


def best_rule(rules: list[dict[str, Any]], path: str, scheme: str) -> dict[str, Any] | None:
    usable = [r for r in rules if path.startswith(r["prefix"]) and scheme in r.get("scheme", "http/https").split("/")]
    return max(usable, key=lambda r: len(r["prefix"]), default=None)


def geo_blocked(geo: dict[str, Any] | None, country: str) -> str:
    """Why a client of `country` may not be served (empty: it may); no country known, no restriction."""
    if not geo or not country:
        return ""
    if country in (geo.get("blockList") or []):
        return f"the distribution blocks clients in {country}"
    if "allowList" in geo and country not in geo["allowList"]:
        return f"the distribution serves only clients in {', '.join(geo['allowList'])}, not {country}"
    return ""


@dataclass
class Bucket:
    tokens: float
    at: float


class CdnPlane:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = Cache()
        self.buckets: dict[tuple[str, str], Bucket] = {}

    def allow(self, distribution_id: str, client: str, rate_class: str, now: float) -> bool:
        rate = float(rate_class.lstrip("R") or 0) if rate_class[1:].isdigit() else 0.0
        if rate <= 0:
            return True
        if len(self.buckets) > 10000:  # old clients go: a full bucket is what a new one starts with
            self.buckets = {k: b for k, b in self.buckets.items() if now - b.at < 60}
        bucket = self.buckets.setdefault((distribution_id, client), Bucket(rate, now))
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    async def serve(self, req: WebRequest, dist: Row | None, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        rule = None
        if dist is not None and dist.meta.get("state") == "AVAILABLE":
            rule = best_rule(dist.props.get("routingRules", []), req.path, req.scheme)
        if dist is not None and rule is None and req.scheme == "http" and dist.meta.get("state") == "AVAILABLE":
            if best_rule(dist.props.get("routingRules", []), req.path, "https") is not None:  # https only: go there
                location = f"https://{req.host}{req.target}".encode("latin-1")
                await respond(send, 301, [(b"location", location), (b"content-length", b"0")], b"")
                return
        if dist is None or rule is None:
            await respond(send, *page(404, "Not Found", "no distribution or routing rule serves this request"))
            return
        up = rule["upstream"]
        blocked = geo_blocked(up.get("geoRestrictions"), req.header(COUNTRY_HEADER).strip().upper())
        if blocked:
            await respond(send, *page(403, "Forbidden", blocked))
            return
        now = time.monotonic()
        if not self.allow(dist.id, req.client, up.get("rateLimitClass", ""), now):
            status, headers, text = page(429, "Too Many Requests", f"rate limit class {up.get('rateLimitClass')}")
            await respond(send, status, headers + [(b"retry-after", b"1")], text)
            return
        caching = bool(up.get("caching")) and req.method in ("GET", "HEAD")
        key = (dist.id, rule["prefix"], up["host"], req.target)
        if caching:
            entry = self.cache.get(key, now)
            if entry is not None:
                extra = [(b"x-cache", b"HIT"), (b"age", str(int(now - entry.stored)).encode())]
                await respond(send, entry.status, entry.headers + extra, b"" if req.method == "HEAD" else entry.body)
                return
        scheme = req.scheme if rule.get("scheme") == "http/https" else rule.get("scheme", "http")
        target = forward.Target(scheme, up["host"], forward.DEFAULT_PORTS.get(scheme, 80))
        host = dist.props["domain"] if up.get("sniMode") == "distribution" else up["host"]
        headers = forward.request_headers(
            req.headers,
            method=req.method,
            host=host,
            client=req.client,
            proto=req.scheme,
            original_host=req.host,
            length=len(req.body),
        )
        try:
            answer = await forward.send(self.settings, target, req.method, req.target, headers, req.body)
        except forward.UpstreamError as e:
            await respond(send, *page(e.status, "Gateway Timeout" if e.status == 504 else "Bad Gateway", e.message))
            return
        out = forward.response_headers(answer)
        ttl = ttl_of(answer.headers) if caching and req.method == "GET" and answer.status in CACHED_STATUS else None
        body: AsyncIterator[bytes] = answer.body
        if ttl is not None and ttl > 0 and (answer.length is None or answer.length <= self.cache.max_entry):
            body = self._keeping(key, answer, out, ttl, now)
        await respond(send, answer.status, out + [(b"x-cache", b"MISS")], body)

    async def _keeping(
        self, key: tuple[str, ...], answer: forward.Answer, headers: list[tuple[bytes, bytes]], ttl: float, now: float
    ) -> AsyncIterator[bytes]:
        """Passes the body on and keeps it once it has arrived whole (and small enough)."""
        kept: list[bytes] = []
        size = 0
        try:
            async for chunk in answer.body:
                size += len(chunk)
                if size <= self.cache.max_entry:
                    kept.append(chunk)
                yield chunk
        finally:
            aclose = getattr(answer.body, "aclose", None)
            if aclose is not None:
                await aclose()
        body = b"".join(kept)
        if size <= self.cache.max_entry and (answer.length is None or answer.length == len(body)):
            stored = [(k, v) for k, v in headers if k != b"content-length"] + [
                (b"content-length", str(len(body)).encode())
            ]
            self.cache.put(key, Entry(answer.status, stored, body, now, ttl))
