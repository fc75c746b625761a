"""End-to-end: `serve --seed FILE` makes contracts, users, groups and resources through the normal pipeline
before the emulator serves (seen through the official SDKs), once per data dir; a bad seed stops the start
with its answer; `--init DIR` runs scripts with the clients' environment once the emulator serves."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import ionoscloud
import ionoscloud_dns

from conftest import sdk_client
from support import bearer

SEED = textwrap.dedent(
    """\
    version: 1
    contracts:
      - {contractNumber: 31000042, owner: {email: other-owner@example.com, password: other-pass-1}}
    users:
      - {email: dev@example.com, password: dev-pass-1, firstname: Dev, lastname: One}
    groups:
      - {name: developers, createDataCenter: true, members: [dev@example.com]}
    resources:
      cloud:
        - {name: shop, path: /datacenters, body: {properties: {name: shop, location: de/fra}}}
        - {path: "/datacenters/${shop.id}/lans", body: {properties: {name: front, public: true}}}
        - {path: /datacenters, as: {email: other-owner@example.com, password: other-pass-1},
           body: {properties: {name: elsewhere, location: us/las}}}
      dns:
        - {path: /zones, body: {properties: {zoneName: seeded.example}}}
    """
)


def test_seed_makes_the_world_once(make_emulator, tmp_path):
    seed = tmp_path / "world.yaml"
    seed.write_text(SEED)
    emu = make_emulator(args=("--seed", str(seed)))
    with sdk_client(emu) as c:
        dcs = ionoscloud.DataCentersApi(c).datacenters_get(depth=3).items
        assert [d.properties.name for d in dcs] == ["shop"]
        assert [lan.properties.name for lan in dcs[0].entities.lans.items] == ["front"]
        groups = ionoscloud.UserManagementApi(c).um_groups_get(depth=3).items
        dev_group = next(g for g in groups if g.properties.name == "developers")
        assert dev_group.properties.create_data_center is True
        assert [u.properties.email for u in dev_group.entities.users.items] == ["dev@example.com"]
    with sdk_client(emu, user="other-owner@example.com", password="other-pass-1") as c:  # the other contract
        assert [d.properties.name for d in ionoscloud.DataCentersApi(c).datacenters_get(depth=1).items] == ["elsewhere"]
    cfg = ionoscloud_dns.Configuration(host=emu.url + "/dns/de-fra", token=bearer(emu))
    with ionoscloud_dns.ApiClient(cfg) as c:
        zones = ionoscloud_dns.ZonesApi(c).zones_get().items
        assert [z.properties.zone_name for z in zones] == ["seeded.example"]
        assert zones[0].metadata.state == "AVAILABLE"
    # a restart with the same seed changes nothing
    emu.stop()
    emu.start()
    with sdk_client(emu) as c:
        assert len(ionoscloud.DataCentersApi(c).datacenters_get().items) == 1
    assert "applied before to this data dir, skipped" in emu.log.read_text()


def test_a_bad_seed_stops_the_start(tmp_path):
    seed = tmp_path / "bad.json"
    call = {"path": "/datacenters", "body": {"properties": {"name": "x", "location": "mars/base"}}}
    seed.write_text(json.dumps({"resources": {"cloud": [call]}}))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ionos_emulator",
            "serve",
            "--port",
            "0",
            "--dns-port",
            "0",
            "--data-dir",
            str(tmp_path / "d"),
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "call 1 (POST /cloudapi/v6/datacenters) answered 422" in run.stderr


def test_init_scripts_run_with_the_clients_environment(make_emulator, tmp_path):
    init = tmp_path / "init"
    init.mkdir()
    out = tmp_path / "out.txt"
    script = init / "10-create.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import os, ionoscloud
            cfg = ionoscloud.Configuration(host=os.environ["IONOS_EMULATOR_URL"] + "/cloudapi/v6",
                                           username=os.environ["IONOS_USERNAME"], password=os.environ["IONOS_PASSWORD"])
            with ionoscloud.ApiClient(cfg) as c:
                ionoscloud.DataCentersApi(c).datacenters_post(datacenter=ionoscloud.DatacenterPost(
                    properties=ionoscloud.DatacenterPropertiesPost(name="from-init", location="de/txl")))
            open({str(out)!r}, "w").write(os.environ["IONOS_CONFIG_FILE"])
            """
        )
    )
    script.chmod(0o755)
    (init / "README").write_text("not executable: not run")
    emu = make_emulator(args=("--init", str(init)))
    deadline = time.time() + 30
    while not out.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert out.read_text().endswith("ionos-config.yaml")
    with sdk_client(emu) as c:
        assert [d.properties.name for d in ionoscloud.DataCentersApi(c).datacenters_get(depth=1).items] == ["from-init"]
    while "init 10-create.py: exit 0" not in emu.log.read_text() and time.time() < deadline:
        time.sleep(0.1)
    assert "init 10-create.py: exit 0" in emu.log.read_text()
