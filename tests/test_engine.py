"""In-process tests of the engine's transaction rules (no subprocess: the app is called through ASGI)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from ionos_emulator.app import create_app
from ionos_emulator.settings import Settings

OWNER = ("admin@ionos-emulator.local", "emulator")


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(data_dir=str(tmp_path), strict=True, dns_port=0))


def test_a_change_whose_request_record_cannot_be_stored_answers_an_error_and_leaves_nothing(app, monkeypatch):
    def broken_commit(req):
        raise RuntimeError("disk full")

    monkeypatch.setattr(app.lifecycle, "commit", broken_commit)
    with TestClient(app) as client:
        r = client.post(
            "/cloudapi/v6/datacenters", auth=OWNER, json={"properties": {"name": "doomed", "location": "de/fra"}}
        )
        assert r.status_code == 500
        assert r.json()["httpStatus"] == 500 and r.json()["messages"][0]["message"]
        listed = client.get("/cloudapi/v6/datacenters", params={"depth": 1}, auth=OWNER).json()
        assert listed["items"] == []
        tenant = int(app.identity.contracts()[0]["contractNumber"])
        assert app.store.list(tenant, "datacenter") == []  # no BUSY row left behind
        assert app.store.list_requests(tenant) == []


def test_a_change_that_commits_is_stored_with_its_request(app):
    with TestClient(app) as client:
        r = client.post(
            "/cloudapi/v6/datacenters", auth=OWNER, json={"properties": {"name": "kept", "location": "de/fra"}}
        )
        assert r.status_code == 202 and "/requests/" in r.headers["location"]
        listed = client.get("/cloudapi/v6/datacenters", params={"depth": 1}, auth=OWNER).json()
        assert [d["properties"]["name"] for d in listed["items"]] == ["kept"]


def test_a_change_whose_response_breaks_the_spec_is_rolled_back(app):
    """Strict mode checks the response inside the change's transaction: a broken answer commits nothing."""
    cloud = next(api for api in app.apis if api.name == "cloud")
    real = cloud.handlers["datacentersPost"]

    def broken(ctx):
        reply = real(ctx)
        reply.body = {**reply.body, "id": 12345}  # the spec says a string
        return reply

    cloud.handlers["datacentersPost"] = broken
    with TestClient(app) as client:
        r = client.post(
            "/cloudapi/v6/datacenters", auth=OWNER, json={"properties": {"name": "broken", "location": "de/fra"}}
        )
        assert r.status_code == 500 and "violates the spec" in r.json()["messages"][0]["message"]
        tenant = int(app.identity.contracts()[0]["contractNumber"])
        assert app.store.list(tenant, "datacenter") == []
        assert app.store.list_requests(tenant) == []
        assert app.violations and app.violations[0]["request"] == "POST /cloudapi/v6/datacenters"
