"""The emulated clock (/_emulator/clock): every API's timestamps, token expiry and lifecycle timing follow it."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from support import OWNER, bearer, http_client

DAY = 86400.0


def parse(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def emu(own_emulator):
    yield own_emulator
    assert own_emulator.admin("DELETE", "clock").status_code == 200  # real time for the next test


def test_clock_reads_and_moves(emu):
    r = emu.admin("GET", "clock")
    assert r.status_code == 200
    assert abs(r.json()["offsetSeconds"]) < 1 and r.json()["speed"] == 1.0
    r = emu.admin("PATCH", "clock", json={"advanceSeconds": 3 * DAY})
    assert r.status_code == 200
    assert abs(r.json()["offsetSeconds"] - 3 * DAY) < 5
    assert abs(parse(r.json()["now"]) - (time.time() + 3 * DAY)) < 5
    r = emu.admin("PATCH", "clock", json={"advanceSeconds": DAY})  # forward from where it is
    assert abs(r.json()["offsetSeconds"] - 4 * DAY) < 5
    r = emu.admin("PUT", "clock", json={"now": "2031-05-01T12:00:00Z"})
    assert abs(parse(r.json()["now"]) - parse("2031-05-01T12:00:00Z")) < 5
    assert emu.admin("DELETE", "clock").json()["offsetSeconds"] < 1


@pytest.mark.parametrize(
    "body",
    [{"speed": -1}, {"offsetSeconds": "soon"}, {"now": "tomorrow"}, {"advanceSeconds": -5}, {"hours": 1}, []],
)
def test_bad_clock_settings_are_refused_and_change_nothing(emu, body):
    r = emu.admin("PATCH", "clock", json=body)
    assert r.status_code == 422, r.text
    assert abs(emu.admin("GET", "clock").json()["offsetSeconds"]) < 1


def test_metadata_timestamps_follow_the_clock(emu):
    h = http_client()
    emu.admin("PUT", "clock", json={"offsetSeconds": 10 * DAY})
    r = h.post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"name": "later", "location": "de/fra"}})
    assert r.status_code == 202, r.text
    created = parse(r.json()["metadata"]["createdDate"])
    assert abs(created - (time.time() + 10 * DAY)) < 60
    req = r.headers["Location"]
    status = h.get(req, auth=OWNER).json()
    assert status["metadata"]["status"] == "DONE"
    record = h.get(req.rsplit("/status", 1)[0], auth=OWNER).json()
    assert abs(parse(record["metadata"]["createdDate"]) - created) < 60


def test_lifecycle_timing_runs_on_emulated_time(emu):
    """A change that takes 30 s under the timing profile is done at once when the clock runs 1000 times faster."""
    h = http_client()
    emu.admin("PATCH", "timing", json={"overrides": {"datacenter": 30}})
    try:
        r = h.post(emu.cloud + "/datacenters", auth=OWNER, json={"properties": {"name": "slow", "location": "de/fra"}})
        assert h.get(r.headers["Location"], auth=OWNER).json()["metadata"]["status"] in ("QUEUED", "RUNNING")
        emu.admin("PATCH", "clock", json={"speed": 1000})
        time.sleep(0.2)  # 200 emulated seconds
        assert h.get(r.headers["Location"], auth=OWNER).json()["metadata"]["status"] == "DONE"
    finally:
        emu.admin("PUT", "timing", json={"profile": "instant"})


def test_tokens_expire_on_emulated_time(emu):
    token = http_client().get(emu.auth + "/tokens/generate", auth=OWNER, params={"ttl": 3600}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(emu.cloud + "/datacenters", headers=headers).status_code == 200
    emu.admin("PATCH", "clock", json={"advanceSeconds": 2 * 3600})
    assert httpx.get(emu.cloud + "/datacenters", headers=headers).status_code == 401
    fresh = bearer(emu)  # issued in emulated time: valid then, though "in the future" for the real clock
    assert httpx.get(emu.cloud + "/datacenters", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_every_worker_reads_the_same_clock(make_emulator):
    """The clock lives in the store: set through one worker, every worker's answers carry it."""
    emu = make_emulator("clock-workers", args=("--workers", "2"))
    assert emu.admin("PATCH", "clock", json={"advanceSeconds": 5 * DAY}).status_code == 200
    dates = []
    for i in range(12):  # fresh connections, spread over both workers
        with httpx.Client(auth=OWNER) as c:
            r = c.post(emu.cloud + "/datacenters", json={"properties": {"name": f"w{i}", "location": "de/fra"}})
            assert r.status_code == 202, r.text
            dates.append(parse(r.json()["metadata"]["createdDate"]))
    assert all(abs(d - (time.time() + 5 * DAY)) < 120 for d in dates), dates
