"""The ingest endpoints of Logging and Monitoring pipelines: HTTP on the emulator's port, found by the pipeline's
own host name, either as the Host header (`Host: 0123456789ab-logs.<contract>.logging.de-fra.ionos.com`) or as
the path prefix `/_ingest/<that host name>/...` for clients that cannot set one.

A request needs the pipeline's current key (header `APIKEY`; Monitoring also takes `Authorization: Bearer`):
401 without it or with a wrong one. A Logging pipeline takes log lines at `/<tag>` of one of its HTTP log
streams (a JSON record, a JSON array of records, or plain text, one record a line); a Monitoring pipeline takes
Prometheus remote-write bodies (snappy-compressed protobuf). No decoder for those is installed, so they are
accepted and counted, not decoded. The last KEEP_LINES lines (and the count of everything) of each pipeline
are kept in the store, readable at `/_emulator/logging/<pipelineId>` and `/_emulator/monitoring/<pipelineId>`.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from typing import Any

import orjson

from ..apis import telemetry
from ..engine import clock
from ..engine.errors import PRODUCT, ApiError, not_found, too_large, unauthorized
from ..gateway.context import Reply
from ..store import Row, Store

log = logging.getLogger("ionos_emulator")

PREFIX = "/_ingest/"
# a pipeline's host name (apis/telemetry.py ingest_host): only these are looked up, the rest is API traffic
HOST = re.compile(r"^[0-9a-f]{12}-(logs|metrics)\.[0-9a-f]{12}\.(logging|monitoring)\.[a-z]{2}-[a-z]{3}\.ionos\.com$")
MAX_BODY = 1024 * 1024  # bytes an ingest request may carry
MAX_LINE = 8 * 1024  # bytes of one kept record (longer ones are kept cut, as text)
KEEP_LINES = 500  # lines kept per Logging pipeline, the newest
READY = "AVAILABLE"
# the docs: "an ingestion rate limit of 50 HTTP requests per second for each pipeline" (Logging); Monitoring alike
# (guess). Counted in this process over the last second (each worker counts its own).
RATE_PER_SECOND = 50
_recent: dict[str, deque[float]] = {}


def match(host: str, path: str) -> tuple[str, str] | None:
    """(pipeline host name, path below it) when the request is addressed to an ingest endpoint."""
    if path.startswith(PREFIX):
        name, _, rest = path[len(PREFIX) :].partition("/")
        return name.lower(), "/" + rest
    name = host.split(":")[0].lower()
    return (name, path) if HOST.match(name) else None


def _error(e: ApiError) -> Reply:
    return Reply(e.status, e.body(PRODUCT), e.headers)


def handle(store: Store, lifecycle: Any, method: str, host: str, path: str, headers: Any, body: bytes) -> Reply:
    try:
        return _handle(store, lifecycle, method, host, path, headers, body)
    except ApiError as e:
        return _error(e)


def pipeline_of(store: Store, host: str) -> tuple[str, Row] | None:
    """The API and the pipeline whose ingest endpoint `host` names, if one does."""
    entry = store.kv_get(telemetry.host_key(host))
    if not isinstance(entry, dict):
        return None
    api, pid = str(entry["api"]), str(entry["id"])
    index = store.kv_get(telemetry.index_key(api, pid)) or {}
    row = store.get(int(index.get("tenant", 0)), str(index.get("kind", "")), "", pid)
    return None if row is None else (api, row)


def _pipeline(store: Store, host: str) -> tuple[str, Row]:
    found = pipeline_of(store, host)
    if found is None:
        raise not_found(f"No pipeline takes data at {host}")
    return found


def _given_key(api: str, headers: Any) -> str | None:
    key = headers.get("apikey")
    if key is None and api == "monitoring":
        scheme, _, cred = (headers.get("authorization") or "").partition(" ")
        key = cred.strip() if scheme.lower() == "bearer" else None
    return key


def _handle(store: Store, lifecycle: Any, method: str, host: str, path: str, headers: Any, body: bytes) -> Reply:
    try:
        lifecycle.settle()  # a pipeline created a moment ago is AVAILABLE now, one deleted is gone
    except Exception:  # completing other requests must never fail this one
        log.exception("settling requests failed")
    api, row = _pipeline(store, host)
    if not telemetry.key_matches(store, api, row, _given_key(api, headers)):
        raise unauthorized()
    if method not in ("POST", "PUT"):
        raise ApiError(405, f"Method {method} is not allowed here; send data with POST", headers={"Allow": "POST"})
    if len(body) > MAX_BODY:
        raise too_large(MAX_BODY)
    _throttle(row.id)
    state = row.meta.get("state")
    if state != READY:
        raise ApiError(503, f"pipeline '{row.id}' is {state}; it takes data once it is {READY}", "503")
    if api == "logging":
        return _logs(store, row, path, headers, body)
    return _metrics(store, row, headers, body)


def _throttle(pipeline_id: str) -> None:
    """429 for a request beyond the pipeline's rate (the requests of the last second, this one included)."""
    now = time.monotonic()
    seen = _recent.setdefault(pipeline_id, deque())
    while seen and seen[0] <= now - 1.0:
        seen.popleft()
    if len(seen) >= RATE_PER_SECOND:
        raise ApiError(429, f"pipeline '{pipeline_id}' takes at most {RATE_PER_SECOND} requests per second", "429")
    seen.append(now)
    if len(_recent) > 10_000:  # forget idle pipelines
        for pid in [p for p, q in _recent.items() if not q or q[-1] <= now - 1.0]:
            del _recent[pid]


def _logs(store: Store, row: Any, path: str, headers: Any, body: bytes) -> Reply:
    tag = path.strip("/")
    streams = {str(s["tag"]).lower(): s for s in row.props.get("logs") or []}
    stream = streams.get(tag.lower())
    if stream is None or stream.get("protocol") != "http":
        raise not_found(f"pipeline '{row.id}' has no HTTP log stream tagged '{tag}'")
    records = _records(headers.get("content-type") or "", body)
    now = clock.iso_precise(clock.Clock(store).now())
    kept = [{"tag": stream["tag"], "receivedAt": now, "record": _bounded(r)} for r in records]
    key = telemetry.data_key("logging", row.id)
    with store.tx():
        data = store.kv_get(key) or {"received": 0, "lines": []}
        data["received"] = int(data["received"]) + len(kept)
        data["lines"] = (list(data["lines"]) + kept)[-KEEP_LINES:]
        store.kv_set(key, data)
    return Reply(200, {"accepted": len(kept)})


def _records(content_type: str, body: bytes) -> list[Any]:
    if "json" in content_type.lower():
        try:
            doc = orjson.loads(body) if body.strip() else []
        except orjson.JSONDecodeError as e:
            raise ApiError(400, f"The request body is not valid JSON: {e}") from None
        return list(doc) if isinstance(doc, list) else [doc]
    text = body.decode("utf-8", "replace")
    return [line for line in text.splitlines() if line.strip()]


def _bounded(record: Any) -> Any:
    raw = orjson.dumps(record)
    if len(raw) <= MAX_LINE:
        return record
    return raw[:MAX_LINE].decode("utf-8", "ignore")


def _metrics(store: Store, row: Any, headers: Any, body: bytes) -> Reply:
    key = telemetry.data_key("monitoring", row.id)
    with store.tx():
        data = store.kv_get(key) or {"bodies": 0, "bytes": 0}
        data["bodies"] = int(data["bodies"]) + 1
        data["bytes"] = int(data["bytes"]) + len(body)
        data["lastReceivedAt"] = clock.iso_precise(clock.Clock(store).now())
        data["lastContentEncoding"] = headers.get("content-encoding") or ""
        store.kv_set(key, data)
    return Reply(204)


def received(store: Store, api: str, pipeline_id: str) -> Reply:
    """What a pipeline has received (the admin API's /_emulator/<api>/<pipelineId>)."""
    if not isinstance(store.kv_get(telemetry.index_key(api, pipeline_id)), dict):
        raise not_found(f"No {api} pipeline '{pipeline_id}'")
    data = store.kv_get(telemetry.data_key(api, pipeline_id))
    if api == "logging":
        data = data or {"received": 0, "lines": []}
    else:
        data = {"bodies": 0, "bytes": 0, **(data or {}), "decoded": False}
    return Reply(200, {"pipelineId": pipeline_id, **data})
