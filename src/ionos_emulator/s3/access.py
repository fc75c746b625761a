"""Who may do what to a bucket or an object: the owner (the user of a user-owned bucket; the contract's owner
and administrators for a contract-owned one), then the bucket policy (an explicit Deny wins, an Allow grants),
then the ACL grants, with the public access block applied to both; and the CORS rules a browser's request
is answered by."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from .keys import Caller
from .xml import S3Error

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP")
# the ACL permission an action needs, on the bucket (b) or on the object (o)
ACL_NEEDS = {
    "s3:ListBucket": ("b", "READ"),
    "s3:ListBucketVersions": ("b", "READ"),
    "s3:ListBucketMultipartUploads": ("b", "READ"),
    "s3:PutObject": ("b", "WRITE"),
    "s3:DeleteObject": ("b", "WRITE"),
    "s3:DeleteObjectVersion": ("b", "WRITE"),
    "s3:AbortMultipartUpload": ("b", "WRITE"),
    "s3:GetObject": ("o", "READ"),
    "s3:GetObjectVersion": ("o", "READ"),
    "s3:GetBucketAcl": ("b", "READ_ACP"),
    "s3:PutBucketAcl": ("b", "WRITE_ACP"),
    "s3:GetObjectAcl": ("o", "READ_ACP"),
    "s3:PutObjectAcl": ("o", "WRITE_ACP"),
}
CANNED = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
GRANT_HEADERS = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}


def denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied")


# -- ACLs -----------------------------------------------------------------------------------------


def canned_grants(acl: str, owner_id: str, bucket_owner_id: str = "") -> list[dict]:
    if acl not in CANNED:
        raise S3Error("InvalidArgument", f"Invalid canned ACL '{acl}'", ArgumentName="x-amz-acl", ArgumentValue=acl)
    grants = [{"id": owner_id, "perm": "FULL_CONTROL"}]
    if acl in ("public-read", "public-read-write"):
        grants.append({"uri": ALL_USERS, "perm": "READ"})
    if acl == "public-read-write":
        grants.append({"uri": ALL_USERS, "perm": "WRITE"})
    if acl == "authenticated-read":
        grants.append({"uri": AUTHENTICATED, "perm": "READ"})
    if acl == "bucket-owner-read" and bucket_owner_id and bucket_owner_id != owner_id:
        grants.append({"id": bucket_owner_id, "perm": "READ"})
    if acl == "bucket-owner-full-control" and bucket_owner_id and bucket_owner_id != owner_id:
        grants.append({"id": bucket_owner_id, "perm": "FULL_CONTROL"})
    return grants


def header_grants(headers, owner_id: str, bucket_owner_id: str = "") -> list[dict] | None:
    """The ACL the request's x-amz-acl or x-amz-grant-* headers give (not both), or None if it has neither."""
    canned = headers.get("x-amz-acl")
    granted = [(h, headers[h]) for h in GRANT_HEADERS if h in headers]
    if canned and granted:
        raise S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed")
    if canned:
        return canned_grants(canned.strip(), owner_id, bucket_owner_id)
    if not granted:
        return None
    grants = []
    for header, value in granted:
        for item in value.split(","):
            kind, _, who = item.strip().partition("=")
            who = who.strip().strip('"')
            kind = kind.strip().lower()
            if kind == "id":
                grants.append({"id": who, "perm": GRANT_HEADERS[header]})
            elif kind == "uri":
                grants.append({"uri": who, "perm": GRANT_HEADERS[header]})
            elif kind == "emailaddress":
                grants.append({"email": who, "perm": GRANT_HEADERS[header]})
            else:
                raise S3Error("InvalidArgument", f"Invalid grantee in {header}: '{item.strip()}'")
    return grants


def is_public_grant(g: dict) -> bool:
    return g.get("uri") in (ALL_USERS, AUTHENTICATED)


def acl_allows(grants: list[dict], caller: Caller | None, perm: str, ignore_public: bool) -> bool:
    for g in grants:
        if g["perm"] not in (perm, "FULL_CONTROL"):
            continue
        uri = g.get("uri")
        if uri == ALL_USERS and not ignore_public:
            return True
        if uri == AUTHENTICATED and caller is not None and not ignore_public:
            return True
        if caller is not None and (
            g.get("id") == caller.canonical_id or g.get("email", "").lower() == caller.email.lower()
        ):
            return True
    return False


# -- bucket policies --------------------------------------------------------------------------------


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def check_policy(text: str, bucket: str) -> dict:
    """A policy document as S3 accepts it: JSON with Statements of Effect, Principal, Action, Resource."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise S3Error("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), (list, dict)):
        raise S3Error("MalformedPolicy", "Missing required field Statement")
    for st in _as_list(doc["Statement"]):
        if not isinstance(st, dict):
            raise S3Error("MalformedPolicy", "Statement is not an object")
        if st.get("Effect") not in ("Allow", "Deny"):
            raise S3Error("MalformedPolicy", "Invalid effect: " + str(st.get("Effect")))
        if "Principal" not in st:
            raise S3Error("MalformedPolicy", "Missing required field Principal")
        if "Action" not in st:
            raise S3Error("MalformedPolicy", "Missing required field Action")
        for action in _as_list(st["Action"]):
            if not isinstance(action, str) or not (action == "*" or action.startswith("s3:")):
                raise S3Error("MalformedPolicy", f"Policy has invalid action: {action}")
        for resource in _as_list(st.get("Resource", [])):
            if not isinstance(resource, str) or not fnmatch.fnmatchcase(bucket, _bucket_of(resource)):
                raise S3Error("MalformedPolicy", "Policy has invalid resource")
    return doc


def _bucket_of(resource: str) -> str:
    return resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]


def _principal_matches(principal: Any, caller: Caller | None) -> bool:
    if principal == "*":
        return True
    values = []
    if isinstance(principal, dict):
        for v in principal.values():
            values += _as_list(v)
    else:
        values = _as_list(principal)
    for v in values:
        if v == "*":
            return True
        if caller is not None and isinstance(v, str):
            who = v.rsplit("/", 1)[-1] if v.startswith("arn:") else v
            if who in (caller.canonical_id, caller.user_id, f"{caller.tenant}:{caller.user_id}"):
                return True
    return False


def is_public_policy(doc: dict) -> bool:
    for st in _as_list(doc.get("Statement", [])):
        p = st.get("Principal")
        if (
            st.get("Effect") == "Allow"
            and not st.get("Condition")
            and (p == "*" or (isinstance(p, dict) and "*" in _as_list(p.get("AWS", []))))
        ):
            return True
    return False


def policy_decision(doc: dict | None, caller: Caller | None, action: str, resource: str, ignore_public: bool) -> str:
    """ "Deny", "Allow" or "" (the policy says nothing) for the action on arn:aws:s3:::<resource>. Statements
    with a Condition are not applied (guess: conditions are recorded, not evaluated)."""
    if not doc:
        return ""
    arn = "arn:aws:s3:::" + resource
    decision = ""
    for st in _as_list(doc.get("Statement", [])):
        if st.get("Condition"):
            continue
        if not _principal_matches(st.get("Principal"), caller):
            continue
        if ignore_public and st.get("Effect") == "Allow" and _principal_matches(st.get("Principal"), None):
            continue
        if not any(a == "*" or fnmatch.fnmatchcase(action, a.replace("?", "[?]")) for a in _as_list(st["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(arn, r) for r in _as_list(st.get("Resource", "*"))):
            continue
        if st["Effect"] == "Deny":
            return "Deny"
        decision = "Allow"
    return decision


# -- CORS --------------------------------------------------------------------------------------------


def cors_rule(rules: list[dict], origin: str, method: str, headers: list[str]) -> dict | None:
    for rule in rules:
        if not any(fnmatch.fnmatchcase(origin, o) for o in rule["origins"]):
            continue
        if method not in rule["methods"]:
            continue
        allowed = [h.lower() for h in rule["headers"]]
        if all(any(fnmatch.fnmatchcase(h.lower(), a) for a in allowed) for h in headers if h):
            return rule
    return None


def cors_headers(rule: dict, origin: str, preflight: bool, requested: list[str]) -> dict[str, str]:
    out = {
        "Access-Control-Allow-Origin": "*" if rule["origins"] == ["*"] else origin,
        "Access-Control-Allow-Methods": ", ".join(rule["methods"]),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    if rule["origins"] != ["*"]:
        out["Access-Control-Allow-Credentials"] = "true"
    if rule["expose"]:
        out["Access-Control-Expose-Headers"] = ", ".join(rule["expose"])
    if preflight:
        if requested:
            out["Access-Control-Allow-Headers"] = ", ".join(requested)
        if rule.get("max_age") is not None:
            out["Access-Control-Max-Age"] = str(rule["max_age"])
    return out
