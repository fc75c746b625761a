"""The Object Storage Management API (s3.ionos.com, SDK ionoscloud-object-storage-management 2.0.0): the
access keys of contract-owned buckets (per user: each user sees and manages their own; renew replaces the
secret) and the Object Storage regions. The S3 data plane itself is `ionos_emulator.s3`; it reads the keys
made here (s3/keys.py) through the index this package keeps (kv `s3ak:<access key>`)."""

from __future__ import annotations

import secrets
import string

from ...gateway.context import Ctx, Reply
from ...s3.regions import REGIONS
from ...store import Row
from ..product import PKind, Product, computed_rows, load, render

PRODUCT = Product(
    name="objectstoragemanagement",
    spec_name="objectstoragemanagement",
    config_name="objectstoragemanagement",
    host="s3.ionos.com",
)
PRODUCTS = [PRODUCT]

ALPHABET = string.ascii_letters + string.digits


def _access_key() -> str:
    """92 characters, as the spec describes them (its example starts with "00000")."""
    return "00000" + "".join(secrets.choice(ALPHABET + "_") for _ in range(87))


def _secret() -> str:
    return "".join(secrets.choice(ALPHABET + "+/") for _ in range(40))


def _prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    """The client sets the description; the key, the secret and the user ids are the service's."""
    description = props.get("description")
    if not isinstance(description, str):
        from ...engine.errors import invalid

        raise invalid("properties.description", "is required")
    if old is not None:
        return {**old.props, "description": description}
    p = ctx.principal
    user = ctx.store.get(p.tenant, "user", "", p.user_id)
    return {
        "description": description,
        "accessKey": _access_key(),
        "secretKey": _secret(),
        "canonicalUserId": (user.props.get("s3CanonicalUserId") if user else None) or p.user_id.replace("-", ""),
        "contractUserId": f"{p.tenant}:{p.user_id}",
        "administrative": p.admin,
    }


# s3/keys.py (and the S3 modules it needs) is imported by the hooks that keep its index: s3/__init__.py says why


def _index(ctx: Ctx, row: Row, change) -> None:
    from ...s3.keys import MANAGEMENT_INDEX

    ctx.store.kv_set(MANAGEMENT_INDEX + row.props["accessKey"], {"tenant": row.tenant, "id": row.id})


def _unindex(ctx: Ctx, row: Row, change) -> None:
    from ...s3.keys import MANAGEMENT_INDEX

    ctx.store.kv_delete(MANAGEMENT_INDEX + row.props["accessKey"])


def _meta(ctx: Ctx, row: Row) -> dict:
    return {
        "administrative": bool(row.x.get("administrative")),
        "supportedRegions": [r.id for r in REGIONS if r.contract_owned],
    }


def _own_keys(ctx: Ctx, parent: Row | None) -> list[Row]:
    """Each user's own keys (they are per user)."""
    rows = ctx.store.list(ctx.tenant, ACCESSKEY.name, "")
    return [r for r in rows if r.meta.get("createdByUserId") == ctx.principal.user_id]


ACCESSKEY = PKind(
    PRODUCT,
    "accesskey",
    "accesskey",
    "accesskeys",
    absolute_href=False,
    prepare=_prepare,
    after=_index,
    delete=_unindex,
    meta=_meta,
    rows=_own_keys,
    internal=("administrative",),
    state_field="status",
    filter_names={"accesskeyId": "accessKey"},
)


def _regions(ctx: Ctx, parent: Row | None) -> list[Row]:
    entries = {
        r.id: {
            "version": 1,
            "endpoint": r.hosts[0],
            "website": r.website,
            "capability": {"iam": False, "s3select": False},
            "storageClasses": ["standard"],
            "location": r.location,
            "bucketOwnership": r.ownership,
        }
        for r in REGIONS
    }
    return computed_rows(ctx, REGION, entries)


REGION = PKind(PRODUCT, "region", "region", "regions", absolute_href=False, stateless=True, rows=_regions)


@PRODUCT.handler("accesskeysRenew")
def renew(ctx: Ctx) -> Reply:
    """A new secret for the same access key; the old one stops working at once."""
    row = load(ctx, ACCESSKEY, ctx.params["accesskeyId"])  # the caller's own (rows: _own_keys)
    with ctx.store.tx():
        row.props["secretKey"] = _secret()
        ctx.store.update(row)
    return Reply(200, render(ctx, ACCESSKEY, row))
