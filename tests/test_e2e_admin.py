"""End-to-end: the protected admin API (/_emulator/*): who may call it, and the checks on every admin input
(docs/fidelity.md, "The admin API"). Each test starts a private emulator with --no-admin-open: it listens on
loopback like every test emulator, the flag alone protects it."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from support import OWNER

TOKEN = "s3cret-admin-token-for-the-tests"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict:
    return {"Authorization": "Bearer " + token}


@pytest.fixture
def guarded(make_emulator):
    return make_emulator("guarded", args=("--no-admin-open", "--admin-token", TOKEN))


def admin(emu, method: str, path: str, headers: dict | None = None, **kw) -> httpx.Response:
    return httpx.request(method, emu.url + "/_emulator/" + path, headers=headers or {}, timeout=10, **kw)


def token_of(emu, user: str, password: str) -> str:
    r = httpx.get(emu.auth + "/tokens/generate", headers=basic(user, password), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def make_user(emu, email: str, administrator: bool) -> None:
    body = {"properties": {"firstname": "A", "lastname": "B", "email": email, "password": "pw-12345678"}}
    body["properties"]["administrator"] = administrator
    r = httpx.post(emu.cloud + "/um/users", json=body, headers=basic(*OWNER), timeout=10)
    assert r.status_code in (200, 201, 202), r.text


def assert_envelope(r: httpx.Response, *statuses: int) -> None:
    assert r.status_code in statuses, (r.status_code, r.text)
    body = r.json()
    assert body["httpStatus"] == r.status_code and body["messages"], body


def test_credentials_decide_who_may_call_the_admin_api(guarded):
    assert_envelope(admin(guarded, "GET", "contracts"), 401)
    assert_envelope(admin(guarded, "POST", "reset"), 401)
    assert_envelope(admin(guarded, "GET", "contracts", basic(OWNER[0], "wrong")), 401)
    assert_envelope(admin(guarded, "GET", "contracts", bearer("not-the-token")), 401)
    assert admin(guarded, "GET", "contracts", basic(*OWNER)).status_code == 200
    assert admin(guarded, "GET", "contracts", bearer(TOKEN)).status_code == 200
    assert admin(guarded, "GET", "timing", bearer(token_of(guarded, *OWNER))).status_code == 200

    make_user(guarded, "boss@example.com", administrator=True)
    make_user(guarded, "clerk@example.com", administrator=False)
    assert admin(guarded, "GET", "failures", bearer(token_of(guarded, "boss@example.com", "pw-12345678"))).is_success
    clerk = token_of(guarded, "clerk@example.com", "pw-12345678")
    assert_envelope(admin(guarded, "GET", "contracts", bearer(clerk)), 403)
    assert_envelope(admin(guarded, "POST", "reset", bearer(clerk)), 403)

    # the owner of another contract administers only that contract, not the emulator
    r = admin(
        guarded, "POST", "contracts", bearer(TOKEN), json={"contractNumber": 77, "user": "o@x.io", "password": "pass-1"}
    )  # a password the default policy takes (at least 5 characters)
    assert r.status_code == 200, r.text
    assert_envelope(admin(guarded, "GET", "contracts", basic("o@x.io", "pass-1")), 403)


def test_health_stays_open_and_names_no_tenant(guarded):
    r = admin(guarded, "GET", "health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert OWNER[0] not in r.text and "contract" not in r.text.lower()


def test_the_admin_token_is_printed_when_none_is_given(make_emulator):
    emu = make_emulator("random-token", args=("--no-admin-open",))
    found = re.search(r"admin token: (\S+)", emu.log.read_text())
    assert found, emu.log.read_text()
    assert admin(emu, "GET", "contracts", bearer(found.group(1))).status_code == 200
    assert admin(emu, "GET", "contracts").status_code == 401


BAD_CONTRACTS = [
    {"contractNumber": -5, "user": "n@x.io", "password": "p"},
    {"contractNumber": 0, "user": "n@x.io", "password": "p"},
    {"contractNumber": 2**31, "user": "n@x.io", "password": "p"},
    {"contractNumber": 2**63 + 1, "user": "n@x.io", "password": "p"},
    {"contractNumber": "12a", "user": "n@x.io", "password": "p"},
    {"contractNumber": True, "user": "n@x.io", "password": "p"},
    {"contractNumber": 55, "user": "", "password": "p"},
    {"contractNumber": 55, "user": "   ", "password": "p"},
    {"contractNumber": 55, "user": "n@x.io", "password": ""},
    {"contractNumber": 55, "user": "n@x.io"},
    {"contractNumber": 55, "user": "x" * 300, "password": "p"},
    {"contractNumber": 55, "user": "n@x.io", "password": "p", "resourceLimits": {"coresPerServer": 2**70}},
]

BAD_FAILURES = [
    {"path": "(a+)+$"},
    {"path": "(x*)*y"},
    {"path": "(a|aa)+$"},
    {"path": r"(a)\1"},
    {"path": "["},
    {"path": ""},
    {"path": "a" * 300},
    {"path": "^/datacenters$", "count": 10**30},
    {"path": "^/datacenters$", "count": 2**40},
    {"path": "^/datacenters$", "count": 0},
    {"path": "^/datacenters$", "count": -1},
    {"path": "^/datacenters$", "method": "BREW"},
    {"path": "^/datacenters$", "mode": "glob"},
    {"path": "^/datacenters$", "message": ""},
]


@pytest.mark.parametrize("headers", [basic(*OWNER)], ids=["owner"])
def test_invalid_admin_inputs_answer_4xx_envelopes_and_change_nothing(guarded, headers):
    contracts = admin(guarded, "GET", "contracts", headers).json()
    for body in BAD_CONTRACTS:
        assert_envelope(admin(guarded, "POST", "contracts", headers, json=body), 400, 422)
    raw = b'{"contractNumber": 99999999999999999999999999, "user": "n@x.io", "password": "p"}'
    assert_envelope(admin(guarded, "POST", "contracts", headers, content=raw), 400, 422)
    assert admin(guarded, "GET", "contracts", headers).json() == contracts

    for body in BAD_FAILURES:
        assert_envelope(admin(guarded, "POST", "failures", headers, json=body), 400, 422)
    assert admin(guarded, "GET", "failures", headers).json() == []

    timing = admin(guarded, "GET", "timing", headers).json()
    for body in ({"overrides": {"server": -1}}, {"overrides": {"server": 10**30}}, {"overrides": [1]}):
        assert_envelope(admin(guarded, "PUT", "timing", headers, json=body), 400, 422)
    assert admin(guarded, "GET", "timing", headers).json() == timing


def test_safe_failure_rules_still_work(guarded):
    headers = bearer(TOKEN)
    r = admin(guarded, "POST", "failures", headers, json={"path": "^/datacenters(/[^/]+)?$", "count": 2})
    assert r.status_code == 200, r.text
    r = admin(guarded, "POST", "failures", headers, json={"path": "(a+)+$", "mode": "substring"})
    assert r.status_code == 200 and r.json()[-1]["mode"] == "substring", r.text
    assert admin(guarded, "DELETE", "failures", headers).json() == []


def test_open_loopback_emulator_keeps_todays_behaviour(emulator):
    r = httpx.get(emulator.url + "/_emulator/contracts", timeout=10)
    assert r.status_code == 200 and any(c["owner"] == OWNER[0] for c in r.json())


def test_the_remote_console_page_opens_with_its_token_alone(guarded):
    from test_e2e_console import server_console

    sid, url = server_console(guarded, "guarded-console")
    page = httpx.get(url, timeout=10)  # its token is its credential
    assert page.status_code == 200 and sid in page.text


def test_admin_open_defaults_from_the_host_without_binding_it():
    from ionos_emulator.admin.guard import resolve
    from ionos_emulator.settings import Settings

    for host, open_ in [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True)]:
        s = Settings(host=host)
        resolve(s)
        assert s.admin_open is open_ and s.admin_token == ""
    for host in ("0.0.0.0", "192.168.1.10", "::", "emulator.example"):
        s = Settings(host=host)
        resolve(s)
        assert s.admin_open is False and len(s.admin_token) >= 24
    s = Settings(host="0.0.0.0", admin_open=True)
    resolve(s)
    assert s.admin_open is True
