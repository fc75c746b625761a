"""End-to-end: Private Cross-Connects, backup units and server GPUs, through the unmodified `ionoscloud`
SDK against a strict emulator. The SDK has no GPU operations; those go through its generic call_api."""

from __future__ import annotations

import uuid

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import wait


def status_of(call, *args, **kw) -> int:
    with pytest.raises(ApiException) as e:
        call(*args, **kw)
    return e.value.status


def new_dc(client, name, location="de/fra"):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location=location)
        )
    )
    wait(client, h)
    return dc


def new_lan(client, dc_id, public=False):
    lan, _, h = ionoscloud.LANsApi(client).datacenters_lans_post_with_http_info(
        dc_id, ionoscloud.Lan(properties=ionoscloud.LanProperties(name="l", public=public))
    )
    wait(client, h)
    return lan


def set_pcc(client, dc_id, lan_id, pcc_id):
    _, _, h = ionoscloud.LANsApi(client).datacenters_lans_patch_with_http_info(
        dc_id, lan_id, ionoscloud.LanProperties(pcc=pcc_id)
    )
    wait(client, h)


def new_pcc(client, name="link"):
    pcc, status, h = ionoscloud.PrivateCrossConnectsApi(client).pccs_post_with_http_info(
        ionoscloud.PrivateCrossConnect(properties=ionoscloud.PrivateCrossConnectProperties(name=name, description="d"))
    )
    assert status == 202 and pcc.metadata.state == "BUSY" and pcc.type == "pcc"
    wait(client, h)
    return pcc


# -- PCCs -----------------------------------------------------------------------------------------------


def test_pcc_connects_lans_of_data_centers_in_one_location(client):
    api, lans = ionoscloud.PrivateCrossConnectsApi(client), ionoscloud.LANsApi(client)
    fra1, fra2, las = new_dc(client, "fra1"), new_dc(client, "fra2"), new_dc(client, "las", "us/las")
    pcc = new_pcc(client)
    got = api.pccs_find_by_id(pcc.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.peers == []
    # unconnected: every data center can join
    assert {fra1.id, fra2.id, las.id} <= {d.id for d in got.properties.connectable_datacenters}
    assert pcc.id in [p.id for p in api.pccs_get().items]

    l1, l2, l3 = new_lan(client, fra1.id), new_lan(client, fra2.id), new_lan(client, las.id)
    set_pcc(client, fra1.id, l1.id, pcc.id)
    assert lans.datacenters_lans_find_by_id(fra1.id, l1.id).properties.pcc == pcc.id
    got = api.pccs_find_by_id(pcc.id, depth=1)
    assert [(p.id, p.datacenter_id, p.datacenter_name, p.location) for p in got.properties.peers] == [
        (l1.id, fra1.id, "fra1", "de/fra")
    ]
    connectable = {d.id for d in got.properties.connectable_datacenters}
    assert {fra1.id, fra2.id} <= connectable and las.id not in connectable  # only de/fra now
    set_pcc(client, fra2.id, l2.id, pcc.id)
    assert sorted(p.datacenter_id for p in api.pccs_find_by_id(pcc.id).properties.peers) == sorted([fra1.id, fra2.id])

    # refused: a LAN in another location, a second LAN of a connected data center, a public LAN, a missing PCC
    public = new_lan(client, fra2.id, public=True)
    second = new_lan(client, fra1.id)
    for dc_id, lan_id, pcc_id in (
        (las.id, l3.id, pcc.id),
        (fra1.id, second.id, pcc.id),
        (fra2.id, public.id, new_pcc(client, "other").id),
        (fra1.id, second.id, str(uuid.uuid4())),
    ):
        assert status_of(lans.datacenters_lans_patch, dc_id, lan_id, ionoscloud.LanProperties(pcc=pcc_id)) == 422
    assert lans.datacenters_lans_find_by_id(las.id, l3.id).properties.pcc is None
    assert len(api.pccs_find_by_id(pcc.id).properties.peers) == 2

    # PATCH renames; DELETE is refused while LANs are connected
    _, _, h = api.pccs_patch_with_http_info(pcc.id, ionoscloud.PrivateCrossConnectProperties(name="renamed"))
    wait(client, h)
    got = api.pccs_find_by_id(pcc.id)
    assert got.properties.name == "renamed" and got.properties.description == "d"
    assert status_of(api.pccs_delete, pcc.id) == 422
    assert api.pccs_find_by_id(pcc.id).metadata.state == "AVAILABLE"

    # an empty pcc disconnects a LAN; deleting a data center removes its LAN from the peers
    set_pcc(client, fra1.id, l1.id, "")
    assert lans.datacenters_lans_find_by_id(fra1.id, l1.id).properties.pcc is None
    _, _, h = ionoscloud.DataCentersApi(client).datacenters_delete_with_http_info(fra2.id)
    wait(client, h)
    assert api.pccs_find_by_id(pcc.id).properties.peers == []
    _, status, h = api.pccs_delete_with_http_info(pcc.id)
    assert status == 202
    wait(client, h)
    assert status_of(api.pccs_find_by_id, pcc.id) == 404


# -- backup units ---------------------------------------------------------------------------------------


def new_unit(client, name, email="ops@example.com", password="Secret-1"):
    unit, status, h = ionoscloud.BackupUnitsApi(client).backupunits_post_with_http_info(
        ionoscloud.BackupUnit(properties=ionoscloud.BackupUnitProperties(name=name, password=password, email=email))
    )
    assert status == 202 and unit.metadata.state == "BUSY"
    wait(client, h)
    return unit


def test_backup_unit_lifecycle_and_rules(client):
    api = ionoscloud.BackupUnitsApi(client)
    name = "bu" + uuid.uuid4().hex[:8]
    unit = new_unit(client, name)
    assert unit.type == "backupunit" and unit.properties.password is None  # write-only
    got = api.backupunits_find_by_id(unit.id)
    assert got.metadata.state == "AVAILABLE"
    assert (got.properties.name, got.properties.email, got.properties.password) == (name, "ops@example.com", None)
    assert unit.id in [u.id for u in api.backupunits_get(depth=1).items]

    # names: letters and digits, unique in the contract (whatever the case); password and e-mail needed
    before = len(api.backupunits_get().items)
    for props in (
        dict(name=name.upper(), password="p", email="a@b.cd"),
        dict(name="with-dash", password="p", email="a@b.cd"),
        dict(name="nopass" + name, email="a@b.cd"),
        dict(name="nomail" + name, password="p"),
        dict(name="badmail" + name, password="p", email="not-an-address"),
    ):
        assert (
            status_of(api.backupunits_post, ionoscloud.BackupUnit(properties=ionoscloud.BackupUnitProperties(**props)))
            == 422
        ), props
    assert len(api.backupunits_get().items) == before

    # PATCH and PUT change the e-mail; the name is fixed
    _, _, h = api.backupunits_patch_with_http_info(unit.id, ionoscloud.BackupUnitProperties(email="new@example.com"))
    wait(client, h)
    assert api.backupunits_find_by_id(unit.id).properties.email == "new@example.com"
    assert status_of(api.backupunits_patch, unit.id, ionoscloud.BackupUnitProperties(name="other")) == 422
    _, _, h = api.backupunits_put_with_http_info(
        unit.id,
        ionoscloud.BackupUnit(
            properties=ionoscloud.BackupUnitProperties(name=name, email="put@example.com", password="Changed-2")
        ),
    )
    wait(client, h)
    got = api.backupunits_find_by_id(unit.id)
    assert got.properties.email == "put@example.com" and got.metadata.state == "AVAILABLE"

    sso = api.backupunits_ssourl_get(unit.id)
    assert sso.sso_url.startswith("http://127.0.0.1:") and unit.id in sso.sso_url

    _, status, h = api.backupunits_delete_with_http_info(unit.id)
    assert status == 202
    wait(client, h)
    assert status_of(api.backupunits_find_by_id, unit.id) == 404
    assert status_of(api.backupunits_ssourl_get, unit.id) == 404
    # the name is free again
    new_unit(client, name)


def test_pcc_and_backup_unit_need_their_privileges(emulator, client):
    um = ionoscloud.UserManagementApi(client)
    email = f"misc-{uuid.uuid4().hex[:8]}@example.com"
    user, _, h = um.um_users_post_with_http_info(
        ionoscloud.UserPost(
            properties=ionoscloud.UserPropertiesPost(
                firstname="M", lastname="U", email=email, password="secret123", administrator=False
            )
        )
    )
    wait(client, h)
    admin_pcc = new_pcc(client, "admins")
    with sdk_client(emulator, user=email, password="secret123") as as_user:
        assert status_of(new_pcc, as_user) == 403
        assert status_of(new_unit, as_user, "x" + uuid.uuid4().hex[:8]) == 403
        # another user's PCC is not visible without a share
        assert admin_pcc.id not in [p.id for p in ionoscloud.PrivateCrossConnectsApi(as_user).pccs_get().items]
        assert status_of(ionoscloud.PrivateCrossConnectsApi(as_user).pccs_find_by_id, admin_pcc.id) == 404
        group, _, h = um.um_groups_post_with_http_info(
            ionoscloud.Group(
                properties=ionoscloud.GroupProperties(name=f"g-{email}", create_pcc=True, create_backup_unit=True)
            )
        )
        wait(client, h)
        _, _, h = um.um_groups_users_post_with_http_info(group.id, ionoscloud.User(id=user.id))
        wait(client, h)
        mine = new_pcc(as_user, "mine")
        assert [p.id for p in ionoscloud.PrivateCrossConnectsApi(as_user).pccs_get().items] == [mine.id]
        new_unit(as_user, "u" + uuid.uuid4().hex[:8])


# -- GPUs -----------------------------------------------------------------------------------------------


def raw_get(client, path, **params):
    """A GET through the SDK's generic call_api, answered as plain JSON (the SDK 6.1.13 models have no GPUs)."""
    return client.call_api(
        path,
        "GET",
        path_params=params,
        query_params=[("depth", 1)],
        header_params={"Accept": "application/json"},
        response_type="object",
        auth_settings=["BasicAuthentication"],
        _return_http_data_only=True,
    )


def gpus(client, dc_id, server_id, gpu_id=None):
    path = "/datacenters/{d}/servers/{s}/gpus" + ("/{g}" if gpu_id else "")
    return raw_get(client, path, d=dc_id, s=server_id, **({"g": gpu_id} if gpu_id else {}))


def test_servers_without_gpus(client):
    dc = new_dc(client, "gpu")
    servers = ionoscloud.ServersApi(client)
    s, _, h = servers.datacenters_servers_post_with_http_info(
        dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="plain", cores=1, ram=1024))
    )
    wait(client, h)
    listed = gpus(client, dc.id, s.id)
    assert listed["items"] == [] and listed["id"] == f"{s.id}/gpus" and listed["offset"] == 0
    assert status_of(gpus, client, dc.id, s.id, str(uuid.uuid4())) == 404
    assert status_of(gpus, client, dc.id, str(uuid.uuid4())) == 404
    # the server's gpus entity is there, and empty
    assert raw_get(client, "/datacenters/{d}/servers/{s}", d=dc.id, s=s.id)["entities"]["gpus"]["items"] == []


def test_gpu_server_gets_the_cards_of_its_template(client):
    tpl = next((t for t in raw_get(client, "/templates")["items"] if t["properties"].get("gpus")), None)
    if tpl is None:
        pytest.skip("the template catalogue has no GPU template yet")
    servers = ionoscloud.ServersApi(client)
    gpu_server = ionoscloud.Server(
        properties=ionoscloud.ServerProperties(name="g", type="GPU", template_uuid=tpl["id"])
    )
    # only a location with a GPU architecture offers GPU servers
    plain = new_dc(client, "no-gpu")
    with pytest.raises(ApiException) as e:
        servers.datacenters_servers_post(plain.id, gpu_server)
    assert e.value.status == 422
    dc = new_dc(client, "gpu", location="de/fra/2")
    s, _, h = servers.datacenters_servers_post_with_http_info(dc.id, gpu_server)
    wait(client, h)
    wanted = sorted((g["vendor"], g["model"]) for g in tpl["properties"]["gpus"] for _ in range(g.get("count", 1)))
    listed = gpus(client, dc.id, s.id)["items"]
    assert sorted((g["properties"]["vendor"], g["properties"]["model"]) for g in listed) == wanted
    assert all(g["type"] == "gpu" and g["properties"]["type"] == "passthrough" for g in listed)
    one = gpus(client, dc.id, s.id, listed[0]["id"])
    assert one["id"] == listed[0]["id"] and one["metadata"]["state"] == "AVAILABLE"
    assert gpus(client, dc.id, s.id)["items"][0]["id"] == listed[0]["id"]  # stable ids
