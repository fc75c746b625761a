"""S3's XML: response documents built from (tag, value) pairs, request documents parsed with namespaces
dropped, and the S3 error (`<Error><Code>...`) with its HTTP status."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_CONFIG_BYTES = 1024 * 1024  # a configuration document (CORS, policy, lifecycle, ...) is small

# A node's value: text (str, int, bool), None (left out), or its children as (tag, value) pairs.
Node = tuple[str, Any]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _render(out: list[str], tag: str, value: Any) -> None:
    """A tag may carry attributes ('Grantee xsi:type="Group"'); it closes with its name."""
    if value is None:
        return
    name = tag.split(" ", 1)[0]
    if isinstance(value, (list, tuple)):
        out.append(f"<{tag}>")
        for child_tag, child in value:
            _render(out, child_tag, child)
        out.append(f"</{name}>")
    else:
        out.append(f"<{tag}>{_text(value)}</{name}>")


def document(root: str, children: Iterable[Node], ns: str | None = NS) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<{root} xmlns="{ns}">' if ns else f"<{root}>"]
    for tag, value in children:
        _render(out, tag, value)
    out.append(f"</{root}>")
    return "".join(out).encode()


def parse(body: bytes) -> ET.Element:
    """A request's XML document, tags without their namespace; MalformedXML when it is not one."""
    if len(body) > MAX_CONFIG_BYTES:
        raise S3Error("MalformedXML", "The XML you provided was too large.")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema."
        ) from None
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def child_text(el: ET.Element | None, tag: str, default: str = "") -> str:
    if el is None:
        return default
    found = el.find(tag)
    return (found.text or "").strip() if found is not None else default


def to_nodes(el: ET.Element) -> Any:
    """An element as a node value (for echoing a stored configuration back as it was sent)."""
    children = list(el)
    if not children:
        return el.text or ""
    return [(c.tag, to_nodes(c)) for c in children]


class S3Error(Exception):
    """An S3 error answer: its code, message, HTTP status and any extra fields (BucketName, Key, ...)."""

    STATUS = {
        "AccessDenied": 403,
        "AccountProblem": 403,
        "AuthorizationHeaderMalformed": 400,
        "AuthorizationQueryParametersError": 400,
        "BadDigest": 400,
        "BucketAlreadyExists": 409,
        "BucketAlreadyOwnedByYou": 409,
        "BucketNotEmpty": 409,
        "EntityTooLarge": 400,
        "EntityTooSmall": 400,
        "IllegalLocationConstraintException": 400,
        "IncompleteBody": 400,
        "InternalError": 500,
        "InvalidAccessKeyId": 403,
        "InvalidArgument": 400,
        "InvalidBucketName": 400,
        "InvalidBucketState": 409,
        "InvalidDigest": 400,
        "InvalidLocationConstraint": 400,
        "InvalidObjectState": 403,
        "InvalidPart": 400,
        "InvalidPartOrder": 400,
        "InvalidRange": 416,
        "InvalidRequest": 400,
        "InvalidStorageClass": 400,
        "InvalidTag": 400,
        "KeyTooLongError": 400,
        "MalformedPolicy": 400,
        "MalformedXML": 400,
        "MethodNotAllowed": 405,
        "MissingContentLength": 411,
        "MissingSecurityHeader": 400,
        "NoSuchBucket": 404,
        "NoSuchBucketPolicy": 404,
        "NoSuchCORSConfiguration": 404,
        "NoSuchKey": 404,
        "NoSuchLifecycleConfiguration": 404,
        "NoSuchPublicAccessBlockConfiguration": 404,
        "NoSuchTagSet": 404,
        "NoSuchUpload": 404,
        "NoSuchVersion": 404,
        "NoSuchWebsiteConfiguration": 404,
        "NotImplemented": 501,
        "NotModified": 304,
        "ObjectLockConfigurationNotFoundError": 404,
        "NoSuchObjectLockConfiguration": 404,
        "OwnershipControlsNotFoundError": 404,
        "PreconditionFailed": 412,
        "ReplicationConfigurationNotFoundError": 404,
        "RequestTimeTooSkewed": 403,
        "ServerSideEncryptionConfigurationNotFoundError": 404,
        "SignatureDoesNotMatch": 403,
        "XAmzContentSHA256Mismatch": 400,
        "NoSuchLegalHold": 404,
        "NoSuchObjectLockRetention": 404,
    }

    def __init__(self, code: str, message: str, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or self.STATUS.get(code, 400)
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self, resource: str, request_id: str) -> bytes:
        fields: list[Node] = [("Code", self.code), ("Message", self.message)]
        fields += [(k, v) for k, v in self.extra.items()]
        fields += [("Resource", resource), ("RequestId", request_id)]
        return document("Error", fields, ns=None)


def invalid_argument(message: str, name: str, value: str) -> S3Error:
    """InvalidArgument (400) naming the argument and the value refused."""
    return S3Error("InvalidArgument", message, ArgumentName=name, ArgumentValue=value)
