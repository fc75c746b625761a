"""End-to-end: data centers, servers, volumes, CD-ROMs, snapshots, images, templates and locations
through the unmodified `ionoscloud` SDK, against a strict emulator process."""

from __future__ import annotations

import json
import uuid

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from support import wait


def new_dc(client, name="dc", location="de/fra"):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location=location)
        )
    )
    wait(client, h)
    return dc


def composite_server(name="web", cores=2, ram=2048, lan=1, image_alias="ubuntu:latest"):
    return ionoscloud.Server(
        properties=ionoscloud.ServerProperties(name=name, cores=cores, ram=ram),
        entities=ionoscloud.ServerEntities(
            volumes=ionoscloud.AttachedVolumes(
                items=[
                    ionoscloud.Volume(
                        properties=ionoscloud.VolumeProperties(
                            name=f"{name}-boot",
                            size=20,
                            type="SSD",
                            image_alias=image_alias,
                            image_password="Secret123",
                        )
                    )
                ]
            ),
            nics=ionoscloud.Nics(
                items=[ionoscloud.Nic(properties=ionoscloud.NicProperties(name=f"{name}-nic", lan=lan))]
            ),
        ),
    )


def test_server_with_volume_and_nic_flow(client):
    """The first thing a user does: data center, server with boot volume and NIC, wait, list."""
    dc = new_dc(client, "flow")
    assert dc.metadata.state == "BUSY" and dc.properties.location == "de/fra"
    servers = ionoscloud.ServersApi(client)
    s, status, h = servers.datacenters_servers_post_with_http_info(dc.id, composite_server())
    assert status == 202 and s.metadata.state == "BUSY" and s.id
    wait(client, h)
    got = servers.datacenters_servers_find_by_id(dc.id, s.id, depth=2)
    assert got.metadata.state == "AVAILABLE"
    assert got.properties.vm_state == "RUNNING" and got.properties.cores == 2 and got.properties.ram == 2048
    assert got.properties.cpu_family  # auto-selected from the location
    vols, nics = got.entities.volumes.items, got.entities.nics.items
    assert [v.properties.name for v in vols] == ["web-boot"]
    assert vols[0].properties.image_password is None  # write-only
    assert got.properties.boot_volume.id == vols[0].id
    assert len(nics) == 1 and nics[0].properties.lan == 1 and nics[0].properties.mac
    # the NIC's LAN was created implicitly
    lan = ionoscloud.LANsApi(client).datacenters_lans_find_by_id(dc.id, "1")
    assert lan.properties.public is False
    # the image alias resolved to an image of the data center's location
    img = ionoscloud.ImagesApi(client).images_find_by_id(vols[0].properties.image)
    assert img.properties.location == "de/fra" and img.properties.image_type == "HDD"
    listed = servers.datacenters_servers_get(dc.id, depth=1)
    assert [x.id for x in listed.items] == [s.id]
    # each data center change raised its version (create server: 1 -> 2)
    assert ionoscloud.DataCentersApi(client).datacenters_find_by_id(dc.id).properties.version >= 2


def test_server_alone_then_attach_volume_and_detach(client):
    dc = new_dc(client)
    servers, volumes = ionoscloud.ServersApi(client), ionoscloud.VolumesApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(
        dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="bare", cores=1, ram=1024))
    )
    wait(client, h)
    v, _, h = volumes.datacenters_volumes_post_with_http_info(
        dc.id,
        ionoscloud.Volume(
            properties=ionoscloud.VolumeProperties(name="data", size=10, type="HDD", licence_type="LINUX")
        ),
    )
    wait(client, h)
    assert v.properties.device_number is None  # not mounted
    attached, _, h = servers.datacenters_servers_volumes_post_with_http_info(dc.id, s.id, ionoscloud.Volume(id=v.id))
    wait(client, h)
    on_server = servers.datacenters_servers_volumes_get(dc.id, s.id, depth=1)
    assert [x.id for x in on_server.items] == [v.id]
    assert on_server.items[0].properties.device_number == 1
    # the relation both ways: the volume names its server (bootServer, "the UUID of the attached server")
    assert volumes.datacenters_volumes_find_by_id(dc.id, v.id).properties.boot_server == s.id
    assert servers.datacenters_servers_find_by_id(dc.id, s.id).properties.boot_volume.id == v.id
    _, _, h = servers.datacenters_servers_volumes_delete_with_http_info(dc.id, s.id, v.id)
    wait(client, h)
    assert servers.datacenters_servers_volumes_get(dc.id, s.id).items == []
    # detaching only disconnects: the volume still exists in the data center, attached to nothing
    detached = volumes.datacenters_volumes_find_by_id(dc.id, v.id).properties
    assert detached.name == "data" and detached.boot_server is None and detached.device_number is None
    with pytest.raises(ApiException) as e:
        servers.datacenters_servers_volumes_find_by_id(dc.id, s.id, v.id)
    assert e.value.status == 404


def test_server_actions_change_vm_state(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(dc.id, composite_server("act"))
    wait(client, h)
    for action, state in (("stop", "SHUTOFF"), ("start", "RUNNING"), ("stop", "SHUTOFF"), ("reboot", "RUNNING")):
        _, status, h = getattr(servers, f"datacenters_servers_{action}_post_with_http_info")(dc.id, s.id)
        assert status == 202
        wait(client, h)
        assert servers.datacenters_servers_find_by_id(dc.id, s.id).properties.vm_state == state
    # suspend/resume are for Cubes only
    with pytest.raises(ApiException) as e:
        servers.datacenters_servers_suspend_post(dc.id, s.id)
    assert e.value.status == 422


def test_stopped_server_frees_cores_in_contract(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    contracts = ionoscloud.ContractResourcesApi(client)

    def cores():
        return contracts.contracts_get().items[0].properties.resource_limits.cores_provisioned

    s, _, h = servers.datacenters_servers_post_with_http_info(
        dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="c", cores=3, ram=1024))
    )
    wait(client, h)
    before = cores()
    _, _, h = servers.datacenters_servers_stop_post_with_http_info(dc.id, s.id)
    wait(client, h)
    assert cores() == before - 3


def test_contract_usage_follows_every_change_and_the_limits_hold(emulator):
    """resourceLimits' counters on a contract of its own (so they start at 0): creates, resizes, a stop,
    deletes of a server and of a whole data center; past a limit the create is refused and nothing counts."""
    number = 800000 + uuid.uuid4().int % 100000
    owner = (f"usage-{number}@example.com", "Passw0rd!")
    gb = 1024  # the limits and counters are in MB
    limits = {"coresPerContract": 8, "ramPerContract": 16384, "hddLimitPerContract": 100 * gb}
    made = emulator.admin(
        "POST",
        "contracts",
        json={"contractNumber": number, "user": owner[0], "password": owner[1], "resourceLimits": limits},
    )
    assert made.status_code == 200, made.text
    conf = ionoscloud.Configuration(host=emulator.cloud, username=owner[0], password=owner[1])
    with ionoscloud.ApiClient(conf) as client:
        servers, volumes = ionoscloud.ServersApi(client), ionoscloud.VolumesApi(client)

        def usage():
            lim = ionoscloud.ContractResourcesApi(client).contracts_get().items[0].properties.resource_limits
            return lim.cores_provisioned, lim.ram_provisioned, lim.ssd_volume_provisioned, lim.hdd_volume_provisioned

        def refused(call, *args) -> str:
            with pytest.raises(ApiException) as e:
                call(*args)
            assert e.value.status == 422, e.value.body
            return json.loads(e.value.body)["messages"][0]["message"]

        def hdd(size):
            return ionoscloud.Volume(
                properties=ionoscloud.VolumeProperties(size=size, type="HDD", licence_type="LINUX")
            )

        assert usage() == (0, 0, 0, 0)
        dc1, dc2 = new_dc(client, "usage-1"), new_dc(client, "usage-2")
        a, _, h = servers.datacenters_servers_post_with_http_info(dc1.id, composite_server("a", cores=2, ram=2048))
        wait(client, h)
        vol, _, h = volumes.datacenters_volumes_post_with_http_info(dc1.id, hdd(30))
        wait(client, h)
        assert usage() == (2, 2048, 20 * gb, 30 * gb)  # the server and its inline SSD, the HDD
        props = ionoscloud.ServerProperties(cores=4, ram=4096)
        wait(client, servers.datacenters_servers_patch_with_http_info(dc1.id, a.id, props)[2])
        patch = ionoscloud.VolumeProperties(size=40)
        wait(client, volumes.datacenters_volumes_patch_with_http_info(dc1.id, vol.id, patch)[2])
        assert usage() == (4, 4096, 20 * gb, 40 * gb)
        wait(client, servers.datacenters_servers_stop_post_with_http_info(dc1.id, a.id)[2])
        assert usage() == (0, 0, 20 * gb, 40 * gb)  # SHUTOFF frees cores and RAM
        b, _, h = servers.datacenters_servers_post_with_http_info(dc2.id, composite_server("b", cores=6, ram=4096))
        wait(client, h)
        assert usage() == (6, 4096, 40 * gb, 40 * gb)
        # past the limits: refused as before, and nothing is counted
        too_many = ionoscloud.Server(properties=ionoscloud.ServerProperties(name="c", cores=3, ram=1024))
        assert "[VDC-14-3]" in refused(servers.datacenters_servers_post, dc2.id, too_many)
        assert "[VDC-14-6]" in refused(volumes.datacenters_volumes_post, dc2.id, hdd(61))
        too_much_ram = ionoscloud.ServerProperties(ram=16384 + 256)  # 256 MB past the limit
        assert "[VDC-14-4]" in refused(servers.datacenters_servers_patch, dc2.id, b.id, too_much_ram)
        assert usage() == (6, 4096, 40 * gb, 40 * gb)
        wait(client, servers.datacenters_servers_delete_with_http_info(dc2.id, b.id, delete_volumes=True)[2])
        assert usage() == (0, 0, 20 * gb, 40 * gb)
        # a whole data center goes with its stopped server, its volumes
        wait(client, ionoscloud.DataCentersApi(client).datacenters_delete_with_http_info(dc1.id)[2])
        assert usage() == (0, 0, 0, 0)
        c, _, h = servers.datacenters_servers_post_with_http_info(dc2.id, composite_server("c", cores=8, ram=1024))
        wait(client, h)  # the freed cores are there to use again
        assert usage() == (8, 1024, 20 * gb, 0)


def test_cube_server_rules(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    tpl = next(
        t for t in ionoscloud.TemplatesApi(client).templates_get(depth=1).items if t.properties.name == "Basic Cube S"
    )
    cube = ionoscloud.Server(
        properties=ionoscloud.ServerProperties(type="CUBE", template_uuid=tpl.id, name="cube"),
        entities=ionoscloud.ServerEntities(
            volumes=ionoscloud.AttachedVolumes(
                items=[
                    ionoscloud.Volume(
                        properties=ionoscloud.VolumeProperties(
                            name="das", type="DAS", image_alias="ubuntu:latest", image_password="Secret123"
                        )
                    )
                ]
            )
        ),
    )
    s, _, h = servers.datacenters_servers_post_with_http_info(dc.id, cube)
    wait(client, h)
    got = servers.datacenters_servers_find_by_id(dc.id, s.id, depth=2)
    assert got.properties.type == "CUBE" and got.properties.cores == tpl.properties.cores
    assert got.entities.volumes.items[0].properties.type == "DAS"
    for action, state in (("suspend", "SUSPENDED"), ("resume", "RUNNING")):
        _, _, h = getattr(servers, f"datacenters_servers_{action}_post_with_http_info")(dc.id, s.id)
        wait(client, h)
        assert servers.datacenters_servers_find_by_id(dc.id, s.id).properties.vm_state == state
    with pytest.raises(ApiException) as e:
        servers.datacenters_servers_stop_post(dc.id, s.id)
    assert e.value.status == 422
    # cores must not be given for a Cube; a Cube without a DAS volume is refused; DAS alone is refused
    bad = ionoscloud.Server(properties=ionoscloud.ServerProperties(type="CUBE", template_uuid=tpl.id, cores=2))
    for body in (bad, ionoscloud.Server(properties=ionoscloud.ServerProperties(type="CUBE", template_uuid=tpl.id))):
        with pytest.raises(ApiException) as e:
            servers.datacenters_servers_post(dc.id, body)
        assert e.value.status == 422
    with pytest.raises(ApiException) as e:
        ionoscloud.VolumesApi(client).datacenters_volumes_post(
            dc.id, ionoscloud.Volume(properties=ionoscloud.VolumeProperties(type="DAS", size=10, licence_type="LINUX"))
        )
    assert e.value.status == 422
    assert len(servers.datacenters_servers_get(dc.id).items) == 1


def test_server_validation_changes_nothing(client, emulator):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    for props, word in (
        (dict(cores=2, ram=1000), "ram"),
        (dict(cores=2), "ram"),
        (dict(ram=1024), "cores"),
        (dict(cores=2, ram=1024, cpu_family="Z80"), "Z80"),
        (dict(cores=2, ram=1024, hostname="-bad"), "hostname"),
    ):
        with pytest.raises(ApiException) as e:
            servers.datacenters_servers_post(dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(**props)))
        assert e.value.status == 422, props
        assert word in e.value.body
    assert servers.datacenters_servers_get(dc.id).items == []


def test_delete_server_keeps_or_deletes_volumes(client):
    dc = new_dc(client)
    servers, volumes = ionoscloud.ServersApi(client), ionoscloud.VolumesApi(client)
    s1, _, h = servers.datacenters_servers_post_with_http_info(dc.id, composite_server("keep"))
    wait(client, h)
    s2, _, h = servers.datacenters_servers_post_with_http_info(dc.id, composite_server("drop", lan=2))
    wait(client, h)
    assert len(volumes.datacenters_volumes_get(dc.id).items) == 2
    _, _, h = servers.datacenters_servers_delete_with_http_info(dc.id, s1.id)
    wait(client, h)
    _, _, h = servers.datacenters_servers_delete_with_http_info(dc.id, s2.id, delete_volumes=True)
    wait(client, h)
    left = volumes.datacenters_volumes_get(dc.id, depth=1).items
    assert [v.properties.name for v in left] == ["keep-boot"]
    assert left[0].properties.device_number is None
    with pytest.raises(ApiException) as e:
        servers.datacenters_servers_find_by_id(dc.id, s1.id)
    assert e.value.status == 404


def test_volume_rules(client):
    dc = new_dc(client)
    volumes = ionoscloud.VolumesApi(client)
    v, _, h = volumes.datacenters_volumes_post_with_http_info(
        dc.id,
        ionoscloud.Volume(
            properties=ionoscloud.VolumeProperties(name="v", size=10, type="SSD Standard", licence_type="LINUX")
        ),
    )
    wait(client, h)
    # size grows, never shrinks
    _, _, h = volumes.datacenters_volumes_patch_with_http_info(dc.id, v.id, ionoscloud.VolumeProperties(size=20))
    wait(client, h)
    assert volumes.datacenters_volumes_find_by_id(dc.id, v.id).properties.size == 20.0
    with pytest.raises(ApiException) as e:
        volumes.datacenters_volumes_patch(dc.id, v.id, ionoscloud.VolumeProperties(size=5))
    assert e.value.status == 422
    bad = [
        dict(size=10, type="HDD"),  # no image and no licenceType
        dict(size=10, type="HDD", image_alias="nosuch:os"),
        dict(size=1, type="HDD", image_alias="ubuntu:latest"),  # smaller than the image
        dict(size=10, type="HDD", licence_type="LINUX", image_password="Secret123"),  # password needs image
        dict(size=10, type="FLOPPY", licence_type="LINUX"),
    ]
    for props in bad:
        with pytest.raises(ApiException) as e:
            volumes.datacenters_volumes_post(dc.id, ionoscloud.Volume(properties=ionoscloud.VolumeProperties(**props)))
        assert e.value.status == 422, props
    assert len(volumes.datacenters_volumes_get(dc.id).items) == 1
    # the image of another location is refused
    par_img = next(
        i
        for i in ionoscloud.ImagesApi(client).images_get(depth=1).items
        if i.properties.location == "fr/par" and i.properties.image_type == "HDD"
    )
    with pytest.raises(ApiException) as e:
        volumes.datacenters_volumes_post(
            dc.id,
            ionoscloud.Volume(
                properties=ionoscloud.VolumeProperties(
                    size=50, type="HDD", image=par_img.id, image_password="Secret123"
                )
            ),
        )
    assert e.value.status == 422


def test_storage_over_contract_limit_is_refused(client):
    dc = new_dc(client)
    limits = ionoscloud.ContractResourcesApi(client).contracts_get().items[0].properties.resource_limits
    too_big = limits.hdd_limit_per_volume / 1024 + 1
    with pytest.raises(ApiException) as e:
        ionoscloud.VolumesApi(client).datacenters_volumes_post(
            dc.id,
            ionoscloud.Volume(properties=ionoscloud.VolumeProperties(size=too_big, type="HDD", licence_type="LINUX")),
        )
    assert e.value.status == 422 and "limit" in e.value.body


def test_cdroms_attach_and_detach(client):
    dc = new_dc(client)
    servers = ionoscloud.ServersApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(dc.id, composite_server("cd"))
    wait(client, h)
    isos = [
        i
        for i in ionoscloud.ImagesApi(client).images_get(depth=1).items
        if i.properties.location == "de/fra" and i.properties.image_type == "CDROM"
    ]
    assert len(isos) >= 3
    for iso in isos[:2]:
        _, status, h = servers.datacenters_servers_cdroms_post_with_http_info(dc.id, s.id, ionoscloud.Image(id=iso.id))
        assert status == 202
        wait(client, h)
    cds = servers.datacenters_servers_cdroms_get(dc.id, s.id, depth=1)
    assert sorted(c.id for c in cds.items) == sorted(i.id for i in isos[:2])
    assert all(c.type == "image" for c in cds.items)
    with pytest.raises(ApiException) as e:  # at most two
        servers.datacenters_servers_cdroms_post(dc.id, s.id, ionoscloud.Image(id=isos[2].id))
    assert e.value.status == 422
    hdd = next(
        i
        for i in ionoscloud.ImagesApi(client).images_get(depth=1).items
        if i.properties.location == "de/fra" and i.properties.image_type == "HDD"
    )
    _, _, h = servers.datacenters_servers_cdroms_delete_with_http_info(dc.id, s.id, isos[0].id)
    wait(client, h)
    with pytest.raises(ApiException) as e:  # only ISO images become CD-ROMs
        servers.datacenters_servers_cdroms_post(dc.id, s.id, ionoscloud.Image(id=hdd.id))
    assert e.value.status == 422
    assert [c.id for c in servers.datacenters_servers_cdroms_get(dc.id, s.id).items] == [isos[1].id]
    # the image itself is untouched
    assert ionoscloud.ImagesApi(client).images_find_by_id(isos[0].id).id == isos[0].id


def test_snapshot_create_restore_update_delete(client):
    dc = new_dc(client)
    volumes, snaps = ionoscloud.VolumesApi(client), ionoscloud.SnapshotsApi(client)
    v, _, h = volumes.datacenters_volumes_post_with_http_info(
        dc.id,
        ionoscloud.Volume(
            properties=ionoscloud.VolumeProperties(
                name="src", size=15, type="HDD", image_alias="debian:latest", image_password="Secret123"
            )
        ),
    )
    wait(client, h)
    snap, status, h = volumes.datacenters_volumes_create_snapshot_post_with_http_info(
        dc.id, v.id, snapshot=ionoscloud.CreateSnapshot(properties=ionoscloud.CreateSnapshotProperties(name="snap1"))
    )
    assert status == 202 and snap.metadata.state == "BUSY"
    assert snap.properties.size == 15.0 and snap.properties.location == "de/fra"
    wait(client, h)
    assert snaps.snapshots_find_by_id(snap.id).metadata.state == "AVAILABLE"
    assert snap.id in [x.id for x in snaps.snapshots_get().items]
    _, _, h = volumes.datacenters_volumes_restore_snapshot_post_with_http_info(
        dc.id,
        v.id,
        restore_snapshot=ionoscloud.RestoreSnapshot(
            properties=ionoscloud.RestoreSnapshotProperties(snapshot_id=snap.id)
        ),
    )
    wait(client, h)
    # a new volume can be made from the snapshot
    v2, _, h = volumes.datacenters_volumes_post_with_http_info(
        dc.id,
        ionoscloud.Volume(properties=ionoscloud.VolumeProperties(name="copy", size=15, type="HDD", image=snap.id)),
    )
    wait(client, h)
    assert volumes.datacenters_volumes_find_by_id(dc.id, v2.id).properties.image == snap.id
    _, _, h = snaps.snapshots_patch_with_http_info(snap.id, ionoscloud.SnapshotProperties(name="renamed"))
    wait(client, h)
    assert snaps.snapshots_find_by_id(snap.id).properties.name == "renamed"
    _, _, h = snaps.snapshots_delete_with_http_info(snap.id)
    wait(client, h)
    with pytest.raises(ApiException) as e:
        snaps.snapshots_find_by_id(snap.id)
    assert e.value.status == 404


def test_public_images_are_read_only(client):
    images = ionoscloud.ImagesApi(client)
    listed = images.images_get(depth=1).items
    fra = [i for i in listed if i.properties.location == "de/fra"]
    assert fra and all(i.properties.public for i in fra)
    assert all(i.metadata.created_by == "System" for i in fra)
    # the same OS exists once per location, with different ids
    names = {}
    for i in listed:
        names.setdefault(i.properties.name, set()).add((i.properties.location, i.id))
    assert any(len(v) > 1 and len({x[1] for x in v}) == len(v) for v in names.values())
    with pytest.raises(ApiException) as e:
        images.images_delete(fra[0].id)
    assert e.value.status == 403
    with pytest.raises(ApiException) as e:
        images.images_find_by_id("00000000-0000-0000-0000-000000000000")
    assert e.value.status == 404


def test_locations_and_templates(client):
    locs = ionoscloud.LocationsApi(client)
    all_locs = locs.locations_get(depth=1)
    ids = {loc.id for loc in all_locs.items}
    assert {"de/fra", "de/txl", "us/las", "gb/lhr"} <= ids
    fra = locs.locations_find_by_region_id_and_id("de", "fra", depth=1)
    assert "ubuntu:latest" in fra.properties.image_aliases
    assert fra.properties.cpu_architecture[0].cpu_family and fra.properties.cpu_architecture[0].max_cores > 0
    de = locs.locations_find_by_region_id("de", depth=1)
    assert {loc.id for loc in de.items} >= {"de/fra", "de/txl"} and all(
        i.startswith("de/") for i in (loc.id for loc in de.items)
    )
    tpls = ionoscloud.TemplatesApi(client).templates_get(depth=1).items
    assert tpls and all(t.properties.cores > 0 and t.properties.ram > 0 for t in tpls)
    one = ionoscloud.TemplatesApi(client).templates_find_by_id(tpls[0].id)
    assert one.properties.name == tpls[0].properties.name


def test_datacenter_update_and_cascade_delete(client):
    dcs = ionoscloud.DataCentersApi(client)
    dc = new_dc(client, "cascade")
    servers = ionoscloud.ServersApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(dc.id, composite_server("x"))
    wait(client, h)
    _, _, h = dcs.datacenters_patch_with_http_info(dc.id, ionoscloud.DatacenterPropertiesPut(name="renamed"))
    wait(client, h)
    got = dcs.datacenters_find_by_id(dc.id)
    assert got.properties.name == "renamed" and got.properties.location == "de/fra"
    # the location is immutable
    with pytest.raises(ApiException) as e:
        dcs.datacenters_put(
            dc.id,
            ionoscloud.DatacenterPut(properties=ionoscloud.DatacenterPropertiesPut(name="moved", location="de/txl")),
        )
    assert e.value.status == 422
    _, _, h = dcs.datacenters_delete_with_http_info(dc.id)
    wait(client, h)
    for call in (
        lambda: dcs.datacenters_find_by_id(dc.id),
        lambda: servers.datacenters_servers_find_by_id(dc.id, s.id),
    ):
        with pytest.raises(ApiException) as e:
            call()
        assert e.value.status == 404
    # nothing it contained is left counted in the contract
    vols = [v for v in ionoscloud.ContractResourcesApi(client).contracts_get().items]
    assert vols  # the contract itself is still there


def test_unknown_location_is_refused(client):
    with pytest.raises(ApiException) as e:
        ionoscloud.DataCentersApi(client).datacenters_post(
            ionoscloud.DatacenterPost(properties=ionoscloud.DatacenterPropertiesPost(name="x", location="xx/nowhere"))
        )
    assert e.value.status == 422 and "xx/nowhere" in e.value.body
