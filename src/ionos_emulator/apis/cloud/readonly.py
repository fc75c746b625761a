"""API info, locations, templates, contracts and the /requests resource."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from ...engine import clock, listing
from ...engine.errors import ApiError
from ...engine.lifecycle import Lifecycle
from ...gateway.context import Ctx, Reply
from ...store import Row
from . import catalogue
from .compute import handler
from .model import Kind, catalogue_row, collection, single
from .rules import reserved_ips_in_use, usage

LOCATION = Kind("location", "location", "locations", paginated=False)
TEMPLATE = Kind("template", "template", "templates", paginated=False)


@handler("apiInfoGet")
def api_info(ctx: Ctx) -> Reply:
    return Reply(200, {"href": ctx.href(""), "name": "CLOUD API", "version": "6.0"})


def _location_row(ctx: Ctx, loc: dict) -> Row:
    return catalogue_row(ctx, LOCATION, loc, _catalogue_meta(loc["id"]))


def _catalogue_meta(seed: str) -> dict:
    import hashlib

    return {
        "etag": hashlib.md5(seed.encode()).hexdigest(),
        "createdDate": "2025-01-01T00:00:00Z",
        "createdBy": "[UNKNOWN]",
        "createdByUserId": "[UNKNOWN]",
        "lastModifiedDate": "2025-01-01T00:00:00Z",
        "lastModifiedBy": "[UNKNOWN]",
        "lastModifiedByUserId": "[UNKNOWN]",
        "state": "AVAILABLE",
    }


@handler("locationsGet")
def locations(ctx: Ctx) -> Reply:
    rows = [_location_row(ctx, loc) for loc in catalogue.LOCATIONS]
    return Reply(200, collection(ctx, LOCATION, rows, "locations", "locations"))


@handler("locationsFindByRegionId")
def region(ctx: Ctx) -> Reply:
    rid = ctx.params["regionId"]
    rows = [_location_row(ctx, loc) for loc in catalogue.LOCATIONS if loc["id"].split("/")[0] == rid]
    if not rows:
        raise ApiError(404, f"Resource does not exist: region {rid}", "309")
    return Reply(200, collection(ctx, LOCATION, rows, f"locations/{rid}", rid))


@handler("locationsFindByRegionIdAndId")
def location(ctx: Ctx) -> Reply:
    loc = catalogue.location(f"{ctx.params['regionId']}/{ctx.params['locationId']}")
    if loc is None:
        raise ApiError(404, "Resource does not exist: location", "309")
    return single(ctx, LOCATION, _location_row(ctx, loc))


@handler("templatesGet")
def templates(ctx: Ctx) -> Reply:
    rows = [catalogue_row(ctx, TEMPLATE, t) for t in catalogue.templates()]
    return Reply(200, collection(ctx, TEMPLATE, rows, "templates", "templates"))


@handler("templatesFindById")
def template(ctx: Ctx) -> Reply:
    tpl = catalogue.template(ctx.params["templateId"])
    if tpl is None:
        raise ApiError(404, f"Resource does not exist: template {ctx.params['templateId']}", "309")
    return single(ctx, TEMPLATE, catalogue_row(ctx, TEMPLATE, tpl))


@handler("contractsGet")
def contracts(ctx: Ctx) -> Reply:
    c = ctx.identity.contract(ctx.tenant)
    # what the Cloud API shows of a contract (the record also keeps its reseller relations)
    props = {k: c[k] for k in ("contractNumber", "owner", "status", "regDomain") if k in c}
    props["resourceLimits"] = {**c["resourceLimits"], **usage(ctx), "reservedIpsInUse": reserved_ips_in_use(ctx)}
    return Reply(
        200,
        {
            "id": "contracts",
            "type": "collection",
            "href": ctx.href("contracts"),
            "items": [{"type": "contract", "properties": props}],
        },
    )


# -- requests ---------------------------------------------------------------------------------------

MESSAGES = {
    "QUEUED": "Request has been queued",
    "RUNNING": "Request is being processed",
    "DONE": "Request has been successfully executed",
}


def status_view(ctx: Ctx, req: dict) -> dict:
    status = Lifecycle.status(req, ctx.now)
    message = req.get("message") if status == "FAILED" else MESSAGES[status]
    return {
        "id": req["id"],
        "type": "request-status",
        "href": ctx.href(f"requests/{req['id']}/status"),
        "metadata": {
            "status": status,
            "message": message,
            "etag": req["id"].replace("-", ""),
            "targets": [
                {"target": {"id": t["id"], "type": t["type"], "href": ctx.href(t["path"])}, "status": status}
                for t in req["targets"]
            ],
        },
    }


def request_view(ctx: Ctx, req: dict, level: int) -> dict:
    ref = {"id": req["id"], "type": "request", "href": ctx.href(f"requests/{req['id']}")}
    if level <= 0:
        return ref
    return {
        **ref,
        "metadata": {
            "createdDate": clock.iso(req["created"]),
            "createdBy": req.get("user", ""),
            "etag": req["id"].replace("-", ""),
            "requestStatus": status_view(ctx, req),
        },
        "properties": {
            "method": req["method"],
            "headers": req.get("headers") or {},
            "body": req.get("body") or "",
            "url": req["url"],
        },
    }


def _visible(ctx: Ctx, req: dict) -> bool:
    """The Cloud API's own requests (a product's changes are polled on the resource, not here): an
    administrator sees every one of the contract, any other user only their own."""
    p = ctx.principal
    if req.get("api", ctx.api.name) != ctx.api.name:
        return False
    if "user_id" in req:
        return p.admin or req["user_id"] == p.user_id
    return p.admin or str(req.get("user", "")).lower() == p.email.lower()  # a record from before user_id


def _load_request(ctx: Ctx) -> dict:
    req = ctx.store.get_request(ctx.tenant, ctx.params["requestId"].lower())
    if req is None or not _visible(ctx, req):
        raise ApiError(404, f"Resource does not exist: request {ctx.params['requestId']}", "309")
    return req


@handler("requestsStatusGet")
def request_status(ctx: Ctx) -> Reply:
    return Reply(200, status_view(ctx, _load_request(ctx)))


@handler("requestsFindById")
def request(ctx: Ctx) -> Reply:
    return Reply(200, request_view(ctx, _load_request(ctx), max(1, ctx.depth)))


@handler("requestsGet")
def requests(ctx: Ctx) -> Reply:
    reqs = [r for r in reversed(ctx.store.list_requests(ctx.tenant)) if _visible(ctx, r)]  # newest first
    after, before = ctx.q("filter.createdAfter"), ctx.q("filter.createdBefore")
    for raw, keep in ((after, lambda r, t: r["created"] > t), (before, lambda r, t: r["created"] < t)):
        if raw:
            t = clock.parse_filter_date(raw)
            if t is None:
                raise ApiError(422, f"date filters take the format yyyy-MM-dd HH:mm:ss, not '{raw}'")
            reqs = [r for r in reqs if keep(r, t)]
    # filter.createdDate is documented as 'yyyy-MM-dd HH:mm:ss' but createdDate renders with a T
    rest = QueryParams(
        [
            (k, v.replace(" ", "T") if k.lower() == "filter.createddate" else v)
            for k, v in ctx.query.multi_items()
            if k not in ("filter.createdAfter", "filter.createdBefore")
        ]
    )

    def view(r):
        status = Lifecycle.status(r, ctx.now)
        return {
            "properties": {
                "method": r["method"],
                "url": r["url"],
                "body": r.get("body") or "",
                "headers": str(r.get("headers") or {}),
            },
            "metadata": {
                "status": status,
                "requestStatus": status,
                "createdDate": clock.iso(r["created"]),
                "createdBy": r.get("user", ""),
                "etag": r["id"].replace("-", ""),
            },
        }

    page, offset, limit, total = listing.select(reqs, view, rest, paginated=True)
    assert offset is not None and limit is not None, "a paginated listing is paged"
    href = ctx.href("requests")
    return Reply(
        200,
        {
            "id": "requests",
            "type": "collection",
            "href": href,
            "items": [request_view(ctx, r, ctx.depth) for r in page],
            "offset": offset,
            "limit": limit,
            "_links": listing.links(href, offset, limit, total),
        },
    )
