"""Activity Log (api.ionos.com/activitylog/v1) through plain HTTP as the tools send it: every change of every
API is an entry, per contract, filtered by date and paged, and still there after a restart."""

from __future__ import annotations

import uuid

import httpx
import pytest

from support import OWNER, bearer, http_client

CONTRACT = 31_000_001


def log(emu, contract=CONTRACT, auth=OWNER, **params) -> httpx.Response:
    return http_client().get(f"{emu.url}/activitylog/v1/contracts/{contract}", auth=auth, params=params)


def entries(emu, **params) -> list[dict]:
    r = log(emu, limit=1000, **params)
    assert r.status_code == 200, r.text
    return [h["_source"] for h in r.json()["hits"]["hits"]]


@pytest.fixture(scope="module")
def emu(own_emulator):
    return own_emulator


def test_info_and_contracts(emu):
    r = http_client().get(emu.url + "/activitylog/v1")
    assert r.status_code == 200 and r.json()["version"] == "v1"
    r = http_client().get(emu.url + "/activitylog/v1/contracts", auth=OWNER)
    assert r.status_code == 200
    assert r.json() == [{"id": CONTRACT, "type": "contracts", "href": f"{emu.url}/activitylog/v1/contracts/{CONTRACT}"}]


def test_every_change_of_every_api_is_an_entry(emu):
    h = http_client()
    before = log(emu).json()["hits"]["total"]
    r = h.post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"name": "audited", "location": "de/fra"}})
    assert r.status_code == 202
    dc = r.json()["id"]
    r = h.post(f"{emu.cloud}/datacenters/{dc}/lans", auth=OWNER, json={"properties": {"name": "l"}})
    lan = r.json()["id"]
    assert h.delete(f"{emu.cloud}/datacenters/{dc}/lans/{lan}", auth=OWNER).status_code == 202
    ip = h.post(emu.cloud + "/ipblocks", auth=OWNER, json={"properties": {"location": "de/fra", "size": 1}})
    assert ip.status_code == 202
    # a product API on a token, and a stateless product change (a password policy)
    token = {"Authorization": f"Bearer {bearer(emu)}"}
    zone = h.post(emu.url + "/dns/de-fra/zones", headers=token, json={"properties": {"zoneName": "audit.example"}})
    assert zone.status_code == 202, zone.text
    pol = h.post(
        emu.url + "/identity/passwordpolicies",
        headers=token,
        json={"properties": {"description": "audit", "minLength": 5}},
    )
    assert pol.status_code == 201, pol.text
    got = entries(emu)
    assert len(got) - before == 6
    new = got[before:]

    def what(e):
        return e["event"]["param"]["action"], [(r["type"], r["id"], r["action"]) for r in e["event"]["resources"]]

    actions = [what(e) for e in new]
    assert actions == [
        ("POST", [("datacenter", dc, ["vr.datacenter.create"])]),
        ("POST", [("lan", lan, ["vr.lan.create"])]),
        ("DELETE", [("lan", lan, ["vr.lan.delete"])]),
        ("POST", [("ipblock", ip.json()["id"], ["ip.ipblock.reserve"])]),
        ("POST", [("zone", zone.json()["id"], ["dns.zone.create"])]),
        ("POST", [("passwordpolicy", pol.json()["id"], ["identity.passwordpolicy.create"])]),
    ]
    first = new[0]
    assert first["principal"]["identity"] == {"contractNumber": str(CONTRACT), "username": OWNER[0]}
    assert first["principal"]["sourceService"] == "PUBLIC_REST_V6"
    assert first["event"]["param"]["uri"].endswith("/cloudapi/v6/datacenters")
    assert first["event"]["status"] == "DONE" and first["event"]["type"] == "RequestAccepted"
    assert first["meta"]["auditVersion"] == "0.1" and first["meta"]["time"].endswith("Z")


def test_a_failed_change_says_so(emu):
    emu.admin("POST", "failures", json={"method": "POST", "path": "^/datacenters$", "message": "[VDC-5-0] no room"})
    r = http_client().post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"location": "de/fra"}})
    http_client().get(r.headers["Location"], auth=OWNER)  # settles it
    last = entries(emu)[-1]
    assert last["event"]["status"] == "FAILED" and last["event"]["message"] == "[VDC-5-0] no room"


def test_a_refused_change_is_an_error_event_and_changes_nothing(emu):
    h = http_client()
    before = h.get(emu.cloud + "/datacenters", auth=OWNER).json()["items"]
    r = h.post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"name": "nowhere", "location": "xx/yyy"}})
    assert r.status_code == 422, r.text
    last = entries(emu)[-1]
    assert last["event"]["type"] == "Error" and last["event"]["status"] == "FAILED"
    assert last["event"]["param"]["error"]["httpStatus"] == "422"
    assert last["event"]["param"]["error"]["messages"] == r.json()["messages"]
    assert last["principal"]["identity"]["username"] == OWNER[0]
    assert h.get(emu.cloud + "/datacenters", auth=OWNER).json()["items"] == before
    assert not [
        req
        for req in h.get(emu.cloud + "/requests", auth=OWNER, params={"depth": 1}).json()["items"]
        if req["properties"]["body"] and "nowhere" in req["properties"]["body"]
    ]  # /requests: accepted only


def test_dates_offset_and_limit(emu):
    h = http_client()
    emu.admin("PATCH", "clock", json={"advanceSeconds": 40 * 86400})
    try:
        h.post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"name": "future", "location": "de/fra"}})
        now = emu.admin("GET", "clock").json()["now"]
        day = now[:10]
        later = entries(emu, dateStart=day)
        assert [e["event"]["resources"][0]["type"] for e in later] == ["datacenter"]
        earlier = entries(emu, dateEnd=day)
        assert len(earlier) >= 6 and all(e["meta"]["time"] < day for e in earlier)
        total = log(emu).json()["hits"]["total"]
        page = log(emu, offset=2, limit=3).json()["hits"]
        assert page["total"] == total and len(page["hits"]) == 3
        assert [x["_source"]["meta"]["requestId"] for x in page["hits"]] == [
            e["meta"]["requestId"] for e in entries(emu)[2:5]
        ]
        assert log(emu, dateStart="yesterday").status_code == 422
    finally:
        emu.admin("DELETE", "clock")


def test_per_contract_and_survives_a_restart(emu):
    other = (f"other-{uuid.uuid4().hex[:6]}@example.com", "secret-pw")
    r = emu.admin("POST", "contracts", json={"contractNumber": 31_000_777, "user": other[0], "password": other[1]})
    assert r.status_code == 200, r.text
    assert log(emu, 31_000_777, auth=other).json()["hits"]["total"] == 0
    assert log(emu, CONTRACT, auth=other).status_code == 403  # not theirs
    ours = entries(emu)
    emu.stop()
    emu.start()
    assert entries(emu) == ours


def test_a_user_needs_the_activity_log_privilege(emu):
    h = http_client()
    user = (f"u-{uuid.uuid4().hex[:6]}@example.com", "secret-pw")
    r = h.post(
        emu.cloud + "/um/users",
        auth=OWNER,
        json={"properties": {"firstname": "a", "lastname": "b", "email": user[0], "password": user[1]}},
    )
    assert r.status_code == 202, r.text
    assert log(emu, auth=user).status_code == 403
    g = h.post(emu.cloud + "/um/groups", auth=OWNER, json={"properties": {"name": "audit", "accessActivityLog": True}})
    h.post(f"{emu.cloud}/um/groups/{g.json()['id']}/users", auth=OWNER, json={"id": r.json()["id"]})
    assert log(emu, auth=user).status_code == 200
