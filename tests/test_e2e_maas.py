"""Monitoring as a Service (api.ionos.com/monitoring/v1) through plain HTTP: e-mail actions and alarms on a
server, whose state a test moves through /_emulator like a client polling it would see."""

from __future__ import annotations

import pytest

from support import OWNER, http_client


@pytest.fixture(scope="module")
def emu(own_emulator):
    return own_emulator


@pytest.fixture(scope="module")
def server(emu):
    h = http_client()
    r = h.post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"name": "watched", "location": "de/fra"}})
    dc = r.json()["id"]
    r = h.post(
        f"{emu.cloud}/datacenters/{dc}/servers", auth=OWNER, json={"properties": {"name": "w", "cores": 1, "ram": 1024}}
    )
    assert r.status_code == 202, r.text
    h.get(r.headers["Location"], auth=OWNER)
    return r.json()["id"]


def api(emu) -> str:
    return emu.url + "/monitoring/v1"


def test_actions_and_alarms_and_their_states(emu, server):
    h = http_client()
    r = h.post(
        api(emu) + "/actions",
        auth=OWNER,
        json={"properties": {"name": "mail ops", "type": "EMAIL", "typeProperties": {"emailTo": "ops@example.com"}}},
    )
    assert r.status_code == 201, r.text
    action = r.json()
    expr = {"source": server, "metric": "CPU", "comparisonThreshold": 90, "range": 300}
    r = h.post(
        api(emu) + "/alarms",
        auth=OWNER,
        json={"properties": {"name": "hot", "expression": expr, "actions": [action["id"]]}},
    )
    assert r.status_code == 201, r.text
    alarm = r.json()
    assert alarm["properties"]["state"] == "INSUFFICIENT_DATA"
    assert alarm["properties"]["expression"]["rangeAggregation"] == "AVERAGE"
    assert [a["id"] for a in h.get(api(emu) + "/alarms", auth=OWNER).json()["items"]] == [alarm["id"]]

    for state in ("OK", "ALARM", "ALARM", "OK"):
        r = emu.admin("POST", "maas/alarms", json={"alarmId": alarm["id"], "state": state})
        assert r.status_code == 200, r.text
        assert h.get(f"{api(emu)}/alarms/{alarm['id']}", auth=OWNER).json()["properties"]["state"] == state
    moves = h.get(f"{api(emu)}/alarms/{alarm['id']}/transitions", auth=OWNER).json()["items"]
    assert [(t["properties"]["from"], t["properties"]["to"]) for t in moves] == [
        ("INSUFFICIENT_DATA", "OK"),
        ("OK", "ALARM"),
        ("ALARM", "OK"),
    ]
    runs = h.get(f"{api(emu)}/actions/{action['id']}/executions", auth=OWNER).json()["items"]
    assert [(e["properties"]["alarmId"], e["properties"]["emailTo"]) for e in runs] == [
        (alarm["id"], "ops@example.com")
    ]

    # replaced (PUT), then deleted
    expr2 = {**expr, "metric": "Network"}
    r = h.put(f"{api(emu)}/alarms/{alarm['id']}", auth=OWNER, json={"properties": {"name": "net", "expression": expr2}})
    assert r.status_code == 200 and r.json()["properties"]["expression"]["metric"] == "Network"
    assert r.json()["properties"]["state"] == "OK"  # the state is the alarm's, not the body's
    assert h.delete(f"{api(emu)}/alarms/{alarm['id']}", auth=OWNER).status_code == 202
    assert h.get(f"{api(emu)}/alarms/{alarm['id']}", auth=OWNER).status_code == 404


@pytest.mark.parametrize(
    "props",
    [
        {"name": " ", "type": "EMAIL", "typeProperties": {"emailTo": "a@example.com"}},
        {"name": "x", "type": "SMS", "typeProperties": {"emailTo": "a@example.com"}},
        {"name": "x", "type": "EMAIL", "typeProperties": {"emailTo": "not-an-address"}},
    ],
)
def test_bad_actions_are_refused(emu, props):
    r = http_client().post(api(emu) + "/actions", auth=OWNER, json={"properties": props})
    assert r.status_code == 422, r.text


def test_bad_alarms_and_moves_are_refused(emu, server):
    h = http_client()
    for expr in (
        {"source": "00000000-0000-0000-0000-000000000000", "metric": "CPU", "comparisonThreshold": 1},
        {"source": server, "metric": "Disk", "comparisonThreshold": 1},
        {"source": server, "metric": "CPU", "comparisonThreshold": 1, "range": 60},
    ):
        r = h.post(api(emu) + "/alarms", auth=OWNER, json={"properties": {"name": "bad", "expression": expr}})
        assert r.status_code == 422, r.text
    assert emu.admin("POST", "maas/alarms", json={"alarmId": "nope", "state": "OK"}).status_code == 404
    assert emu.admin("POST", "maas/alarms", json={"alarmId": "nope", "state": "RED"}).status_code == 422
