"""The access keys S3 requests are signed with, and who they belong to: the S3 keys of the Cloud API
(/um/users/{id}/s3keys, kind `s3key`: user-owned buckets of that user, while active) and the access keys of
the Object Storage Management API (apis/objectstorage: contract-owned buckets). Read from the store on every
request (a deactivated, renewed or deleted key stops working at once, in every process); only where a key
lives is remembered."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.errors import ApiError
from ..gateway.context import Services
from ..identity import Principal
from .xml import S3Error

CLOUD_KIND = "s3key"
MANAGEMENT_KIND = "objectstoragemanagement.accesskey"
MANAGEMENT_INDEX = "s3ak:"  # kv: access key -> {"tenant", "id"} of its management row


@dataclass(frozen=True)
class Caller:
    """Who signed the request."""

    tenant: int
    user_id: str
    email: str
    admin: bool  # the contract's owner or an administrator
    access_key: str
    secret: str
    source: str  # "cloud" (user-owned buckets) or "management" (contract-owned)
    canonical_id: str  # the Owner/ID S3 shows for this user

    def owns(self, bucket: dict) -> bool:
        if bucket["tenant"] != self.tenant:
            return False
        return self.admin if bucket["contract"] else bucket["user"] == self.user_id


def _unknown(key: str) -> S3Error:
    return S3Error(
        "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyId=key
    )


class Keys:
    def __init__(self, services: Services):
        self.services = services
        self._where: dict[str, tuple[int, str]] = {}  # Cloud API key -> (tenant, user)
        # (tenant, user) -> (identity generation, principal): users, groups and passwords changing replace the
        # generation (identity/service.py), so a remembered principal is right while it is unchanged
        self._principals: dict[tuple[int, str], tuple[str, Principal, str]] = {}

    def caller(self, access_key: str, contract_owned: bool) -> Caller:
        """The owner of the key, for an endpoint of that bucket ownership; InvalidAccessKeyId otherwise."""
        if contract_owned:
            return self._management(access_key)
        return self._cloud(access_key)

    def _cloud(self, key: str) -> Caller:
        store = self.services.store
        row = None
        where = self._where.get(key)
        if where is not None:
            row = store.get(where[0], CLOUD_KIND, where[1], key)
        if row is None:
            for contract in self.services.identity.contracts():
                row = store.find(contract["contractNumber"], CLOUD_KIND, key)
                if row is not None:
                    self._where[key] = (row.tenant, row.parent)
                    break
        if row is None or not row.props.get("active", True):
            raise _unknown(key)
        return self._caller(row.tenant, row.parent, key, row.props["secretKey"], "cloud")

    def _management(self, key: str) -> Caller:
        store = self.services.store
        where = store.kv_get(MANAGEMENT_INDEX + key)
        row = store.get(where["tenant"], MANAGEMENT_KIND, "", where["id"]) if where else None
        if row is None or row.props.get("accessKey") != key or row.meta.get("state") in ("DESTROYING", "FAILED"):
            raise _unknown(key)
        return self._caller(row.tenant, row.meta.get("createdByUserId", ""), key, row.props["secretKey"], "management")

    def _caller(self, tenant: int, user_id: str, key: str, secret: str, source: str) -> Caller:
        identity = self.services.identity
        generation = identity.generation()
        known = self._principals.get((tenant, user_id))
        if known is not None and known[0] == generation:
            p, canonical = known[1], known[2]
        else:
            user = self.services.store.get(tenant, "user", "", user_id)
            try:
                p = identity._principal(tenant, user_id)
            except ApiError:
                raise _unknown(key) from None
            canonical = (user.props.get("s3CanonicalUserId") if user else None) or user_id
            if len(self._principals) > 10_000:
                self._principals.clear()
            self._principals[(tenant, user_id)] = (generation, p, canonical)
        if source == "management":
            canonical = f"{tenant}:{user_id}"
        return Caller(tenant, user_id, p.email, p.admin, key, secret, source, canonical)


def contract_id(tenant: int) -> str:
    """The Owner/ID of a contract-owned bucket (guess: the contract number)."""
    return str(tenant)
