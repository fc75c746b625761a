"""The front of the response cache: a GET the pipeline answered from its cache (or just put there) is served
again on the event loop, without the trip to the request pool, while the store provably has not moved.

The store's version is read on the loop without blocking it: SQLite's data_version of a connection that
never writes, which every commit of every connection and process moves (`Store.peek_version`, no I/O), or
PostgreSQL's change counter over an async connection (`Store.peek_version_async`). It is read BEFORE the
request goes to the pool, and the answer is kept under that reading: a commit at any time after it (before,
during or after the answer was made) makes the entry a miss. Tokens are apart (`Store.peek_tokens_version`;
on SQLite a file of their own): logins and logouts leave the entries alone, but for the answers a token
change can alter, those of a caller with a Bearer token (it may be deleted) and of the Auth API itself.

Never served: while chaos has a rule or enforces rate limits, or its view of them is older than its refresh
period (`Chaos.calm`); once the caller's token has expired by the emulated clock; when a test has replaced
the handler; after an admin change (`clear`). Per request still: X-RateLimit-* (counted as the pipeline
counts), coverage observations, the journal entry (app.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..store import Store
from .cache import ResponseCache
from .context import Encoded, Reply, encode_reply
from .pipeline import Pipeline, Reuse

# (the store's peeked version, its tokens' version, the front's epoch) before the pool made the answer
Ticket = tuple[int, int | None, int]


def request_key(scope: dict[str, Any]) -> tuple[Any, ...]:
    """Everything of a request a handler could see (the pipeline's own key is made of the same parts)."""
    server = scope.get("server")
    return (
        scope.get("scheme"),
        tuple(server) if server else None,
        scope.get("raw_path") or scope.get("path"),
        scope.get("query_string"),
        tuple(h if type(h) is tuple else tuple(h) for h in scope["headers"]),  # uvicorn's are tuples already
    )


@dataclass(frozen=True, slots=True)
class Kept:
    """A front entry's own part: the pipeline's `Reuse`, the answer's header bytes as they are sent (the
    per-request rate-limit headers are added to them), and the tokens' version it holds for, if a token
    change could alter it (None: it could not)."""

    reuse: Reuse
    headers: list[tuple[bytes, bytes]]
    tokens: int | None


def _on_tokens(scope: dict[str, Any]) -> bool:
    """Whether a token change could alter the answer: a Bearer caller's (the token may be deleted), or the
    Auth API's own."""
    if (scope.get("raw_path") or scope.get("path", "").encode()).startswith(b"/auth/"):
        return True
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bool(value[:7].lower() == b"bearer ")
    return False


def _has_body(scope: dict[str, Any]) -> bool:
    """A request that may carry a body (a GET rarely does): never answered by the front, never kept."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


class Front:
    def __init__(self, store: Store, pipeline: Pipeline, calm: Callable[[], bool]):
        self.store, self.pipeline, self.calm = store, pipeline, calm
        self.answers = ResponseCache()

    async def serve(self, scope: dict[str, Any]) -> tuple[Encoded | None, Ticket | None]:
        """The answer, encoded, if the front has it; else None and the ticket to `keep` the pool's answer
        under (None: the answer cannot be kept here)."""
        if scope["method"] != "GET" or not self.calm() or _has_body(scope):
            return None, None
        version = self.store.peek_version()
        if version is None:
            version = await self.store.peek_version_async()
        if version is None:
            return None, None
        # read only where it matters, before the answer as the version is (None: the answer holds without it)
        tokens = self.store.peek_tokens_version() if _on_tokens(scope) else None
        ticket = (version, tokens, self.answers.epoch)
        entry = self.answers.entry(request_key(scope), version)
        if entry is None:
            return None, ticket
        kept: Kept = entry.reuse
        if kept.tokens is not None and kept.tokens != tokens:
            return None, ticket
        reuse = kept.reuse
        now = self.pipeline.services.lifecycle.clock.now()
        if now >= reuse.expires or reuse.mount.api.handlers.get(reuse.op_id) is not entry.handler:
            return None, ticket
        self.answers.hits += 1
        self.pipeline.observe(reuse.mount, reuse.op_id)
        rates = self.pipeline.rate_headers(self.pipeline.count_call(reuse.caller, now))
        headers = kept.headers + [(k.lower().encode(), v.encode()) for k, v in rates.items()]
        return (entry.status, headers, entry.payload), None

    def keep(self, scope: dict[str, Any], ticket: Ticket | None, reply: Reply) -> None:
        """Keeps the pool's answer under the ticket `serve` gave before it was made, if the pipeline cached it."""
        reuse: Reuse | None = reply.reuse
        if ticket is None or reuse is None or not isinstance(reply.body, bytes):
            return
        version, tokens, epoch = ticket
        own = Reply(reply.status, reply.body, dict(reuse.headers), reply.content_type)  # without the rate limits
        status, headers, payload = encode_reply(own)
        kept = Reply(status, payload, {}, reply.content_type, Kept(reuse, headers, tokens))
        self.answers.put(request_key(scope), version, reuse.handler, kept, epoch)

    def clear(self) -> None:
        self.answers.clear()
