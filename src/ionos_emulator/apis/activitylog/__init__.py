"""Activity Log (api.ionos.com/activitylog/v1): what happened under a contract, read from the request records
every change of every API leaves (engine/change.py): who asked what, when, on which resources, and how it
ended. Nothing is logged here: the records are the log, so it is per contract and survives restarts."""

from __future__ import annotations

from typing import Any

from ...engine import clock
from ...engine.errors import ApiError, forbidden
from ...engine.lifecycle import Lifecycle
from ...gateway.context import Ctx, Reply
from ..product import Product

PRODUCT = Product(
    name="activitylog",
    spec_name="activitylog",
    config_name="",  # the IONOS config file knows no product of this name (sdk-go-bundle fileconfiguration)
    host="api.ionos.com",
    privilege="accessActivityLog",
)
PRODUCTS = [PRODUCT]

AUDIT_VERSION = "0.1"
# the service a change came through, by API: the Cloud API's name is documented, the others are guesses
SOURCE_SERVICES = {"cloud": "PUBLIC_REST_V6", "reseller": "Reseller_V2"}
# the action domains the documented examples use (sec.user.create, ip.ipblock.reserve, sn.snapshot.create);
# every other Cloud API type is a virtual resource (vr.)
CLOUD_DOMAINS = {"user": "sec", "group": "sec", "share": "sec", "s3key": "sec", "ipblock": "ip", "snapshot": "sn"}
VERBS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
CLOUD_VERBS = {("ipblock", "POST"): "reserve", ("ipblock", "DELETE"): "release"}


@PRODUCT.handler("getInfo")
def info(ctx: Ctx) -> Reply:
    return Reply(200, {"href": ctx.href(""), "name": "Activity Log Service API", "version": "v1"})


@PRODUCT.handler("getAvailableContracts")
def contracts(ctx: Ctx) -> Reply:
    return Reply(
        200,
        [
            {"id": n, "type": "contracts", "href": ctx.href(f"contracts/{n}")}
            for n in ctx.identity.reachable(ctx.principal)
        ],
    )


@PRODUCT.handler("getByContract")
def by_contract(ctx: Ctx) -> Reply:
    raw = ctx.params["contractNumber"]
    number = int(raw) if raw.isdigit() else -1
    if number not in ctx.identity.reachable(ctx.principal):
        raise forbidden(f"Access Denied: the activity log of contract {raw} is not yours to read")
    start, end = _date(ctx, "dateStart"), _date(ctx, "dateEnd")
    offset, limit = ctx.q_int("offset", 0), ctx.q_int("limit", 20)
    if offset < 0 or limit < 0:
        raise ApiError(422, "offset and limit must not be negative")
    # the request records of the changes made, and the records of those refused (engine/change.py), by time
    records = ctx.store.list_requests(number) + [r for _, r in ctx.store.kv_prefix(f"refused:{number}:")]
    found = sorted(
        (r for r in records if (start is None or r["created"] >= start) and (end is None or r["created"] < end)),
        key=lambda r: r["created"],
    )
    hits = [{"_source": entry(ctx, number, r)} for r in found[offset : offset + limit]]
    return Reply(200, {"hits": {"total": len(found), "hits": hits}})


def _date(ctx: Ctx, name: str) -> float | None:
    raw = ctx.q(name)
    if not raw:
        return None
    when = clock.parse_filter_date(raw.split(".")[0])  # '2021-09-23T11:43:51Z', '2016-07-01' (a day's start)
    if when is None:
        raise ApiError(422, f"{name} must be a date (2016-07-01) or a date-time (2021-09-23T11:43:51Z), not '{raw}'")
    return when


def entry(ctx: Ctx, contract: int, req: dict[str, Any]) -> dict[str, Any]:
    """One change as the Activity Log shows it: who, when, through which service, on what, and its status."""
    api = req.get("api", "cloud")
    service = SOURCE_SERVICES.get(api, api)
    method = req["method"]
    if "httpStatus" in req:  # refused: nothing was done, the answer was an error
        return _envelope(ctx, contract, req, service, refused_event(req, service))
    status = Lifecycle.status(req, ctx.now)
    event: dict[str, Any] = {
        "type": "RequestAccepted",
        "param": {"action": method, "uri": req["url"], "initiator": service, "sourceService": service},
        "resources": [
            {"action": [action(api, t["type"], method)], "id": t["id"], "type": t["type"]}
            for t in req.get("targets") or ()
        ],
        "status": status,
    }
    if status == "FAILED":
        event["message"] = req.get("message") or ""
        event["param"]["error"] = {
            "httpStatus": "500",
            "messages": [{"errorCode": "500", "message": req.get("message") or ""}],
        }
    return _envelope(ctx, contract, req, service, event)


def refused_event(req: dict[str, Any], service: str) -> dict[str, Any]:
    """A refused change: the documented `Error` event, with the answer's status and message."""
    message = {"errorCode": str(req["errorCode"]), "message": str(req["message"])}
    param = {"action": req["method"], "uri": req["url"], "initiator": service, "sourceService": service}
    param["errorCode"] = str(req["errorCode"])
    param["error"] = {"httpStatus": str(req["httpStatus"]), "messages": [message]}
    return {"type": "Error", "param": param, "resources": [], "status": "FAILED", "message": message["message"]}


def _envelope(ctx: Ctx, contract: int, req: dict[str, Any], service: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": {
            "identity": {"contractNumber": str(contract), "username": req.get("user", "")},
            "sourceService": service,
            "serviceHost": ctx.base_url.split("://", 1)[-1],
        },
        "meta": {
            "auditVersion": AUDIT_VERSION,
            "requestId": req["id"],
            "queueRefId": int(req.get("seq") or 0),
            "time": clock.iso_precise(req["created"])[:-4] + "Z",  # milliseconds, as the documented example
        },
        "event": event,
    }


def action(api: str, type_: str, method: str) -> str:
    """sec.user.create, ip.ipblock.reserve, vr.server.update; a product's <api>.<type>.<verb> (guess)."""
    kind = type_.replace("-", "").lower()
    verb = VERBS.get(method, method.lower())
    if api == "cloud":
        return f"{CLOUD_DOMAINS.get(kind, 'vr')}.{kind}.{CLOUD_VERBS.get((kind, method), verb)}"
    return f"{api}.{kind}.{verb}"
