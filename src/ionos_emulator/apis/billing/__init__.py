"""Billing API 3.9 (api.ionos.com/billing): products and prices, usage, utilization, EVN, traffic and monthly
invoices, all computed from what the contract has and had in the emulator (apis/metering.py: every billable
resource's lifetime, on the emulated clock) and the price list (catalogue/billing.json)."""

from __future__ import annotations

import calendar
import uuid
from datetime import datetime, timezone
from typing import Any

from ... import spec as specs
from ...engine import clock
from ...engine.errors import ApiError, forbidden
from ...gateway.context import Ctx, Reply
from ..metering import PRICES, Metered, resources
from ..product import Product

PRODUCT = Product(
    name="billing",
    spec_name="billing",
    config_name="",  # not a product of the IONOS config file (sdk-go-bundle fileconfiguration)
    host="api.ionos.com",
)
PRODUCTS = [PRODUCT]

CURRENCY = "EUR"
LIABILITY = "Please double check your contract for prices."  # the spec's example text
INVOICE_PREFIX = "GY"  # as the spec's example invoice id (GY00101408): GY<yyyymm><contract> here (guess)


def _allowed(schema: str, prop: str) -> frozenset[str]:
    """The meter ids a schema's enum lets a response carry (usage, utilization and EVN know fewer than invoices)."""
    props = specs.load("billing").schemas[schema]["properties"]
    return frozenset(props[prop]["enum"])


USAGE_METERS = _allowed("UsageMeter", "meterId")
EVN_METERS = _allowed("EvnItem", "itemStub")
PRODUCT_METERS = _allowed("Product", "meterId")


# -- who and when -----------------------------------------------------------------------------------------


def _contract(ctx: Ctx, raw: str | None = None) -> int:
    """The contract the path names: the caller's own, or a sub-contract of their reseller contract; only its
    administrators read billing ("only contract holders", the Billing API docs)."""
    raw = ctx.params.get("contract", "") if raw is None else raw
    number = int(raw) if raw.isdigit() and len(raw) <= 10 else -1
    if not ctx.principal.admin or number not in ctx.identity.reachable(ctx.principal):
        raise forbidden(f"Access Denied: contract {raw} is not yours to read")
    return number


def metadata(number: int) -> dict[str, Any]:
    return {"contractId": number, "customerId": number, "reference": None}


def month(ctx: Ctx, period: str | None) -> tuple[str, float, float]:
    """('YYYY-MM', its start, its end) for a period, or the current month of the emulated clock."""
    if not period or period == "null":
        period = clock.iso(ctx.now)[:7]
    try:
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ApiError(422, f"the period must be YYYY-MM, not '{period}'") from None
    days = calendar.monthrange(start.year, start.month)[1]
    return period, start.timestamp(), start.timestamp() + days * 86400


def day(raw: str) -> tuple[float, float]:
    try:
        start = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise ApiError(422, f"the date must be YYYY-MM-DD, not '{raw}'") from None
    return start, start + 86400


def _ms(ts: float) -> str:
    return clock.iso_precise(ts)[:-4] + "Z"


def _date(ts: float) -> str:
    return clock.iso(ts)[:10]


def contract_dc(number: int) -> str:
    """The id what a contract holds outside any data center (IP blocks, snapshots) is listed under (guess)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ionos-emulator:contract:{number}"))


# -- what was used ----------------------------------------------------------------------------------------


def used(ctx: Ctx, number: int, start: float, end: float) -> list[tuple[Metered, str, float]]:
    """(resource, meter, quantity) of every metered resource that existed in [start, min(end, now))."""
    end = min(end, ctx.now)
    out = []
    for m in resources(ctx.store, number):
        for meter in m.meters:
            q = m.quantity(meter, start, end)
            if m.hours(meter, start, end) > 0:
                out.append((m, meter, round(q, 6)))
    return out


def traffic(ctx: Ctx, number: int, start: float, end: float) -> dict[str, dict[str, dict[str, float]]]:
    """Recorded traffic (GB) by data center and day: zero unless /_emulator/traffic recorded some."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in ctx.store.kv_prefix(f"traffic:{number}:"):
        _, _, dc, date = key.split(":", 3)
        when = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
        if start <= when < end:
            out.setdefault(dc, {})[date] = {"In": float(value.get("in", 0)), "Out": float(value.get("out", 0))}
    return out


def _dc_entry(ctx: Ctx, number: int, dcs: dict[str, dict], dc: str, m: Metered | None = None) -> dict:
    key = dc or contract_dc(number)
    if key not in dcs:
        row = ctx.store.get(number, "datacenter", "", dc) if dc else None
        name = (row.props.get("name") if row is not None else None) or (m.datacenter_name if m else "") or dc
        location = (row.props.get("location") if row is not None else None) or (m.location if m else "")
        dcs[key] = {"id": key, "name": name or "contract", "location": location or "", "meters": {}}
    return dcs[key]


def by_datacenter(ctx: Ctx, number: int, start: float, end: float, allowed: frozenset[str] | None) -> list[dict]:
    """Quantities per data center and meter, the recorded traffic included (TI1000, TO1000)."""
    dcs: dict[str, dict] = {}
    for m, meter, q in used(ctx, number, start, end):
        if allowed is None or meter in allowed:
            entry = _dc_entry(ctx, number, dcs, m.datacenter, m)
            entry["meters"][meter] = entry["meters"].get(meter, 0.0) + q
    for dc, days in traffic(ctx, number, start, end).items():
        entry = _dc_entry(ctx, number, dcs, dc)
        for meter, field in (("TI1000", "In"), ("TO1000", "Out")):
            entry["meters"][meter] = entry["meters"].get(meter, 0.0) + sum(d[field] for d in days.values())
    return list(dcs.values())


def _quantity(meter: str, q: float) -> dict[str, Any]:
    return {"quantity": round(q, 6), "unit": PRICES[meter]["unit"]}


# -- handlers ---------------------------------------------------------------------------------------------


@PRODUCT.handler("internalPingGet")
def ping(ctx: Ctx) -> Reply:
    return Reply(200, None)


@PRODUCT.handler("profileGet")
def profile(ctx: Ctx) -> Reply:
    if not ctx.principal.admin:
        raise forbidden("Access Denied: billing is for the contract's administrators")
    return Reply(200, {"companies": [metadata(n) for n in ctx.identity.reachable(ctx.principal)]})


@PRODUCT.handler("productsGet")
def products(ctx: Ctx) -> Reply:
    number = _contract(ctx)
    items = [
        {
            "meterId": meter,
            "meterDesc": p["desc"],
            "unit": p["unit"],
            "type": "consumption",
            "unitCost": {"quantity": p["price"], "unit": CURRENCY},
            "deprecated": False,
            "term": None,
        }
        for meter, p in PRICES.items()
        if meter in PRODUCT_METERS
    ]
    return Reply(200, {"metadata": metadata(number), "liability": LIABILITY, "products": items})


def _usage(ctx: Ctx, only_dc: str | None = None) -> Reply:
    number = _contract(ctx)
    _, start, end = month(ctx, ctx.q("period"))
    dcs = by_datacenter(ctx, number, start, end, USAGE_METERS)
    if only_dc is not None:
        dcs = [d for d in dcs if d["id"] == only_dc]
        if not dcs:
            raise ApiError(404, f"data center {only_dc} has no usage in this period")
    for d in dcs:
        d["meters"] = [
            {"meterId": k, "meterDesc": PRICES[k]["desc"], "quantity": _quantity(k, q)} for k, q in d["meters"].items()
        ]
    return Reply(
        200,
        {"metadata": metadata(number), "startDate": _date(start), "endDate": _date(end - 1), "datacenters": dcs},
    )


PRODUCT.handler("usageGet")(lambda ctx: _usage(ctx))
PRODUCT.handler("usageFindByDC")(lambda ctx: _usage(ctx, ctx.params["dc"]))


def _utilization(ctx: Ctx, start: float, end: float) -> Reply:
    number = _contract(ctx)
    dc_filter, resource, rtype = ctx.q("dc"), ctx.q("resource"), ctx.q("type")
    dcs: dict[str, dict] = {}
    stop = min(end, ctx.now)
    for m, meter, q in used(ctx, number, start, end):
        if meter not in USAGE_METERS or (resource and m.id != resource) or (rtype and m.type != rtype.upper()):
            continue
        entry = _dc_entry(ctx, number, dcs, m.datacenter, m)
        if dc_filter and entry["id"] != dc_filter:
            continue
        entry["meters"][f"{m.id}:{meter}"] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{m.id}/{meter}")),
            "resourceId": m.id,
            "serverId": m.server,
            "name": m.name,
            "type": m.type,
            "from": _ms(max(m.start, start)),
            "to": _ms(min(m.end if m.end is not None else stop, stop)),
            "exists": m.end is None,
            "meterId": meter,
            "meterDesc": PRICES[meter]["desc"],
            "region": m.location,
            "quantity": _quantity(meter, q),
        }
    out = [{"id": d["id"], "name": d["name"], "meters": list(d["meters"].values())} for d in dcs.values()]
    return Reply(
        200,
        {"metadata": metadata(number), "startDate": _date(start), "endDate": _date(end - 1), "datacenters": out},
    )


PRODUCT.handler("utilizationGet")(lambda ctx: _utilization(ctx, *month(ctx, None)[1:]))
PRODUCT.handler("utilizationFindByPeriod")(lambda ctx: _utilization(ctx, *month(ctx, ctx.params["period"])[1:]))
PRODUCT.handler("utilizationDailyFindById")(lambda ctx: _utilization(ctx, *day(ctx.params["date"])))


EVN_HEADER = (
    "contractId,VDCUUID,VDCName,ResourceType,ResourceUUID,IntervalMin,IntervalDivisor,From,To,ItemStub,Value,"
    "ValueDivisor,Additional Parameters"
)  # the spec example's CSV header


def _evn(ctx: Ctx, period: str | None) -> Reply:
    number = _contract(ctx)
    name, start, end = month(ctx, period)
    stop = min(end, ctx.now)
    dcs: dict[str, dict] = {}
    csv = [EVN_HEADER]
    for m in resources(ctx.store, number):
        lo, hi = max(m.start, start), min(m.end if m.end is not None else stop, stop)
        if hi <= lo:
            continue
        entry = _dc_entry(ctx, number, dcs, m.datacenter, m)
        for meter, per_hour in m.meters.items():
            if meter not in EVN_METERS:
                continue
            item = {
                "resourceType": m.type,
                "resourceUUID": m.id,
                "intervalMin": int((hi - lo) // 60),
                "intervalDivisor": 60,
                "from": _ms(lo),
                "to": _ms(hi),
                "itemStub": meter,
                "value": per_hour,
                "valueDivisor": 1,
                "additionalParameters": "",
            }
            entry["meters"][f"{m.id}:{meter}"] = item
            csv.append(
                ",".join(
                    str(v)
                    for v in (number, entry["id"], entry["name"], m.type, m.id, item["intervalMin"], 60)
                    + (item["from"], item["to"], meter, per_hour, 1, "")
                )
            )
    out = [{"vdcUUID": d["id"], "name": d["name"], "data": list(d["meters"].values())} for d in dcs.values()]
    return Reply(200, {"metadata": {**metadata(number), "period": name}, "datacenters": out, "evnCSV": csv})


PRODUCT.handler("evnGet")(lambda ctx: _evn(ctx, None))
PRODUCT.handler("evnFindByPeriod")(lambda ctx: _evn(ctx, ctx.params["period"]))


def _traffic(ctx: Ctx, period: str | None) -> Reply:
    number = _contract(ctx)
    name, start, end = month(ctx, period)
    vdcs: list[dict] = []
    lines, rows = ["VDCUUID,VDCName,Date,In,Out"], []
    for dc, days in traffic(ctx, number, start, end).items():
        row = ctx.store.get(number, "datacenter", "", dc)
        dc_name = str(row.props.get("name") or "") if row is not None else ""
        dates = [{"Date": d, **v} for d, v in sorted(days.items())]
        vdcs.append({"vdcUUID": dc, "vdcName": dc_name, "dates": dates})
        for d in dates:
            rows.append([dc, dc_name, str(d["Date"]), str(d["In"]), str(d["Out"])])
            lines.append(",".join(rows[-1]))
    meta = {**metadata(number), "period": name, "unit": "GB"}
    return Reply(
        200, {"type": "vdc", "metadata": meta, "traffic": lines, "trafficArr": rows, "trafficObj": {"vdc": vdcs}}
    )


PRODUCT.handler("trafficGet")(lambda ctx: _traffic(ctx, None))
PRODUCT.handler("trafficFindByPeriod")(lambda ctx: _traffic(ctx, ctx.params["period"]))


# -- invoices: one per closed month with usage --------------------------------------------------------------


def invoice_months(ctx: Ctx, number: int) -> list[str]:
    """The months before the current one (emulated clock) in which the contract used anything."""
    current = clock.iso(ctx.now)[:7]
    first = min((m.start for m in resources(ctx.store, number)), default=None)
    if first is None:
        return []
    out, when = [], clock.iso(first)[:7]
    while when < current:
        _, start, end = month(ctx, when)
        if used(ctx, number, start, end):
            out.append(when)
        year, mon = int(when[:4]), int(when[5:])
        when = f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"
    return out


def invoice(ctx: Ctx, number: int, period: str) -> dict:
    _, start, end = month(ctx, period)
    total = 0.0
    dcs = []
    for d in by_datacenter(ctx, number, start, end, None):
        meters = []
        for meter, q in d["meters"].items():
            rate = PRICES[meter]["price"]
            amount = round(q * rate, 2)  # to the cent, as the metering system rounds (docs FAQ)
            total += amount
            meters.append(
                {
                    "meterId": meter,
                    "meterDesc": PRICES[meter]["desc"],
                    "productGroup": None,
                    "quantity": _quantity(meter, q),
                    "rate": {"quantity": rate, "unit": CURRENCY},
                    "amount": {"quantity": amount, "unit": CURRENCY},
                }
            )
        dcs.append(
            {
                "id": d["id"],
                "name": d["name"],
                "location": d["location"],
                "productGroup": None,
                "meters": meters,
                "rebate": {"amount": {"quantity": 0, "unit": CURRENCY}},
            }
        )
    invoice_id = f"{INVOICE_PREFIX}{period.replace('-', '')}{number}"
    return {
        "metadata": {
            **metadata(number),
            "invoiceId": invoice_id,
            "postingPeriod": period,
            "startDate": _date(start),
            "endDate": _date(end - 1),
            "createdDate": _ms(end),
            "finallyPosted": True,
            "resellerRef": None,
        },
        "datacenters": dcs,
        "total": {"quantity": round(total, 2), "unit": CURRENCY},
    }


@PRODUCT.handler("invoicesGet")
def invoices(ctx: Ctx) -> Reply:
    number = _contract(ctx)
    items = []
    for period in invoice_months(ctx, number):
        inv = invoice(ctx, number, period)
        items.append({"id": inv["metadata"]["invoiceId"], "date": period, "amount": inv["total"]["quantity"]})
        items[-1]["unit"] = CURRENCY
    return Reply(200, {"metadata": metadata(number), "invoices": items})


@PRODUCT.handler("invoicesFindById")
def invoice_by_id(ctx: Ctx) -> Reply:
    number = _contract(ctx)
    raw = ctx.params["id"]
    period = f"{raw[2:6]}-{raw[6:8]}" if raw.startswith(INVOICE_PREFIX) and raw[8:] == str(number) else ""
    if period not in invoice_months(ctx, number):
        raise ApiError(404, f"invoice {raw} was not found")
    return Reply(200, invoice(ctx, number, period))


@PRODUCT.handler("invoicesFindByPeriod")
def invoices_of_period(ctx: Ctx) -> Reply:
    period, _, _ = month(ctx, ctx.params["period"])
    wanted = ctx.q("contractid")
    numbers = (
        [_contract(ctx, wanted)] if wanted else [_contract(ctx, str(n)) for n in ctx.identity.reachable(ctx.principal)]
    )
    return Reply(200, [invoice(ctx, n, period) for n in numbers if period in invoice_months(ctx, n)])
