"""End-to-end: snapshots (save, load, list, delete, export, import) through the admin API and the CLI against a
running emulator, a round trip that restores an identical state (resources, users, tokens, data-plane files),
refused versions and damaged files that change nothing; and the CLI's status, chaos, journal and timing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile

import httpx
import ionoscloud
import pytest

from ionos_emulator.testing import running


@pytest.fixture
def emu():
    with running(strict=True) as emu:
        yield emu


def cli(emu, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "ionos_emulator", *args, "--url", emu.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def build_world(emu) -> str:
    with ionoscloud.ApiClient(emu.configuration()) as c:
        dcs = ionoscloud.DataCentersApi(c)
        dc = dcs.datacenters_post(
            datacenter=ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name="keep", location="de/fra")
            )
        )
        ionoscloud.ServersApi(c).datacenters_servers_post(
            dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="web", cores=1, ram=1024))
        )
        ionoscloud.UserManagementApi(c).um_users_post(
            ionoscloud.UserPost(
                properties=ionoscloud.UserPropertiesPost(
                    firstname="S", lastname="Nap", email="snap@example.com", password="Snap-pass-1"
                )
            )
        )
    return dc.id


def world(emu) -> dict:
    """What a client sees: every data center in depth, the users (ids and e-mails), the contract's usage."""
    auth = (emu.user, emu.password)
    dcs = httpx.get(emu.cloud_url + "/datacenters?depth=5", auth=auth).json()
    users = httpx.get(emu.cloud_url + "/um/users?depth=1", auth=auth).json()
    for doc in (dcs, users):
        doc.pop("_links", None)
    return {"datacenters": dcs, "users": users, "usage": usage(emu)}


def usage(emu) -> tuple[int, int]:
    contract = httpx.get(emu.cloud_url + "/contracts", auth=(emu.user, emu.password)).json()["items"][0]
    limits = contract["properties"]["resourceLimits"]
    return limits["coresProvisioned"], limits["ramProvisioned"]


def test_round_trip_restores_an_identical_state(emu):
    build_world(emu)
    token = emu.token()
    (emu.data_dir / "objects").mkdir()
    (emu.data_dir / "objects" / "blob").write_bytes(b"\x00bytes a data plane keeps")
    before = world(emu)
    exported = httpx.get(emu.url + "/_emulator/snapshots/export")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/gzip"

    assert before["usage"] == (1, 1024)
    emu.reset()
    assert usage(emu) == (0, 0)  # the counters went with the rows
    (emu.data_dir / "objects" / "blob").unlink()
    with ionoscloud.ApiClient(emu.configuration()) as c:
        ionoscloud.DataCentersApi(c).datacenters_post(
            datacenter=ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name="other", location="us/las")
            )
        )
    assert world(emu) != before

    loaded = httpx.put(emu.url + "/_emulator/snapshots/import", content=exported.content)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["version"] == 1 and loaded.json()["counts"]["resources"] > 0
    assert world(emu) == before
    assert (emu.data_dir / "objects" / "blob").read_bytes() == b"\x00bytes a data plane keeps"
    # the token key came back with it: a token issued before the export is good again
    assert httpx.get(emu.cloud_url + "/datacenters", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # and the new user can log in
    assert httpx.get(emu.cloud_url + "/datacenters", auth=("snap@example.com", "Snap-pass-1")).status_code == 200
    # new resources get ids after the restored ones (the store's counters follow the snapshot)
    with ionoscloud.ApiClient(emu.configuration()) as c:
        ionoscloud.DataCentersApi(c).datacenters_post(
            datacenter=ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name="after", location="de/txl")
            )
        )
    names = [d["properties"]["name"] for d in world(emu)["datacenters"]["items"]]
    assert names == ["keep", "after"]


def snapshot_file(manifest: dict, store: dict | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, doc in (
            ("manifest.json", manifest),
            ("store.json", store or {"resources": [], "requests": [], "kv": []}),
        ):
            blob = json.dumps(doc).encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return out.getvalue()


def test_refused_snapshots_change_nothing(emu):
    build_world(emu)
    before = world(emu)
    cases = {
        b"not a tar at all": "not an emulator snapshot",
        snapshot_file({"format": "ionos-emulator-snapshot", "version": 99}): "newer ionos-emulator",
        snapshot_file({"format": "ionos-emulator-snapshot", "version": 0}): "cannot upgrade",
        snapshot_file({"format": "something-else", "version": 1}): "another format",
        snapshot_file(
            {"format": "ionos-emulator-snapshot", "version": 1}, {"resources": [["broken"]], "requests": [], "kv": []}
        ): "damaged",
    }
    for raw, why in cases.items():
        r = httpx.put(emu.url + "/_emulator/snapshots/import", content=raw)
        assert r.status_code == 422 and why in r.json()["messages"][0]["message"], r.text
        assert world(emu) == before
    assert httpx.post(emu.url + "/_emulator/snapshots", json={"name": "../escape"}).status_code == 422
    assert httpx.post(emu.url + "/_emulator/snapshots/nope/load").status_code == 404


def test_named_snapshots_through_the_cli(emu):
    build_world(emu)
    before = world(emu)
    assert "saved snapshot base" in cli(emu, "snapshot", "save", "base")
    listed = cli(emu, "snapshot", "list")
    assert "base" in listed.splitlines()[2]
    emu.reset()
    assert world(emu) != before
    assert "loaded snapshot base" in cli(emu, "snapshot", "load", "base")
    assert world(emu) == before
    export = emu.data_dir.parent / f"{emu.data_dir.name}-export.tar.gz"
    try:
        assert "exported" in cli(emu, "snapshot", "export", str(export))
        emu.reset()
        assert "imported" in cli(emu, "snapshot", "import", str(export))
        assert world(emu) == before
    finally:
        export.unlink(missing_ok=True)
    assert "deleted snapshot base" in cli(emu, "snapshot", "delete", "base")
    assert "base" not in cli(emu, "snapshot", "list")


def test_cli_status_chaos_journal_timing(emu):
    build_world(emu)
    status = cli(emu, "status")
    assert f"ionos-emulator at {emu.url}: ok" in status and "cloud" in status and "timing instant" in status
    assert "added rule" in cli(emu, "chaos", "add", "--operation", "datacentersGet", "--status", "503", "--times", "1")
    listed = cli(emu, "chaos", "list")
    assert "datacentersGet" in listed and "status 503" in listed
    assert httpx.get(emu.cloud_url + "/datacenters", auth=(emu.user, emu.password)).status_code == 503
    journal = cli(emu, "journal", "--status", "503")
    assert "503  GET" in journal and "/cloudapi/v6/datacenters" in journal and "chaos" in journal
    assert "no chaos rules" in cli(emu, "chaos", "clear")
    assert "rate limits enforced" in cli(emu, "chaos", "rate-limits", "on")
    cli(emu, "chaos", "rate-limits", "off")
    har = emu.data_dir / "journal.har"
    assert "wrote" in cli(emu, "journal", "--har", str(har))
    assert json.loads(har.read_text())["log"]["entries"]
    assert "timing realistic" in cli(emu, "timing", "realistic", "--override", "server=2")
    assert httpx.get(emu.url + "/_emulator/timing").json()["overrides"] == {"server": 2.0}
    assert "reset the emulator" in cli(emu, "reset")
    assert world(emu)["datacenters"]["items"] == []
