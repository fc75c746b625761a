"""The request journal: every request and its answer (method, URL, status, duration, caller, bodies with
secrets masked), the last `--journal-size` of them kept in this process's memory, filterable, exportable
as HAR 1.2 (/_emulator/journal). Each worker process keeps its own (docs/fidelity.md, "Operator tools").

Bodies: JSON and text are kept up to BODY_LIMIT characters with every secret masked (engine/secrets.py,
the rule of the request records); anything else (object bytes, images) only by its size."""

from __future__ import annotations

import base64
import datetime
import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .engine.secrets import masked_body

BODY_LIMIT = 64 * 1024
MAX_BYTES = 16 * 1024 * 1024  # bodies kept in all: the oldest entries go first (1,000 pages of 247 KB were 128 MB)
# admin paths the journal leaves out: reading the journal (and probing health) would fill it with itself
NOT_JOURNALED = ("/_emulator/journal", "/_emulator/health")
TEXTUAL = ("json", "text/", "xml", "x-www-form-urlencoded", "event-stream")


@dataclass(slots=True)
class Raw:
    """A request and its answer as they went by (the scope's parts, header bytes, the bodies as `_kept`):
    what the journal keeps, made into an `Entry` when first read. Decoding headers and masking secrets for
    every request would cost more than answering a cached GET."""

    seq: int
    time: float
    duration: float
    status: int
    chaos: str
    # the scope's parts the entry shows, not the scope itself: its dicts and lists would stay in the cyclic
    # collector's passes for as long as the journal keeps them (a tuple of bytes leaves them)
    request: tuple[tuple[str, Any], ...]
    request_body: bytes
    request_size: int
    response_headers: tuple[tuple[bytes, bytes], ...]
    response_body: bytes
    response_size: int
    made: Entry | None = None  # the entry, once a reader asked (masking parses bodies: once is enough)

    def entry(self, url_of: Callable[[dict[str, Any]], str]) -> Entry:
        """The entry as the journal shows it; `url_of(scope)` is the URL the client addressed."""
        if self.made is None:
            self.made = self._make(url_of)
        return self.made

    def _make(self, url_of: Callable[[dict[str, Any]], str]) -> Entry:
        scope = dict(self.request)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or ()]
        request_headers = _safe_headers(headers)
        query = (scope.get("query_string") or b"").decode("latin-1")
        response_headers = _safe_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.response_headers)
        return Entry(
            seq=self.seq,
            time=self.time,
            method=scope["method"].upper(),
            url=url_of(scope) + (f"?{query}" if query else ""),
            status=self.status,
            duration_ms=round(self.duration * 1000, 3),
            caller=caller_of(dict((k.lower(), v) for k, v in headers).get("authorization")),
            request_headers=request_headers,
            request_body=_body(self.request_body, request_headers.get("content-type", ""), self.request_size),
            response_headers=response_headers,
            response_body=_body(self.response_body, response_headers.get("content-type", ""), self.response_size),
            chaos=self.chaos,
        )


@dataclass
class Entry:
    seq: int
    time: float  # seconds since the epoch, when the request arrived
    method: str
    url: str
    status: int
    duration_ms: float
    caller: str  # the user the credentials name ("" without any)
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    chaos: str = ""  # the chaos rule that changed this answer, if one did

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["time"] = _iso(self.time)
        return out


def caller_of(authorization: str | None) -> str:
    """Who the credentials name, for display (not verified here: the pipeline authenticates)."""
    if not authorization:
        return ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode("utf-8", "replace").partition(":")[0]
        except ValueError:
            return ""
    if scheme.lower() == "bearer":
        import jwt  # on first use: with cryptography it is a tenth of the start-up

        try:
            claims = jwt.decode(value, options={"verify_signature": False})
        except jwt.PyJWTError:
            return "(token)"
        identity = claims.get("identity") or {}
        return str(identity.get("uuid") or claims.get("sub") or "(token)")  # tokens name the user by id
    return ""


SCOPE_KEPT = ("method", "scheme", "server", "path", "raw_path", "query_string", "headers")


def _frozen(value: Any) -> Any:
    """Lists as tuples (the headers: a list of pairs)."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in value) if isinstance(value, list) else value


def _kept(raw: bytes, headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """What a body's text is made from later: nothing of a body shown by its size only (not textual), all of
    it while masking could still parse it, else the part shown (JSON cut short is shown as text)."""
    if not raw:
        return raw
    content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
    if content_type and not any(t in content_type for t in TEXTUAL):
        return b""
    return raw if len(raw) <= BODY_LIMIT * 2 else raw[:BODY_LIMIT]


def _body(raw: bytes, content_type: str, size: int) -> str:
    if not size:
        return ""
    if not any(t in content_type for t in TEXTUAL) and content_type:
        return f"<{size} bytes of {content_type}>"
    text = masked_body(raw[: BODY_LIMIT * 2])
    return text if len(text) <= BODY_LIMIT and size == len(raw) else text[:BODY_LIMIT] + f"... <{size} bytes>"


def _safe_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as recorded: credentials masked."""
    out: dict[str, str] = {}
    for k, v in headers:
        k = k.lower()
        out[k] = (v.split(" ", 1)[0] + " *****") if k in ("authorization", "x-amz-security-token") else v
    return out


class Journal:
    def __init__(self, size: int, url_of: Callable[[dict[str, Any]], str] = lambda scope: ""):
        self.entries: deque[Raw] = deque()
        self.size = max(size, 1)
        self.bytes = 0  # of the bodies kept, bounded by MAX_BYTES
        self.enabled = size > 0
        self.url_of = url_of  # the URL a request's client addressed, from its scope
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        started: float,
        duration: float,
        scope: dict[str, Any],
        request_body: bytes,
        status: int,
        response_headers: list[tuple[bytes, bytes]],
        response_body: bytes,
        chaos: str = "",
    ) -> None:
        path = scope.get("path") or ""
        if not self.enabled or any(marker in path for marker in NOT_JOURNALED):
            return
        raw = Raw(
            0,
            started,
            duration,
            status,
            chaos,
            tuple((k, _frozen(scope[k])) for k in SCOPE_KEPT if k in scope),
            _kept(request_body, scope.get("headers") or ()),
            len(request_body),
            tuple(response_headers),
            _kept(response_body, response_headers),
            len(response_body),
        )
        with self._lock:
            raw.seq = next(self._seq)
            self.entries.append(raw)
            self.bytes += len(raw.request_body) + len(raw.response_body)
            while len(self.entries) > self.size or (self.bytes > MAX_BYTES and len(self.entries) > 1):
                gone = self.entries.popleft()
                self.bytes -= len(gone.request_body) + len(gone.response_body)

    def select(self, query: Mapping[str, str]) -> list[Entry]:
        """Entries after `after` (a seq), matching `method`, `status` (a code or a class like 4xx), `path` (a
        substring of the URL) and `caller`; the newest `limit` of them, oldest first."""
        after = int(query.get("after") or 0)
        with self._lock:  # made into entries once, by whichever reader comes first
            entries = [r.entry(self.url_of) for r in self.entries if r.seq > after]
        method = (query.get("method") or "").upper()
        status = query.get("status") or ""
        path = query.get("path") or ""
        caller = query.get("caller") or ""
        out = [
            e
            for e in entries
            if (not method or e.method == method)
            and (not status or str(e.status) == status or (status.endswith("xx") and str(e.status)[0] == status[0]))
            and (not path or path in e.url)
            and (not caller or caller == e.caller)
        ]
        limit = int(query.get("limit") or 1000)
        return out[-limit:] if limit > 0 else []

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.bytes = 0


def har(entries: list[Entry], version: str) -> dict[str, Any]:
    """HAR 1.2 (the format browsers' developer tools import)."""

    def pairs(headers: Mapping[str, str]) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in headers.items()]

    def har_entry(e: Entry) -> dict[str, Any]:
        query = e.url.partition("?")[2]
        request: dict[str, Any] = {
            "method": e.method,
            "url": e.url,
            "httpVersion": "HTTP/1.1",
            "headers": pairs(e.request_headers),
            "queryString": [{"name": k, "value": v} for k, _, v in (p.partition("=") for p in query.split("&") if p)],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(e.request_body),
        }
        if e.request_body:
            request["postData"] = {"mimeType": e.request_headers.get("content-type", ""), "text": e.request_body}
        return {
            "startedDateTime": _iso(e.time),
            "time": e.duration_ms,
            "request": request,
            "response": {
                "status": e.status,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "headers": pairs(e.response_headers),
                "cookies": [],
                "content": {
                    "size": len(e.response_body),
                    "mimeType": e.response_headers.get("content-type", ""),
                    "text": e.response_body,
                },
                "redirectURL": e.response_headers.get("location", ""),
                "headersSize": -1,
                "bodySize": len(e.response_body),
            },
            "cache": {},
            "timings": {"send": 0, "wait": e.duration_ms, "receive": 0},
            "comment": f"caller {e.caller}" + (f"; chaos rule {e.chaos}" if e.chaos else ""),
        }

    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "ionos-emulator", "version": version},
            "entries": [har_entry(e) for e in entries],
        }
    }


def _iso(ts: float) -> str:
    return (
        datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
