"""End-to-end: user management and privileges through the unmodified `ionoscloud` SDK. A user created
through the API logs in with its password, gets tokens, and sees only what it owns or what is shared
with one of its groups; creation rights come from group privileges."""

from __future__ import annotations

import uuid

import httpx
import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from support import jwt_parts, wait


def make_user(client, admin=False, password="Passw0rd!"):
    email = f"u-{uuid.uuid4().hex[:8]}@example.com"
    u, _, h = ionoscloud.UserManagementApi(client).um_users_post_with_http_info(
        ionoscloud.UserPost(
            properties=ionoscloud.UserPropertiesPost(
                firstname="Test", lastname="User", email=email, password=password, administrator=admin
            )
        )
    )
    wait(client, h)
    return u, email, password


def make_group(client, **flags):
    g, _, h = ionoscloud.UserManagementApi(client).um_groups_post_with_http_info(
        ionoscloud.Group(properties=ionoscloud.GroupProperties(name=f"g-{uuid.uuid4().hex[:6]}", **flags))
    )
    wait(client, h)
    return g


def add_member(client, group_id, user_id):
    _, _, h = ionoscloud.UserManagementApi(client).um_groups_users_post_with_http_info(
        group_id, ionoscloud.UserGroupPost(id=user_id)
    )
    wait(client, h)


def new_dc(client, name="dc"):
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name=name, location="de/fra")
        )
    )
    wait(client, h)
    return dc


def test_created_user_logs_in_with_basic_and_token(client, emulator):
    u, email, pw = make_user(client)
    assert u.properties.email == email and u.properties.administrator is False
    got = ionoscloud.UserManagementApi(client).um_users_find_by_id(u.id, depth=1)
    assert got.properties.firstname == "Test" and got.entities.owns.items == []
    # Basic auth with the new user's password, then a token from the Auth API
    r = httpx.get(emulator.auth + "/tokens/generate", auth=(email, pw))
    assert r.status_code == 200
    header, payload = jwt_parts(r.json()["token"])
    assert payload["identity"]["uuid"] == u.id and payload["identity"]["privileges"] == []
    with sdk_client(emulator, token=r.json()["token"]) as c:
        assert ionoscloud.DataCentersApi(c).datacenters_get().items == []
    assert httpx.get(emulator.auth + "/tokens/generate", auth=(email, "wrong")).status_code == 401


def test_user_update_password_and_delete(client, emulator):
    um = ionoscloud.UserManagementApi(client)
    u, email, pw = make_user(client)
    _, _, h = um.um_users_put_with_http_info(
        u.id,
        ionoscloud.UserPut(
            properties=ionoscloud.UserPropertiesPut(
                firstname="New", lastname="Name", email=email, password="Another1!", administrator=False
            )
        ),
    )
    wait(client, h)
    assert httpx.get(emulator.cloud + "/datacenters", auth=(email, pw)).status_code == 401
    assert httpx.get(emulator.cloud + "/datacenters", auth=(email, "Another1!")).status_code == 200
    assert um.um_users_find_by_id(u.id).properties.firstname == "New"
    _, _, h = um.um_users_delete_with_http_info(u.id)
    wait(client, h)
    with pytest.raises(ApiException) as e:
        um.um_users_find_by_id(u.id)
    assert e.value.status == 404
    assert httpx.get(emulator.cloud + "/datacenters", auth=(email, "Another1!")).status_code == 401


def test_duplicate_email_and_missing_fields_are_refused(client):
    um = ionoscloud.UserManagementApi(client)
    _, email, _ = make_user(client)
    before = len(um.um_users_get().items)
    for props in (
        dict(firstname="A", lastname="B", email=email, password="Passw0rd!"),
        dict(firstname="A", lastname="B", password="Passw0rd!"),
        dict(firstname="A", lastname="B", email="x@example.com", password="abc"),
    ):
        with pytest.raises(ApiException) as e:
            um.um_users_post(ionoscloud.UserPost(properties=ionoscloud.UserPropertiesPost(**props)))
        assert e.value.status == 422
    assert len(um.um_users_get().items) == before


def test_non_admin_needs_group_privilege_to_create(client, emulator):
    u, email, pw = make_user(client)
    with sdk_client(emulator, user=email, password=pw) as c:
        dcs = ionoscloud.DataCentersApi(c)
        with pytest.raises(ApiException) as e:
            dcs.datacenters_post(
                ionoscloud.DatacenterPost(
                    properties=ionoscloud.DatacenterPropertiesPost(name="nope", location="de/fra")
                )
            )
        assert e.value.status == 403 and "createDataCenter" in e.value.body
        with pytest.raises(ApiException) as e:
            ionoscloud.IPBlocksApi(c).ipblocks_post(
                ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=1))
            )
        assert e.value.status == 403
        # user management is for administrators
        with pytest.raises(ApiException) as e:
            ionoscloud.UserManagementApi(c).um_users_get()
        assert e.value.status == 403
    g = make_group(client, create_data_center=True, reserve_ip=True)
    add_member(client, g.id, u.id)
    with sdk_client(emulator, user=email, password=pw) as c:
        dc = new_dc(c, "mine")
        assert dc.metadata.created_by_user_id == u.id
        ip, _, h = ionoscloud.IPBlocksApi(c).ipblocks_post_with_http_info(
            ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=1))
        )
        wait(c, h)
        # the token of a member carries the group's privileges
        r = httpx.get(emulator.auth + "/tokens/generate", auth=(email, pw))
        privs = jwt_parts(r.json()["token"])[1]["identity"]["privileges"]
        assert set(privs) == {"DATA_CENTER_CREATE", "IP_BLOCK_RESERVE"}
    owns = ionoscloud.UserManagementApi(client).um_users_owns_get(u.id, depth=1)
    assert dc.id in [o.id for o in owns.items]


def test_non_admin_sees_only_own_and_shared(client, emulator):
    um = ionoscloud.UserManagementApi(client)
    owner_dc = new_dc(client, "owner-only")
    shared_dc = new_dc(client, "shared-ro")
    u, email, pw = make_user(client)
    g = make_group(client)
    add_member(client, g.id, u.id)
    _, _, h = um.um_groups_shares_post_with_http_info(
        g.id,
        shared_dc.id,
        ionoscloud.GroupShare(properties=ionoscloud.GroupShareProperties(edit_privilege=False, share_privilege=False)),
    )
    wait(client, h)
    with sdk_client(emulator, user=email, password=pw) as c:
        dcs = ionoscloud.DataCentersApi(c)
        assert [d.id for d in dcs.datacenters_get().items] == [shared_dc.id]
        with pytest.raises(ApiException) as e:
            dcs.datacenters_find_by_id(owner_dc.id)
        assert e.value.status == 404
        assert dcs.datacenters_find_by_id(shared_dc.id).properties.name == "shared-ro"
        # read-only share: a change is refused, and so is creating inside it
        with pytest.raises(ApiException) as e:
            dcs.datacenters_patch(shared_dc.id, ionoscloud.DatacenterPropertiesPut(name="x"))
        assert e.value.status == 403
        with pytest.raises(ApiException) as e:
            ionoscloud.LANsApi(c).datacenters_lans_post(
                shared_dc.id, ionoscloud.Lan(properties=ionoscloud.LanProperties())
            )
        assert e.value.status == 403
    # with the edit privilege the change goes through
    _, _, h = um.um_groups_shares_put_with_http_info(
        g.id, shared_dc.id, ionoscloud.GroupShare(properties=ionoscloud.GroupShareProperties(edit_privilege=True))
    )
    wait(client, h)
    with sdk_client(emulator, user=email, password=pw) as c:
        _, _, h = ionoscloud.DataCentersApi(c).datacenters_patch_with_http_info(
            shared_dc.id, ionoscloud.DatacenterPropertiesPut(name="edited")
        )
        wait(c, h)
    assert ionoscloud.DataCentersApi(client).datacenters_find_by_id(shared_dc.id).properties.name == "edited"
    shares = um.um_groups_shares_get(g.id, depth=1).items
    assert [(s.id, s.properties.edit_privilege) for s in shares] == [(shared_dc.id, True)]
    res = um.um_groups_resources_get(g.id, depth=1).items
    assert [r.id for r in res] == [shared_dc.id] and res[0].type == "datacenter"
    _, _, h = um.um_groups_shares_delete_with_http_info(g.id, shared_dc.id)
    wait(client, h)
    with sdk_client(emulator, user=email, password=pw) as c:
        assert ionoscloud.DataCentersApi(c).datacenters_get().items == []


def test_groups_members_and_privilege_flags(client):
    um = ionoscloud.UserManagementApi(client)
    g = make_group(client, create_snapshot=True, access_and_manage_dns=True)
    got = um.um_groups_find_by_id(g.id)
    assert got.properties.create_snapshot is True and got.properties.create_data_center is False
    assert got.properties.access_and_manage_dns is True
    u, _, _ = make_user(client)
    add_member(client, g.id, u.id)
    assert [m.id for m in um.um_groups_users_get(g.id).items] == [u.id]
    assert [x.id for x in um.um_users_groups_get(u.id).items] == [g.id]
    with pytest.raises(ApiException) as e:  # already a member
        um.um_groups_users_post(g.id, ionoscloud.UserGroupPost(id=u.id))
    assert e.value.status == 422
    _, _, h = um.um_groups_put_with_http_info(
        g.id, ionoscloud.Group(properties=ionoscloud.GroupProperties(name="renamed", create_pcc=True))
    )
    wait(client, h)
    got = um.um_groups_find_by_id(g.id)
    assert got.properties.name == "renamed" and got.properties.create_pcc and not got.properties.create_snapshot
    _, _, h = um.um_groups_users_delete_with_http_info(g.id, u.id)
    wait(client, h)
    assert um.um_groups_users_get(g.id).items == []
    _, _, h = um.um_groups_delete_with_http_info(g.id)
    wait(client, h)
    with pytest.raises(ApiException) as e:
        um.um_groups_find_by_id(g.id)
    assert e.value.status == 404


def test_um_resources_by_type(client):
    um = ionoscloud.UserManagementApi(client)
    dc = new_dc(client, "res")
    all_res = um.um_resources_get(depth=1).items
    assert dc.id in [r.id for r in all_res]
    of_type = um.um_resources_find_by_type("datacenter").items
    assert dc.id in [r.id for r in of_type] and all(r.type == "datacenter" for r in of_type)
    one = um.um_resources_find_by_type_and_id("datacenter", dc.id)
    assert one.properties.name == "res"
    with pytest.raises(ApiException) as e:
        um.um_resources_find_by_type_and_id("ipblock", dc.id)
    assert e.value.status == 404


def test_s3_keys_at_most_five(client):
    um = ionoscloud.UserS3KeysApi(client)
    u, _, _ = make_user(client)
    keys = []
    for _ in range(5):
        k, _, h = um.um_users_s3keys_post_with_http_info(u.id)
        wait(client, h)
        keys.append(k)
    assert all(len(k.id) == 20 and len(k.properties.secret_key) == 40 for k in keys)
    with pytest.raises(ApiException) as e:
        um.um_users_s3keys_post(u.id)
    assert e.value.status == 422
    _, _, h = um.um_users_s3keys_put_with_http_info(
        u.id, keys[0].id, ionoscloud.S3Key(properties=ionoscloud.S3KeyProperties(active=False))
    )
    wait(client, h)
    assert um.um_users_s3keys_find_by_key_id(u.id, keys[0].id).properties.active is False
    _, _, h = um.um_users_s3keys_delete_with_http_info(u.id, keys[1].id)
    wait(client, h)
    assert len(um.um_users_s3keys_get(u.id).items) == 4
    assert um.um_users_s3ssourl_get(u.id).sso_url.startswith("http")


def test_owner_cannot_be_deleted(client):
    um = ionoscloud.UserManagementApi(client)
    owner = next(u for u in um.um_users_get(depth=1).items if u.properties.email == "admin@ionos-emulator.local")
    with pytest.raises(ApiException) as e:
        um.um_users_delete(owner.id)
    assert e.value.status == 422


def test_public_lan_needs_create_internet_access(client, emulator):
    u, email, pw = make_user(client)
    g = make_group(client, create_data_center=True)
    add_member(client, g.id, u.id)
    with sdk_client(emulator, user=email, password=pw) as c:
        dc = new_dc(c, "lan-rights")
        lans = ionoscloud.LANsApi(c)
        with pytest.raises(ApiException) as e:
            lans.datacenters_lans_post(dc.id, ionoscloud.Lan(properties=ionoscloud.LanProperties(public=True)))
        assert e.value.status == 403 and "createInternetAccess" in e.value.body
        lan, _, h = lans.datacenters_lans_post_with_http_info(
            dc.id, ionoscloud.Lan(properties=ionoscloud.LanProperties(public=False))
        )
        wait(c, h)
        with pytest.raises(ApiException) as e:
            lans.datacenters_lans_patch(dc.id, lan.id, ionoscloud.LanProperties(public=True))
        assert e.value.status == 403
        assert lans.datacenters_lans_find_by_id(dc.id, lan.id).properties.public is False


def test_another_contracts_resources_do_not_exist(client, emulator):
    """Tenancy by construction: a second contract's owner, an administrator there, sees nothing of ours."""
    number = 31_000_000 + int(uuid.uuid4().int % 900_000) + 100
    email = f"owner-{number}@example.com"
    r = emulator.admin("POST", "contracts", json={"contractNumber": number, "user": email, "password": "Other1!"})
    assert r.status_code == 200 and number in [c["contractNumber"] for c in r.json()]
    ours = new_dc(client, "ours")
    with sdk_client(emulator, user=email, password="Other1!") as c:
        dcs = ionoscloud.DataCentersApi(c)
        assert dcs.datacenters_get().items == []
        with pytest.raises(ApiException) as e:
            dcs.datacenters_find_by_id(ours.id)
        assert e.value.status == 404
        with pytest.raises(ApiException) as e:
            dcs.datacenters_delete(ours.id)
        assert e.value.status == 404
        theirs = new_dc(c, "theirs")
        contract = ionoscloud.ContractResourcesApi(c).contracts_get().items[0]
        assert contract.properties.contract_number == number
        users = ionoscloud.UserManagementApi(client).um_users_get(depth=1).items
        assert email not in [u.properties.email for u in users]
    assert ours.id in [d.id for d in ionoscloud.DataCentersApi(client).datacenters_get().items]
    assert theirs.id not in [d.id for d in ionoscloud.DataCentersApi(client).datacenters_get().items]
    token = httpx.get(emulator.auth + "/tokens/generate", auth=(email, "Other1!")).json()["token"]
    assert jwt_parts(token)[1]["identity"]["contractNumber"] == number
