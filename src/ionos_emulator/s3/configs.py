"""The sub-resources of buckets and objects (?versioning, ?object-lock, ?cors, ?policy, ?acl, ?tagging,
?encryption, ?lifecycle, ?website, ?publicAccessBlock, ?replication; an object's ?tagging, ?acl, ?retention,
?legal-hold): checked as S3 checks them, kept in the bucket's or the version's record, answered back in S3's
XML. Lifecycle and replication rules are kept and shown, not executed."""

from __future__ import annotations

import json
from collections.abc import Callable

from . import access
from .body import read_all
from .service import BUCKET_SUBRESOURCES, OBJECT_SUBRESOURCES, S3, Response, S3Request, _iso_to_ts, check_tags, iso, xml
from .xml import MAX_CONFIG_BYTES, S3Error, child_text, parse, to_nodes

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


async def _doc(req: S3Request):
    body = await read_all(req.receive, MAX_CONFIG_BYTES)
    return parse(body)


def _owned(s3: S3, req: S3Request, action: str) -> dict:
    b = s3.bucket(req)
    s3.allow(req, b, action)
    return b


def _dropping(name: str, action: str):
    """DELETE of a bucket configuration kept under cfg[name]: 204, whether there was one or not."""

    async def drop(s3: S3, req: S3Request) -> Response:
        b = _owned(s3, req, action)
        _save(s3, b, lambda fresh: fresh["cfg"].pop(name, None))
        return Response(204)

    return drop


def _save(s3: S3, b: dict, change: Callable[[dict], None]) -> None:
    with s3.store.tx():
        fresh = s3.meta.bucket(b["region"], b["name"]) or b
        change(fresh)
        s3.meta.put_bucket(fresh)


# -- versioning and object lock ---------------------------------------------------------------------


async def get_versioning(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketVersioning")
    return xml("VersioningConfiguration", [("Status", b.get("versioning") or None)])


async def put_versioning(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketVersioning")
    status = child_text(await _doc(req), "Status")
    if status not in ("Enabled", "Suspended"):
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    if status == "Suspended" and b["lock"]["enabled"]:
        raise S3Error(
            "InvalidBucketState",
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
        )
    _save(s3, b, lambda fresh: fresh.update(versioning=status))
    return Response(200)


async def get_object_lock(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketObjectLockConfiguration")
    if not b["lock"]["enabled"]:
        raise S3Error(
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
            BucketName=b["name"],
        )
    rule = b["lock"].get("rule")
    children: list = [("ObjectLockEnabled", "Enabled")]
    if rule:
        period = ("Years", rule["years"]) if rule.get("years") else ("Days", rule["days"])
        children.append(("Rule", [("DefaultRetention", [("Mode", rule["mode"]), period])]))
    return xml("ObjectLockConfiguration", children)


async def put_object_lock(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketObjectLockConfiguration")
    root = await _doc(req)
    if child_text(root, "ObjectLockEnabled") != "Enabled":
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    if not b["lock"]["enabled"]:
        raise S3Error("InvalidBucketState", "Object Lock configuration cannot be enabled on existing buckets")
    rule = None
    retention = root.find("Rule/DefaultRetention")
    if retention is not None:
        mode = child_text(retention, "Mode")
        days, years = child_text(retention, "Days"), child_text(retention, "Years")
        if mode not in ("GOVERNANCE", "COMPLIANCE") or bool(days) == bool(years):
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        n = int(days or years) if (days or years).isdigit() else 0
        if n <= 0:
            raise S3Error("InvalidArgument", "Default retention period must be a positive integer value")
        rule = {"mode": mode, "days": n * 365 if years else n, "years": n if years else 0}
    _save(s3, b, lambda fresh: fresh["lock"].update(rule=rule))
    return Response(200)


def _version(s3: S3, req: S3Request, b: dict) -> dict:
    rec, _ = s3.find_version(req, b, req.key or "", req.query.get("versionId"))
    if rec.get("dm"):
        raise S3Error(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            Method=req.method,
            ResourceType="DeleteMarker",
        )
    return rec


def _save_version(s3: S3, b: dict, req: S3Request, change: Callable[[dict], None]) -> dict:
    with s3.store.tx():
        rec, current = s3.meta.version(b["region"], b["name"], req.key or "", _version(s3, req, b).get("vid", "null"))
        if rec is None:
            raise S3Error("NoSuchKey", "The specified key does not exist.", Key=req.key)
        change(rec)
        if current:
            s3.meta.set_current(b["region"], b["name"], rec)
        else:
            s3.meta.add_noncurrent(b["region"], b["name"], rec)
    return rec


def _lock_enabled(b: dict) -> None:
    if not b["lock"]["enabled"]:
        raise S3Error("InvalidRequest", "Bucket is missing Object Lock Configuration")


async def get_retention(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetObjectRetention")
    _lock_enabled(b)
    rec = _version(s3, req, b)
    if not rec.get("retention"):
        raise S3Error("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")
    r = rec["retention"]
    return xml("Retention", [("Mode", r["mode"]), ("RetainUntilDate", iso(r["until"]))])


async def put_retention(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutObjectRetention")
    _lock_enabled(b)
    root = await _doc(req)
    mode, until = child_text(root, "Mode"), child_text(root, "RetainUntilDate")
    if mode not in ("GOVERNANCE", "COMPLIANCE") or not until:
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    ts = _iso_to_ts(until)
    if ts <= req.now:
        raise S3Error("InvalidArgument", "The retain until date must be in the future!")
    bypass = req.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"

    def change(rec: dict) -> None:
        old = rec.get("retention")
        if old and old["until"] > req.now:
            weaker = ts < old["until"] or (old["mode"] == "COMPLIANCE" and mode != "COMPLIANCE")
            if weaker and (old["mode"] == "COMPLIANCE" or not bypass):
                raise access.denied()
        rec["retention"] = {"mode": mode, "until": ts}

    _save_version(s3, b, req, change)
    return Response(200)


async def get_legal_hold(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetObjectLegalHold")
    _lock_enabled(b)
    rec = _version(s3, req, b)
    if "hold" not in rec:
        raise S3Error("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")
    return xml("LegalHold", [("Status", "ON" if rec["hold"] else "OFF")])


async def put_legal_hold(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutObjectLegalHold")
    _lock_enabled(b)
    status = child_text(await _doc(req), "Status")
    if status not in ("ON", "OFF"):
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    _save_version(s3, b, req, lambda rec: rec.update(hold=status == "ON"))
    return Response(200)


# -- tagging -------------------------------------------------------------------------------------------


def _tags_of(root) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in root.findall("TagSet/Tag"):
        k, v = child_text(tag, "Key"), child_text(tag, "Value")
        if k in tags:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key", TagKey=k)
        tags[k] = v
    return tags


def _tagging(tags: dict[str, str]) -> Response:
    return xml("Tagging", [("TagSet", [("Tag", [("Key", k), ("Value", v)]) for k, v in tags.items()])])


async def get_bucket_tagging(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketTagging")
    if not b["cfg"].get("tags"):
        raise S3Error("NoSuchTagSet", "The TagSet does not exist", BucketName=b["name"])
    return _tagging(b["cfg"]["tags"])


async def put_bucket_tagging(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketTagging")
    tags = _tags_of(await _doc(req))
    check_tags(tags, 50)
    _save(s3, b, lambda fresh: fresh["cfg"].update(tags=tags))
    return Response(204)


async def get_object_tagging(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetObjectTagging")
    rec = _version(s3, req, b)
    resp = _tagging(rec.get("tags", {}))
    resp.headers.update(s3.version_headers(b, rec))
    return resp


async def put_object_tagging(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutObjectTagging")
    tags = _tags_of(await _doc(req))
    check_tags(tags, 10)
    rec = _save_version(s3, b, req, lambda rec: rec.update(tags=tags))
    return Response(200, headers=s3.version_headers(b, rec))


async def delete_object_tagging(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:DeleteObjectTagging")
    rec = _save_version(s3, b, req, lambda rec: rec.update(tags={}))
    return Response(204, headers=s3.version_headers(b, rec))


# -- ACLs ------------------------------------------------------------------------------------------------


def _acl_xml(owner_id: str, owner_name: str, grants: list[dict]) -> Response:
    out = []
    for g in grants:
        if "uri" in g:
            grantee = ("Grantee " + XSI + ' xsi:type="Group"', [("URI", g["uri"])])
        elif "email" in g:
            grantee = ("Grantee " + XSI + ' xsi:type="AmazonCustomerByEmail"', [("EmailAddress", g["email"])])
        else:
            grantee = ("Grantee " + XSI + ' xsi:type="CanonicalUser"', [("ID", g["id"]), ("DisplayName", g["id"])])
        out.append(("Grant", [grantee, ("Permission", g["perm"])]))
    return xml(
        "AccessControlPolicy", [("Owner", [("ID", owner_id), ("DisplayName", owner_name)]), ("AccessControlList", out)]
    )


async def _grants_from(req: S3Request, owner_id: str, bucket_owner_id: str = "") -> list[dict]:
    grants = access.header_grants(req.headers, owner_id, bucket_owner_id)
    body = await read_all(req.receive, MAX_CONFIG_BYTES)
    if grants is not None:
        if body.strip():
            raise S3Error("UnexpectedContent", "This request does not support content", status=400)
        return grants
    if not body.strip():
        raise S3Error(
            "MissingSecurityHeader", "Your request was missing a required header", MissingHeaderName="x-amz-acl"
        )
    root = parse(body)
    out = []
    for grant in root.findall("AccessControlList/Grant"):
        perm = child_text(grant, "Permission")
        grantee = grant.find("Grantee")
        if perm not in access.PERMISSIONS or grantee is None:
            raise S3Error(
                "MalformedACLError",
                "The XML you provided was not well-formed or did not validate against our published schema",
                status=400,
            )
        if child_text(grantee, "URI"):
            out.append({"uri": child_text(grantee, "URI"), "perm": perm})
        elif child_text(grantee, "EmailAddress"):
            out.append({"email": child_text(grantee, "EmailAddress"), "perm": perm})
        elif child_text(grantee, "ID"):
            out.append({"id": child_text(grantee, "ID"), "perm": perm})
        else:
            raise S3Error(
                "MalformedACLError",
                "The XML you provided was not well-formed or did not validate against our published schema",
                status=400,
            )
    return out


async def get_bucket_acl(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketAcl")
    return _acl_xml(b["owner_id"], b["owner_name"], b.get("acl", []))


async def put_bucket_acl(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketAcl")
    grants = await _grants_from(req, b["owner_id"])
    s3.check_public_acl(b, grants)
    _save(s3, b, lambda fresh: fresh.update(acl=grants))
    return Response(200)


async def get_object_acl(s3: S3, req: S3Request) -> Response:
    b = s3.bucket(req)
    rec = _version(s3, req, b)
    s3.allow(req, b, "s3:GetObjectAcl", rec)
    resp = _acl_xml(rec.get("owner") or b["owner_id"], rec.get("owner") or b["owner_name"], rec.get("acl", []))
    resp.headers.update(s3.version_headers(b, rec))
    return resp


async def put_object_acl(s3: S3, req: S3Request) -> Response:
    b = s3.bucket(req)
    rec = _version(s3, req, b)
    s3.allow(req, b, "s3:PutObjectAcl", rec)
    grants = await _grants_from(req, rec.get("owner") or b["owner_id"], b["owner_id"])
    s3.check_public_acl(b, grants)
    rec = _save_version(s3, b, req, lambda r: r.update(acl=grants))
    return Response(200, headers=s3.version_headers(b, rec))


# -- policy and public access block --------------------------------------------------------------------


async def get_policy(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketPolicy")
    if not b["cfg"].get("policy"):
        raise S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", BucketName=b["name"])
    return Response(200, json.dumps(b["cfg"]["policy"]).encode(), content_type="application/json")


async def put_policy(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketPolicy")
    if req.caller is None or not req.caller.owns(b):
        raise access.denied()
    body = await read_all(req.receive, 20 * 1024)
    doc = access.check_policy(body.decode("utf-8", "replace"), b["name"])
    if (b["cfg"].get("pab") or {}).get("BlockPublicPolicy") and access.is_public_policy(doc):
        raise access.denied()
    _save(s3, b, lambda fresh: fresh["cfg"].update(policy=doc))
    return Response(204)


delete_policy = _dropping("policy", "s3:DeleteBucketPolicy")


async def get_policy_status(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketPolicyStatus")
    if not b["cfg"].get("policy"):
        raise S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", BucketName=b["name"])
    return xml("PolicyStatus", [("IsPublic", access.is_public_policy(b["cfg"]["policy"]))])


PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


async def get_pab(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketPublicAccessBlock")
    pab = b["cfg"].get("pab")
    if pab is None:
        raise S3Error(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
            BucketName=b["name"],
        )
    return xml("PublicAccessBlockConfiguration", [(f, pab.get(f, False)) for f in PAB_FIELDS])


async def put_pab(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketPublicAccessBlock")
    root = await _doc(req)
    pab = {}
    for f in PAB_FIELDS:
        v = child_text(root, f, "false").lower()
        if v not in ("true", "false"):
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        pab[f] = v == "true"
    _save(s3, b, lambda fresh: fresh["cfg"].update(pab=pab))
    return Response(200)


# -- CORS, encryption, lifecycle, website, replication -------------------------------------------------


async def get_cors(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetBucketCORS")
    cors = b["cfg"].get("cors")
    if not cors:
        raise S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", BucketName=b["name"])
    rules = []
    for r in cors["rules"]:
        entry: list = [("ID", r.get("id") or None)]
        entry += [("AllowedHeader", h) for h in r["headers"]]
        entry += [("AllowedMethod", m) for m in r["methods"]]
        entry += [("AllowedOrigin", o) for o in r["origins"]]
        entry += [("ExposeHeader", e) for e in r["expose"]]
        entry.append(("MaxAgeSeconds", r.get("max_age")))
        rules.append(("CORSRule", entry))
    return xml("CORSConfiguration", rules)


async def put_cors(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutBucketCORS")
    root = await _doc(req)
    rules = []
    for el in root.findall("CORSRule"):
        methods = [(m.text or "").strip() for m in el.findall("AllowedMethod")]
        origins = [(o.text or "").strip() for o in el.findall("AllowedOrigin")]
        if not methods or not origins:
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        for m in methods:
            if m not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
                raise S3Error(
                    "InvalidRequest", f"Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                )
        age = child_text(el, "MaxAgeSeconds")
        rules.append(
            {
                "id": child_text(el, "ID"),
                "methods": methods,
                "origins": origins,
                "headers": [(h.text or "").strip() for h in el.findall("AllowedHeader")],
                "expose": [(h.text or "").strip() for h in el.findall("ExposeHeader")],
                "max_age": int(age) if age.isdigit() else None,
            }
        )
    if not rules or len(rules) > 100:
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    _save(s3, b, lambda fresh: fresh["cfg"].update(cors={"rules": rules}))
    return Response(200)


async def get_encryption(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:GetEncryptionConfiguration")
    enc = b["cfg"].get("encryption")
    if not enc:
        raise S3Error(
            "ServerSideEncryptionConfigurationNotFoundError",
            "The server side encryption configuration was not found",
            BucketName=b["name"],
        )
    return xml(
        "ServerSideEncryptionConfiguration",
        [("Rule", [("ApplyServerSideEncryptionByDefault", [("SSEAlgorithm", enc["algorithm"])])])],
    )


async def put_encryption(s3: S3, req: S3Request) -> Response:
    b = _owned(s3, req, "s3:PutEncryptionConfiguration")
    root = await _doc(req)
    algorithm = child_text(root.find("Rule/ApplyServerSideEncryptionByDefault"), "SSEAlgorithm")
    if algorithm != "AES256":  # SSE-S3 only (IONOS offers no KMS)
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    _save(s3, b, lambda fresh: fresh["cfg"].update(encryption={"algorithm": algorithm}))
    return Response(200)


def _stored(name: str, action: str, missing: str, message: str, check: Callable[[object], None] | None = None):
    """get / put / delete of a configuration kept as the document the client sent (lifecycle, website,
    replication), after `check`."""

    async def get(s3: S3, req: S3Request) -> Response:
        b = _owned(s3, req, "s3:Get" + action)
        doc = b["cfg"].get(name)
        if not doc:
            raise S3Error(missing, message, BucketName=b["name"])
        return xml(doc["root"], doc["nodes"])

    async def put(s3: S3, req: S3Request) -> Response:
        b = _owned(s3, req, "s3:Put" + action)
        root = await _doc(req)
        if check is not None:
            check((root, b))
        doc = {"root": root.tag, "nodes": to_nodes(root) if list(root) else []}
        extra = _website(root) if name == "website" else {}
        _save(s3, b, lambda fresh: fresh["cfg"].update({name: {**doc, **extra}}))
        return Response(200)

    return get, put, _dropping(name, "s3:Delete" + action)


def _check_lifecycle(arg) -> None:
    root, _ = arg
    rules = root.findall("Rule")
    if not rules or len(rules) > 1000:
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )
    for r in rules:
        if child_text(r, "Status") not in ("Enabled", "Disabled"):
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        if not any(
            r.find(a) is not None
            for a in (
                "Expiration",
                "NoncurrentVersionExpiration",
                "AbortIncompleteMultipartUpload",
                "Transition",
                "NoncurrentVersionTransition",
            )
        ):
            raise S3Error("InvalidRequest", "At least one action needs to be specified in a rule")


def _check_website(arg) -> None:
    root, _ = arg
    if root.find("RedirectAllRequestsTo") is None and not child_text(root.find("IndexDocument"), "Suffix"):
        raise S3Error(
            "InvalidArgument", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"
        )
    suffix = child_text(root.find("IndexDocument"), "Suffix")
    if "/" in suffix:
        raise S3Error("InvalidArgument", "The IndexDocument Suffix is not well formed")


def _website(root) -> dict:
    redirect = root.find("RedirectAllRequestsTo")
    if redirect is not None:
        return {
            "redirect": {"host": child_text(redirect, "HostName"), "protocol": child_text(redirect, "Protocol", "http")}
        }
    return {
        "index": child_text(root.find("IndexDocument"), "Suffix"),
        "error": child_text(root.find("ErrorDocument"), "Key"),
    }


def _check_replication(arg) -> None:
    root, b = arg
    if b.get("versioning") != "Enabled":
        raise S3Error(
            "InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
        )
    if not root.findall("Rule"):
        raise S3Error(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        )


LIFECYCLE = _stored(
    "lifecycle",
    "LifecycleConfiguration",
    "NoSuchLifecycleConfiguration",
    "The lifecycle configuration does not exist",
    _check_lifecycle,
)
WEBSITE = _stored(
    "website",
    "BucketWebsite",
    "NoSuchWebsiteConfiguration",
    "The specified bucket does not have a website configuration",
    _check_website,
)
REPLICATION = _stored(
    "replication",
    "ReplicationConfiguration",
    "ReplicationConfigurationNotFoundError",
    "The replication configuration was not found",
    _check_replication,
)


delete_cors = _dropping("cors", "s3:PutBucketCORS")


delete_encryption = _dropping("encryption", "s3:PutEncryptionConfiguration")


delete_bucket_tagging = _dropping("tags", "s3:PutBucketTagging")


delete_pab = _dropping("pab", "s3:PutBucketPublicAccessBlock")


BUCKET_SUBRESOURCES.update(
    {
        "versioning": {"GET": get_versioning, "PUT": put_versioning},
        "object-lock": {"GET": get_object_lock, "PUT": put_object_lock},
        "tagging": {"GET": get_bucket_tagging, "PUT": put_bucket_tagging, "DELETE": delete_bucket_tagging},
        "acl": {"GET": get_bucket_acl, "PUT": put_bucket_acl},
        "policy": {"GET": get_policy, "PUT": put_policy, "DELETE": delete_policy},
        "policyStatus": {"GET": get_policy_status},
        "publicAccessBlock": {"GET": get_pab, "PUT": put_pab, "DELETE": delete_pab},
        "cors": {"GET": get_cors, "PUT": put_cors, "DELETE": delete_cors},
        "encryption": {"GET": get_encryption, "PUT": put_encryption, "DELETE": delete_encryption},
        "lifecycle": dict(zip(("GET", "PUT", "DELETE"), LIFECYCLE, strict=True)),
        "website": dict(zip(("GET", "PUT", "DELETE"), WEBSITE, strict=True)),
        "replication": dict(zip(("GET", "PUT", "DELETE"), REPLICATION, strict=True)),
    }
)
OBJECT_SUBRESOURCES.update(
    {
        "tagging": {"GET": get_object_tagging, "PUT": put_object_tagging, "DELETE": delete_object_tagging},
        "acl": {"GET": get_object_acl, "PUT": put_object_acl},
        "retention": {"GET": get_retention, "PUT": put_retention},
        "legal-hold": {"GET": get_legal_hold, "PUT": put_legal_hold},
    }
)
