"""Who sent an S3 request: AWS Signature Version 4 (Authorization header, presigned query, aws-chunked
streaming bodies with per-chunk signatures, UNSIGNED-PAYLOAD) and Version 2 (header and presigned query),
verified against the secret of the access key named. The secret comes from keys.py; this module only
recomputes signatures (hmac, hashlib) and compares them in constant time."""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from .xml import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMED = (STREAMING, STREAMING_TRAILER, STREAMING_UNSIGNED_TRAILER)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = 15 * 60  # seconds, as S3
MAX_PRESIGNED = 7 * 24 * 3600
# the sub-resources SigV2 signs (the S3 developer guide's list)
V2_SUBRESOURCES = frozenset(
    "acl cors delete lifecycle location logging notification partNumber policy requestPayment tagging torrent "
    "uploadId uploads versionId versioning versions website object-lock retention legal-hold encryption "
    "replication publicAccessBlock policyStatus response-cache-control response-content-disposition "
    "response-content-encoding response-content-language response-content-type response-expires".split()
)


@dataclass
class Signed:
    """What a verified request was signed with: its key, and for SigV4 what chunk signatures chain from."""

    access_key: str
    payload: str  # the x-amz-content-sha256 value ("UNSIGNED-PAYLOAD", a hex digest, STREAMING-...)
    signing_key: bytes = b""
    amz_date: str = ""
    scope: str = ""
    seed: str = ""  # the request's signature: the first chunk's "previous signature"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = _hmac(("AWS4" + secret).encode(), date)
    return _hmac(_hmac(_hmac(k, region), service), "aws4_request")


def _uri_encode(s: str) -> str:
    return quote(s, safe="-_.~")


CANONICAL = re.compile(r"^(?:[A-Za-z0-9\-_.~]|%[0-9A-F]{2})*$")  # already as SigV4 encodes it


def _canonical(s: str) -> str:
    return s if CANONICAL.match(s) else _uri_encode(unquote(s))


def canonical_query(raw_query: str, drop: str = "") -> str:
    """SigV4's canonical query string: every name and value URI-encoded as SigV4 does (those that already are
    kept as sent), sorted by name then value."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k, v = _canonical(k), _canonical(v)
        if k != drop:
            pairs.append((k, v))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_headers(headers, names: list[str]) -> str:
    lines = []
    for name in names:
        values = headers.getlist(name)
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
    return "".join(lines)


AMZ_DATE = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$")


def _parse_amz_date(value: str) -> float:
    m = AMZ_DATE.match(value)
    try:
        if m is None:
            raise ValueError(value)
        return calendar.timegm((*(int(g) for g in m.groups()), 0, 0, 0))
    except ValueError:
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None


def _check_skew(when: float, now: float) -> None:
    if abs(now - when) > MAX_SKEW:
        raise S3Error(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            RequestTime=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when)),
            ServerTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            MaxAllowedSkewMilliseconds=MAX_SKEW * 1000,
        )


def _parse_authorization(value: str) -> dict[str, str]:
    fields = {}
    for part in value[len(ALGORITHM) :].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    if not all(fields.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        raise S3Error(
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; it needs Credential, SignedHeaders and Signature.",
        )
    return fields


def _credential(value: str, error: str) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise S3Error(
            error, f"The credential '{value}' is malformed; expecting '<key>/YYYYMMDD/REGION/SERVICE/aws4_request'."
        )
    return parts[0], parts[1], parts[2], parts[3]


def access_key_of(method: str, headers, raw_query: str, query) -> tuple[str, str] | None:
    """(access key, scheme: "v4", "v4-query", "v2", "v2-query") the request claims, None when anonymous."""
    auth = headers.get("authorization", "")
    if auth.startswith(ALGORITHM):
        cred = _parse_authorization(auth)["Credential"]
        return _credential(cred, "AuthorizationHeaderMalformed")[0], "v4"
    if auth.startswith("AWS "):
        key, sep, _ = auth[4:].rpartition(":")
        if not sep:
            raise S3Error("InvalidArgument", "AWS authorization header is invalid. Expected AwsAccessKeyId:signature")
        return key.strip(), "v2"
    if auth:
        raise S3Error("InvalidArgument", "Unsupported Authorization Type")
    if query.get("X-Amz-Algorithm"):
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error("AuthorizationQueryParametersError", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        cred = query.get("X-Amz-Credential", "")
        return _credential(cred, "AuthorizationQueryParametersError")[0], "v4-query"
    if query.get("AWSAccessKeyId") and query.get("Signature"):
        return query["AWSAccessKeyId"], "v2-query"
    return None


def verify(
    scheme: str, secret: str, method: str, raw_path: str, raw_query: str, headers, query, now: float, v2_resource: str
) -> Signed:
    if scheme == "v4":
        return _verify_v4_header(secret, method, raw_path, raw_query, headers, now)
    if scheme == "v4-query":
        return _verify_v4_query(secret, method, raw_path, raw_query, headers, query, now)
    return _verify_v2(scheme, secret, method, headers, query, now, v2_resource)


def _mismatch(string_to_sign: str, key: str) -> S3Error:
    return S3Error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        AWSAccessKeyId=key,
        StringToSign=string_to_sign,
    )


def _verify_v4_header(secret: str, method: str, raw_path: str, raw_query: str, headers, now: float) -> Signed:
    fields = _parse_authorization(headers["authorization"])
    key, date, region, service = _credential(fields["Credential"], "AuthorizationHeaderMalformed")
    amz_date = headers.get("x-amz-date", "")
    if amz_date:
        when = _parse_amz_date(amz_date)
    else:
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
    _check_skew(when, now)
    if amz_date[:8] != date:
        raise S3Error("SignatureDoesNotMatch", "The date of the credential scope is not the request's date.")
    payload = headers.get("x-amz-content-sha256")
    if payload is None:
        raise S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    if payload not in (UNSIGNED, *STREAMED) and (
        len(payload) != 64 or any(c not in "0123456789abcdef" for c in payload)
    ):
        raise S3Error(
            "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a SHA-256 hex digest"
        )
    names = fields["SignedHeaders"].split(";")
    if "host" not in names:
        raise S3Error("AccessDenied", "Host must be a signed header")
    creq = "\n".join(
        [
            method,
            raw_path,
            canonical_query(raw_query),
            _canonical_headers(headers, names),
            fields["SignedHeaders"],
            payload,
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
    skey = signing_key(secret, date, region, service)
    expected = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise _mismatch(sts, key)
    return Signed(key, payload, skey, amz_date, scope, fields["Signature"])


def _verify_v4_query(secret: str, method: str, raw_path: str, raw_query: str, headers, query, now: float) -> Signed:
    key, date, region, service = _credential(query.get("X-Amz-Credential", ""), "AuthorizationQueryParametersError")
    amz_date = query.get("X-Amz-Date", "")
    when = _parse_amz_date(amz_date)
    try:
        expires = int(query.get("X-Amz-Expires", ""))
    except ValueError:
        raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires should be a number") from None
    if not 0 < expires <= MAX_PRESIGNED:
        raise S3Error(
            "AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        )
    if when - now > MAX_SKEW:
        raise S3Error("AccessDenied", "Request is not valid yet")
    if now > when + expires:
        raise S3Error(
            "AccessDenied",
            "Request has expired",
            Expires=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when + expires)),
            ServerTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        )
    signed_headers = query.get("X-Amz-SignedHeaders", "")
    names = signed_headers.split(";")
    payload = headers.get("x-amz-content-sha256") or UNSIGNED
    creq = "\n".join(
        [
            method,
            raw_path,
            canonical_query(raw_query, drop="X-Amz-Signature"),
            _canonical_headers(headers, names),
            signed_headers,
            payload,
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
    skey = signing_key(secret, date, region, service)
    expected = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, query.get("X-Amz-Signature", "")):
        raise _mismatch(sts, key)
    return Signed(key, payload, skey, amz_date, scope)


def v2_resource(bucket: str | None, key: str | None, query) -> str:
    """SigV2's CanonicalizedResource: /bucket/key and the signed sub-resources, sorted."""
    path = "/" + (bucket or "") + ("/" if bucket and key is None else "")
    if key is not None:
        path = f"/{bucket}/{quote(key, safe='/~')}"
    subs = sorted((k, v) for k, v in query.multi_items() if k in V2_SUBRESOURCES)
    if subs:
        path += "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)
    return path


def _verify_v2(scheme: str, secret: str, method: str, headers, query, now: float, resource: str) -> Signed:
    amz = sorted(
        (name.lower(), ",".join(v.strip() for v in headers.getlist(name)))
        for name in {k.lower() for k in headers.keys()}
        if name.startswith("x-amz-")
    )
    if scheme == "v2":
        key, _, signature = headers["authorization"][4:].rpartition(":")
        date_value = headers.get("date", "")
        if "x-amz-date" in headers:
            date_value = ""
        stamp = headers.get("x-amz-date") or headers.get("date")
        if not stamp:
            raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        try:
            when = parsedate_to_datetime(stamp).timestamp()
        except (TypeError, ValueError):
            raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None
        _check_skew(when, now)
    else:
        key, signature = query["AWSAccessKeyId"], query["Signature"]
        date_value = query.get("Expires", "")
        if not date_value.isdigit():
            raise S3Error(
                "AccessDenied",
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            )
        if now > int(date_value):
            raise S3Error("AccessDenied", "Request has expired")
    sts = "\n".join(
        [method, headers.get("content-md5", ""), headers.get("content-type", ""), date_value]
        + [f"{k}:{v}" for k, v in amz]
        + [resource]
    )
    expected = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, signature.strip()):
        raise _mismatch(sts, key.strip())
    return Signed(key.strip(), UNSIGNED)


def chunk_signature(signed: Signed, previous: str, data_sha256: str) -> str:
    sts = f"AWS4-HMAC-SHA256-PAYLOAD\n{signed.amz_date}\n{signed.scope}\n{previous}\n{EMPTY_SHA256}\n{data_sha256}"
    return hmac.new(signed.signing_key, sts.encode(), hashlib.sha256).hexdigest()


def trailer_signature(signed: Signed, previous: str, trailer: bytes) -> str:
    sts = (
        f"AWS4-HMAC-SHA256-TRAILER\n{signed.amz_date}\n{signed.scope}\n{previous}\n"
        f"{hashlib.sha256(trailer).hexdigest()}"
    )
    return hmac.new(signed.signing_key, sts.encode(), hashlib.sha256).hexdigest()
