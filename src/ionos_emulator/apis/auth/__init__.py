"""Auth API v1: generate, list, get and delete RS256 tokens (api-behaviour.md §1)."""

from __future__ import annotations

from ...engine import clock
from ...engine.errors import ApiError, not_found
from ...gateway.context import ApiModule, Ctx, Reply

API = ApiModule(name="auth", prefix="/auth/v1", spec_name="auth", product="auth", hosts={"api.ionos.com": "/auth/v1"})

TTL_MIN, TTL_MAX = 60, 31_536_000


def _token_view(ctx: Ctx, rec: dict) -> dict:
    return {
        "id": rec["id"],
        "href": ctx.href(f"tokens/{rec['id']}"),
        "createdDate": clock.iso(rec["created"]),
        "expirationDate": clock.iso(rec["expires"]),
    }


@API.handler("tokensGenerate")
def generate(ctx: Ctx) -> Reply:
    raw = ctx.q("ttl")
    ttl = TTL_MAX
    if raw is not None:
        try:
            ttl = int(raw)
        except ValueError:
            raise ApiError(422, "query parameter 'ttl' must be an integer number of seconds") from None
        if not TTL_MIN <= ttl <= TTL_MAX:
            raise ApiError(422, f"query parameter 'ttl' must be between {TTL_MIN} and {TTL_MAX}")
    with ctx.store.tx():
        token = ctx.identity.issue_token(ctx.principal, ttl)
    return Reply(200, {"token": token})


@API.handler("tokensGet")
def list_tokens(ctx: Ctx) -> Reply:
    return Reply(200, {"tokens": [_token_view(ctx, t) for t in ctx.identity.tokens_of(ctx.principal)]})


@API.handler("tokensFindById")
def get_token(ctx: Ctx) -> Reply:
    rec = ctx.identity.token(ctx.principal, ctx.params["tokenId"])
    if rec is None:
        raise not_found("Token does not exist")
    return Reply(200, _token_view(ctx, rec))


@API.handler("tokensDeleteById")
def delete_token(ctx: Ctx) -> Reply:
    rec = ctx.identity.token(ctx.principal, ctx.params["tokenId"])
    if rec is None:
        raise not_found("Token does not exist")
    with ctx.store.tx():
        ctx.identity.delete_token(rec["id"])
    return Reply(200, {"success": True})


@API.handler("tokensDeleteByCriteria")
def delete_by_criteria(ctx: Ctx) -> Reply:
    criteria = (ctx.q("criteria") or "").upper()
    ident = ctx.identity
    if criteria == "ALL":
        doomed = ident.tokens_of(ctx.principal)
    elif criteria == "EXPIRED":
        doomed = [t for t in ident.tokens_of(ctx.principal) if t["expires"] <= ctx.now]
    elif criteria == "CURRENT":
        if ctx.principal.token_id is None:
            raise ApiError(422, "criteria CURRENT needs Token Authentication (Authorization: Bearer)")
        doomed = [{"id": ctx.principal.token_id}]
    else:
        raise ApiError(422, "query parameter 'criteria' must be one of ALL, EXPIRED, CURRENT")
    with ctx.store.tx():
        for t in doomed:
            ident.delete_token(t["id"])
    return Reply(200, {"success": True})
