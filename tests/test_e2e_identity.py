"""Identity password policies (iam.ionos.com/passwordpolicies) through plain HTTP with a token, and the policy
held wherever a password is set: Cloud API users (through the ionoscloud SDK), contract owners."""

from __future__ import annotations

import uuid

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import OWNER, bearer, http_client


@pytest.fixture(scope="module")
def emu(own_emulator):
    return own_emulator


@pytest.fixture
def token(emu):
    return {"Authorization": f"Bearer {bearer(emu)}"}


def policies(emu) -> str:
    return emu.url + "/identity/passwordpolicies"


def test_no_policy_shows_the_ionos_default(emu, token):
    r = http_client().get(policies(emu), headers=token)
    assert r.status_code == 200 and r.json()["items"] == []
    r = http_client().get(policies(emu), headers=token, params={"effectivePolicy": "true"})
    (item,) = r.json()["items"]
    assert item["type"] == "passwordpolicy" and item["properties"]["minLength"] == 5


def test_crud_and_enforcement_in_um_users(emu, token):
    h = http_client()
    body = {"properties": {"description": "strict", "minLength": 10, "minNumberChars": 2, "minSpecialChars": 1}}
    r = h.post(policies(emu), headers=token, json=body)
    assert r.status_code == 201, r.text
    pol = r.json()
    assert pol["properties"] == {**body["properties"], "minUpperChars": 0, "minLowerChars": 0}
    assert pol["metadata"]["createdBy"] == OWNER[0]
    assert h.get(f"{policies(emu)}/{pol['id']}", headers=token).json() == pol
    eff = h.get(policies(emu), headers=token, params={"effectivePolicy": True}).json()["items"]
    assert [p["id"] for p in eff] == [pol["id"]]

    with sdk_client(emu) as client:
        api = ionoscloud.UserManagementApi(client)
        email = f"p-{uuid.uuid4().hex[:6]}@example.com"
        user = ionoscloud.UserPost(
            properties=ionoscloud.UserPropertiesPost(firstname="P", lastname="P", email=email, password="short1!")
        )
        with pytest.raises(ApiException) as e:
            api.um_users_post(user)
        assert e.value.status == 422
        assert "[VDC-2-1]" in e.value.body and "at least 10 characters" in e.value.body
        user.properties.password = "longenough-nodigit"
        with pytest.raises(ApiException) as e:
            api.um_users_post(user)
        assert e.value.status == 422 and "at least 2 digits" in e.value.body
        user.properties.password = "long-enough-42"
        created = api.um_users_post(user)
        assert h.get(emu.cloud + "/datacenters", auth=(email, "long-enough-42")).status_code == 200
        # a password change through PUT is held to it as well; nothing changes when it is refused
        put = ionoscloud.UserPut(
            properties=ionoscloud.UserPropertiesPut(firstname="P", lastname="P", email=email, password="abcdefghijk")
        )
        with pytest.raises(ApiException) as e:
            api.um_users_put(created.id, put)
        assert e.value.status == 422
        assert h.get(emu.cloud + "/datacenters", auth=(email, "long-enough-42")).status_code == 200

    # replaced (PUT) with a looser rule, then deleted: the IONOS default again
    looser = {"id": pol["id"], "properties": {"description": "looser", "minLength": 6}}
    r = h.put(f"{policies(emu)}/{pol['id']}", headers=token, json=looser)
    assert r.status_code == 200 and r.json()["properties"]["minNumberChars"] == 0
    assert h.delete(f"{policies(emu)}/{pol['id']}", headers=token).status_code == 202
    assert h.get(f"{policies(emu)}/{pol['id']}", headers=token).status_code == 404


def test_bad_policies_are_refused(emu, token):
    h = http_client()
    for props in ({"description": "x", "minLength": 4}, {"minLength": 8}, {"description": "x", "minLength": "many"}):
        r = h.post(policies(emu), headers=token, json={"properties": props})
        assert r.status_code == 422, (props, r.text)
    assert h.get(policies(emu), headers=token).json()["items"] == []


def test_contract_owners_keep_the_default_policy(emu):
    r = emu.admin("POST", "contracts", json={"contractNumber": 31_000_555, "user": "o@example.com", "password": "abc"})
    assert r.status_code == 422 and "at least 5 characters" in r.text
    assert all(c["contractNumber"] != 31_000_555 for c in emu.admin("GET", "contracts").json())


def test_a_plain_user_cannot_manage_policies(emu):
    h = http_client()
    email = f"plain-{uuid.uuid4().hex[:6]}@example.com"
    r = h.post(
        emu.cloud + "/um/users",
        auth=OWNER,
        json={"properties": {"firstname": "a", "lastname": "b", "email": email, "password": "plain-pw-1"}},
    )
    assert r.status_code == 202
    tok = {"Authorization": f"Bearer {bearer(emu, (email, 'plain-pw-1'))}"}
    assert h.get(policies(emu), headers=tok).status_code == 403
