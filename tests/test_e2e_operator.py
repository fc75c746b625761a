"""End-to-end: the operator's tools through the official SDK and HTTP: the request journal (secrets masked,
filters, HAR) and chaos rules (a status in the API's envelope that the SDK's retries survive, latency, a
FAILED request, contract scoping, enforced rate limits)."""

from __future__ import annotations

import json
import re
import time

import ionoscloud
import ionoscloud_dns
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import OWNER, bearer, http_client


@pytest.fixture(autouse=True)
def no_chaos(emulator):
    emulator.admin("DELETE", "chaos")
    yield
    emulator.admin("DELETE", "chaos")


def last_seq(emulator) -> int:
    entries = emulator.admin("GET", "journal").json()
    return entries[-1]["seq"] if entries else 0


def test_journal_records_requests_with_secrets_masked(emulator):
    after = last_seq(emulator)
    with sdk_client(emulator) as c:
        user = ionoscloud.UserManagementApi(c).um_users_post(
            ionoscloud.UserPost(
                properties=ionoscloud.UserPropertiesPost(
                    firstname="J",
                    lastname="Ournal",
                    email=f"journal-{time.time_ns()}@example.com",
                    password="s3cret-Pass!",
                    administrator=False,
                )
            )
        )
        ionoscloud.DataCentersApi(c).datacenters_get(depth=1)
    entries = emulator.admin("GET", "journal", params={"after": after}).json()
    post = next(e for e in entries if e["method"] == "POST" and e["url"].endswith("/cloudapi/v6/um/users"))
    assert post["status"] == 202 and post["caller"] == OWNER[0] and post["duration_ms"] > 0
    assert (
        "s3cret-Pass!" not in json.dumps(post) and json.loads(post["request_body"])["properties"]["password"] == "*****"
    )
    assert post["request_headers"]["authorization"] == "Basic *****"
    assert json.loads(post["response_body"])["id"] == user.id
    gets = emulator.admin("GET", "journal", params={"after": after, "method": "get", "path": "/datacenters"}).json()
    assert gets and all(e["method"] == "GET" and "/datacenters" in e["url"] for e in gets)
    assert emulator.admin("GET", "journal", params={"after": after, "status": "2xx"}).json()
    assert not emulator.admin("GET", "journal", params={"after": after, "status": "5xx"}).json()
    har = emulator.admin("GET", "journal", params={"after": after, "format": "har"}).json()["log"]
    assert har["version"] == "1.2"
    posted = next(e for e in har["entries"] if e["request"]["method"] == "POST")
    assert posted["response"]["status"] == 202 and "*****" in posted["request"]["postData"]["text"]
    assert emulator.admin("GET", "journal", params={"after": "x"}).status_code == 422


def test_chaos_status_in_the_envelope_and_the_sdk_retries_through_it(emulator):
    rule = {"api": "cloud", "operation": "datacentersGet", "status": 429, "retryAfter": 0, "times": 2}
    added = emulator.admin("POST", "chaos", json=rule)
    assert added.status_code == 200, added.text
    r = http_client().get(emulator.cloud + "/datacenters", auth=OWNER)
    assert r.status_code == 429 and r.headers["Retry-After"] == "0"
    assert r.json()["httpStatus"] == 429 and r.json()["messages"][0]["message"].startswith("Injected")
    # one application left: the SDK (3 tries by default) gets through it
    with sdk_client(emulator) as c:
        assert ionoscloud.DataCentersApi(c).datacenters_get() is not None
    shown = emulator.admin("GET", "chaos").json()["rules"][0]
    assert shown["applied"] == 2 and shown["effect"] == "status"
    assert http_client().get(emulator.cloud + "/datacenters", auth=OWNER).status_code == 200  # used up
    journal = emulator.admin("GET", "journal", params={"status": "429"}).json()
    assert journal and journal[-1]["chaos"] == shown["id"]


def test_chaos_in_the_product_envelope_by_path_and_method(emulator):
    emulator.admin("POST", "chaos", json={"method": "GET", "path": "^/dns/de-fra/zones$", "status": 503})
    cfg = ionoscloud_dns.Configuration(host=emulator.url + "/dns/de-fra", token=bearer(emulator))
    cfg.max_retries, cfg.wait_time = 1, 0
    with ionoscloud_dns.ApiClient(cfg) as c, pytest.raises(ionoscloud_dns.ApiException) as e:
        ionoscloud_dns.ZonesApi(c).zones_get()
    assert e.value.status == 503 and json.loads(e.value.body)["httpStatus"] == 503
    assert http_client().get(emulator.cloud + "/datacenters", auth=OWNER).status_code == 200  # other paths untouched


def test_chaos_latency_and_failed_requests(emulator):
    emulator.admin("POST", "chaos", json={"operation": "locationsGet", "latencyMs": 300})
    started = time.perf_counter()
    assert http_client().get(emulator.cloud + "/locations", auth=OWNER).status_code == 200
    assert time.perf_counter() - started >= 0.3
    emulator.admin("DELETE", "chaos")
    emulator.admin("POST", "chaos", json={"operation": "datacentersPost", "failed": True, "times": 1})
    body = {"properties": {"name": "doomed", "location": "de/fra"}}
    r = http_client().post(emulator.cloud + "/datacenters", auth=OWNER, json=body)
    assert r.status_code == 202
    status = http_client().get(r.headers["Location"], auth=OWNER).json()
    assert status["metadata"]["status"] == "FAILED"
    again = http_client().post(emulator.cloud + "/datacenters", auth=OWNER, json=body)
    assert http_client().get(again.headers["Location"], auth=OWNER).json()["metadata"]["status"] == "DONE"


def test_chaos_rules_scope_to_a_contract(emulator):
    other = ("chaos-owner@example.com", "chaos-pass-1")
    emulator.admin("POST", "contracts", json={"contractNumber": 31000777, "user": other[0], "password": other[1]})
    emulator.admin("POST", "chaos", json={"contract": 31000777, "status": 500})
    assert http_client().get(emulator.cloud + "/datacenters", auth=other).status_code == 500
    assert http_client().get(emulator.cloud + "/datacenters", auth=OWNER).status_code == 200
    token = http_client().get(emulator.auth + "/tokens/generate", auth=OWNER).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert http_client().get(emulator.cloud + "/datacenters", headers=headers).status_code == 200


def test_chaos_input_is_checked(emulator):
    for bad in (
        {"status": 418},
        {"probability": 2, "status": 500},
        {"status": 500, "latencyMs": 10},
        {},
        {"path": "(a+)+$", "status": 500},
        {"latencyMs": -1},
        {"status": "500"},
    ):
        r = emulator.admin("POST", "chaos", json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert emulator.admin("GET", "chaos").json()["rules"] == []


def test_enforced_rate_limits(emulator):
    from ionos_emulator.gateway import pipeline

    emulator.admin("POST", "chaos", json={"enforceRateLimits": True})
    limit = pipeline.RATE_LIMIT
    try:
        pipeline.RATE_LIMIT = 3  # this process's pipeline: the shared emulator runs in it
        codes = [http_client().get(emulator.cloud + "/locations", auth=OWNER) for _ in range(6)]
    finally:
        pipeline.RATE_LIMIT = limit
    statuses = [r.status_code for r in codes]
    assert 429 in statuses
    refused = next(r for r in codes if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["X-RateLimit-Remaining"] == "0"
    assert re.search("Rate limit", refused.json()["messages"][0]["message"])
    emulator.admin("POST", "chaos", json={"enforceRateLimits": False})
    assert http_client().get(emulator.cloud + "/locations", auth=OWNER).status_code == 200


def test_no_rules_no_change(emulator):
    with sdk_client(emulator) as c:
        with pytest.raises(ApiException) as e:
            ionoscloud.DataCentersApi(c).datacenters_find_by_id("00000000-0000-0000-0000-000000000000")
    assert e.value.status == 404


def test_journal_is_bounded_by_the_bytes_of_its_bodies():
    from ionos_emulator import journal as j

    jr = j.Journal(1000)
    scope = {"method": "GET", "path": "/cloudapi/v6/x", "headers": [], "query_string": b""}
    for _ in range(300):  # answers of 1 MB: each kept cut to BODY_LIMIT, the oldest dropped past MAX_BYTES
        jr.record(
            started=0.0,
            duration=0.0,
            scope=scope,
            request_body=b"",
            status=200,
            response_headers=[],
            response_body=b"x" * (1 << 20),
        )
    assert jr.bytes <= j.MAX_BYTES and len(jr.entries) == j.MAX_BYTES // j.BODY_LIMIT < 300
    assert jr.select({})[-1].seq == 300  # the newest kept
