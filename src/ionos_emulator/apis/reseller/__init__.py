"""Reseller API v2 (api.ionos.com/reseller/v2): the sub-contracts a reseller's master contract makes, their
resource limits and their admin users. Contracts are the identity's records (identity/service.py), so a
sub-contract is a tenant like any other: its admins log in to every API, and the master contract's
administrators reach it with X-Contract-Number (Basic) or a token made for it."""

from __future__ import annotations

from typing import Any

from ...engine import listing
from ...engine.errors import ApiError, forbidden, invalid
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import DirectChange, PKind, Product

PRODUCT = Product(
    name="reseller",
    spec_name="reseller",
    config_name="",  # not a product of the IONOS config file (sdk-go-bundle fileconfiguration)
    host="api.ionos.com",
)
PRODUCTS = [PRODUCT]

# Only for what a change names in its request record (the Activity Log); every operation has its handler.
CONTRACT = PKind(PRODUCT, "contract", "contract", "contracts", stateless=True)
ADMIN = PKind(PRODUCT, "admin", "admin", "admins", parent=CONTRACT, stateless=True)

# The Reseller API's limit names and the contract's (as the Cloud API's /contracts shows them), same units
# (MB, cores, addresses) (guess: the docs give no units).
LIMITS = {
    "ramServerMax": "ramPerServer",
    "cpuServerMax": "coresPerServer",
    "hddVolumeMaxSize": "hddLimitPerVolume",
    "ssdVolumeMaxSize": "ssdLimitPerVolume",
    "ramContractMax": "ramPerContract",
    "cpuContractMax": "coresPerContract",
    "hddVolumeContractMaxSize": "hddLimitPerContract",
    "ssdVolumeContractMaxSize": "ssdLimitPerContract",
    "ips": "reservableIps",
}
FIRST_SUBCONTRACT = 32_000_001  # numbers handed out from here, past every contract that exists (guess)
DEFAULT_LIMIT, MAX_LIMIT = 50, 5000  # the documented paging of GET /contracts


def _reseller(ctx: Ctx) -> dict:
    """The caller's contract, which must be a reseller's master contract, and the caller one of its admins."""
    own = ctx.identity.contract(ctx.tenant) or {}
    if not own.get("reseller"):
        raise forbidden("Access Denied: the Reseller API is for the master contracts of IONOS resellers")
    if not ctx.principal.admin:
        raise forbidden("Access Denied: the Reseller API needs an administrator of the master contract")
    return own


def _contract(ctx: Ctx) -> dict:
    _reseller(ctx)
    raw = ctx.params["contractNumber"]
    found = ctx.identity.contract(int(raw)) if raw.isdigit() and len(raw) <= 18 else None
    if found is None or found.get("parent") != ctx.tenant:
        raise ApiError(404, f"contract {raw} was not found")
    return found


def contract_view(ctx: Ctx, c: dict) -> dict:
    n = c["contractNumber"]
    return {
        "id": str(n),
        "href": ctx.href(f"contract/{n}"),  # the singular path of the documented examples
        "name": c.get("name") or "",
        "resellerReference": c.get("resellerReference") or "",
        "status": c.get("status") or "BILLABLE",
        "resourceLimits": {ours: int(c["resourceLimits"].get(theirs) or 0) for ours, theirs in LIMITS.items()},
    }


def _limits(body: Any) -> dict[str, int]:
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    for name, value in body.items():
        if name in LIMITS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise invalid(name, "must be a whole number, 0 or more")
    return {LIMITS[name]: int(value) for name, value in body.items() if name in LIMITS}


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise invalid("name", "must be a non-empty text of at most 255 characters")
    return value.strip()


def _record(ch: DirectChange, kind: Any, number: int, admin_id: str | None = None) -> None:
    """What a change of the reseller's records touched, in its request record (of the master contract)."""
    path = f"contracts/{number}" + (f"/admins/{admin_id}" if admin_id else "")
    ch.target(kind, Row(tenant=ch.ctx.tenant, kind=kind.name, id=admin_id or str(number), path=path))


@PRODUCT.handler("findAll")
def contracts(ctx: Ctx) -> Reply:
    _reseller(ctx)
    subs = ctx.identity.subcontracts(ctx.tenant)
    status = ctx.q("filter.status")
    if status:
        subs = [c for c in subs if str(c.get("status", "")).upper() == status.upper()]
    offset, limit = ctx.q_int("offset", 0), ctx.q_int("limit", DEFAULT_LIMIT)
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(422, f"offset must be 0 or more and limit from 1 to {MAX_LIMIT}")
    href = ctx.href("contracts")
    return Reply(
        200,
        {
            "items": [contract_view(ctx, c) for c in subs[offset : offset + limit]],
            "offset": offset,
            "limit": limit,
            "_links": listing.links(href, offset, limit, len(subs)),
        },
    )


@PRODUCT.handler("createContract")
def create_contract(ctx: Ctx) -> Reply:
    _reseller(ctx)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    name = _name(body.get("name"))
    limits = _limits(body.get("resourceLimits"))
    reference = body.get("resellerReference") or ""
    if not isinstance(reference, str) or len(reference) > 255:
        raise invalid("resellerReference", "must be a text of at most 255 characters")
    taken = [c["contractNumber"] for c in ctx.identity.contracts()]
    number = max([FIRST_SUBCONTRACT - 1, *taken]) + 1
    with DirectChange(ctx, CONTRACT) as ch:
        record = ctx.identity.create_contract(
            number, None, None, limits, parent=ctx.tenant, name=name, reference=reference
        )
        _record(ch, CONTRACT, number)
    return Reply(201, contract_view(ctx, record))


@PRODUCT.handler("findById")
def contract(ctx: Ctx) -> Reply:
    return Reply(200, contract_view(ctx, _contract(ctx)))


def _update(ctx: Ctx, **changes: Any) -> Reply:
    record = _contract(ctx)
    with DirectChange(ctx, CONTRACT) as ch:
        _record(ch, CONTRACT, record["contractNumber"])
        limits = changes.pop("limits", None)
        if limits is not None:
            record["resourceLimits"] = {**record["resourceLimits"], **limits}
        record.update(changes)
        ctx.identity.update_contract(record)
    return Reply(200, contract_view(ctx, record))


@PRODUCT.handler("updateName")
def update_name(ctx: Ctx) -> Reply:
    raw = ctx.body if isinstance(ctx.body, str) else ""
    return _update(ctx, name=_name(raw.strip().strip('"')))


@PRODUCT.handler("updateContractResourceLimits")
def update_limits(ctx: Ctx) -> Reply:
    return _update(ctx, limits=_limits(ctx.body))


@PRODUCT.handler("updateContract")
def update_contract(ctx: Ctx) -> Reply:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    reference = body.get("resellerReference", "")
    if not isinstance(reference, str):
        raise invalid("resellerReference", "must be a text")
    return _update(
        ctx, name=_name(body.get("name")), resellerReference=reference, limits=_limits(body.get("resourceLimits"))
    )


# -- admins -----------------------------------------------------------------------------------------------


def admin_view(ctx: Ctx, number: int, row: Row) -> dict:
    return {
        "id": row.id,
        "href": ctx.href(f"contract/{number}/admin/{row.id}"),
        "firstName": row.props.get("firstname", ""),
        "lastName": row.props.get("lastname", ""),
        "email": row.props.get("email", ""),
    }


def _admins(ctx: Ctx, number: int) -> list[Row]:
    return [u for u in ctx.store.list(number, "user", "") if u.props.get("administrator") or u.x.get("owner")]


def _admin(ctx: Ctx) -> tuple[int, Row]:
    number = _contract(ctx)["contractNumber"]
    row = next((u for u in _admins(ctx, number) if u.id == ctx.params["adminId"]), None)
    if row is None:
        raise ApiError(404, f"admin {ctx.params['adminId']} of contract {number} was not found")
    return number, row


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise invalid(name, "is required: a non-empty text of at most 255 characters")
    return value.strip()


def _email(ctx: Ctx, body: dict, old: str | None = None) -> str:
    email = _text(body, "email")
    if "@" not in email:
        raise invalid("email", f"'{email}' is not an e-mail address")
    if email.lower() != (old or "").lower() and ctx.store.kv_get(f"login:{email.lower()}") is not None:
        raise ApiError(422, f"a user with the e-mail address {email} exists")
    return email


@PRODUCT.handler("findAllAdmins")
def admins(ctx: Ctx) -> Reply:
    number = _contract(ctx)["contractNumber"]
    return Reply(200, [admin_view(ctx, number, u) for u in _admins(ctx, number)])


@PRODUCT.handler("findAdminById")
def admin(ctx: Ctx) -> Reply:
    number, row = _admin(ctx)
    return Reply(200, admin_view(ctx, number, row))


@PRODUCT.handler("createAdmin")
def create_admin(ctx: Ctx) -> Reply:
    number = _contract(ctx)["contractNumber"]
    body = ctx.body if isinstance(ctx.body, dict) else {}
    first, last, email = _text(body, "firstName"), _text(body, "lastName"), _email(ctx, body)
    password = body.get("password")
    with DirectChange(ctx, ADMIN) as ch:
        row = ctx.identity.create_user(  # held to the sub-contract's password policy
            number,
            email=email,
            password=password if isinstance(password, str) else "",
            firstname=first,
            lastname=last,
            administrator=True,
        )
        _record(ch, ADMIN, number, row.id)
    return Reply(201, admin_view(ctx, number, row))


@PRODUCT.handler("updateAdmin")
def update_admin(ctx: Ctx) -> Reply:
    number, row = _admin(ctx)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    first, last = _text(body, "firstName"), _text(body, "lastName")
    old = row.props["email"]
    email = _email(ctx, body, old)
    with DirectChange(ctx, ADMIN) as ch:
        _record(ch, ADMIN, number, row.id)
        if email.lower() != old.lower():
            login = ctx.store.kv_get(f"login:{old.lower()}")
            ctx.store.kv_delete(f"login:{old.lower()}")
            ctx.store.kv_set(f"login:{email.lower()}", login)
        row.props.update(firstname=first, lastname=last, email=email)
        ctx.store.update(row)
        ctx.identity.changed()
    return Reply(200, admin_view(ctx, number, row))


@PRODUCT.handler("deleteAdmin")
def delete_admin(ctx: Ctx) -> Reply:
    number, row = _admin(ctx)
    with DirectChange(ctx, ADMIN) as ch:
        _record(ch, ADMIN, number, row.id)
        ctx.store.kv_delete(f"login:{row.props['email'].lower()}")
        for t in ctx.identity.tokens_of_user(row.id):
            ctx.identity.delete_token(t["id"])
        ctx.store.delete_tree(row)
        ctx.identity.changed()
    return Reply(204, None)
