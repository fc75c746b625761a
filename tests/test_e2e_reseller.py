"""Reseller API v2 and X-Contract-Number: a reseller makes a sub-contract and its admin, who works in it like
any contract's admin; the master contract's user reaches it with the header (Basic) or a token made for it.
Plain HTTP for the Reseller API (no official client), the ionoscloud SDK with a default header for the rest."""

from __future__ import annotations

import uuid

import httpx
import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import OWNER, http_client, jwt_parts

MASTER = 31_100_001


@pytest.fixture(scope="module")
def world(own_emulator):
    emu = own_emulator
    reseller = (f"reseller-{uuid.uuid4().hex[:6]}@example.com", "reseller-pw")
    r = emu.admin(
        "POST",
        "contracts",
        json={"contractNumber": MASTER, "user": reseller[0], "password": reseller[1], "reseller": True},
    )
    assert r.status_code == 200, r.text
    api = emu.url + "/reseller/v2"
    limits = {
        "ramServerMax": 8192,
        "cpuServerMax": 4,
        "hddVolumeMaxSize": 1024,
        "ssdVolumeMaxSize": 1024,
        "ramContractMax": 16384,
        "cpuContractMax": 8,
        "hddVolumeContractMaxSize": 4096,
        "ssdVolumeContractMaxSize": 4096,
        "ips": 4,
    }
    r = http_client().post(api + "/contracts", auth=reseller, json={"name": "customer", "resourceLimits": limits})
    assert r.status_code == 201, r.text
    sub = r.json()
    admin = (f"sub-admin-{uuid.uuid4().hex[:6]}@example.com", "sub-admin-pw")
    r = http_client().post(
        f"{api}/contracts/{sub['id']}/admins",
        auth=reseller,
        json={"firstName": "Sub", "lastName": "Admin", "email": admin[0], "password": admin[1]},
    )
    assert r.status_code == 201, r.text
    return {"emu": emu, "api": api, "reseller": reseller, "sub": sub, "admin": admin, "admin_id": r.json()["id"]}


def dc_names(emu, auth, headers=None) -> set[str]:
    r = http_client().get(emu.cloud + "/datacenters", auth=auth, headers=headers or {}, params={"depth": 1})
    assert r.status_code == 200, r.text
    return {d["properties"]["name"] for d in r.json()["items"]}


def test_the_sub_contract_and_its_admin(world):
    h, api, sub = http_client(), world["api"], world["sub"]
    assert sub["name"] == "customer" and sub["status"] == "BILLABLE" and sub["resourceLimits"]["cpuServerMax"] == 4
    listed = h.get(api + "/contracts", auth=world["reseller"]).json()
    assert [c["id"] for c in listed["items"]] == [sub["id"]] and listed["offset"] == 0
    assert h.get(f"{api}/contracts/{sub['id']}", auth=world["reseller"]).json() == sub
    admins = h.get(f"{api}/contracts/{sub['id']}/admins", auth=world["reseller"]).json()
    assert [(a["email"], a["firstName"]) for a in admins] == [(world["admin"][0], "Sub")]
    # the admin is the sub-contract's administrator in the Cloud API
    contract = h.get(world["emu"].cloud + "/contracts", auth=world["admin"]).json()["items"][0]["properties"]
    assert contract["contractNumber"] == int(sub["id"])
    assert contract["resourceLimits"]["coresPerServer"] == 4 and contract["resourceLimits"]["reservableIps"] == 4


def test_sub_admin_sees_only_its_own_and_the_master_reaches_it_with_the_header(world):
    emu, sub = world["emu"], world["sub"]
    h = http_client()
    r = h.post(
        emu.cloud + "/datacenters",
        auth=world["reseller"],
        json={"properties": {"name": "master-dc", "location": "de/fra"}},
    )
    assert r.status_code == 202
    r = h.post(
        emu.cloud + "/datacenters", auth=world["admin"], json={"properties": {"name": "sub-dc", "location": "de/fra"}}
    )
    assert r.status_code == 202
    assert dc_names(emu, world["admin"]) == {"sub-dc"}
    assert dc_names(emu, world["reseller"]) == {"master-dc"}

    # the official SDK, unmodified, with the header as a default header
    user, password = world["reseller"]
    with sdk_client(emu, user=user, password=password) as client:
        client.set_default_header("X-Contract-Number", sub["id"])
        api = ionoscloud.DataCentersApi(client)
        assert {d.properties.name for d in api.datacenters_get(depth=1).items} == {"sub-dc"}
        made = api.datacenters_post_with_http_info(
            ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name="by-reseller", location="de/fra")
            )
        )
        client.wait_for_completion(made[2]["Location"].split("/requests/")[1].split("/")[0], timeout=30)
    assert dc_names(emu, world["admin"]) == {"sub-dc", "by-reseller"}
    assert dc_names(emu, world["reseller"]) == {"master-dc"}
    assert dc_names(emu, world["reseller"], {"X-Contract-Number": str(MASTER)}) == {"master-dc"}  # its own: fine


def test_the_header_is_refused_where_it_does_not_belong(world):
    emu, sub = world["emu"], world["sub"]
    h = http_client()
    # a user of a contract that is no reseller's (the default contract's owner)
    r = h.get(emu.cloud + "/datacenters", auth=OWNER, headers={"X-Contract-Number": sub["id"]})
    assert r.status_code == 403, r.text
    assert r.json()["messages"][0]["errorCode"] == "451"
    # the reseller, naming a contract that is not one of its own
    for number in ("31000001", "39999999"):
        r = h.get(emu.cloud + "/datacenters", auth=world["reseller"], headers={"X-Contract-Number": number})
        assert r.status_code == 401, r.text
    r = h.get(emu.cloud + "/datacenters", auth=world["reseller"], headers={"X-Contract-Number": "many"})
    assert r.status_code == 400
    # the sub-contract's admin cannot reach the master contract
    r = h.get(emu.cloud + "/datacenters", auth=world["admin"], headers={"X-Contract-Number": str(MASTER)})
    assert r.status_code == 403
    # the Reseller API itself is for resellers
    assert h.get(world["api"] + "/contracts", auth=OWNER).status_code == 403
    assert h.get(world["api"] + "/contracts/39999999", auth=world["reseller"]).status_code == 404


def test_a_token_made_for_the_sub_contract_needs_no_header(world):
    emu, sub = world["emu"], world["sub"]
    r = http_client().get(
        emu.auth + "/tokens/generate", auth=world["reseller"], headers={"X-Contract-Number": sub["id"]}
    )
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert jwt_parts(token)[1]["identity"]["contractNumber"] == int(sub["id"])
    bearer = {"Authorization": f"Bearer {token}"}
    r = httpx.get(emu.cloud + "/datacenters", headers=bearer, params={"depth": 1})
    assert {d["properties"]["name"] for d in r.json()["items"]} >= {"sub-dc"}
    # and a product API on it, as the sub-contract's admin's own token
    own = http_client().get(emu.auth + "/tokens/generate", auth=world["admin"]).json()["token"]
    for tok in (token, own):
        r = httpx.get(emu.url + "/dns/de-fra/zones", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200, r.text


def test_limits_names_and_admins_change(world):
    h, api, sub, emu = http_client(), world["api"], world["sub"], world["emu"]
    limits = {**sub["resourceLimits"], "cpuServerMax": 2}
    r = h.put(f"{api}/contracts/{sub['id']}/resourcelimits", auth=world["reseller"], json=limits)
    assert r.status_code == 200 and r.json()["resourceLimits"]["cpuServerMax"] == 2
    with sdk_client(emu, user=world["admin"][0], password=world["admin"][1]) as client:
        dc = ionoscloud.DataCentersApi(client).datacenters_get(depth=1).items[0].id
        server = ionoscloud.Server(properties=ionoscloud.ServerProperties(name="big", cores=4, ram=1024))
        with pytest.raises(ApiException) as e:
            ionoscloud.ServersApi(client).datacenters_servers_post(dc, server)
        assert e.value.status == 422
    r = h.put(
        f"{api}/contracts/{sub['id']}/name",
        auth=world["reseller"],
        content="renamed",
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    url = f"{api}/contracts/{sub['id']}/admins/{world['admin_id']}"
    r = h.patch(url, auth=world["reseller"], json={"firstName": "New", "lastName": "Name", "email": world["admin"][0]})
    assert r.status_code == 200 and r.json()["firstName"] == "New"
    bad = {"firstName": "A", "lastName": "B", "email": "weak@example.com", "password": "abc"}
    r = h.post(f"{api}/contracts/{sub['id']}/admins", auth=world["reseller"], json=bad)
    assert r.status_code == 422 and "at least 5 characters" in r.text
    second = {
        "firstName": "Two",
        "lastName": "B",
        "email": f"two-{uuid.uuid4().hex[:6]}@example.com",
        "password": "two-pw-ok",
    }
    r = h.post(f"{api}/contracts/{sub['id']}/admins", auth=world["reseller"], json=second)
    assert r.status_code == 201
    assert h.delete(f"{api}/contracts/{sub['id']}/admins/{r.json()['id']}", auth=world["reseller"]).status_code == 204
    assert h.get(emu.cloud + "/datacenters", auth=(second["email"], second["password"])).status_code == 401
    # the reseller's changes are in its own activity log
    log = h.get(f"{emu.url}/activitylog/v1/contracts/{MASTER}", auth=world["reseller"], params={"limit": 100}).json()
    kinds = [res["action"][0] for hit in log["hits"]["hits"] for res in hit["_source"]["event"]["resources"]]
    assert "reseller.contract.create" in kinds and "reseller.admin.delete" in kinds
    contracts = h.get(emu.url + "/activitylog/v1/contracts", auth=world["reseller"]).json()
    assert [c["id"] for c in contracts] == [MASTER, int(sub["id"])]
