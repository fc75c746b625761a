"""End-to-end: secrets never leave the store in clear. Through the unmodified `ionoscloud` SDK (and the DBaaS
PostgreSQL SDK for a cluster with credentials): the request records at /requests keep every body with its
passwords masked, a non-administrator sees only their own requests (another user's is 404), and no read
renders a stored password (docs/fidelity.md, "Secrets in request records")."""

from __future__ import annotations

import json

import ionoscloud
import ionoscloud_dbaas_postgres as pg
import pytest
from ionoscloud.rest import ApiException

from conftest import sdk_client
from ionos_emulator import spec
from ionos_emulator.engine.secrets import masked_body
from support import bearer, datacenter_with_lan, request_id, wait
from test_e2e_um import make_user

MASK = "*****"
USER_PASSWORD = "Adm1n-Secret-pw"
DB_PASSWORD = "Db-Secret-123!"


def bodies(client) -> dict[str, str]:
    """Every request the caller sees, by id: its body as /requests?depth=2 shows it."""
    items = ionoscloud.RequestsApi(client).requests_get(depth=2, limit=10000).items
    return {r.id: r.properties.body or "" for r in items}


def test_request_bodies_mask_passwords_and_credentials(client, emulator):
    email = "masked-user@example.com"
    post = ionoscloud.UserPost(
        properties=ionoscloud.UserPropertiesPost(
            firstname="Sec", lastname="Ret", email=email, password=USER_PASSWORD, administrator=False
        )
    )
    _, _, h = ionoscloud.UserManagementApi(client).um_users_post_with_http_info(post)
    wait(client, h)
    user_req = request_id(h)

    dc, lan = datacenter_with_lan(emulator, "de/txl")
    with pg.ApiClient(pg.Configuration(host=f"{emulator.url}/postgresql/de-txl", token=bearer(emulator))) as c:
        props = pg.ClusterCreateProperties(
            name="secret-db",
            version="15",
            instances=pg.InstanceConfiguration(count=1, cores=2, ram=4, storage_size=20),
            connection=pg.PostgresClusterConnection(
                datacenter_id=dc, lan_id=lan, primary_instance_address="192.168.7.10/24"
            ),
            credentials=pg.PostgresUser(username="appuser", password=DB_PASSWORD, database="appdb"),
            maintenance_window=pg.MaintenanceWindow(time="03:30:00", day_of_the_week="Sunday"),
        )
        cluster = pg.ClustersApi(c).clusters_post(pg.ClusterCreate(properties=props))

    seen = bodies(client)
    assert USER_PASSWORD not in json.dumps(seen) and DB_PASSWORD not in json.dumps(seen)
    user_body = json.loads(seen[user_req])["properties"]
    assert user_body["password"] == MASK and user_body["email"] == email  # the rest is kept as sent
    one = ionoscloud.RequestsApi(client).requests_find_by_id(user_req, depth=2)
    assert json.loads(one.properties.body)["properties"]["password"] == MASK
    assert not [b for b in seen.values() if "secret-db" in b]  # a product's requests are not the Cloud API's
    # nothing renders the stored password back: not the user, not the cluster
    got = ionoscloud.UserManagementApi(client).um_users_get(depth=1)
    assert USER_PASSWORD not in json.dumps(client.sanitize_for_serialization(got))
    with pg.ApiClient(pg.Configuration(host=f"{emulator.url}/postgresql/de-txl", token=bearer(emulator))) as c:
        read = pg.ClustersApi(c).clusters_find_by_id(cluster.id)
        assert DB_PASSWORD not in json.dumps(c.sanitize_for_serialization(read))


def test_a_user_sees_only_their_own_requests(client, emulator):
    u, email, pw = make_user(client, password=USER_PASSWORD)
    _, _, h = ionoscloud.UserManagementApi(client).um_users_post_with_http_info(
        ionoscloud.UserPost(
            properties=ionoscloud.UserPropertiesPost(
                firstname="Other", lastname="One", email="other-" + email, password="An0ther-pw", administrator=False
            )
        )
    )
    wait(client, h)
    admin_req = request_id(h)
    with sdk_client(emulator, user=email, password=pw) as mine:
        _, _, kh = ionoscloud.UserS3KeysApi(mine).um_users_s3keys_post_with_http_info(u.id)
        own_req = request_id(kh)
        seen = ionoscloud.RequestsApi(mine).requests_get(depth=2).items
        assert [r.id for r in seen] == [own_req]
        assert {r.metadata.created_by for r in seen} == {email}
        assert ionoscloud.RequestsApi(mine).requests_find_by_id(own_req, depth=1).id == own_req
        for call in (
            lambda: ionoscloud.RequestsApi(mine).requests_find_by_id(admin_req),
            lambda: ionoscloud.RequestsApi(mine).requests_status_get(admin_req),
        ):
            with pytest.raises(ApiException) as e:
                call()
            assert e.value.status == 404
    # the administrator sees both
    assert {own_req, admin_req} <= set(bodies(client))


def test_the_masking_rule():
    """By name anywhere in the body, and by the spec's writeOnly for the operation; the rest kept as sent."""
    body = {
        "properties": {
            "name": "db",
            "credentials": {"username": "appuser", "password": DB_PASSWORD, "database": "appdb"},
            "enabled": True,
        },
        "entities": {"items": [{"properties": {"imagePassword": "x1", "privateKey": "PEM", "sshKeys": ["ssh-rsa"]}}]},
    }
    out = json.loads(masked_body(json.dumps(body).encode()))
    assert out["properties"]["credentials"] == {"username": "appuser", "password": MASK, "database": "appdb"}
    assert out["entities"]["items"][0]["properties"] == {
        "imagePassword": MASK,
        "privateKey": MASK,
        "sshKeys": ["ssh-rsa"],
    }
    assert masked_body(b'{"properties": {"name": "n"}}') == '{"properties": {"name": "n"}}'  # untouched
    assert masked_body(b"$ORIGIN example.com.") == "$ORIGIN example.com."  # not JSON: as sent
    mongo = spec.load("mongodb")
    assert "password" in mongo.write_only_names(mongo.operation("clustersUsersPost"))
    assert json.loads(masked_body(b'{"properties": {"pw": "s"}}', frozenset({"pw"})))["properties"]["pw"] == MASK
