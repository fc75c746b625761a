"""End-to-end: the Cloud API flow through the official Node SDK (`@ionos-cloud/sdk-nodejs`, pinned in
tests/node/package.json and package-lock.json), unmodified, against the strict in-process emulator: a data
center and a LAN created, each request waited for through /requests/{id}/status, both read back.

The SDK is installed into tests/node with `npm ci` (once; skipped when node_modules holds the locked
version already). Without node or npm on the machine the test is skipped, saying so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from support import OWNER

NODE_DIR = Path(__file__).parent / "node"
PACKAGE = "@ionos-cloud/sdk-nodejs"


def _installed() -> bool:
    locked = json.loads((NODE_DIR / "package-lock.json").read_text())["packages"][f"node_modules/{PACKAGE}"]
    have = NODE_DIR / "node_modules" / PACKAGE / "package.json"
    return have.exists() and json.loads(have.read_text())["version"] == locked["version"]


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed for the Node SDK e2e test (not found on PATH)")
    if not _installed():
        run = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, text=True, timeout=600
        )
        assert run.returncode == 0, f"npm ci failed in {NODE_DIR}:\n{run.stdout}\n{run.stderr}"
    return node


def test_node_sdk_creates_a_datacenter_and_a_lan(emulator, node):
    env = {
        **os.environ,
        "IONOS_EMULATOR_CLOUD": emulator.cloud,
        "IONOS_USERNAME": OWNER[0],
        "IONOS_PASSWORD": OWNER[1],
    }
    run = subprocess.run([node, "flow.js"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["dcStatus"] == 202 and seen["dcState"] == "AVAILABLE" and seen["dcName"] == "node-sdk"
    assert seen["lanState"] == "AVAILABLE" and seen["lanName"] == "node-lan" and seen["lanPublic"] is True
    # what the SDK did is what the emulator holds: two finished requests, the LAN in the data center
    with httpx.Client(base_url=emulator.cloud, auth=OWNER, timeout=30) as http:
        for rid in (seen["dcRequest"], seen["lanRequest"]):
            assert http.get(f"/requests/{rid}/status").json()["metadata"]["status"] == "DONE"
        lans = http.get(f"/datacenters/{seen['datacenterId']}/lans", params={"depth": 1}).json()["items"]
        assert [(lan["id"], lan["properties"]["public"]) for lan in lans] == [(seen["lanId"], True)]
