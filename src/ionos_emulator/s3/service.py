"""The S3 operations, read top to bottom: a request is parsed (`S3Request`), its signature verified
(auth.py with keys.py), routed by method, bucket, key and sub-resource (`route`), checked against the bucket's
owner, policy and ACL (access.py), served on the metadata (meta.py) and the bytes (blobs.py), and answered in
S3's XML (xml.py). Every S3 error is an `S3Error`; an operation the emulator does not serve answers
NotImplemented (501)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from functools import partial
from typing import Any
from urllib.parse import quote, unquote

from starlette.datastructures import Headers, QueryParams

from ..engine.clock import real_now
from . import access, auth
from .blobs import Blobs, new_blob_id
from .body import Decoded, raw, read_all
from .keys import Caller, Keys, contract_id
from .meta import SEP, Meta, new_upload_id, new_version_id, order_now
from .regions import BY_ID, REGIONS, Region
from .xml import S3Error, child_text, document, invalid_argument, parse

MAX_PUT = 5 * 1024**3  # a single PUT (and a part)
MIN_PART = 5 * 1024**2  # every part of a multipart upload but the last
MAX_PARTS = 10_000
MAX_KEY_BYTES = 1024
MAX_BUCKETS = 500  # per user (docs.ionos.com: "up to 500 buckets in a user account")
MAX_META_BYTES = 2 * 1024
MAX_DELETE = 1000
STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "REDUCED_REDUNDANCY")
CONTENT_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$")
KEY_MAX = "\U0010ffff"


@dataclass
class S3Request:
    method: str
    raw_path: str  # as the client sent (and signed) it, with any /s3/<region> prefix
    raw_query: str
    query: QueryParams
    headers: Headers
    region: Region
    bucket: str | None
    key: str | None
    website: bool
    receive: Callable[[], Awaitable[dict]]
    now: float
    request_id: str = field(default_factory=lambda: new_blob_id()[8:].upper())
    caller: Caller | None = None
    signed: auth.Signed | None = None

    @property
    def resource(self) -> str:
        if self.bucket is None:
            return "/"
        return f"/{self.bucket}" + (f"/{self.key}" if self.key is not None else "")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: AsyncIterator[bytes] | None = None
    length: int | None = None  # of the stream
    content_type: str = "application/xml"


def xml(root: str, children: list, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, document(root, children), headers or {})


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def etag_of(rec: dict) -> str:
    return f'"{rec["etag"]}"'


def _iso_to_ts(value: str) -> float:
    v = value.strip().replace("Z", "+00:00")
    try:
        from datetime import datetime

        return datetime.fromisoformat(v).timestamp()
    except ValueError:
        raise S3Error("InvalidArgument", f"The date '{value}' is not an ISO 8601 date") from None


def _http_ts(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def encode_key(value: str, encoding: str | None) -> str:
    return quote(value, safe="/") if encoding == "url" else value


class S3:
    """The data plane of every region; one per emulator app."""

    def __init__(self, services, object_dir: str):
        self.services = services
        self.store = services.store
        self.meta = Meta(services.store)
        self.keys = Keys(services)
        self.blobs = Blobs(object_dir)

    # -- top --------------------------------------------------------------------------------------
    async def handle(self, req: S3Request) -> Response:
        if req.method == "OPTIONS":
            return self.preflight(req)
        await self.authenticate(req)
        if req.website:
            return await self.website(req)
        op = self.route(req)
        resp = await op(req)
        if req.bucket and "origin" in req.headers:
            resp.headers.update(self.cors_for(req))
        return resp

    async def authenticate(self, req: S3Request) -> None:
        claimed = auth.access_key_of(req.method, req.headers, req.raw_query, req.query)
        if claimed is None:
            return  # anonymous: only what policies and ACLs open to everyone
        key, scheme = claimed
        caller = self.keys.caller(key, req.region.contract_owned)
        resource = auth.v2_resource(req.bucket, req.key, req.query) if scheme.startswith("v2") else ""
        # signatures are dated by the client's real clock, whatever the emulated one says
        req.signed = auth.verify(
            scheme, caller.secret, req.method, req.raw_path, req.raw_query, req.headers, req.query, real_now(), resource
        )
        req.caller = caller

    def route(self, req: S3Request) -> Callable[[S3Request], Awaitable[Response]]:
        m, q = req.method, req.query
        if req.bucket is None:
            if m == "GET":
                return self.list_buckets
            raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")
        unserved = next((k for k in q if k in NOT_SERVED), None)
        if unserved is not None:
            raise S3Error("NotImplemented", f"?{unserved} is not implemented by the emulator")
        on_bucket = req.key is None
        subresources = BUCKET_SUBRESOURCES if on_bucket else OBJECT_SUBRESOURCES
        target = "a bucket" if on_bucket else "an object"
        for sub, ops in subresources.items():
            if sub in q:
                op = ops.get(m)
                if op is None:
                    raise S3Error("NotImplemented", f"{m} ?{sub} on {target} is not implemented by the emulator")
                return partial(op, self)
        if on_bucket:
            plain = {"PUT": self.create_bucket, "HEAD": self.head_bucket, "DELETE": self.delete_bucket}
            plain["GET"] = self.list_objects
        else:
            plain = {"PUT": self.copy_object if "x-amz-copy-source" in req.headers else self.put_object}
            plain.update(GET=self.get_object, HEAD=self.get_object, DELETE=self.delete_object)
        if m not in plain:
            raise S3Error("NotImplemented", f"{m} on {target} is not implemented by the emulator")
        return plain[m]

    # -- access -----------------------------------------------------------------------------------
    def bucket(self, req: S3Request, name: str | None = None) -> dict:
        b = self.meta.bucket(req.region.id, name or req.bucket or "")
        if b is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", BucketName=name or req.bucket)
        return b

    def allow(self, req: S3Request, b: dict, action: str, rec: dict | None = None, key: str | None = None) -> None:
        """AccessDenied unless the caller owns the bucket, or its policy or an ACL lets the caller do it."""
        caller = req.caller
        pab = b["cfg"].get("pab") or {}
        doc = b["cfg"].get("policy")
        resource = b["name"] + (f"/{key if key is not None else req.key}" if (key or req.key) is not None else "")
        decision = access.policy_decision(
            doc,
            caller,
            action,
            resource,
            ignore_public=bool(pab.get("RestrictPublicBuckets")) and (caller is None or not caller.owns(b)),
        )
        if decision == "Deny" and not (
            caller is not None and caller.owns(b) and action.startswith("s3:PutBucketPolicy")
        ):
            raise access.denied()
        if caller is not None and caller.owns(b):
            return
        if caller is None and req.region.contract_owned and decision != "Allow":
            raise access.denied()
        if decision == "Allow":
            return
        need = access.ACL_NEEDS.get(action)
        if need is not None:
            grants = (rec or {}).get("acl") if need[0] == "o" else b.get("acl")
            if grants and access.acl_allows(grants, caller, need[1], bool(pab.get("IgnorePublicAcls"))):
                return
        raise access.denied()

    def owner_xml(self, b: dict) -> list:
        return [("ID", b["owner_id"]), ("DisplayName", b["owner_name"])]

    # -- service ----------------------------------------------------------------------------------
    async def list_buckets(self, req: S3Request) -> Response:
        caller = req.caller
        if caller is None:
            raise access.denied()
        owner = f"c:{caller.tenant}" if req.region.contract_owned else f"u:{caller.user_id}"
        same_kind = {r.id for r in REGIONS if r.contract_owned == req.region.contract_owned}
        buckets = sorted((b for b in self.meta.buckets_of(owner) if b["region"] in same_kind), key=lambda b: b["name"])
        owner_id = contract_id(caller.tenant) if req.region.contract_owned else caller.canonical_id
        return xml(
            "ListAllMyBucketsResult",
            [
                (
                    "Owner",
                    [
                        ("ID", owner_id),
                        ("DisplayName", str(caller.tenant) if req.region.contract_owned else caller.email),
                    ],
                ),
                ("Buckets", [("Bucket", [("Name", b["name"]), ("CreationDate", iso(b["created"]))]) for b in buckets]),
            ],
        )

    # -- buckets ----------------------------------------------------------------------------------
    async def create_bucket(self, req: S3Request) -> Response:
        caller = req.caller
        if caller is None:
            raise access.denied()
        name = req.bucket or ""
        check_bucket_name(name)
        body = await read_all(req.receive, 64 * 1024)
        region = req.region.id
        if body.strip():
            constraint = child_text(parse(body), "LocationConstraint")
            if constraint:
                if constraint not in BY_ID:
                    raise S3Error(
                        "InvalidLocationConstraint",
                        "The specified location-constraint is not valid",
                        LocationConstraint=constraint,
                    )
                if constraint != region:
                    raise S3Error(
                        "IllegalLocationConstraintException",
                        f"The {constraint} location constraint is incompatible for the region specific endpoint "
                        f"this request was sent to.",
                    )
        if req.region.contract_owned and not caller.admin:
            raise access.denied()  # the contract's owner and administrators create its buckets
        existing = self.meta.bucket(region, name)
        if existing is not None:
            if caller.owns(existing):
                raise S3Error(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    BucketName=name,
                )
            raise S3Error(
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by all users of the "
                "system. Please select a different name and try again.",
                BucketName=name,
            )
        contract = req.region.contract_owned
        if not contract and len(self.meta.buckets_of(f"u:{caller.user_id}")) >= MAX_BUCKETS:
            raise S3Error("TooManyBuckets", "You have attempted to create more buckets than allowed")
        owner_id = contract_id(caller.tenant) if contract else caller.canonical_id
        lock = req.headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true"
        b = {
            "name": name,
            "region": region,
            "tenant": caller.tenant,
            "user": "" if contract else caller.user_id,
            "contract": contract,
            "owner_id": owner_id,
            "owner_name": str(caller.tenant) if contract else caller.email,
            "created": req.now,
            "versioning": "Enabled" if lock else "",
            "lock": {"enabled": lock, "rule": None},
            "acl": access.header_grants(req.headers, owner_id) or access.canned_grants("private", owner_id),
            "cfg": {},
        }
        with self.store.tx():
            if self.meta.bucket(region, name) is not None:  # created meanwhile
                raise S3Error("BucketAlreadyExists", "The requested bucket name is not available.", BucketName=name)
            self.meta.put_bucket(b)
        return Response(200, headers={"Location": f"/{name}"})

    async def head_bucket(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:ListBucket")
        return Response(200, headers={"x-amz-bucket-region": req.region.id})

    async def delete_bucket(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:DeleteBucket")
        if req.caller is None or not req.caller.owns(b):
            raise access.denied()
        freed: list[str] = []
        with self.store.tx():
            if not self.meta.is_empty(b["region"], b["name"]):
                raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=b["name"])
            for up in self.meta.uploads_page(b["region"], b["name"], "", "", 100_000):
                freed += self.meta.drop_upload(b["region"], b["name"], up)
            self.meta.delete_bucket(b)
        self.blobs.delete(*freed)
        return Response(204)

    async def get_location(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:GetBucketLocation")
        return Response(
            200,
            document("LocationConstraint", []).replace(
                b"></LocationConstraint>", f">{b['region']}</LocationConstraint>".encode()
            ),
        )

    # -- objects: writing -------------------------------------------------------------------------
    def check_key(self, key: str) -> None:
        if not key:
            raise S3Error("InvalidArgument", "An object key must not be empty")
        if len(key.encode()) > MAX_KEY_BYTES:
            raise S3Error("KeyTooLongError", "Your key is too long")

    def object_fields(self, req: S3Request, b: dict) -> dict:
        """What a PUT, a copy with REPLACE or an initiated upload says about the object besides its bytes."""
        h = req.headers
        meta = {}
        size = 0
        for name, value in h.items():
            if name.startswith("x-amz-meta-"):
                meta[name[len("x-amz-meta-") :]] = value
                size += len(name) - len("x-amz-") + len(value)
        if size > MAX_META_BYTES:
            raise S3Error("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
        sc = h.get("x-amz-storage-class", "STANDARD")
        if sc not in STORAGE_CLASSES:
            raise S3Error(
                "InvalidStorageClass", "The storage class you specified is not valid", StorageClassRequested=sc
            )
        sse = h.get("x-amz-server-side-encryption")
        if sse is not None and sse != "AES256":
            raise invalid_argument(
                "The encryption method specified is not supported", "x-amz-server-side-encryption", sse
            )
        if sse is None and (b["cfg"].get("encryption") or {}).get("algorithm"):
            sse = b["cfg"]["encryption"]["algorithm"]
        owner_id = req.caller.canonical_id if req.caller else "anonymous"
        fields = {
            "ct": h.get("content-type", "binary/octet-stream"),
            "hdrs": content_headers(h),
            "meta": meta,
            "sc": sc,
            "sse": sse,
            "acl": access.header_grants(h, owner_id, b["owner_id"]) or access.canned_grants("private", owner_id),
            "tags": parse_tag_header(h.get("x-amz-tagging", "")),
            "owner": owner_id,
        }
        fields.update(self.lock_fields(req, b))
        return fields

    def lock_fields(self, req: S3Request, b: dict) -> dict:
        h = req.headers
        mode = h.get("x-amz-object-lock-mode")
        until = h.get("x-amz-object-lock-retain-until-date")
        hold = h.get("x-amz-object-lock-legal-hold")
        if (mode or until or hold) and not b["lock"]["enabled"]:
            raise S3Error("InvalidRequest", "Bucket is missing Object Lock Configuration")
        if bool(mode) != bool(until):
            raise S3Error(
                "InvalidArgument",
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            )
        out: dict[str, Any] = {}
        if mode:
            if mode not in ("GOVERNANCE", "COMPLIANCE"):
                raise S3Error("InvalidArgument", "Unknown wormMode directive.")
            ts = _iso_to_ts(until or "")
            if ts <= req.now:
                raise S3Error("InvalidArgument", "The retain until date must be in the future!")
            out["retention"] = {"mode": mode, "until": ts}
        elif b["lock"]["enabled"] and b["lock"].get("rule"):
            rule = b["lock"]["rule"]
            out["retention"] = {"mode": rule["mode"], "until": req.now + rule["days"] * 86400}
        if hold:
            if hold not in ("ON", "OFF"):
                raise S3Error("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'")
            out["hold"] = hold == "ON"
        return out

    async def receive_blob(self, req: S3Request, limit: int = MAX_PUT):
        """The request body streamed to a new blob, every digest and length it declared checked."""
        h = req.headers
        signed = req.signed
        payload = signed.payload if signed else auth.UNSIGNED
        streamed = payload in auth.STREAMED
        declared = h.get("x-amz-decoded-content-length") if streamed else h.get("content-length")
        if declared is None and not streamed and "chunked" not in h.get("transfer-encoding", ""):
            raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
        if declared is not None:
            if not declared.isdigit():
                raise S3Error("InvalidArgument", "Content-Length must be a number")
            if int(declared) > limit:
                raise S3Error(
                    "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", MaxSizeAllowed=limit
                )
        md5_header = h.get("content-md5")
        expected_md5 = None
        if md5_header is not None:
            try:
                expected_md5 = base64.b64decode(md5_header, validate=True)
            except binascii.Error:
                expected_md5 = b""
            if len(expected_md5) != 16:
                raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
        source: AsyncIterator[bytes] = raw(req.receive)
        decoded = None
        if streamed and signed is not None:
            decoded = Decoded(source, signed)
            source = decoded.__aiter__()
        want_sha = payload not in (auth.UNSIGNED, *auth.STREAMED)
        crc_header = None if streamed else h.get("x-amz-checksum-crc32")
        written = await self.blobs.write(limited(source, limit), sha256=want_sha, crc32=crc_header is not None)
        try:
            if declared is not None and written.size != int(declared):
                raise S3Error(
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length HTTP header",
                )
            if expected_md5 is not None and written.md5 != expected_md5:
                raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
            if want_sha and written.sha256 != payload:
                raise S3Error(
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    ClientComputedContentSHA256=payload,
                    S3ComputedContentSHA256=written.sha256,
                )
            if crc_header is not None and crc_header != base64.b64encode(written.crc32.to_bytes(4, "big")).decode():
                raise S3Error("BadDigest", "The CRC32 you specified did not match the calculated checksum.")
        except S3Error:
            self.blobs.delete(written.blob)
            raise
        checksums = {k: v for k, v in h.items() if k.startswith("x-amz-checksum-") and k != "x-amz-checksum-algorithm"}
        if decoded is not None:
            checksums.update({k: v for k, v in decoded.trailers.items() if k.startswith("x-amz-checksum-")})
        return written, checksums

    def put_version(self, b: dict, rec: dict, freed: list[str]) -> dict:
        """Makes `rec` the key's current version as the bucket's versioning says (inside a transaction); the
        blobs no version references any more go to `freed`."""
        region, name = b["region"], b["name"]
        state = b.get("versioning", "")
        cur = self.meta.current(region, name, rec["key"])
        if state == "Enabled":
            rec["vid"] = new_version_id()
            rec["order"] = rec["vid"][:20]
        else:
            rec["vid"] = "null"
            rec["order"] = order_now()
        if cur is not None:
            if cur.get("vid", "null") == "null" and state != "Enabled":  # the null version is replaced
                freed += blob_ids(cur)
            else:
                self.meta.add_noncurrent(region, name, cur)
        if state == "Suspended":  # the one null version is replaced
            for old in self.meta.noncurrent(region, name, rec["key"]):
                if old.get("vid") == "null":
                    self.meta.drop_noncurrent(region, name, old)
                    freed += blob_ids(old)
        self.meta.set_current(region, name, rec)
        return rec

    async def put_object(self, req: S3Request) -> Response:
        b = self.bucket(req)
        key = req.key or ""
        self.check_key(key)
        self.allow(req, b, "s3:PutObject")
        fields = self.object_fields(req, b)
        if "x-amz-acl" in req.headers or any(g in req.headers for g in access.GRANT_HEADERS):
            self.check_public_acl(b, fields["acl"])
        self.check_put_conditions(req, b, key)
        written, checksums = await self.receive_blob(req)
        rec = {
            "key": key,
            "blobs": [[written.blob, written.size]],
            "size": written.size,
            "etag": written.md5.hex(),
            "mtime": req.now,
            "checksums": checksums,
            **fields,
        }
        freed: list[str] = []
        try:
            with self.store.tx():
                self.check_put_conditions(req, b, key)
                self.put_version(self.bucket(req), rec, freed)
        except Exception:
            self.blobs.delete(written.blob)
            raise
        self.blobs.delete(*freed)
        headers = {"ETag": etag_of(rec), **self.version_headers(b, rec)}
        if rec.get("sse"):
            headers["x-amz-server-side-encryption"] = rec["sse"]
        headers.update(checksums)
        return Response(200, headers=headers)

    def check_put_conditions(self, req: S3Request, b: dict, key: str) -> None:
        cur = self.meta.current(b["region"], b["name"], key)
        live = cur is not None and not cur.get("dm")
        if req.headers.get("if-none-match", "").strip() == "*" and live:
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                Condition="If-None-Match",
            )
        if_match = req.headers.get("if-match")
        if if_match is not None and (not live or not etag_matches(if_match, cur or {})):
            if not live:
                raise S3Error("NoSuchKey", "The specified key does not exist.", Key=key)
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                Condition="If-Match",
            )

    def check_public_acl(self, b: dict, grants: list[dict]) -> None:
        if (b["cfg"].get("pab") or {}).get("BlockPublicAcls") and any(access.is_public_grant(g) for g in grants):
            raise access.denied()

    def version_headers(self, b: dict, rec: dict) -> dict[str, str]:
        if b.get("versioning"):
            return {"x-amz-version-id": rec.get("vid", "null")}
        return {}

    # -- objects: reading -------------------------------------------------------------------------
    def find_version(self, req: S3Request, b: dict, key: str, version_id: str | None) -> tuple[dict, bool]:
        if version_id is not None:
            if version_id != "null" and not b.get("versioning"):
                raise invalid_argument("Invalid version id specified", "versionId", version_id)
            rec, current = self.meta.version(b["region"], b["name"], key, version_id)
            if rec is None:
                raise S3Error("NoSuchVersion", "The specified version does not exist.", Key=key, VersionId=version_id)
            return rec, current
        rec = self.meta.current(b["region"], b["name"], key)
        if rec is None:
            raise S3Error("NoSuchKey", "The specified key does not exist.", Key=key)
        return rec, True

    async def get_object(self, req: S3Request) -> Response:
        b = self.bucket(req)
        key = req.key or ""
        version_id = req.query.get("versionId")
        try:
            rec, _ = self.find_version(req, b, key, version_id)
        except S3Error as e:
            if e.code in ("NoSuchKey", "NoSuchVersion"):
                # without the right to list, a missing key is AccessDenied (as S3)
                try:
                    self.allow(req, b, "s3:ListBucket")
                except S3Error:
                    raise access.denied() from None
            raise
        if rec.get("dm"):
            self.allow(req, b, "s3:GetObject", rec)
            headers = {
                "x-amz-delete-marker": "true",
                "x-amz-version-id": rec["vid"],
                "Last-Modified": http_date(rec["mtime"]),
            }
            if version_id is not None:
                err = S3Error(
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                    Method=req.method,
                    ResourceType="DeleteMarker",
                )
            else:
                err = S3Error("NoSuchKey", "The specified key does not exist.", Key=key)
            err.headers = headers
            raise err
        self.allow(req, b, "s3:GetObjectVersion" if version_id else "s3:GetObject", rec)
        headers = self.object_headers(b, rec)
        for param, header in RESPONSE_OVERRIDES.items():
            if param in req.query:
                if req.caller is None:
                    raise S3Error(
                        "InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests."
                    )
                headers[header] = req.query[param]
        status = self.check_read_conditions(req, rec)
        if status == 304:
            return Response(
                304, headers={k: v for k, v in headers.items() if k in ("ETag", "Last-Modified", "x-amz-version-id")}
            )
        size = rec["size"]
        start, end = 0, size - 1
        code = 200
        part = req.query.get("partNumber")
        if part is not None:
            start, end, count = part_range(rec, part)
            headers["x-amz-mp-parts-count"] = str(count)
            if count > 1 or rec.get("parts"):
                code = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        elif "range" in req.headers and size >= 0:
            r = parse_range(req.headers["range"], size)
            if r is not None:
                start, end = r
                code = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        if code == 200 and req.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
            headers.update(rec.get("checksums") or {})  # the whole object's, as the client sent (and we checked) them
        if req.method == "HEAD":
            return Response(code, headers=headers, length=length, content_type=headers.pop("Content-Type"))
        return Response(
            code,
            headers=headers,
            stream=self.read_bytes(rec, start, end) if length else None,
            length=length,
            content_type=headers.pop("Content-Type"),
        )

    async def read_bytes(self, rec: dict, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end of a version, across the blobs (parts) it is made of."""
        offset = 0
        for blob, size in rec["blobs"]:
            lo, hi = offset, offset + size - 1
            offset += size
            if hi < start or lo > end or size == 0:
                continue
            if end - start < 64 * 1024 and len(rec["blobs"]) == 1:  # small: one read
                yield self.blobs.read_small(blob, start - lo, end - start + 1)
                return
            async for data in self.blobs.read(blob, max(start, lo) - lo, min(end, hi) - lo):
                yield data

    def object_headers(self, b: dict, rec: dict) -> dict[str, str]:
        headers = {
            "ETag": etag_of(rec),
            "Last-Modified": http_date(rec["mtime"]),
            "Accept-Ranges": "bytes",
            "Content-Type": rec.get("ct") or "binary/octet-stream",
        }
        for name, value in rec.get("hdrs", {}).items():
            headers[name.title()] = value
        for name, value in rec.get("meta", {}).items():
            headers[f"x-amz-meta-{name}"] = value
        headers.update(self.version_headers(b, rec))
        if rec.get("sc", "STANDARD") != "STANDARD":
            headers["x-amz-storage-class"] = rec["sc"]
        if rec.get("sse"):
            headers["x-amz-server-side-encryption"] = rec["sse"]
        if rec.get("tags"):
            headers["x-amz-tagging-count"] = str(len(rec["tags"]))
        if rec.get("retention"):
            headers["x-amz-object-lock-mode"] = rec["retention"]["mode"]
            headers["x-amz-object-lock-retain-until-date"] = iso(rec["retention"]["until"])
        if "hold" in rec:
            headers["x-amz-object-lock-legal-hold"] = "ON" if rec["hold"] else "OFF"
        return headers

    def check_read_conditions(self, req: S3Request, rec: dict) -> int:
        """200, or 304 (not modified); PreconditionFailed raised. RFC 7232's order, as S3 applies it."""
        h = req.headers
        mtime = int(rec["mtime"])
        if_match = h.get("if-match")
        if if_match is not None:
            if not etag_matches(if_match, rec):
                raise S3Error(
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    Condition="If-Match",
                )
        elif "if-unmodified-since" in h:
            ts = _http_ts(h["if-unmodified-since"])
            if ts is not None and mtime > ts:
                raise S3Error(
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    Condition="If-Unmodified-Since",
                )
        if_none = h.get("if-none-match")
        if if_none is not None:
            if etag_matches(if_none, rec):
                return 304
        elif "if-modified-since" in h:
            ts = _http_ts(h["if-modified-since"])
            if ts is not None and mtime <= ts:
                return 304
        return 200

    # -- objects: deleting ------------------------------------------------------------------------
    def check_lock(self, req: S3Request, rec: dict) -> None:
        """A version under a legal hold or an unexpired retention is not deleted (GOVERNANCE: unless bypassed)."""
        if rec.get("hold"):
            raise S3Error("AccessDenied", "Access Denied because object protected by object lock.")
        ret = rec.get("retention")
        if ret and ret["until"] > req.now:
            bypass = req.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"
            if ret["mode"] == "COMPLIANCE" or not bypass:
                raise S3Error("AccessDenied", "Access Denied because object protected by object lock.")

    def delete_one(self, req: S3Request, b: dict, key: str, version_id: str | None, freed: list[str]) -> dict:
        """Deletes a key (a delete marker where versioning is on) or one version; inside a transaction.
        Returns {"vid", "dm"} of what was removed or made."""
        region, name = b["region"], b["name"]
        state = b.get("versioning", "")
        cur = self.meta.current(region, name, key)
        if version_id is None:
            if state == "":
                if cur is not None:
                    self.meta.drop_current(region, name, key)
                    freed += blob_ids(cur)
                return {}
            marker = {"key": key, "dm": True, "mtime": req.now, "owner": req.caller.canonical_id if req.caller else ""}
            self.put_version(b, marker, freed)
            return {"vid": marker["vid"], "dm": True}
        if version_id != "null" and not state:
            raise invalid_argument("Invalid version id specified", "versionId", version_id)
        rec, current = self.meta.version(region, name, key, version_id)
        if rec is None:
            return {"vid": version_id}  # S3 answers 204 for a version that is not there
        if not rec.get("dm"):
            self.check_lock(req, rec)
        if current:
            self.meta.drop_current(region, name, key)
            older = self.meta.noncurrent(region, name, key)
            if older:
                self.meta.drop_noncurrent(region, name, older[0])
                self.meta.set_current(region, name, older[0])
        else:
            self.meta.drop_noncurrent(region, name, rec)
        freed += blob_ids(rec)
        return {"vid": version_id, "dm": bool(rec.get("dm"))}

    async def delete_object(self, req: S3Request) -> Response:
        b = self.bucket(req)
        key = req.key or ""
        version_id = req.query.get("versionId")
        self.allow(req, b, "s3:DeleteObjectVersion" if version_id else "s3:DeleteObject")
        freed: list[str] = []
        with self.store.tx():
            done = self.delete_one(req, b, key, version_id, freed)
        self.blobs.delete(*freed)
        headers = {}
        if done.get("vid"):
            headers["x-amz-version-id"] = done["vid"]
        if done.get("dm"):
            headers["x-amz-delete-marker"] = "true"
        return Response(204, headers=headers)

    async def delete_objects(self, req: S3Request) -> Response:
        b = self.bucket(req)
        body = await read_all(req.receive, 2 * 1024 * 1024)
        md5 = req.headers.get("content-md5")
        if md5 is not None and base64.b64encode(hashlib.md5(body).digest()).decode() != md5.strip():
            raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
        root = parse(body)
        quiet = child_text(root, "Quiet").lower() == "true"
        objects = root.findall("Object")
        if not objects or len(objects) > MAX_DELETE:
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        results: list = []
        freed: list[str] = []
        for obj in objects:
            key = child_text(obj, "Key")
            vid = child_text(obj, "VersionId") or None
            try:
                self.allow(req, b, "s3:DeleteObjectVersion" if vid else "s3:DeleteObject", key=key)
                with self.store.tx():
                    done = self.delete_one(req, b, key, vid, freed)
            except S3Error as e:
                results.append(("Error", [("Key", key), ("VersionId", vid), ("Code", e.code), ("Message", e.message)]))
                continue
            if not quiet:
                entry: list = [("Key", key)]
                if vid:
                    entry.append(("VersionId", vid))
                if done.get("dm"):
                    entry.append(("DeleteMarker", True))
                    if not vid:
                        entry.append(("DeleteMarkerVersionId", done["vid"]))
                results.append(("Deleted", entry))
        self.blobs.delete(*freed)
        return xml("DeleteResult", results)

    # -- copies -----------------------------------------------------------------------------------
    def copy_source(self, req: S3Request) -> tuple[dict, dict]:
        raw_source = req.headers["x-amz-copy-source"]
        path, _, qs = raw_source.partition("?")
        path = unquote(path).lstrip("/")
        src_bucket, _, src_key = path.partition("/")
        if not src_bucket or not src_key:
            raise invalid_argument(
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                "x-amz-copy-source",
                raw_source,
            )
        version_id = QueryParams(qs).get("versionId")
        sb = self.bucket(req, src_bucket)
        rec, _ = self.find_version(req, sb, src_key, version_id)
        if rec.get("dm"):
            if version_id:
                raise S3Error(
                    "InvalidRequest",
                    "The source of a copy request may not specifically refer to a delete marker by version id.",
                )
            raise S3Error("NoSuchKey", "The specified key does not exist.", Key=src_key)
        self.allow(req, sb, "s3:GetObject", rec, key=src_key)
        h = req.headers
        if "x-amz-copy-source-if-match" in h and not etag_matches(h["x-amz-copy-source-if-match"], rec):
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                Condition="x-amz-copy-source-If-Match",
            )
        if "x-amz-copy-source-if-none-match" in h and etag_matches(h["x-amz-copy-source-if-none-match"], rec):
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                Condition="x-amz-copy-source-If-None-Match",
            )
        for name, newer in (
            ("x-amz-copy-source-if-modified-since", False),
            ("x-amz-copy-source-if-unmodified-since", True),
        ):
            ts = _http_ts(h.get(name, ""))
            if ts is not None and ((rec["mtime"] > ts) if newer else (int(rec["mtime"]) <= ts)):
                raise S3Error(
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    Condition=name,
                )
        return sb, rec

    async def copy_blobs(self, rec: dict, start: int = 0, end: int | None = None) -> tuple[list, bytes]:
        """A new blob with bytes start..end of a version: (blobs, md5)."""
        stop = rec["size"] - 1 if end is None else end
        source = self.read_bytes(rec, start, stop) if rec["size"] else empty()
        written = await self.blobs.write(source)
        return [[written.blob, written.size]], written.md5

    async def copy_object(self, req: S3Request) -> Response:
        b = self.bucket(req)
        key = req.key or ""
        self.check_key(key)
        sb, src = self.copy_source(req)
        self.allow(req, b, "s3:PutObject")
        directive = req.headers.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
        same = sb["name"] == b["name"] and src["key"] == key
        changing = directive == "REPLACE" or any(
            n in req.headers
            for n in ("x-amz-storage-class", "x-amz-server-side-encryption", "x-amz-website-redirect-location")
        )
        if (
            same
            and not changing
            and not req.query.get("versionId")
            and "versionId" not in req.headers["x-amz-copy-source"]
        ):
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes.",
            )
        fields = self.object_fields(req, b)
        if directive == "COPY":
            for name in ("ct", "hdrs", "meta"):
                fields[name] = src.get(name, fields[name])
        if req.headers.get("x-amz-tagging-directive", "COPY").upper() == "COPY":
            fields["tags"] = src.get("tags", {})
        blobs, md5 = await self.copy_blobs(src)
        rec = {
            "key": key,
            "blobs": blobs,
            "size": src["size"],
            "etag": md5.hex(),
            "mtime": req.now,
            "checksums": {},
            **fields,
        }
        freed: list[str] = []
        with self.store.tx():
            self.put_version(self.bucket(req), rec, freed)
        self.blobs.delete(*freed)
        headers = self.version_headers(b, rec)
        if sb.get("versioning"):
            headers["x-amz-copy-source-version-id"] = src.get("vid", "null")
        if rec.get("sse"):
            headers["x-amz-server-side-encryption"] = rec["sse"]
        return xml("CopyObjectResult", [("LastModified", iso(rec["mtime"])), ("ETag", etag_of(rec))], headers=headers)

    # -- multipart uploads ------------------------------------------------------------------------
    async def initiate_upload(self, req: S3Request) -> Response:
        b = self.bucket(req)
        key = req.key or ""
        self.check_key(key)
        self.allow(req, b, "s3:PutObject")
        up = {"id": new_upload_id(), "key": key, "initiated": req.now, **self.object_fields(req, b)}
        up["initiator"] = req.caller.canonical_id if req.caller else "anonymous"
        with self.store.tx():
            self.meta.put_upload(b["region"], b["name"], up)
        headers = {"x-amz-server-side-encryption": up["sse"]} if up.get("sse") else {}
        return xml(
            "InitiateMultipartUploadResult",
            [("Bucket", b["name"]), ("Key", key), ("UploadId", up["id"])],
            headers=headers,
        )

    def the_upload(self, req: S3Request, b: dict) -> dict:
        up = self.meta.upload(b["region"], b["name"], req.key or "", req.query.get("uploadId", ""))
        if up is None:
            raise S3Error(
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
                "aborted or completed.",
                UploadId=req.query.get("uploadId", ""),
            )
        return up

    def part_number(self, req: S3Request) -> int:
        raw_n = req.query.get("partNumber", "")
        if not raw_n.isdigit() or not 1 <= int(raw_n) <= MAX_PARTS:
            raise invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", raw_n)
        return int(raw_n)

    async def upload_part(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:PutObject")
        n = self.part_number(req)
        up = self.the_upload(req, b)
        if "x-amz-copy-source" in req.headers:
            return await self.upload_part_copy(req, b, up, n)
        written, checksums = await self.receive_blob(req)
        part = {
            "n": n,
            "blob": written.blob,
            "size": written.size,
            "etag": written.md5.hex(),
            "mtime": req.now,
            "checksums": checksums,
        }
        return self.store_part(req, b, up, part, {"ETag": f'"{part["etag"]}"', **checksums})

    def store_part(self, req: S3Request, b: dict, up: dict, part: dict, headers: dict, body: bytes = b"") -> Response:
        freed = []
        with self.store.tx():
            if self.meta.upload(b["region"], b["name"], up["key"], up["id"]) is None:  # aborted meanwhile
                freed.append(part["blob"])
            else:
                old = self.meta.part(up["id"], part["n"])
                if old is not None:
                    freed.append(old["blob"])
                self.meta.put_part(up["id"], part)
        self.blobs.delete(*freed)
        if part["blob"] in freed:
            raise S3Error("NoSuchUpload", "The specified upload does not exist.", UploadId=up["id"])
        if up.get("sse"):
            headers["x-amz-server-side-encryption"] = up["sse"]
        return Response(200, body, headers)

    async def upload_part_copy(self, req: S3Request, b: dict, up: dict, n: int) -> Response:
        sb, src = self.copy_source(req)
        start, end = 0, src["size"] - 1
        rng = req.headers.get("x-amz-copy-source-range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d+)", rng.strip())
            if not m or int(m.group(1)) > int(m.group(2)) or int(m.group(2)) >= src["size"]:
                raise invalid_argument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last "
                    "are the zero-based offsets of the first and last bytes to copy",
                    "x-amz-copy-source-range",
                    rng,
                )
            start, end = int(m.group(1)), int(m.group(2))
        blobs, md5 = await self.copy_blobs(src, start, end)
        part = {"n": n, "blob": blobs[0][0], "size": blobs[0][1], "etag": md5.hex(), "mtime": req.now, "checksums": {}}
        headers = {"x-amz-copy-source-version-id": src.get("vid", "null")} if sb.get("versioning") else {}
        body = document("CopyPartResult", [("LastModified", iso(req.now)), ("ETag", f'"{part["etag"]}"')])
        return self.store_part(req, b, up, part, headers, body)

    async def list_parts(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:ListMultipartUploadParts")
        up = self.the_upload(req, b)
        marker = int_param(req, "part-number-marker", 0)
        max_parts = min(int_param(req, "max-parts", 1000), 1000)
        parts = self.meta.parts(up["id"], after=marker, limit=max_parts + 1)
        truncated = len(parts) > max_parts
        parts = parts[:max_parts]
        return xml(
            "ListPartsResult",
            [
                ("Bucket", b["name"]),
                ("Key", up["key"]),
                ("UploadId", up["id"]),
                ("Initiator", [("ID", up["initiator"]), ("DisplayName", up["initiator"])]),
                ("Owner", [("ID", up["owner"]), ("DisplayName", up["owner"])]),
                ("StorageClass", up["sc"]),
                ("PartNumberMarker", marker),
                ("NextPartNumberMarker", parts[-1]["n"] if parts else 0),
                ("MaxParts", max_parts),
                ("IsTruncated", truncated),
                *[
                    (
                        "Part",
                        [
                            ("PartNumber", p["n"]),
                            ("LastModified", iso(p["mtime"])),
                            ("ETag", f'"{p["etag"]}"'),
                            ("Size", p["size"]),
                        ],
                    )
                    for p in parts
                ],
            ],
        )

    async def list_uploads(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:ListBucketMultipartUploads")
        prefix = req.query.get("prefix", "")
        delimiter = req.query.get("delimiter", "")
        key_marker = req.query.get("key-marker", "")
        id_marker = req.query.get("upload-id-marker", "")
        max_uploads = min(int_param(req, "max-uploads", 1000), 1000)
        after = (
            key_marker + SEP + id_marker
            if key_marker and id_marker
            else (key_marker + SEP + KEY_MAX if key_marker else "")
        )
        uploads: list[dict] = []
        prefixes: list[str] = []
        truncated = False
        seen: set[str] = set()
        cursor = after
        while True:
            rows = self.meta.uploads_page(b["region"], b["name"], prefix, cursor, max_uploads + 1)
            if not rows:
                break
            for up in rows:
                cursor = up["key"] + SEP + up["id"]
                if delimiter:
                    i = up["key"].find(delimiter, len(prefix))
                    if i >= 0:
                        cp = up["key"][: i + len(delimiter)]
                        if cp not in seen:
                            if len(uploads) + len(prefixes) >= max_uploads:
                                truncated = True
                                break
                            seen.add(cp)
                            prefixes.append(cp)
                        continue
                if len(uploads) + len(prefixes) >= max_uploads:
                    truncated = True
                    break
                uploads.append(up)
            if truncated or len(rows) <= max_uploads:
                break
        children: list = [
            ("Bucket", b["name"]),
            ("KeyMarker", key_marker),
            ("UploadIdMarker", id_marker),
            ("NextKeyMarker", uploads[-1]["key"] if truncated and uploads else ""),
            ("NextUploadIdMarker", uploads[-1]["id"] if truncated and uploads else ""),
            ("MaxUploads", max_uploads),
            ("IsTruncated", truncated),
            ("Prefix", prefix),
        ]
        if delimiter:
            children.append(("Delimiter", delimiter))
        for up in uploads:
            children.append(
                (
                    "Upload",
                    [
                        ("Key", up["key"]),
                        ("UploadId", up["id"]),
                        ("Initiator", [("ID", up["initiator"]), ("DisplayName", up["initiator"])]),
                        ("Owner", [("ID", up["owner"]), ("DisplayName", up["owner"])]),
                        ("StorageClass", up["sc"]),
                        ("Initiated", iso(up["initiated"])),
                    ],
                )
            )
        children += [("CommonPrefixes", [("Prefix", p)]) for p in prefixes]
        return xml("ListMultipartUploadsResult", children)

    async def complete_upload(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:PutObject")
        up = self.the_upload(req, b)
        root = parse(await read_all(req.receive, 4 * 1024 * 1024))
        asked = []
        for el in root.findall("Part"):
            number = child_text(el, "PartNumber")
            if not number.isdigit():
                raise S3Error(
                    "MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our published schema",
                )
            asked.append((int(number), child_text(el, "ETag").strip('"')))
        if not asked:
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        if any(a[0] >= c[0] for a, c in zip(asked, asked[1:], strict=False)):
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
                UploadId=up["id"],
            )
        stored = {p["n"]: p for p in self.meta.parts(up["id"])}
        chosen = []
        for i, (n, tag) in enumerate(asked):
            p = stored.get(n)
            if p is None or p["etag"] != tag:
                raise S3Error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not have been uploaded, "
                    "or the specified entity tag may not match the part's entity tag.",
                    UploadId=up["id"],
                    PartNumber=n,
                    ETag=tag,
                )
            if i < len(asked) - 1 and p["size"] < MIN_PART:
                raise S3Error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                    ProposedSize=p["size"],
                    MinSizeAllowed=MIN_PART,
                    PartNumber=n,
                    ETag=tag,
                )
            chosen.append(p)
        etag = hashlib.md5(b"".join(bytes.fromhex(p["etag"]) for p in chosen)).hexdigest() + f"-{len(chosen)}"
        fields = {k: v for k, v in up.items() if k not in ("id", "key", "initiated", "initiator")}
        rec = {
            "key": up["key"],
            "blobs": [[p["blob"], p["size"]] for p in chosen],
            "size": sum(p["size"] for p in chosen),
            "etag": etag,
            "mtime": req.now,
            "parts": [p["size"] for p in chosen],
            "checksums": {},
            **fields,
        }
        used = {p["blob"] for p in chosen}
        freed: list[str] = []
        with self.store.tx():
            if self.meta.upload(b["region"], b["name"], up["key"], up["id"]) is None:
                raise S3Error("NoSuchUpload", "The specified upload does not exist.", UploadId=up["id"])
            freed += [blob for blob in self.meta.drop_upload(b["region"], b["name"], up) if blob not in used]
            self.put_version(self.bucket(req), rec, freed)
        self.blobs.delete(*freed)
        headers = self.version_headers(b, rec)
        if rec.get("sse"):
            headers["x-amz-server-side-encryption"] = rec["sse"]
        location = f"/{b['name']}/{quote(up['key'])}"
        return xml(
            "CompleteMultipartUploadResult",
            [("Location", location), ("Bucket", b["name"]), ("Key", up["key"]), ("ETag", f'"{etag}"')],
            headers=headers,
        )

    async def abort_upload(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:AbortMultipartUpload")
        up = self.the_upload(req, b)
        with self.store.tx():
            freed = self.meta.drop_upload(b["region"], b["name"], up)
        self.blobs.delete(*freed)
        return Response(204)

    # -- listing ----------------------------------------------------------------------------------
    def collect(self, b: dict, prefix: str, delimiter: str, after: str, max_keys: int, skip_prefix_upto: str = ""):
        """The current keys (no delete markers) and common prefixes after `after`, at most max_keys of them
        together: (entries [("k", key, rec) | ("p", prefix)], truncated, cursor to continue from). Each
        common prefix costs one range read, however many keys it holds."""
        entries: list[tuple] = []
        cursor = after
        if max_keys <= 0:
            return entries, False, cursor
        while True:
            batch = max_keys - len(entries) + 1
            rows = self.meta.page(b["region"], b["name"], prefix, cursor, batch)
            jumped = False
            for key, rec in rows:
                if delimiter:
                    i = key.find(delimiter, len(prefix))
                    if i >= 0:
                        cp = key[: i + len(delimiter)]
                        if cp <= skip_prefix_upto or (entries and entries[-1][0] == "p" and entries[-1][1] == cp):
                            cursor = cp + KEY_MAX
                            jumped = True
                            break
                        if len(entries) >= max_keys:
                            return entries, True, cursor
                        entries.append(("p", cp))
                        cursor = cp + KEY_MAX
                        jumped = True
                        break
                if rec.get("dm"):
                    cursor = key
                    continue
                if len(entries) >= max_keys:
                    return entries, True, cursor
                entries.append(("k", key, rec))
                cursor = key
            if not jumped and len(rows) < batch:
                return entries, False, cursor

    def contents(self, key: str, rec: dict, encoding: str | None, owner: bool, b: dict) -> tuple:
        entry: list = [
            ("Key", encode_key(key, encoding)),
            ("LastModified", iso(rec["mtime"])),
            ("ETag", etag_of(rec)),
            ("Size", rec["size"]),
            ("StorageClass", rec.get("sc", "STANDARD")),
        ]
        if owner:
            entry.append(
                (
                    "Owner",
                    [("ID", rec.get("owner") or b["owner_id"]), ("DisplayName", rec.get("owner") or b["owner_name"])],
                )
            )
        return ("Contents", entry)

    def list_args(self, req: S3Request) -> tuple[str, str, int, str | None]:
        prefix = req.query.get("prefix", "")
        delimiter = req.query.get("delimiter", "")
        max_keys = int_param(req, "max-keys", 1000)
        encoding = req.query.get("encoding-type")
        if encoding is not None and encoding != "url":
            raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding)
        return prefix, delimiter, min(max_keys, 1000), encoding

    async def list_objects(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:ListBucket")
        if req.query.get("list-type") == "2":
            return self.list_objects_v2(req, b)
        prefix, delimiter, max_keys, enc = self.list_args(req)
        marker = req.query.get("marker", "")
        entries, truncated, _ = self.collect(
            b, prefix, delimiter, marker, max_keys, skip_prefix_upto=marker if delimiter else ""
        )
        children: list = [
            ("Name", b["name"]),
            ("Prefix", encode_key(prefix, enc)),
            ("Marker", encode_key(marker, enc)),
            ("MaxKeys", max_keys),
        ]
        if delimiter:
            children.append(("Delimiter", encode_key(delimiter, enc)))
        children.append(("IsTruncated", truncated))
        if truncated and delimiter and entries:
            last = entries[-1]
            children.append(("NextMarker", encode_key(last[1], enc)))
        if enc:
            children.append(("EncodingType", enc))
        children += self.entries_xml(entries, enc, True, b)
        return xml("ListBucketResult", children)

    def entries_xml(self, entries: list[tuple], enc: str | None, owner: bool, b: dict) -> list:
        out = [self.contents(e[1], e[2], enc, owner, b) for e in entries if e[0] == "k"]
        out += [("CommonPrefixes", [("Prefix", encode_key(e[1], enc))]) for e in entries if e[0] == "p"]
        return out

    def list_objects_v2(self, req: S3Request, b: dict) -> Response:
        prefix, delimiter, max_keys, enc = self.list_args(req)
        token = req.query.get("continuation-token")
        start_after = req.query.get("start-after", "")
        skip = ""
        if token is not None:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise S3Error(
                    "InvalidArgument", "The continuation token provided is incorrect", ArgumentName="continuation-token"
                ) from None
        else:
            after = start_after
            skip = start_after if delimiter else ""
        entries, truncated, cursor = self.collect(b, prefix, delimiter, after, max_keys, skip_prefix_upto=skip)
        children: list = [("Name", b["name"]), ("Prefix", encode_key(prefix, enc))]
        if delimiter:
            children.append(("Delimiter", encode_key(delimiter, enc)))
        children += [("MaxKeys", max_keys), ("KeyCount", len(entries)), ("IsTruncated", truncated)]
        if enc:
            children.append(("EncodingType", enc))
        if token is not None:
            children.append(("ContinuationToken", token))
        if truncated:
            children.append(("NextContinuationToken", base64.urlsafe_b64encode(cursor.encode()).decode()))
        if start_after:
            children.append(("StartAfter", encode_key(start_after, enc)))
        children += self.entries_xml(entries, enc, req.query.get("fetch-owner") == "true", b)
        return xml("ListBucketResult", children)

    async def list_versions(self, req: S3Request) -> Response:
        b = self.bucket(req)
        self.allow(req, b, "s3:ListBucketVersions")
        prefix, delimiter, max_keys, enc = self.list_args(req)
        key_marker = req.query.get("key-marker", "")
        vid_marker = req.query.get("version-id-marker", "")
        # the keys from the marker on (the marker's own key again when a version id marker names where in it)
        after = key_marker[:-1] + chr(ord(key_marker[-1]) - 1) + KEY_MAX if key_marker and vid_marker else key_marker
        out: list = []
        count, truncated = 0, False
        next_key = next_vid = ""
        cursor = after
        skip = key_marker if delimiter else ""
        while not truncated:
            entries, more, cursor = self.collect_all_versions(b, prefix, delimiter, cursor, max_keys - count + 1, skip)
            for e in entries:
                if e[0] == "p":
                    if count >= max_keys:
                        truncated = True
                        break
                    out.append(("CommonPrefixes", [("Prefix", encode_key(e[1], enc))]))
                    count += 1
                    next_key, next_vid = e[1], ""
                    continue
                key, versions = e[1], e[2]
                if key == key_marker and vid_marker:
                    ids = [v.get("vid", "null") for v in versions]
                    versions = versions[ids.index(vid_marker) + 1 :] if vid_marker in ids else []
                for v in versions:
                    if count >= max_keys:
                        truncated = True
                        break
                    latest = v is e[2][0]
                    out.append(self.version_xml(b, key, v, latest, enc))
                    count += 1
                    next_key, next_vid = key, v.get("vid", "null")
                if truncated:
                    break
            if not more:
                break
        children: list = [
            ("Name", b["name"]),
            ("Prefix", encode_key(prefix, enc)),
            ("KeyMarker", encode_key(key_marker, enc)),
            ("VersionIdMarker", vid_marker),
            ("MaxKeys", max_keys),
        ]
        if delimiter:
            children.append(("Delimiter", encode_key(delimiter, enc)))
        children.append(("IsTruncated", truncated))
        if truncated:
            children += [("NextKeyMarker", encode_key(next_key, enc)), ("NextVersionIdMarker", next_vid or None)]
        if enc:
            children.append(("EncodingType", enc))
        return xml("ListVersionsResult", children + out)

    def collect_all_versions(self, b: dict, prefix: str, delimiter: str, after: str, limit: int, skip: str):
        """Keys (with every version, newest first) and common prefixes, delete markers included."""
        entries: list[tuple] = []
        cursor = after
        rows = self.meta.page(b["region"], b["name"], prefix, cursor, max(limit, 1))
        for key, rec in rows:
            if delimiter:
                i = key.find(delimiter, len(prefix))
                if i >= 0:
                    cp = key[: i + len(delimiter)]
                    cursor = cp + KEY_MAX
                    if cp > skip and not (entries and entries[-1][0] == "p" and entries[-1][1] == cp):
                        entries.append(("p", cp))
                    return entries, True, cursor
            entries.append(("k", key, [rec, *self.meta.noncurrent(b["region"], b["name"], key)]))
            cursor = key
        return entries, len(rows) >= max(limit, 1), cursor

    def version_xml(self, b: dict, key: str, v: dict, latest: bool, enc: str | None) -> tuple:
        owner = [("ID", v.get("owner") or b["owner_id"]), ("DisplayName", v.get("owner") or b["owner_name"])]
        common = [
            ("Key", encode_key(key, enc)),
            ("VersionId", v.get("vid", "null")),
            ("IsLatest", latest),
            ("LastModified", iso(v["mtime"])),
        ]
        if v.get("dm"):
            return ("DeleteMarker", [*common, ("Owner", owner)])
        return (
            "Version",
            [
                *common,
                ("ETag", etag_of(v)),
                ("Size", v["size"]),
                ("StorageClass", v.get("sc", "STANDARD")),
                ("Owner", owner),
            ],
        )

    # -- CORS ----------------------------------------------------------------------------------------
    def preflight(self, req: S3Request) -> Response:
        origin = req.headers.get("origin")
        method = req.headers.get("access-control-request-method")
        if not origin or not method:
            raise S3Error("BadRequest", "Insufficient information. Origin request header needed.", status=400)
        b = self.meta.bucket(req.region.id, req.bucket or "") if req.bucket else None
        if b is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", BucketName=req.bucket)
        requested = [h.strip() for h in req.headers.get("access-control-request-headers", "").split(",") if h.strip()]
        rules = (b["cfg"].get("cors") or {}).get("rules", [])
        rule = access.cors_rule(rules, origin, method, requested)
        if rule is None:
            raise S3Error(
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
                "whitelisted by the resource's CORS spec.",
                status=403,
                Method=method,
                ResourceType="OBJECT" if req.key else "BUCKET",
            )
        return Response(200, headers=access.cors_headers(rule, origin, True, requested))

    def cors_for(self, req: S3Request) -> dict[str, str]:
        b = self.meta.bucket(req.region.id, req.bucket or "")
        rules = (b or {}).get("cfg", {}).get("cors", {}).get("rules", []) if b else []
        rule = access.cors_rule(rules, req.headers["origin"], req.method, [])
        return access.cors_headers(rule, req.headers["origin"], False, []) if rule else {}

    # -- static websites --------------------------------------------------------------------------
    async def website(self, req: S3Request) -> Response:
        b = self.meta.bucket(req.region.id, req.bucket or "")
        site = (b or {}).get("cfg", {}).get("website") if b else None
        if b is None or not site:
            code = "NoSuchBucket" if b is None else "NoSuchWebsiteConfiguration"
            return html(
                404,
                code,
                "The specified bucket does not exist"
                if b is None
                else "The specified bucket does not have a website configuration",
            )
        if site.get("redirect"):
            target = site["redirect"]
            return Response(
                301, headers={"Location": f"{target.get('protocol', 'http')}://{target['host']}{unquote(req.raw_path)}"}
            )
        if req.method not in ("GET", "HEAD"):
            return html(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        key = req.key or ""
        if key == "" or key.endswith("/"):
            key += site["index"]
        rec = self.meta.current(b["region"], b["name"], key)
        if rec is None or rec.get("dm"):
            if not key.endswith("/" + site["index"]) and key != site["index"]:
                folder = self.meta.current(b["region"], b["name"], key + "/" + site["index"])
                if folder is not None and not folder.get("dm"):
                    return Response(302, headers={"Location": "/" + key + "/"})
            return await self.website_error(req, b, site, 404, "NoSuchKey", "The specified key does not exist.")
        try:
            self.allow(req, b, "s3:GetObject", rec, key=key)
        except S3Error:
            return await self.website_error(req, b, site, 403, "AccessDenied", "Access Denied")
        headers = self.object_headers(b, rec)
        ct = headers.pop("Content-Type")
        if req.method == "HEAD":
            return Response(200, headers=headers, length=rec["size"], content_type=ct)
        return Response(
            200,
            headers=headers,
            stream=self.read_bytes(rec, 0, rec["size"] - 1) if rec["size"] else None,
            length=rec["size"],
            content_type=ct,
        )

    async def website_error(
        self, req: S3Request, b: dict, site: dict, status: int, code: str, message: str
    ) -> Response:
        doc = site.get("error")
        if doc:
            rec = self.meta.current(b["region"], b["name"], doc)
            if rec is not None and not rec.get("dm"):
                try:
                    self.allow(req, b, "s3:GetObject", rec, key=doc)
                    return Response(
                        status,
                        stream=self.read_bytes(rec, 0, rec["size"] - 1) if rec["size"] else None,
                        length=rec["size"],
                        content_type=rec.get("ct") or "text/html",
                    )
                except S3Error:
                    pass
        return html(status, code, message)


def html(status: int, code: str, message: str) -> Response:
    body = (
        f"<html><head><title>{status}</title></head><body><h1>{status}</h1>"
        f"<ul><li>Code: {code}</li><li>Message: {message}</li></ul></body></html>"
    )
    return Response(status, body.encode(), content_type="text/html; charset=utf-8")


async def empty() -> AsyncIterator[bytes]:
    return
    yield b""


async def limited(source: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in source:
        size += len(chunk)
        if size > limit:
            raise S3Error(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", MaxSizeAllowed=limit
            )
        yield chunk


def content_headers(h: Headers) -> dict[str, str]:
    """The content headers kept with an object; `aws-chunked` is how the body was sent, not what it is."""
    out = {n: h[n] for n in CONTENT_HEADERS if n in h}
    if "content-encoding" in out:
        rest = [e.strip() for e in out["content-encoding"].split(",") if e.strip() and e.strip() != "aws-chunked"]
        if rest:
            out["content-encoding"] = ", ".join(rest)
        else:
            del out["content-encoding"]
    return out


def blob_ids(rec: dict) -> list[str]:
    return [blob for blob, _ in rec.get("blobs", [])]


def etag_matches(header: str, rec: dict) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.strip('"').removeprefix("W/").strip('"') == rec.get("etag") for t in tags)


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range; None: not a range S3 applies (the whole object is sent);
    InvalidRange (416) when it cannot be satisfied."""
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", value)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else size - 1
        if m.group(2) and last < first:
            return None
        if first >= size:
            raise _unsatisfiable(value, size)
        return first, min(last, size - 1)
    suffix = int(m.group(2))
    if suffix == 0:
        raise _unsatisfiable(value, size)
    return max(0, size - suffix), size - 1


def _unsatisfiable(value: str, size: int) -> S3Error:
    err = S3Error(
        "InvalidRange", "The requested range is not satisfiable", ActualObjectSize=size, RangeRequested=value.strip()
    )
    err.headers = {"Content-Range": f"bytes */{size}"}
    return err


def part_range(rec: dict, raw_n: str) -> tuple[int, int, int]:
    sizes = rec.get("parts") or [rec["size"]]
    if not raw_n.isdigit() or not 1 <= int(raw_n) <= MAX_PARTS:
        raise invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", raw_n)
    n = int(raw_n)
    if n > len(sizes):
        err = S3Error(
            "InvalidPartNumber",
            "The requested partnumber is not satisfiable",
            status=416,
            PartNumberRequested=n,
            ActualPartCount=len(sizes),
        )
        raise err
    start = sum(sizes[: n - 1])
    return start, start + sizes[n - 1] - 1, len(sizes)


def int_param(req: S3Request, name: str, default: int) -> int:
    raw_v = req.query.get(name)
    if raw_v is None or raw_v == "":
        return default
    if not raw_v.lstrip("-").isdigit() or int(raw_v) < 0 or int(raw_v) > 2**31 - 1:
        raise S3Error(
            "InvalidArgument",
            f"Provided {name} not an integer or within integer range",
            ArgumentName=name,
            ArgumentValue=raw_v,
        )
    return int(raw_v)


def check_bucket_name(name: str) -> None:
    """docs.ionos.com "Buckets": 3-63 lowercase letters, digits, '-', '.', '_'; starts and ends with a letter or
    digit; no '..', no '-' next to '.', not an IPv4 address."""
    ok = bool(BUCKET_NAME.match(name)) and ".." not in name and ".-" not in name and "-." not in name
    try:
        ipaddress.IPv4Address(name)
        ok = False
    except ValueError:
        pass
    if not ok:
        raise S3Error("InvalidBucketName", "The specified bucket is not valid.", BucketName=name)


def parse_tag_header(value: str) -> dict[str, str]:
    if not value:
        return {}
    tags = {}
    for k, v in QueryParams(value).multi_items():
        if k in tags:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key", TagKey=k)
        tags[k] = v
    check_tags(tags, 10)
    return tags


def check_tags(tags: dict[str, str], most: int) -> None:
    if len(tags) > most:
        raise S3Error("BadRequest", f"Object tags cannot be greater than {most}", status=400)
    for k, v in tags.items():
        if not k or len(k) > 128:
            raise S3Error("InvalidTag", "The TagKey you have provided is invalid", TagKey=k)
        if len(v) > 256:
            raise S3Error("InvalidTag", "The TagValue you have provided is invalid", TagKey=k, TagValue=v)


# S3 sub-resources the emulator does not serve: NotImplemented (501), never a listing or a plain GET
NOT_SERVED = frozenset(
    "logging notification accelerate analytics inventory metrics requestPayment intelligent-tiering "
    "ownershipControls torrent select restore attributes".split()
)
# the sub-resource operations (configs.py), by ?name and method: filled in below
BUCKET_SUBRESOURCES: dict[str, dict[str, Callable[[S3, S3Request], Awaitable[Response]]]] = {}
OBJECT_SUBRESOURCES: dict[str, dict[str, Callable[[S3, S3Request], Awaitable[Response]]]] = {}

BUCKET_SUBRESOURCES.update(
    {
        "location": {"GET": S3.get_location},
        "uploads": {"GET": S3.list_uploads},
        "versions": {"GET": S3.list_versions},
        "delete": {"POST": S3.delete_objects},
    }
)
OBJECT_SUBRESOURCES.update(
    {
        "uploads": {"POST": S3.initiate_upload},
        "uploadId": {
            "PUT": S3.upload_part,
            "GET": S3.list_parts,
            "POST": S3.complete_upload,
            "DELETE": S3.abort_upload,
        },
    }
)
