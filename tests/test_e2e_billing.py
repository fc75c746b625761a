"""Billing API (api.ionos.com/billing) through plain HTTP: usage accrues with each resource's lifetime on the
emulated clock (a day in a second), stops when it is deleted, and closed months become invoices at the price
list's rates. Also the Quota API, derived from the same resources."""

from __future__ import annotations

import time

import pytest

from support import OWNER, http_client

CONTRACT = 31_000_001
DAY = 86400


@pytest.fixture(scope="module")
def emu(own_emulator):
    yield own_emulator
    own_emulator.admin("DELETE", "clock")


def billing(emu, path, **params):
    r = http_client().get(f"{emu.url}/billing/{path}", auth=OWNER, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def meters(usage: dict, dc: str) -> dict[str, float]:
    (entry,) = [d for d in usage["datacenters"] if d["id"] == dc]
    return {m["meterId"]: m["quantity"]["quantity"] for m in entry["meters"]}


def post(emu, path, props):
    r = http_client().post(f"{emu.cloud}/{path}", auth=OWNER, json={"properties": props})
    assert r.status_code == 202, r.text
    http_client().get(r.headers["Location"], auth=OWNER)
    return r.json()["id"]


def test_products_and_profile(emu):
    products = billing(emu, f"{CONTRACT}/products")
    by_id = {p["meterId"]: p for p in products["products"]}
    assert by_id["C01000"]["meterDesc"] == "1h core AMD" and by_id["C01000"]["unitCost"] == {
        "quantity": 0.02,
        "unit": "EUR",
    }
    assert billing(emu, "profile")["companies"] == [{"contractId": CONTRACT, "customerId": CONTRACT, "reference": None}]
    assert http_client().get(f"{emu.url}/billing/31000999/products", auth=OWNER).status_code == 403


def test_usage_accrues_with_lifetime_on_the_emulated_clock(emu):
    # start at the beginning of a month, so the whole test stays in it
    emu.admin("PUT", "clock", json={"now": "2031-03-01T00:00:00Z"})
    dc = post(emu, "datacenters", {"name": "billed", "location": "de/fra"})
    post(emu, f"datacenters/{dc}/servers", {"name": "s", "cores": 2, "ram": 4096, "cpuFamily": "AMD_EPYC"})
    vol = post(
        emu, f"datacenters/{dc}/volumes", {"name": "v", "size": 10, "type": "SSD Standard", "licenceType": "LINUX"}
    )
    ip = post(emu, "ipblocks", {"location": "de/fra", "size": 2})
    emu.admin("PATCH", "clock", json={"speed": DAY})  # a day per second
    time.sleep(1.0)
    emu.admin("PATCH", "clock", json={"speed": 0})  # stopped, so what follows reads one moment
    day1 = billing(emu, f"{CONTRACT}/usage", period="2031-03")
    assert day1["startDate"] == "2031-03-01" and day1["endDate"] == "2031-03-31"
    got = meters(day1, dc)
    hours = got["C01000"] / 2
    assert 20 < hours < 40, got  # about a day, at 2 cores
    assert got["R01000"] == pytest.approx(4 * hours, rel=0.01)
    assert got["S03000"] == pytest.approx(10 * hours, rel=0.01)

    # the volume goes: its lifetime ends, the server's goes on
    assert http_client().delete(f"{emu.cloud}/datacenters/{dc}/volumes/{vol}", auth=OWNER).status_code == 202
    emu.admin("PATCH", "clock", json={"advanceSeconds": DAY})
    got2 = meters(billing(emu, f"{CONTRACT}/usage", period="2031-03"), dc)
    assert got2["S03000"] == pytest.approx(got["S03000"], abs=0.5)
    assert got2["C01000"] == pytest.approx(got["C01000"] + 48, abs=0.5)

    # a stopped server frees its cores and RAM (its storage would still be billed)
    server = next(
        m["resourceId"]
        for d in billing(emu, f"{CONTRACT}/utilization")["datacenters"]
        for m in d["meters"]
        if m["meterId"] == "C01000"
    )
    r = http_client().post(f"{emu.cloud}/datacenters/{dc}/servers/{server}/stop", auth=OWNER)
    assert r.status_code == 202, r.text
    http_client().get(r.headers["Location"], auth=OWNER)
    emu.admin("PATCH", "clock", json={"advanceSeconds": DAY})
    got3 = meters(billing(emu, f"{CONTRACT}/usage", period="2031-03"), dc)
    assert got3["C01000"] == pytest.approx(got2["C01000"], abs=0.5) and got3["R01000"] == pytest.approx(
        got2["R01000"], abs=1
    )
    # started again: a day later it has accrued that day only (the stopped day is not billed)
    r = http_client().post(f"{emu.cloud}/datacenters/{dc}/servers/{server}/start", auth=OWNER)
    http_client().get(r.headers["Location"], auth=OWNER)
    emu.admin("PATCH", "clock", json={"advanceSeconds": DAY})
    got4 = meters(billing(emu, f"{CONTRACT}/usage", period="2031-03"), dc)
    assert got4["C01000"] == pytest.approx(got3["C01000"] + 48, abs=0.5)

    # utilization: per resource, the deleted one no longer existing
    util = billing(emu, f"{CONTRACT}/utilization/2031-03")
    rows = {(m["resourceId"], m["meterId"]): m for d in util["datacenters"] for m in d["meters"]}
    assert rows[(vol, "S03000")]["exists"] is False and rows[(ip, "A01000")]["type"] == "IP"
    assert billing(emu, f"{CONTRACT}/utilization", type="IP")["datacenters"][0]["meters"][0]["resourceId"] == ip

    # EVN: one item per resource and meter
    evn = billing(emu, f"{CONTRACT}/evn/2031-03")
    items = [i for d in evn["datacenters"] for i in d["data"]]
    assert {(i["resourceUUID"], i["itemStub"]) for i in items} >= {(vol, "S03000"), (ip, "A01000")}
    assert evn["evnCSV"][0].startswith("contractId,VDCUUID") and len(evn["evnCSV"]) == len(items) + 1


def test_closed_months_become_invoices(emu):
    emu.admin("PUT", "clock", json={"now": "2031-04-02T00:00:00Z", "speed": 0})
    listed = billing(emu, f"{CONTRACT}/invoices")["invoices"]
    assert [i["date"] for i in listed] == ["2031-03"]
    inv = billing(emu, f"{CONTRACT}/invoices/{listed[0]['id']}")
    amounts = [m["amount"]["quantity"] for d in inv["datacenters"] for m in d["meters"]]
    assert inv["total"]["quantity"] == pytest.approx(sum(amounts), abs=0.01) == listed[0]["amount"]
    cores = next(m for d in inv["datacenters"] for m in d["meters"] if m["meterId"] == "C01000")
    assert cores["amount"]["quantity"] == pytest.approx(cores["quantity"]["quantity"] * 0.02, abs=0.01)
    # the month's usage, billed: 2 cores for the 31 days of March, less the day the server was stopped
    march = billing(emu, f"{CONTRACT}/usage", period="2031-03")
    used = sum(m["quantity"]["quantity"] for d in march["datacenters"] for m in d["meters"] if m["meterId"] == "C01000")
    assert cores["quantity"]["quantity"] == pytest.approx(used) == pytest.approx(2 * 24 * 30, abs=2)
    assert inv["metadata"]["postingPeriod"] == "2031-03" and inv["metadata"]["finallyPosted"] is True
    assert [i["metadata"]["invoiceId"] for i in billing(emu, "invoices/2031-03")] == [listed[0]["id"]]
    assert http_client().get(f"{emu.url}/billing/{CONTRACT}/invoices/GY203104{CONTRACT}", auth=OWNER).status_code == 404


def test_traffic_is_zero_unless_recorded(emu):
    emu.admin("PUT", "clock", json={"now": "2031-04-02T00:00:00Z", "speed": 0})
    assert billing(emu, f"{CONTRACT}/traffic")["trafficObj"]["vdc"] == []
    dc = billing(emu, f"{CONTRACT}/usage", period="2031-03")["datacenters"][0]["id"]
    r = emu.admin("POST", "traffic", json={"datacenterId": dc, "date": "2031-04-01", "inGB": 1.5, "outGB": 3})
    assert r.status_code == 200, r.text
    t = billing(emu, f"{CONTRACT}/traffic/2031-04")
    assert t["trafficObj"]["vdc"][0]["dates"] == [{"Date": "2031-04-01", "In": 1.5, "Out": 3.0}]
    assert meters(billing(emu, f"{CONTRACT}/usage"), dc)["TO1000"] == 3.0
    assert emu.admin("POST", "traffic", json={"datacenterId": "x", "date": "2031-04-01"}).status_code == 422


def test_bad_periods_are_refused(emu):
    for path in (f"{CONTRACT}/usage?period=2031-13", f"{CONTRACT}/utilization/daily/2031-02-30"):
        r = http_client().get(f"{emu.url}/billing/{path}", auth=OWNER)
        assert r.status_code == 422, r.text


def test_quota_counts_the_dbaas_clusters(emu):
    r = http_client().get(emu.url + "/databases/quota", auth=OWNER)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["quotaUsage"]["count/postgresclusters.dbaas.ionos.com"] == "0" and q["quotaUsage"]["memory"] == "0Gi"
    assert q["quotaLimits"]["count/mongoclusters.dbaas.ionos.com"] == "10"
