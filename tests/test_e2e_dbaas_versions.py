"""Every DBaaS API version the current official tools call (issue 9, rule 6): PostgreSQL v1's users and
databases and its connection pooler, MongoDB's versions and version upgrades, MariaDB v1 at the regional
host root beside v2 at /v2; a user name is unique within its cluster only. Raw HTTP where no SDK of that API
version can be installed beside the one the suite uses (see docs/fidelity.md)."""

from __future__ import annotations

from contextlib import contextmanager

import httpx
import ionoscloud_dbaas_mongo as mongo
import pytest

from support import OWNER, bearer
from test_e2e_mariadb import client as mariadb_client
from test_e2e_mariadb import create as mariadb_create
from test_e2e_mongodb import mongo_client
from test_e2e_mongodb import new_cluster as new_mongo_cluster
from test_e2e_postgresql import V1, v1_body
from test_e2e_postgresql import network as pg_network


@pytest.fixture
def pg(emulator):
    with httpx.Client(base_url=emulator.url + V1, auth=OWNER) as h:
        yield h


def pg_cluster(emulator, h, **kw) -> str:
    dc, lan = pg_network(emulator)
    r = h.post("/clusters", json=v1_body(dc, lan, **kw))
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_pg_v1_users_crud(emulator, pg):
    cid = pg_cluster(emulator, pg)
    r = pg.post(f"/clusters/{cid}/users", json={"properties": {"username": "reporter", "password": "Secret12345"}})
    assert r.status_code == 200, r.text
    user = r.json()
    assert user["type"] == "user" and user["id"] == "reporter"
    assert user["properties"] == {"username": "reporter", "system": False}
    assert user["href"].endswith(f"/clusters/{cid}/users/reporter")
    assert pg.get(f"/clusters/{cid}/users/reporter").json()["properties"]["username"] == "reporter"
    listed = pg.get(f"/clusters/{cid}/users").json()
    assert [u["id"] for u in listed["items"]] == ["reporter"] and listed["type"] == "collection"
    assert pg.get(f"/clusters/{cid}/users", params={"system": "true"}).json()["items"] == []
    r = pg.patch(f"/clusters/{cid}/users/reporter", json={"properties": {"password": "Another12345"}})
    assert r.status_code == 200, r.text
    assert "password" not in r.json()["properties"]
    # a name taken in this cluster, the initial user's, a reserved one, a short password
    for body, attr in (
        ({"username": "reporter", "password": "Secret12345"}, "properties.username"),
        ({"username": "ledger", "password": "Secret12345"}, "properties.username"),
        ({"username": "postgres", "password": "Secret12345"}, "properties.username"),
        ({"username": "short", "password": "abc"}, "properties.password"),
    ):
        r = pg.post(f"/clusters/{cid}/users", json={"properties": body})
        assert r.status_code in (400, 422) and attr in r.text, r.text
    assert pg.delete(f"/clusters/{cid}/users/reporter").status_code == 204
    r = pg.get(f"/clusters/{cid}/users/reporter")
    assert r.status_code == 404 and r.json()["httpStatus"] == 404


def test_pg_v1_databases_crud(emulator, pg):
    cid = pg_cluster(emulator, pg)
    pg.post(f"/clusters/{cid}/users", json={"properties": {"username": "app", "password": "Secret12345"}})
    r = pg.post(f"/clusters/{cid}/databases", json={"properties": {"name": "shop", "owner": "app"}})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "shop" and r.json()["properties"] == {"name": "shop", "owner": "app"}
    r = pg.post(f"/clusters/{cid}/databases", json={"properties": {"name": "books", "owner": "ledger"}})
    assert r.status_code == 200, r.text  # the initial user may own one
    assert sorted(d["id"] for d in pg.get(f"/clusters/{cid}/databases").json()["items"]) == ["books", "shop"]
    assert pg.get(f"/clusters/{cid}/databases/shop").json()["properties"]["owner"] == "app"
    for body, attr in (
        ({"name": "shop", "owner": "app"}, "properties.name"),
        ({"name": "template1", "owner": "app"}, "properties.name"),
        ({"name": "other", "owner": "nobody"}, "properties.owner"),
    ):
        r = pg.post(f"/clusters/{cid}/databases", json={"properties": body})
        assert r.status_code == 422 and attr in r.text, r.text
    assert pg.delete(f"/clusters/{cid}/databases/shop").status_code == 204
    assert pg.get(f"/clusters/{cid}/databases/shop").status_code == 404
    assert pg.get("/clusters/00000000-0000-0000-0000-000000000000/databases").status_code == 404


def test_pg_v1_connection_pooler_is_kept_as_sent(emulator, pg):
    pooler = {"enabled": True, "poolMode": "transaction"}
    cid = pg_cluster(emulator, pg, connectionPooler=pooler)
    assert pg.get(f"/clusters/{cid}").json()["properties"]["connectionPooler"] == pooler
    changed = {"enabled": False, "poolMode": "session"}
    r = pg.patch(f"/clusters/{cid}", json={"properties": {"connectionPooler": changed}})
    assert r.status_code == 200, r.text
    assert pg.get(f"/clusters/{cid}").json()["properties"]["connectionPooler"] == changed
    r = pg.patch(f"/clusters/{cid}", json={"properties": {"connectionPooler": {"poolMode": "statement"}}})
    assert r.status_code == 422 and "poolMode" in r.text, r.text


def test_the_same_user_name_in_two_clusters(emulator, pg):
    first = pg_cluster(emulator, pg, name="one", cidr="192.168.9.10/24")
    second = pg_cluster(emulator, pg, name="two", cidr="192.168.9.11/24")
    for cid in (first, second):
        r = pg.post(f"/clusters/{cid}/users", json={"properties": {"username": "shared", "password": "Secret12345"}})
        assert r.status_code == 200 and r.json()["properties"]["username"] == "shared", r.text


def test_mongo_versions_and_upgrade(emulator):
    c = mongo_client(emulator, bearer(emulator))
    cluster, _, _ = new_mongo_cluster(c, emulator, version="5.0")
    with httpx.Client(base_url=emulator.url + "/databases/mongodb", auth=OWNER) as h:
        assert [v["name"] for v in h.get("/versions").json()["data"]] == ["5.0", "6.0", "7.0"]
        assert [v["name"] for v in h.get(f"/clusters/{cluster.id}/versions").json()["data"]] == ["5.0", "6.0"]
        r = h.patch(f"/clusters/{cluster.id}", json={"properties": {"mongoDBVersion": "7.0"}})
        assert r.status_code == 422 and "mongoDBVersion" in r.text, r.text  # one major release at a time
    # the installed SDK (1.2.2) has no mongoDBVersion in its PATCH model: sent as the tools' newer SDKs do
    with httpx.Client(base_url=emulator.url + "/databases/mongodb", auth=OWNER) as h:
        r = h.patch(f"/clusters/{cluster.id}", json={"properties": {"mongoDBVersion": "6.0"}})
        assert r.status_code == 200 and r.json()["properties"]["mongoDBVersion"] == "6.0", r.text
    assert mongo.ClustersApi(c).clusters_find_by_id(cluster.id).properties.mongo_db_version == "6.0"
    with httpx.Client(base_url=emulator.url + "/databases/mongodb", auth=OWNER) as h:
        assert [v["name"] for v in h.get(f"/clusters/{cluster.id}/versions").json()["data"]] == ["6.0", "7.0"]
        r = h.patch(f"/clusters/{cluster.id}", json={"properties": {"mongoDBVersion": "5.0"}})
        assert r.status_code == 422, r.text


def test_mongo_the_same_user_name_in_two_clusters(emulator):
    c = mongo_client(emulator, bearer(emulator))
    first, _, _ = new_mongo_cluster(c, emulator, name="a")
    second, _, _ = new_mongo_cluster(c, emulator, name="b")
    users = mongo.UsersApi(c)
    for cid in (first.id, second.id):
        got = users.clusters_users_post(
            cid,
            mongo.User(
                properties=mongo.UserProperties(
                    username="app", password="Secret12345", roles=[mongo.UserRoles(role="read", database="db")]
                )
            ),
        )
        assert got.properties.username == "app"


# -- MariaDB v1 at the host's root beside v2 at /v2 (raw HTTP: SDK 2.x and 3.x are one package) -------------

MARIADB_HOST = {"Host": "mariadb.de-fra.ionos.com"}


def mariadb_v1_body(dc, lan, *, name="Shop DB", cidr="192.168.10.10/24", username="shop", **extra):
    return {
        "properties": {
            "mariadbVersion": "10.6",
            "instances": 1,
            "cores": 2,
            "ram": 4,
            "storageSize": 20,
            "connections": [{"datacenterId": dc, "lanId": lan, "cidr": cidr}],
            "displayName": name,
            "maintenanceWindow": {"dayOfTheWeek": "Sunday", "time": "03:00:00"},
            "credentials": {"username": username, "password": "Secret12345"},
            **extra,
        }
    }


@contextmanager
def on_host(emulator, headers):
    """A client that calls the emulator as the real host named in `headers`."""
    with httpx.Client(base_url=emulator.url, auth=OWNER, headers=headers) as h:
        yield h


def made(h, path, body, status):
    r = h.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


def host_fixture(name, headers):
    """A fixture `name`: a client of the real host in `headers`."""

    @pytest.fixture(name=name)
    def client(emulator):
        with on_host(emulator, headers) as h:
            yield h

    return client


mariadb = host_fixture("mariadb", MARIADB_HOST)


def test_mariadb_v1_cluster_flow_beside_v2(emulator, mariadb):
    dc, lan = pg_network(emulator, location="de/fra")
    c = made(mariadb, "/clusters", mariadb_v1_body(dc, lan), 200)
    assert set(c) == {"id", "metadata", "properties"} and c["metadata"]["state"] == "BUSY"
    p = c["properties"]
    assert p["instances"] == 1 and p["cores"] == 2 and p["ram"] == 4 and p["storageSize"] == 20
    assert p["connections"] == [{"datacenterId": dc, "lanId": lan, "cidr": "192.168.10.10/24"}]
    assert p["displayName"] == "Shop DB" and p["mariadbVersion"] == "10.6" and "credentials" not in p
    assert p["dnsName"] == f"{c['id']}.mariadb.de-fra.ionos.com"
    got = mariadb.get(f"/clusters/{c['id']}").json()
    assert got["metadata"]["state"] == "AVAILABLE"
    # the same cluster through our own prefix; v2 on the same host keeps its own clusters and shape
    assert httpx.get(emulator.url + f"/mariadb/de-fra/clusters/{c['id']}", auth=OWNER).status_code == 200
    v2 = mariadb.get("/v2/clusters")
    assert v2.status_code == 200 and c["id"] not in {i["id"] for i in v2.json()["items"]}
    assert mariadb.get(f"/v2/clusters/{c['id']}").status_code == 404
    listed = mariadb.get("/clusters", params={"filter.name": "Shop DB"}).json()
    assert [i["id"] for i in listed["items"]] == [c["id"]]
    # PATCH: scale and upgrade; storage only grows, versions only go up
    r = mariadb.patch(f"/clusters/{c['id']}", json={"properties": {"instances": 3, "mariadbVersion": "10.11"}})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["instances"] == 3 and r.json()["properties"]["mariadbVersion"] == "10.11"
    r = mariadb.patch(f"/clusters/{c['id']}", json={"properties": {"storageSize": 10}})
    assert r.status_code == 422 and "properties.storageSize" in r.text, r.text
    r = mariadb.patch(f"/clusters/{c['id']}", json={"properties": {"mariadbVersion": "10.6"}})
    assert r.status_code == 422 and "properties.mariadbVersion" in r.text, r.text
    r = mariadb.patch(f"/clusters/{c['id']}", json={"properties": {"credentials": {"username": "x"}}})
    assert r.status_code == 422, r.text
    # backups: one per version, readable everywhere and per cluster; a restore in place
    backups = mariadb.get(f"/clusters/{c['id']}/backups").json()["items"]
    assert backups and all(b["properties"]["clusterId"] == c["id"] for b in backups)
    assert mariadb.get(f"/backups/{backups[0]['id']}").json()["properties"]["baseBackups"]
    assert {b["id"] for b in mariadb.get("/backups").json()["items"]} >= {b["id"] for b in backups}
    r = mariadb.post(f"/clusters/{c['id']}/restore", json={"backupId": backups[-1]["id"]})
    assert r.status_code == 202, r.text
    r = mariadb.delete(f"/clusters/{c['id']}")
    assert r.status_code == 200 and r.json()["metadata"]["state"] == "DESTROYING", r.text
    assert mariadb.get(f"/clusters/{c['id']}").status_code == 404


def test_mariadb_v1_refuses_bad_input_naming_v1_attributes(emulator, mariadb):
    dc, lan = pg_network(emulator, location="de/fra")
    before = len(mariadb.get("/clusters").json()["items"])
    for extra, attr in (
        ({"instances": "three"}, "properties.instances"),
        ({"connections": [{"datacenterId": dc, "lanId": lan, "cidr": "192.168.10.10"}]}, "properties.connections"),
        ({"credentials": {"username": "root", "password": "Secret12345"}}, "properties.credentials.username"),
        ({"mariadbVersion": "9.0"}, "properties.mariadbVersion"),
    ):
        r = mariadb.post("/clusters", json=mariadb_v1_body(dc, lan, name="Refused", **extra))
        assert r.status_code in (400, 422) and attr in r.text, r.text
        assert r.json()["httpStatus"] == r.status_code
    assert len(mariadb.get("/clusters").json()["items"]) == before


def test_mariadb_v1_the_same_user_name_in_two_clusters(emulator, mariadb):
    dc, lan = pg_network(emulator, location="de/fra")
    ids = []
    for i in range(2):
        r = mariadb.post("/clusters", json=mariadb_v1_body(dc, lan, name=f"c{i}", cidr=f"192.168.10.{10 + i}/24"))
        assert r.status_code == 200, r.text
        ids.append(r.json()["id"])
    # v1 never shows the login; both clusters are there, each with the user it asked for (v2 shows it)
    assert set(ids) <= {i["id"] for i in mariadb.get("/clusters").json()["items"]}


def test_mariadb_v2_the_same_user_name_in_two_clusters(emulator):
    dc, lan = pg_network(emulator, location="de/fra")
    with mariadb_client(emulator, bearer(emulator)) as c:
        for i in range(2):
            made = mariadb_create(c, dc, lan, name=f"same{i}", address=f"192.168.10.{20 + i}/24", username="owner")
            assert made.data.properties.credentials.username == "owner"


# -- In-Memory DB v1 (replica sets) at the host's root beside v2 at /v2 (raw HTTP: no v1 SDK on PyPI) --------

INMEMORY_HOST = {"Host": "in-memory-db.de-fra.ionos.com"}


def replicaset_body(dc, lan, *, name="Cache", cidr="192.168.10.30/24", username="app", **extra):
    return {
        "properties": {
            "displayName": name,
            "version": "7.2",
            "replicas": 1,
            "resources": {"cores": 1, "ram": 4},
            "persistenceMode": "RDB",
            "evictionPolicy": "noeviction",
            "connections": [{"datacenterId": dc, "lanId": lan, "cidr": cidr}],
            "credentials": {"username": username, "password": "Secret12345"},
            "maintenanceWindow": {"dayOfTheWeek": "Monday", "time": "02:00:00"},
            **extra,
        }
    }


inmemory = host_fixture("inmemory", INMEMORY_HOST)


def test_inmemorydb_v1_replicasets_snapshots_restores(emulator, inmemory):
    dc, lan = pg_network(emulator, location="de/fra")
    rs = made(inmemory, "/replicasets", replicaset_body(dc, lan), 201)
    assert rs["type"] == "replicaset" and rs["metadata"]["state"] == "BUSY"
    assert rs["metadata"]["dnsName"] == f"{rs['id']}.in-memory-db.de-fra.ionos.com"
    p = rs["properties"]
    assert p["replicas"] == 1 and p["resources"]["ram"] == 4 and p["credentials"] == {"username": "app"}
    assert p["connections"] == [{"datacenterId": dc, "lanId": lan, "cidr": "192.168.10.30/24"}]
    assert inmemory.get(f"/replicasets/{rs['id']}").json()["metadata"]["state"] == "AVAILABLE"
    assert rs["id"] not in {c["id"] for c in inmemory.get("/v2/clusters").json()["items"]}  # v2's are its own
    assert httpx.get(emulator.url + f"/inmemorydb/de-fra/replicasets/{rs['id']}", auth=OWNER).status_code == 200
    # PUT replaces (RAM only grows), and creates under the client's id
    body = replicaset_body(dc, lan)
    body["properties"]["resources"]["ram"] = 8
    r = inmemory.put(f"/replicasets/{rs['id']}", json={"id": rs["id"], **body})
    assert r.status_code == 200 and r.json()["properties"]["resources"]["ram"] == 8, r.text
    body["properties"]["resources"]["ram"] = 4
    r = inmemory.put(f"/replicasets/{rs['id']}", json={"id": rs["id"], **body})
    assert r.status_code == 422 and "properties.resources.ram" in r.text, r.text
    # snapshots of it, and a restore into it
    snaps = [s for s in inmemory.get("/snapshots").json()["items"] if s["metadata"]["replicasetId"] == rs["id"]]
    assert snaps and snaps[0]["type"] == "snapshot" and snaps[0]["metadata"]["datacenterId"] == dc
    sid = snaps[0]["id"]
    assert inmemory.get(f"/snapshots/{sid}").status_code == 200
    r = inmemory.post(
        f"/snapshots/{sid}/restores", json={"properties": {"replicasetId": rs["id"], "displayName": "back"}}
    )
    assert r.status_code == 201, r.text
    restore = r.json()
    assert restore["type"] == "restore" and restore["metadata"]["restoredSnapshotId"] == sid
    assert inmemory.get(f"/snapshots/{sid}/restores/{restore['id']}").json()["properties"]["replicasetId"] == rs["id"]
    assert [x["id"] for x in inmemory.get(f"/snapshots/{sid}/restores").json()["items"]] == [restore["id"]]
    # a new replica set from the snapshot
    r = inmemory.post(
        "/replicasets", json=replicaset_body(dc, lan, name="Copy", cidr="192.168.10.31/24", initialSnapshotId=sid)
    )
    assert r.status_code == 201 and r.json()["properties"]["initialSnapshotId"] == sid, r.text
    for cid in (rs["id"], r.json()["id"]):
        assert inmemory.delete(f"/replicasets/{cid}").status_code == 202
    assert inmemory.get(f"/replicasets/{rs['id']}").status_code == 404


def test_inmemorydb_v1_bad_input_and_the_same_user_in_two_replica_sets(emulator, inmemory):
    dc, lan = pg_network(emulator, location="de/fra")
    for extra, attr in (
        ({"replicas": "two"}, "properties.replicas"),
        ({"credentials": {"username": "default", "password": "Secret12345"}}, "properties.credentials.username"),
        ({"connections": [{"datacenterId": dc, "lanId": lan, "cidr": "10.210.0.5/24"}]}, "properties.connections"),
    ):
        r = inmemory.post("/replicasets", json=replicaset_body(dc, lan, name="Refused", **extra))
        assert r.status_code in (400, 422) and attr in r.text, r.text
    for i in range(2):
        r = inmemory.post("/replicasets", json=replicaset_body(dc, lan, name=f"r{i}", cidr=f"192.168.10.{40 + i}/24"))
        assert r.status_code == 201 and r.json()["properties"]["credentials"]["username"] == "app", r.text
