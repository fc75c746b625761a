"""End-to-end: the Auth API v1 over HTTP (there is no Python SDK for it), and its tokens used as Bearer
credentials by the official `ionoscloud` SDK (api-behaviour.md §1)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import datetime

import httpx
import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import OWNER, jwt_parts, wait

ONE_YEAR = 31_536_000
UNAUTHORIZED = {"httpStatus": 401, "messages": [{"errorCode": "315", "message": "Unauthorized"}]}


def basic(user: str = OWNER[0], password: str = OWNER[1]) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict:
    return {"Authorization": "Bearer " + token}


def generate(emu, ttl: int | None = None, headers: dict | None = None) -> httpx.Response:
    params = {} if ttl is None else {"ttl": ttl}
    return httpx.get(
        emu.auth + "/tokens/generate", params=params, headers=basic() if headers is None else headers, timeout=10
    )


def kid_of(token: str) -> str:
    return jwt_parts(token)[0]["kid"]


@pytest.fixture
def tokens(emulator):
    """Generates tokens for the owner on the shared emulator and deletes them afterwards (the limit is 100)."""
    made: list[str] = []

    def make(ttl: int | None = None) -> str:
        r = generate(emulator, ttl)
        assert r.status_code == 200, r.text
        made.append(r.json()["token"])
        return made[-1]

    yield make
    for t in made:
        httpx.delete(f"{emulator.auth}/tokens/{kid_of(t)}", headers=basic(), timeout=10)


def assert_unauthorized(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.json() == UNAUTHORIZED


def cloud_status(emu, token: str) -> int:
    """Status of a Cloud API call made by the SDK with this token as Bearer."""
    with sdk_client(emu, token=token) as c:
        try:
            ionoscloud.DataCentersApi(c).datacenters_get(depth=0)
            return 200
        except ApiException as e:
            return e.status


# -- generate -----------------------------------------------------------------------------------------


def test_generate_default_ttl_is_one_year_and_jwt_is_shaped_like_ionos(emulator, tokens):
    # several tokens: the kid is random, and the header must stay std-base64 decodable for every one of them
    for _ in range(8):
        token = tokens()
        h, p, s = token.split(".")
        assert s and "=" not in token
        # ionosctl decodes the header with StdEncoding and no padding fix-up
        assert len(h) % 4 == 0 and "-" not in h and "_" not in h, h
        raw = base64.b64decode(h, validate=True)
        header = json.loads(raw)
        assert str(uuid.UUID(header["kid"])) == header["kid"]
        kid = header["kid"]
        assert raw == f'{{"typ":"JWT","kid":"{kid}","alg":"RS256"}}'.encode()
        assert list(header) == ["typ", "kid", "alg"]
        _, payload = jwt_parts(token)
        assert payload["exp"] - payload["iat"] == ONE_YEAR
        assert abs(payload["iat"] - time.time()) < 60
        assert payload["iss"] == "ionoscloud" and payload["client"] == "USER"
        ident = payload["identity"]
        assert type(ident["contractNumber"]) is int
        assert str(uuid.UUID(ident["uuid"])) == ident["uuid"]
        assert ident["role"] == "owner"
        assert ident["privileges"] and all(isinstance(x, str) for x in ident["privileges"])
        assert "DATA_CENTER_CREATE" in ident["privileges"]


def test_generate_ttl_bounds(emulator, tokens):
    _, p60 = jwt_parts(tokens(60))
    assert p60["exp"] - p60["iat"] == 60
    _, pmax = jwt_parts(tokens(ONE_YEAR))
    assert pmax["exp"] - pmax["iat"] == ONE_YEAR
    before = len(httpx.get(emulator.auth + "/tokens", headers=basic()).json()["tokens"])
    for bad in (59, ONE_YEAR + 1, 0, -5, "abc"):
        r = generate(emulator, bad)
        assert r.status_code == 422, (bad, r.text)
        body = r.json()
        assert body["httpStatus"] == 422 and isinstance(body["messages"][0]["errorCode"], str)
        assert "ttl" in body["messages"][0]["message"]
    # a refused ttl issues nothing
    assert len(httpx.get(emulator.auth + "/tokens", headers=basic()).json()["tokens"]) == before


def test_generate_with_bearer_token(emulator, tokens):
    first = tokens(120)
    r = generate(emulator, 60, headers=bearer(first))
    assert r.status_code == 200, r.text
    second = r.json()["token"]
    try:
        assert kid_of(second) != kid_of(first)
        assert jwt_parts(second)[1]["identity"]["uuid"] == jwt_parts(first)[1]["identity"]["uuid"]
    finally:
        httpx.delete(f"{emulator.auth}/tokens/{kid_of(second)}", headers=basic())


# -- the token on the Cloud API -----------------------------------------------------------------------


def test_token_is_a_bearer_credential_for_the_sdk_and_names_the_owner(emulator, tokens):
    token = tokens(600)
    _, payload = jwt_parts(token)
    with sdk_client(emulator, token=token) as c:
        dcs = ionoscloud.DataCentersApi(c)
        dc, _, headers = dcs.datacenters_post_with_http_info(
            datacenter=ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name="made-with-bearer", location="de/fra")
            )
        )
        wait(c, headers)
        try:
            got = dcs.datacenters_find_by_id(dc.id)
            # the token's identity.uuid is a real user: the owner who created the data center
            assert got.metadata.created_by_user_id == payload["identity"]["uuid"]
            assert got.metadata.created_by == OWNER[0]
            assert got.metadata.state == "AVAILABLE"
            contract = ionoscloud.ContractResourcesApi(c).contracts_get().items[0]
            assert contract.properties.contract_number == payload["identity"]["contractNumber"]
        finally:
            _, _, h = dcs.datacenters_delete_with_http_info(dc.id)
            wait(c, h)


def test_token_uuid_is_a_um_users_id(emulator, tokens, client):
    # ionosctl `whoami` looks the token's identity.uuid up in /um/users
    if emulator.admin("GET", "coverage").json()["implemented"].get("cloud:umUsersFindById") is not True:
        pytest.skip("GET /um/users/{userId} is not implemented by the emulator yet")
    uid = jwt_parts(tokens(600))[1]["identity"]["uuid"]
    user = ionoscloud.UserManagementApi(client).um_users_find_by_id(uid, depth=1)
    assert user.id == uid and user.properties.email == OWNER[0]


# -- list, get, delete --------------------------------------------------------------------------------


def test_list_get_and_delete_token_by_id(emulator, tokens):
    token = tokens(3600)
    kid = kid_of(token)
    r = httpx.get(emulator.auth + "/tokens", headers=basic())
    assert r.status_code == 200
    listed = {t["id"]: t for t in r.json()["tokens"]}
    assert kid in listed
    entry = listed[kid]
    assert set(entry) == {"id", "href", "createdDate", "expirationDate"}
    assert entry["href"] == f"{emulator.auth}/tokens/{kid}"
    created = datetime.fromisoformat(entry["createdDate"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(entry["expirationDate"].replace("Z", "+00:00"))
    assert (expires - created).total_seconds() == pytest.approx(3600, abs=1)
    assert expires.timestamp() == jwt_parts(token)[1]["exp"]

    # the same list through Bearer auth
    r = httpx.get(emulator.auth + "/tokens", headers=bearer(token))
    assert kid in {t["id"] for t in r.json()["tokens"]}

    r = httpx.get(entry["href"], headers=basic())
    assert r.status_code == 200 and r.json() == entry

    assert cloud_status(emulator, token) == 200
    r = httpx.delete(f"{emulator.auth}/tokens/{kid}", headers=basic())
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}

    assert_unauthorized(httpx.get(emulator.cloud + "/datacenters", headers=bearer(token)))
    assert_unauthorized(httpx.get(emulator.auth + "/tokens", headers=bearer(token)))
    assert cloud_status(emulator, token) == 401
    assert kid not in {t["id"] for t in httpx.get(emulator.auth + "/tokens", headers=basic()).json()["tokens"]}
    r = httpx.get(f"{emulator.auth}/tokens/{kid}", headers=basic())
    assert r.status_code == 404 and r.json()["httpStatus"] == 404
    r = httpx.delete(f"{emulator.auth}/tokens/{kid}", headers=basic())
    assert r.status_code == 404


def test_delete_current_removes_only_the_bearer_token(emulator, tokens):
    a, b = tokens(600), tokens(600)
    r = httpx.delete(emulator.auth + "/tokens", params={"criteria": "CURRENT"}, headers=bearer(a))
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}
    assert cloud_status(emulator, a) == 401
    assert cloud_status(emulator, b) == 200
    ids = {t["id"] for t in httpx.get(emulator.auth + "/tokens", headers=basic()).json()["tokens"]}
    assert kid_of(a) not in ids and kid_of(b) in ids


def test_delete_current_without_a_token_deletes_nothing(emulator, tokens):
    a = tokens(600)
    r = httpx.delete(emulator.auth + "/tokens", params={"criteria": "CURRENT"}, headers=basic())
    assert 400 <= r.status_code < 500 and r.json()["httpStatus"] == r.status_code
    assert cloud_status(emulator, a) == 200


def test_delete_by_unknown_criteria_is_refused(emulator, tokens):
    a = tokens(600)
    r = httpx.delete(emulator.auth + "/tokens", params={"criteria": "SOME"}, headers=basic())
    assert r.status_code == 422
    assert cloud_status(emulator, a) == 200


def test_tokens_survive_a_restart_then_delete_expired_and_all(make_emulator):
    from ionos_emulator.store import open_store

    emu = make_emulator("tokens-restart")
    live1, live2, old = (generate(emu, 3600).json()["token"] for _ in range(3))
    before = httpx.get(emu.auth + "/tokens", headers=basic()).json()["tokens"]
    # age one token while the emulator is down: there is no clock to move, the record is the truth
    emu.stop()
    store = open_store(str(emu.data_dir), emu.database)  # SQLite, or the PostgreSQL pass's database
    try:
        with store.tx():
            rec = store.token_get(kid_of(old))
            assert rec is not None, "token record layout changed; adapt this test"
            rec["expires"] = time.time() - 5
            store.token_put(rec)
    finally:
        store.close()
    emu.start()

    # same signing key and records after the restart: tokens issued before still authenticate and are listed
    assert cloud_status(emu, live1) == 200
    after = httpx.get(emu.auth + "/tokens", headers=bearer(live2)).json()["tokens"]
    assert [t["id"] for t in after] == [t["id"] for t in before]
    assert [t for t in after if t["id"] != kid_of(old)] == [t for t in before if t["id"] != kid_of(old)]
    assert cloud_status(emu, old) == 401  # ... unless expired, which is listed until deleted

    r = httpx.delete(emu.auth + "/tokens", params={"criteria": "EXPIRED"}, headers=basic())
    assert r.status_code == 200 and r.json() == {"success": True}
    ids = {t["id"] for t in httpx.get(emu.auth + "/tokens", headers=basic()).json()["tokens"]}
    assert ids == {kid_of(live1), kid_of(live2)}
    assert cloud_status(emu, live1) == 200 and cloud_status(emu, live2) == 200

    r = httpx.delete(emu.auth + "/tokens", params={"criteria": "ALL"}, headers=bearer(live1))
    assert r.status_code == 200 and r.json() == {"success": True}
    assert httpx.get(emu.auth + "/tokens", headers=basic()).json() == {"tokens": []}
    assert cloud_status(emu, live1) == 401 and cloud_status(emu, live2) == 401
    # Basic still works after every token is gone
    assert generate(emu, 60).status_code == 200


# -- bad credentials ----------------------------------------------------------------------------------


def _tampered(token: str) -> str:
    h, p, s = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    payload["identity"]["contractNumber"] += 1
    p2 = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{h}.{p2}.{s}"


@pytest.mark.parametrize(
    "case", ["wrong-password", "unknown-user", "garbage-bearer", "tampered-bearer", "missing", "unknown-scheme"]
)
def test_bad_credentials_answer_401_envelope(emulator, tokens, case):
    headers = {
        "wrong-password": basic(OWNER[0], "not-the-password"),
        "unknown-user": basic("nobody@example.com", OWNER[1]),
        "garbage-bearer": bearer("garbage.not.ajwt"),
        "tampered-bearer": bearer(_tampered(tokens(600))) if case == "tampered-bearer" else {},
        "missing": {},
        "unknown-scheme": {"Authorization": "Digest abc"},
    }[case]
    assert_unauthorized(generate(emulator, 60, headers=headers))
    assert_unauthorized(httpx.get(emulator.auth + "/tokens", headers=headers))
    assert_unauthorized(httpx.get(emulator.cloud + "/datacenters", headers=headers))


def test_sdk_with_wrong_password_raises_401(emulator):
    with sdk_client(emulator, password="wrong") as c:
        with pytest.raises(ApiException) as e:
            ionoscloud.DataCentersApi(c).datacenters_get()
    assert e.value.status == 401
    assert json.loads(e.value.body) == UNAUTHORIZED
