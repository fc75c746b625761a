"""The S3 data plane's ASGI side: one request read into an S3Request, served by service.py, its answer sent
(streamed where the body is an object's bytes). Imported by the first S3 request (s3/__init__.py)."""

from __future__ import annotations

import logging
import traceback
from urllib.parse import unquote

from starlette.datastructures import Headers, QueryParams

from . import configs  # noqa: F401  (registers the sub-resources)
from .body import ClientGone
from .service import S3, Response, S3Request
from .xml import S3Error

log = logging.getLogger("ionos_emulator")


async def serve(s3: S3, scope, receive, send, target: tuple) -> None:
    """One S3 request (`target`: what S3Service.match found)."""
    region, host_bucket, rel, website = target
    raw_path = (scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")).partition("?")[0]
    raw_query = scope.get("query_string", b"").decode("latin-1")
    bucket, key = host_bucket, None
    path = unquote(rel)
    if bucket is None:
        name, sep, rest = path.lstrip("/").partition("/")
        bucket = name or None
        key = rest if sep and rest else None
    else:
        key = path[1:] if len(path) > 1 else None
    finished = [not _has_body(scope)]

    async def tracked() -> dict:
        msg = await receive()
        if not msg.get("more_body"):
            finished[0] = True
        return msg

    req = S3Request(
        method=scope["method"].upper(),
        raw_path=raw_path,
        raw_query=raw_query,
        query=QueryParams(raw_query),
        headers=Headers(scope=scope),
        region=region,
        bucket=bucket,
        key=key,
        website=website,
        receive=tracked,
        now=s3.services.lifecycle.clock.now(),  # the emulated clock: LastModified, retention
    )
    try:
        resp = await s3.handle(req)
    except S3Error as e:
        resp = error_response(req, e)
    except ClientGone:
        return
    except Exception:
        log.error("unexpected error on S3 %s %s\n%s", req.method, raw_path, traceback.format_exc())
        resp = error_response(req, S3Error("InternalError", "We encountered an internal error. Please try again."))
    if not finished[0]:  # answered before its body was read (an error): the rest is never read
        resp.headers["Connection"] = "close"
    await send_response(send, req, resp)


def _has_body(scope) -> bool:
    for k, v in scope.get("headers", ()):
        if k == b"content-length":
            return v.strip() not in (b"0", b"")
        if k == b"transfer-encoding":
            return True
    return False


def error_response(req: S3Request, e: S3Error) -> Response:
    body = b"" if req.method == "HEAD" else e.body(req.resource, req.request_id)
    return Response(e.status, body, dict(e.headers))


async def send_response(send, req: S3Request, resp: Response) -> None:
    headers = [
        (b"x-amz-request-id", req.request_id.encode()),
        (b"x-amz-id-2", req.request_id.encode()),
        (b"server", b"IONOS-Emulator-S3"),
    ]
    length = (
        resp.length if (resp.stream is not None or req.method == "HEAD") and resp.length is not None else len(resp.body)
    )
    if resp.status not in (204, 304) or length:
        headers.append((b"content-length", str(length).encode()))
    if resp.body or resp.stream is not None or (req.method == "HEAD" and resp.status == 200):
        headers.append((b"content-type", resp.content_type.encode()))
    headers += [
        (k.lower().encode(), str(v).encode("latin-1", "replace"))
        for k, v in resp.headers.items()
        if k.lower() != "content-length"
    ]
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    if resp.stream is None or req.method == "HEAD":
        await send({"type": "http.response.body", "body": resp.body if req.method != "HEAD" else b""})
        return
    async for data in resp.stream:
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
