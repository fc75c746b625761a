"""End-to-end: DBaaS PostgreSQL. The current API through the unmodified `ionoscloud_dbaas_postgres` SDK (clusters
connected to a Cloud API data center and LAN, ensure, backups and restores, versions, backup locations), the v1
API through httpx (no v1 SDK is installed), and the data plane: with a PostgreSQL server configured, a cluster's
initial user and database are real (checked with psycopg in pg_roles/pg_database and by connecting), changed
and dropped with the cluster. The data-plane tests need the server at IONOS_EMULATOR_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432, trust auth) and are skipped without it; they drop whatever they made."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import httpx
import ionoscloud_dbaas_postgres as pg
import pytest
from ionoscloud_dbaas_postgres.exceptions import ApiException

from support import OWNER, bearer, datacenter_with_lan, free_port

REGION = "de-txl"
PREFIX = f"/postgresql/{REGION}"
V1 = "/databases/postgresql"
SERVER = os.environ.get("IONOS_EMULATOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
MARK = "ionos-emulator cluster "  # the comment the data plane puts on what it creates
PASSWORD = "Secret123!"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


def pg_client(emu, token, region=REGION):
    return pg.ApiClient(pg.Configuration(host=f"{emu.url}/postgresql/{region}", token=token))


@pytest.fixture
def api(emulator, token):
    with pg_client(emulator, token) as c:
        yield c


def network(emu, location="de/txl", public=False, auth=OWNER):
    return datacenter_with_lan(emu, location, public, auth)


def cluster_props(
    dc,
    lan,
    *,
    name="orders",
    version="15",
    count=1,
    address="192.168.7.10/24",
    username="appuser",
    database="appdb",
    password=PASSWORD,
    model=pg.ClusterCreateProperties,
    **extra,
):
    return model(
        name=name,
        version=version,
        instances=pg.InstanceConfiguration(count=count, cores=2, ram=4, storage_size=20),
        connection=pg.PostgresClusterConnection(datacenter_id=dc, lan_id=lan, primary_instance_address=address),
        credentials=pg.PostgresUser(username=username, password=password, database=database),
        maintenance_window=pg.MaintenanceWindow(time="03:30:00", day_of_the_week="Sunday"),
        **extra,
    )


def new_cluster(c, emu, **kw):
    dc, lan = network(emu)
    return pg.ClustersApi(c).clusters_post(pg.ClusterCreate(properties=cluster_props(dc, lan, **kw))), dc, lan


def available(c, cluster_id):
    return pg.ApiClient.wait_for(
        lambda r: r.metadata.state == "AVAILABLE",
        lambda: pg.ClustersApi(c).clusters_find_by_id(cluster_id),
        timeout=10,
        initial_wait=0.01,
        max_wait=0.2,
    )


def error_of(exc: ApiException) -> tuple[int, str]:
    body = json.loads(exc.body)
    assert body["httpStatus"] == exc.status and isinstance(body["messages"][0]["errorCode"], str)
    return exc.status, body["messages"][0]["message"]


def refused(call, *args) -> tuple[int, str]:
    with pytest.raises(ApiException) as e:
        call(*args)
    return error_of(e.value)


def bookkeeping_only() -> bool:
    """The shared emulator has no data plane unless the developer configured one for the whole run."""
    return not os.environ.get("IONOS_EMULATOR_POSTGRES_URL")


# -- the current API ----------------------------------------------------------------------------------------


def test_cluster_create_read_replace_delete(api, emulator):
    clusters = pg.ClustersApi(api)
    dc, lan = network(emulator)
    made = clusters.clusters_post_with_http_info(pg.ClusterCreate(properties=cluster_props(dc, lan, name="Orders-DB")))
    assert made.status_code == 201
    c = made.data
    assert c.metadata.state == "PROVISIONING" and c.type == "cluster"
    assert c.href == f"{emulator.url}{PREFIX}/clusters/{c.id}"
    p = c.properties
    assert (p.name, p.version, p.instances.count, p.instances.storage_size) == ("Orders-DB", "15", 1, 20)
    assert p.connection.datacenter_id == dc and p.connection.lan_id == lan
    assert p.connection.primary_instance_address == "192.168.7.10/24"
    # the initial user is shown without its password; defaults are filled in
    assert (p.credentials.username, p.credentials.database, p.credentials.password) == ("appuser", "appdb", None)
    assert p.replication_mode == "ASYNCHRONOUS" and p.connection_pooler == "DISABLED"
    assert p.backup.location == "eu-central-2" and p.backup.retention_days == 7  # nearest to de/txl
    assert p.restore_from_backup is None
    got = available(api, c.id)
    assert got.metadata.dns_name and got.metadata.created_by == OWNER[0]
    assert got.metadata.created_date.tzinfo is not None
    if bookkeeping_only():
        assert got.metadata.status_message.startswith("bookkeeping only")
        assert got.metadata.dns_name == f"pg-{c.id[:8]}.postgresql.{REGION}.ionos.com"
    # filters: name (contains, case-insensitive) and state
    assert c.id in [x.id for x in clusters.clusters_get(filter_name="orders-d").items]
    assert c.id not in [x.id for x in clusters.clusters_get(filter_name="nothing-like-it").items]
    assert c.id in [x.id for x in clusters.clusters_get(filter_state="AVAILABLE").items]
    assert c.id not in [x.id for x in clusters.clusters_get(filter_state="FAILED").items]
    # PUT replaces the whole cluster: larger, renamed, strictly synchronous; the initial user stays
    ensured = clusters.clusters_put_with_http_info(
        c.id,
        pg.ClusterEnsure(
            id=c.id,
            properties=pg.Cluster(
                name="orders-2",
                version="15",
                replication_mode="STRICTLY_SYNCHRONOUS",
                instances=pg.InstanceConfiguration(count=2, cores=4, ram=8, storage_size=40),
                connection=pg.PostgresClusterConnection(
                    datacenter_id=dc, lan_id=lan, primary_instance_address="192.168.7.10/24"
                ),
            ),
        ),
    )
    assert ensured.status_code == 200 and ensured.data.metadata.state == "UPDATING"
    got = available(api, c.id)
    assert (got.properties.name, got.properties.instances.count, got.properties.instances.storage_size) == (
        "orders-2",
        2,
        40,
    )
    assert got.properties.credentials.username == "appuser"
    assert got.properties.maintenance_window.day_of_the_week == "Sunday"  # kept: the service's choice is not redone
    # the cluster's backup began when it became available
    backups = pg.BackupsApi(api).backups_get(filter_cluster_id=c.id).items
    assert len(backups) == 1 and backups[0].properties.is_active is True
    assert backups[0].properties.postgres_cluster_version == "15" and backups[0].properties.location == "eu-central-2"
    assert backups[0].properties.latest_recovery_target_time is None
    deleted = clusters.clusters_delete_with_http_info(c.id)
    assert deleted.status_code == 202 and deleted.data is None
    assert refused(clusters.clusters_find_by_id, c.id)[0] == 404
    assert c.id not in [x.id for x in clusters.clusters_get().items]
    # its backup outlives it, ended, and can seed a new cluster
    ended = pg.BackupsApi(api).backups_find_by_id(backups[0].id)
    assert ended.properties.is_active is False and ended.properties.latest_recovery_target_time is not None
    when = ended.properties.earliest_recovery_target_time + timedelta(microseconds=1)
    seeded = clusters.clusters_post(
        pg.ClusterCreate(
            properties=cluster_props(
                dc,
                lan,
                name="orders-restored",
                address="192.168.7.11/24",
                restore_from_backup=pg.ClusterRestoreFromBackup(
                    pg.PostgresRestoreClusterFromBackup(source_backup_id=ended.id, recovery_target_datetime=when)
                ),
            )
        )
    )
    assert seeded.properties.restore_from_backup is None  # a creation option, not shown back
    assert available(api, seeded.id).properties.name == "orders-restored"
    clusters.clusters_delete(seeded.id)


def test_put_ensures_under_the_clients_id(api, emulator, token):
    clusters = pg.ClustersApi(api)
    dc, lan = network(emulator)
    cid = str(uuid.uuid4())
    made = clusters.clusters_put_with_http_info(
        cid, pg.ClusterEnsure(id=cid, properties=cluster_props(dc, lan, name="ensured", model=pg.Cluster))
    )
    assert made.status_code == 201 and made.data.id == cid and made.data.metadata.state == "PROVISIONING"
    again = clusters.clusters_put_with_http_info(
        cid, pg.ClusterEnsure(properties=cluster_props(dc, lan, name="ensured-again", model=pg.Cluster))
    )
    assert again.status_code == 200 and available(api, cid).properties.name == "ensured-again"
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {token}"}) as h:
        body = {"properties": cluster_props(dc, lan, model=pg.Cluster).to_dict()}
        r = h.put(f"{PREFIX}/clusters/not-a-uuid", json=body)
        assert r.status_code == 422 and "UUID" in r.json()["messages"][0]["message"]
        r = h.put(f"{PREFIX}/clusters/{cid}", json={"id": str(uuid.uuid4()), **body})
        assert r.status_code == 422 and "'id'" in r.json()["messages"][0]["message"]
        # a cluster id belongs to one location
        r = h.put(f"/postgresql/de-fra/clusters/{cid}", json=body)
        assert r.status_code == 409 and r.json()["httpStatus"] == 409
        assert h.get(f"/postgresql/de-fra/clusters/{cid}").status_code == 404
    clusters.clusters_delete(cid)


def test_create_is_validated_and_changes_nothing(api, emulator, token):
    dc, lan = network(emulator)
    fra_dc, fra_lan = network(emulator, location="de/fra")
    pub_dc, pub_lan = network(emulator, public=True)
    taken = pg.ClustersApi(api).clusters_post(
        pg.ClusterCreate(properties=cluster_props(dc, lan, address="10.1.1.5/16"))
    )
    good = {"properties": cluster_props(dc, lan).to_dict()}

    def variant(change):
        body = json.loads(json.dumps(good, default=str))
        change(body["properties"])
        return body

    cases = [
        (lambda p: p.pop("credentials"), "properties.credentials"),
        (lambda p: p["instances"].pop("ram"), "properties.instances.ram"),
        (lambda p: p.update(name="-leading-dash"), "properties.name"),
        (lambda p: p.update(version="9.6"), "properties.version"),
        (lambda p: p["connection"].update(datacenterId=str(uuid.uuid4())), "properties.connection.datacenterId"),
        (lambda p: p["connection"].update(datacenterId=fra_dc, lanId=fra_lan), "properties.connection.datacenterId"),
        (lambda p: p["connection"].update(lanId="99"), "properties.connection.lanId"),
        (lambda p: p["connection"].update(datacenterId=pub_dc, lanId=pub_lan), "properties.connection.lanId"),
        (lambda p: p["connection"].update(primaryInstanceAddress="192.168.7.10"), "primaryInstanceAddress"),
        (lambda p: p["connection"].update(primaryInstanceAddress="10.210.0.4/24"), "primaryInstanceAddress"),
        (lambda p: p["connection"].update(primaryInstanceAddress="10.1.1.5/16"), "primaryInstanceAddress"),
        (lambda p: p["credentials"].update(username="postgres"), "properties.credentials.username"),
        (lambda p: p["credentials"].update(username="bad-name"), "properties.credentials.username"),
        (lambda p: p["credentials"].update(password="alllowercase1!"), "properties.credentials.password"),
        (lambda p: p["credentials"].update(database="no-dashes"), "properties.credentials.database"),
        (lambda p: p.update(replicationMode="STRICTLY_SYNCHRONOUS"), "properties.replicationMode"),
        (lambda p: p.update(connectionPooler="SOMETIMES"), "properties.connectionPooler"),
        (lambda p: p.update(backup={"location": "mars-1"}), "properties.backup.location"),
        (lambda p: p.update(restoreFromBackup={"sourceBackupId": str(uuid.uuid4())}), "sourceBackupId"),
        (lambda p: p.update(restoreFromBackup={"recoveryTargetDatetime": "2024-01-01T00:00:00Z"}), "sourceBackupId"),
        (lambda p: p["instances"].update(count=9), "count"),  # the schema's maximum
    ]
    with httpx.Client(base_url=emulator.url + PREFIX, headers={"Authorization": f"Bearer {token}"}) as h:
        before = len(h.get("/clusters").json()["items"])
        for change, attr in cases:
            r = h.post("/clusters", json=variant(change))
            assert r.status_code == 422, (attr, r.text)
            body = r.json()
            assert body["httpStatus"] == 422 and attr in body["messages"][0]["message"], (attr, body)
        r = h.post("/clusters", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["httpStatus"] == 400
        assert len(h.get("/clusters").json()["items"]) == before
    pg.ClustersApi(api).clusters_delete(taken.id)


def test_replace_rules_upgrades_and_in_place_restore(api, emulator):
    clusters = pg.ClustersApi(api)
    made, dc, lan = new_cluster(api, emulator, version="14")
    available(api, made.id)

    def replace(**kw):
        return clusters.clusters_put(
            made.id, pg.ClusterEnsure(properties=cluster_props(dc, lan, model=pg.Cluster, **kw))
        )

    for kw, attr in [
        (dict(version="13"), "properties.version"),
        (dict(username="other"), "properties.credentials.username"),
        (dict(database="otherdb"), "properties.credentials.database"),
        (dict(backup=pg.ClusterBackup(location="eu-south-2")), "properties.backup.location"),
    ]:
        status, msg = refused(lambda kw=kw: replace(version=kw.pop("version", "14"), **kw))
        assert status == 422 and attr in msg, msg
    status, msg = refused(
        lambda: clusters.clusters_put(
            made.id,
            pg.ClusterEnsure(
                properties=pg.Cluster(
                    name="x1",
                    version="14",
                    instances=pg.InstanceConfiguration(count=1, cores=1, ram=4, storage_size=10),
                    connection=pg.PostgresClusterConnection(datacenter_id=dc, lan_id=lan),
                )
            ),
        )
    )
    assert status == 422 and "storageSize" in msg
    # a major upgrade: the version's catalogue says where it may go, and a new backup timeline begins
    assert "16" in pg.VersionsApi(api).versions_find_by_id("14").properties.can_upgrade_to
    replace(version="16")
    assert available(api, made.id).properties.version == "16"
    timelines = pg.BackupsApi(api).backups_get(filter_cluster_id=made.id).items
    assert sorted((b.properties.postgres_cluster_version, b.properties.is_active) for b in timelines) == [
        ("14", False),
        ("16", True),
    ]
    # an in-place restore takes the cluster's own backups back to a point in time
    first = min(b.properties.earliest_recovery_target_time for b in timelines)
    point = pg.ClusterRestoreFromBackup(
        pg.PostgresInPlaceRestoreClusterFromBackup(recovery_target_datetime=first + timedelta(milliseconds=1))
    )
    assert replace(version="16", restore_from_backup=point).metadata.state == "UPDATING"
    assert available(api, made.id).metadata.state == "AVAILABLE"
    wrong = pg.ClusterRestoreFromBackup(pg.PostgresRestoreClusterFromBackup(source_backup_id=timelines[0].id))
    status, msg = refused(lambda: replace(version="16", restore_from_backup=wrong))
    assert status == 422 and "sourceBackupId" in msg
    too_early = pg.ClusterRestoreFromBackup(
        pg.PostgresInPlaceRestoreClusterFromBackup(recovery_target_datetime=first - timedelta(days=3))
    )
    status, msg = refused(lambda: replace(version="16", restore_from_backup=too_early))
    assert status == 422 and "recoveryTargetDatetime" in msg
    clusters.clusters_delete(made.id)


def test_versions_and_backup_locations(api):
    versions = pg.VersionsApi(api)
    listed = versions.versions_get()
    names = [v.properties.version for v in listed.items]
    assert names == sorted(names, key=int) and {"14", "15", "16"} <= set(names)
    v15 = next(v for v in listed.items if v.properties.version == "15")
    assert v15.type == "postgresVersion" and "16" in v15.properties.can_upgrade_to and v15.properties.status
    assert versions.versions_find_by_id(v15.id).properties.version == "15"
    page = versions.versions_get(offset=1, limit=2)
    assert [v.id for v in page.items] == [v.id for v in listed.items[1:3]] and page.links.prev and page.links.next
    assert refused(versions.versions_find_by_id, "8.4")[0] == 404
    locations = pg.BackupLocationsApi(api)
    offered = locations.backuplocations_get().items
    assert {loc.properties.location for loc in offered} >= {"de", "eu-central-2", "eu-south-2"}
    assert locations.backuplocations_find_by_id(offered[0].id).properties.location == offered[0].properties.location
    assert refused(locations.backuplocations_find_by_id, str(uuid.uuid4()))[0] == 404
    assert refused(pg.BackupsApi(api).backups_find_by_id, str(uuid.uuid4()))[0] == 404


def test_auth_regions_routing_and_privileges(emulator, token):
    # regions keep their clusters apart; the real host name routes to its region
    dc, lan = network(emulator, location="de/fra")
    with pg_client(emulator, token, "de-fra") as fra:
        c = pg.ClustersApi(fra).clusters_post(pg.ClusterCreate(properties=cluster_props(dc, lan)))
    hdr = {"Authorization": f"Bearer {token}"}
    r = httpx.get(emulator.url + "/clusters", headers={**hdr, "Host": "postgresql.de-fra.ionos.com"})
    assert r.status_code == 200 and c.id in [i["id"] for i in r.json()["items"]]
    r = httpx.get(emulator.url + f"/clusters/{c.id}", headers={**hdr, "Host": "postgresql.de-txl.ionos.com"})
    assert r.status_code == 404 and r.json()["messages"][0]["errorCode"]
    # Basic works too, even though the SDK sends Bearer only; no credentials is a 401 envelope
    assert httpx.get(emulator.url + "/postgresql/de-fra/clusters", auth=OWNER).status_code == 200
    r = httpx.get(emulator.url + "/postgresql/de-fra/clusters")
    assert r.status_code == 401 and r.json()["httpStatus"] == 401
    # a user needs the group privilege manageDBaaS, and can only use data centers they may see
    email, pw = f"p-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        user = h.post(
            "/um/users",
            json={
                "properties": {
                    "firstname": "P",
                    "lastname": "G",
                    "email": email,
                    "password": pw,
                    "administrator": False,
                }
            },
        ).json()["id"]
        r = httpx.get(emulator.url + PREFIX + "/versions", auth=(email, pw))
        assert r.status_code == 403 and "manageDBaaS" in r.json()["messages"][0]["message"]
        group = h.post(
            "/um/groups", json={"properties": {"name": f"pg-{uuid.uuid4().hex[:6]}", "manageDBaaS": True}}
        ).json()["id"]
        assert h.post(f"/um/groups/{group}/users", json={"id": user}).status_code == 202
    user_token = httpx.get(emulator.auth + "/tokens/generate", auth=(email, pw)).json()["token"]
    with pg_client(emulator, user_token, "de-fra") as mine:
        assert pg.VersionsApi(mine).versions_get().items
        status, msg = refused(pg.ClustersApi(mine).clusters_post, pg.ClusterCreate(properties=cluster_props(dc, lan)))
        assert status == 422 and "datacenterId" in msg
    httpx.delete(emulator.url + f"/postgresql/de-fra/clusters/{c.id}", headers=hdr)


def test_a_failed_creation_leaves_nothing(api, emulator):
    """A forced failure (/_emulator/failures) of the creation removes the cluster and the backup it began."""
    clusters = pg.ClustersApi(api)
    dc, lan = network(emulator)
    r = emulator.admin("POST", "failures", json={"method": "POST", "path": "^/clusters$", "count": 1})
    assert r.status_code in (200, 201), r.text
    made = clusters.clusters_post(pg.ClusterCreate(properties=cluster_props(dc, lan)))
    assert made.metadata.state == "PROVISIONING"
    assert refused(clusters.clusters_find_by_id, made.id)[0] == 404
    assert pg.BackupsApi(api).backups_get(filter_cluster_id=made.id).items == []


def test_backup_timelines_meet_and_a_whole_second_names_their_start(api, emulator):
    """A major upgrade ends the current backup as the next one begins; a recovery time cut to the whole second
    of a backup's start (clients often drop the fraction they were shown) still lies in that backup."""
    clusters = pg.ClustersApi(api)
    made, dc, lan = new_cluster(api, emulator, version="14")
    available(api, made.id)
    clusters.clusters_put(made.id, pg.ClusterEnsure(properties=cluster_props(dc, lan, model=pg.Cluster, version="16")))
    available(api, made.id)
    old, new = sorted(
        pg.BackupsApi(api).backups_get(filter_cluster_id=made.id).items,
        key=lambda b: b.properties.postgres_cluster_version,
    )
    assert (old.properties.is_active, new.properties.is_active) == (False, True)
    assert old.properties.latest_recovery_target_time == new.properties.earliest_recovery_target_time
    start = new.properties.earliest_recovery_target_time.replace(microsecond=0)
    seeded = clusters.clusters_post(
        pg.ClusterCreate(
            properties=cluster_props(
                dc,
                lan,
                name="seeded",
                version="16",
                address="192.168.7.11/24",
                restore_from_backup=pg.ClusterRestoreFromBackup(
                    pg.PostgresRestoreClusterFromBackup(source_backup_id=new.id, recovery_target_datetime=start)
                ),
            )
        )
    )
    assert available(api, seeded.id).properties.name == "seeded"
    too_early = start - timedelta(seconds=1)
    status, msg = refused(
        clusters.clusters_post,
        pg.ClusterCreate(
            properties=cluster_props(
                dc,
                lan,
                name="early",
                version="16",
                address="192.168.7.12/24",
                restore_from_backup=pg.ClusterRestoreFromBackup(
                    pg.PostgresRestoreClusterFromBackup(source_backup_id=new.id, recovery_target_datetime=too_early)
                ),
            )
        ),
    )
    assert status == 422 and "recoveryTargetDatetime" in msg
    for cid in (made.id, seeded.id):
        clusters.clusters_delete(cid)


# -- the v1 API ----------------------------------------------------------------------------------------------


def v1_body(
    dc,
    lan,
    *,
    name="ledger",
    cidr="192.168.9.10/24",
    location="de/txl",
    instances=1,
    username="ledger",
    version="14",
    **extra,
):
    return {
        "properties": {
            "displayName": name,
            "postgresVersion": version,
            "location": location,
            "instances": instances,
            "cores": 2,
            "ram": 2048,
            "storageSize": 20480,
            "storageType": "SSD",
            "connections": [{"datacenterId": dc, "lanId": lan, "cidr": cidr}],
            "synchronizationMode": "ASYNCHRONOUS",
            "credentials": {"username": username, "password": "Secret12345"},
            **extra,
        }
    }


def test_v1_cluster_flow(emulator):
    dc, lan = network(emulator)
    with httpx.Client(base_url=emulator.url + V1, auth=OWNER) as h:
        r = h.post("/clusters", json=v1_body(dc, lan, name="Ledger Main"))
        assert r.status_code == 200, r.text
        c = r.json()
        assert c["metadata"]["state"] == "BUSY" and c["type"] == "cluster" and "href" not in c
        assert c["properties"]["backupLocation"] == "eu-central-2" and c["properties"]["maintenanceWindow"]["time"]
        assert "credentials" not in c["properties"]
        got = h.get(f"/clusters/{c['id']}").json()
        assert got["metadata"]["state"] == "AVAILABLE" and got["properties"]["dnsName"]
        assert got["metadata"]["createdBy"] == OWNER[0] and got["metadata"]["createdDate"].endswith("Z")
        listed = h.get("/clusters", params={"filter.name": "ledger m"}).json()
        assert [i["id"] for i in listed["items"]] == [c["id"]] and "href" not in listed["items"][0]
        # PATCH changes what is sent; the version goes up only
        r = h.patch(
            f"/clusters/{c['id']}",
            json={
                "properties": {"displayName": "ledger-2", "instances": 2, "postgresVersion": "15", "storageSize": 40960}
            },
        )
        assert r.status_code == 200 and r.json()["metadata"]["state"] == "BUSY"
        got = h.get(f"/clusters/{c['id']}").json()
        assert got["metadata"]["state"] == "AVAILABLE"
        assert (
            got["properties"]["displayName"],
            got["properties"]["instances"],
            got["properties"]["postgresVersion"],
            got["properties"]["cores"],
        ) == ("ledger-2", 2, "15", 2)
        for body, attr in [
            ({"postgresVersion": "13"}, "postgresVersion"),
            ({"storageSize": 4096}, "storageSize"),
            ({"location": "de/fra"}, "location"),
        ]:
            r = h.patch(f"/clusters/{c['id']}", json={"properties": body})
            assert r.status_code == 422 and attr in r.json()["messages"][0]["message"], r.text
        versions = h.get(f"/clusters/{c['id']}/postgresversions").json()["data"]
        assert versions[0] == {"name": "15"} and {"name": "16"} in versions and {"name": "14"} not in versions
        assert {"name": "14"} in h.get("/clusters/postgresversions").json()["data"]
        # backups: one per timeline (the upgrade began a second one)
        mine = h.get(f"/clusters/{c['id']}/backups").json()
        assert mine["type"] == "collection" and len(mine["items"]) == 2
        active = next(b for b in mine["items"] if b["properties"]["isActive"])
        assert active["properties"]["version"] == "15" and active["properties"]["clusterId"] == c["id"]
        assert active["metadata"]["state"] == "AVAILABLE" and set(active["metadata"]) == {"createdDate", "state"}
        assert active["properties"]["size"] > 0 and active["properties"]["id"] == active["id"]
        assert active["id"] in [b["id"] for b in h.get("/clusters/backups").json()["items"]]
        assert h.get(f"/clusters/backups/{active['id']}").json()["properties"]["location"] == "eu-central-2"
        assert h.get(f"/clusters/backups/{uuid.uuid4()}").status_code == 404
        # an in-place restore: 202, BUSY until done
        r = h.post(f"/clusters/{c['id']}/restore", json={"backupId": active["id"]})
        assert r.status_code == 202 and r.content == b""
        assert h.get(f"/clusters/{c['id']}").json()["metadata"]["state"] == "AVAILABLE"
        r = h.post(f"/clusters/{c['id']}/restore", json={"backupId": str(uuid.uuid4())})
        assert r.status_code == 404
        r = h.post(
            f"/clusters/{c['id']}/restore",
            json={"backupId": active["id"], "recoveryTargetTime": "2001-01-01T00:00:00Z"},
        )
        assert r.status_code == 422 and "recoveryTargetTime" in r.json()["messages"][0]["message"]
        # logs: one entry per instance, PostgreSQL's own lines
        logs = h.get(f"/clusters/{c['id']}/logs", params={"direction": "FORWARD"}).json()["instances"]
        assert [i["name"] for i in logs] == [f"postgres-{c['id'][:8]}-0", f"postgres-{c['id'][:8]}-1"]
        text = [m["message"] for m in logs[0]["messages"]]
        assert any("ready to accept connections" in t for t in text) and logs[0]["messages"][0]["time"].endswith("Z")
        if bookkeeping_only():
            assert any("bookkeeping only" in t for t in text)
        assert len(h.get(f"/clusters/{c['id']}/logs", params={"limit": 2}).json()["instances"][0]["messages"]) == 2
        now = datetime.now(timezone.utc)
        for params, word in [
            ({"start": (now - timedelta(days=40)).isoformat()}, "start"),
            ({"end": (now + timedelta(hours=2)).isoformat()}, "end"),
            ({"limit": 6000}, "limit"),
        ]:
            r = h.get(f"/clusters/{c['id']}/logs", params=params)
            assert r.status_code == 422 and word in r.json()["messages"][0]["message"], r.text
        # DELETE answers the cluster DESTROYING, then it is gone; its backups stay, ended
        r = h.delete(f"/clusters/{c['id']}")
        assert r.status_code == 200 and r.json()["metadata"]["state"] == "DESTROYING"
        assert h.get(f"/clusters/{c['id']}").status_code == 404
        assert h.get(f"/clusters/backups/{active['id']}").json()["properties"]["isActive"] is False
        # a new cluster from that backup
        r = h.post(
            "/clusters",
            json=v1_body(
                dc, lan, name="from-backup", cidr="192.168.9.11/24", version="15", fromBackup={"backupId": active["id"]}
            ),
        )
        assert r.status_code == 200, r.text
        assert h.delete(f"/clusters/{r.json()['id']}").status_code == 200
        assert h.get("/infos/version").json() == {"name": "v1", "swaggerUrl": "dbaas-postgres-v1.yaml"}
        assert [v["name"] for v in h.get("/infos/versions").json()] == ["v1"]


def test_v1_validation_and_routing(emulator, token):
    dc, lan = network(emulator)
    cases = [
        (dict(location="de/fra"), "datacenterId"),
        (dict(location="mars/one"), "properties.location"),
        (dict(username="postgres"), "credentials.username"),
        (dict(version="11"), "postgresVersion"),
        (dict(cidr="10.233.114.9/24"), "cidr"),
        (dict(backupLocation="moon"), "backupLocation"),
        (dict(synchronizationMode="STRICTLY_SYNCHRONOUS"), "synchronizationMode"),
        (dict(fromBackup={"backupId": str(uuid.uuid4())}), "fromBackup.backupId"),
    ]
    with httpx.Client(base_url=emulator.url + V1, auth=OWNER) as h:
        before = len(h.get("/clusters").json()["items"])
        for kw, attr in cases:
            r = h.post("/clusters", json=v1_body(dc, lan, **kw))
            assert r.status_code == 422 and attr in r.json()["messages"][0]["message"], (attr, r.text)
        body = v1_body(dc, lan)
        del body["properties"]["credentials"]
        r = h.post("/clusters", json=body)
        assert r.status_code == 422 and "credentials" in r.json()["messages"][0]["message"]
        assert len(h.get("/clusters").json()["items"]) == before
        assert h.get(f"/clusters/{uuid.uuid4()}").status_code == 404
    # Bearer and the real host name (api.ionos.com/databases/postgresql) reach the same API
    r = httpx.get(
        emulator.url + V1 + "/clusters/postgresversions",
        headers={"Authorization": f"Bearer {token}", "Host": "api.ionos.com"},
    )
    assert r.status_code == 200 and {"name": "15"} in r.json()["data"]
    r = httpx.get(emulator.url + V1 + "/clusters")
    assert r.status_code == 401 and r.json()["httpStatus"] == 401


@contextmanager
def slow_clusters(emu, seconds: float):
    """Cluster changes take `seconds` (the lifecycle's per-kind override); the timing is restored after."""
    before = emu.admin("GET", "timing").json()
    overrides = {**before["overrides"], "postgresql.cluster": seconds}
    assert emu.admin("PUT", "timing", json={"profile": before["profile"], "overrides": overrides}).status_code == 200
    try:
        yield
    finally:
        emu.admin("PUT", "timing", json={"profile": before["profile"], "overrides": before["overrides"]})


def test_timing_shows_the_states(api, emulator):
    clusters = pg.ClustersApi(api)
    with slow_clusters(emulator, 0.5):
        made, dc, lan = new_cluster(api, emulator)
        got = clusters.clusters_find_by_id(made.id)
        assert got.metadata.state == "PROVISIONING"
        if bookkeeping_only():  # said from the start: nothing will be made
            assert got.metadata.status_message.startswith("bookkeeping only")
        assert pg.BackupsApi(api).backups_get(filter_cluster_id=made.id).items == []  # not begun yet
        status, msg = refused(
            clusters.clusters_put, made.id, pg.ClusterEnsure(properties=cluster_props(dc, lan, model=pg.Cluster))
        )
        assert status == 409 and "PROVISIONING" in msg
        time.sleep(0.6)
        assert clusters.clusters_find_by_id(made.id).metadata.state == "AVAILABLE"
        clusters.clusters_delete(made.id)
        assert clusters.clusters_find_by_id(made.id).metadata.state == "DESTROYING"
        time.sleep(0.6)
        assert refused(clusters.clusters_find_by_id, made.id)[0] == 404


# -- the data plane ----------------------------------------------------------------------------------------


def _server_or_skip():
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(SERVER + "/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL server at {SERVER}")
    return psycopg


@pytest.fixture
def server():
    """psycopg, with the server reachable; afterwards drops whatever the test's clusters left there."""
    psycopg = _server_or_skip()
    made: list[str] = []
    yield psycopg, made
    with psycopg.connect(SERVER + "/postgres", autocommit=True) as conn:
        for cid in made:
            mine = "(shobj_description(oid, '{0}') = %s OR starts_with(shobj_description(oid, '{0}'), %s))"
            marks = (MARK + cid, MARK + cid + " ")  # the cluster's, and its v1 users' and databases'
            for (db,) in conn.execute(
                "SELECT datname FROM pg_database WHERE " + mine.format("pg_database"), marks
            ).fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            for (role,) in conn.execute(
                "SELECT rolname FROM pg_roles WHERE " + mine.format("pg_authid"), marks
            ).fetchall():
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def on_server(psycopg, cluster_id):
    """(roles, databases with their owners) the data plane made for the cluster."""
    with psycopg.connect(SERVER + "/postgres") as conn:
        roles = conn.execute(
            "SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE shobj_description(oid, 'pg_authid') = %s",
            (MARK + cluster_id,),
        ).fetchall()
        dbs = conn.execute(
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE shobj_description(oid, 'pg_database') = %s",
            (MARK + cluster_id,),
        ).fetchall()
    return roles, dbs


def password_matches(verifier: str, password: str) -> bool:
    """Checks a SCRAM-SHA-256 verifier from pg_authid against a password (RFC 5802), independently of the emulator."""
    method, rest = verifier.split("$", 1)
    params, keys = rest.split("$", 1)
    iterations, salt = params.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return method == "SCRAM-SHA-256" and base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


def dataplane_emulator(make_emulator, name):
    emu = make_emulator(name, env={"IONOS_EMULATOR_POSTGRES_URL": SERVER})
    return emu, httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]


def test_dataplane_current_api(make_emulator, server):
    psycopg, made = server
    emu, tok = dataplane_emulator(make_emulator, "pg-plane")
    tag = uuid.uuid4().hex[:6]
    user, db = f"u_{tag}", f"shop_{tag}"
    with pg_client(emu, tok) as c:
        clusters = pg.ClustersApi(c)
        with slow_clusters(emu, 0.4):
            a, dc, lan = new_cluster(c, emu, username=user, database=db)
            made.append(a.id)
            # nothing exists on the server until the cluster becomes AVAILABLE
            assert clusters.clusters_find_by_id(a.id).metadata.state == "PROVISIONING"
            assert on_server(psycopg, a.id) == ([], [])
            got = available(c, a.id)
        host, port = SERVER.rsplit("@", 1)[-1].split(":")
        assert got.metadata.dns_name == host
        assert got.metadata.status_message == (
            f'served by the PostgreSQL server at {host}:{port}: database "{db}", login role "{user}"'
        )
        roles, dbs = on_server(psycopg, a.id)
        assert [(r[0], r[1]) for r in roles] == [(user, True)] and dbs == [(db, user)]
        assert password_matches(roles[0][2], PASSWORD) and not password_matches(roles[0][2], "Wrong123!")
        # the client connects as the initial user, to its database, and owns what it makes
        with psycopg.connect(host=host, port=int(port), user=user, password=PASSWORD, dbname=db) as conn:
            conn.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)")
            conn.execute("INSERT INTO orders VALUES (1, 'book')")
            conn.commit()
            assert conn.execute("SELECT current_user, current_database(), item FROM orders").fetchone() == (
                user,
                db,
                "book",
            )
        # a second cluster asking for the same names gets them with its short id appended
        b, _, _ = new_cluster(c, emu, username=user, database=db, address="192.168.7.20/24")
        made.append(b.id)
        got_b = available(c, b.id)
        short = b.id.replace("-", "")[:8]
        assert got_b.properties.credentials.username == user  # as asked; the server's names are in the message
        assert f'database "{db}_{short}"' in got_b.metadata.status_message
        assert f'login role "{user}_{short}"' in got_b.metadata.status_message
        roles_b, dbs_b = on_server(psycopg, b.id)
        assert dbs_b == [(f"{db}_{short}", f"{user}_{short}")]
        # one cluster's user cannot reach another cluster's database
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host=host, port=int(port), user=f"{user}_{short}", password=PASSWORD, dbname=db).close()
        # a PUT with a new password changes the real role's password
        clusters.clusters_put(
            a.id,
            pg.ClusterEnsure(
                properties=cluster_props(dc, lan, username=user, database=db, password="N3w-Secret!x", model=pg.Cluster)
            ),
        )
        available(c, a.id)
        roles, _ = on_server(psycopg, a.id)
        assert password_matches(roles[0][2], "N3w-Secret!x") and not password_matches(roles[0][2], PASSWORD)
        # deleting drops the databases and roles, even with a session open
        session = psycopg.connect(host=host, port=int(port), user=user, password="N3w-Secret!x", dbname=db)
        clusters.clusters_delete(a.id)
        assert refused(clusters.clusters_find_by_id, a.id)[0] == 404
        assert on_server(psycopg, a.id) == ([], [])
        session.close()
        with psycopg.connect(SERVER + "/postgres") as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is None
            assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone() is None
        # the other cluster is untouched until it goes too
        assert on_server(psycopg, b.id)[1] == dbs_b
        clusters.clusters_delete(b.id)
        assert clusters.clusters_get().items == []
        assert on_server(psycopg, b.id) == ([], [])


def test_dataplane_v1_database_named_like_the_user(make_emulator, server):
    psycopg, made = server
    emu, _ = dataplane_emulator(make_emulator, "pg-plane-v1")
    user = f"v1_{uuid.uuid4().hex[:6]}"
    dc, lan = network(emu)
    with httpx.Client(base_url=emu.url + V1, auth=OWNER) as h:
        r = h.post("/clusters", json=v1_body(dc, lan, username=user))
        assert r.status_code == 200, r.text
        cid = r.json()["id"]
        made.append(cid)
        got = h.get(f"/clusters/{cid}").json()
        host, port = SERVER.rsplit("@", 1)[-1].split(":")
        assert got["metadata"]["state"] == "AVAILABLE" and got["properties"]["dnsName"] == host
        roles, dbs = on_server(psycopg, cid)
        assert [r[0] for r in roles] == [user] and dbs == [(user, user)]
        assert password_matches(roles[0][2], "Secret12345")
        # no database named: libpq connects to the one named like the user, the cluster's
        with psycopg.connect(host=host, port=int(port), user=user, password="Secret12345") as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (user,)
        text = [m["message"] for m in h.get(f"/clusters/{cid}/logs").json()["instances"][0]["messages"]]
        assert any(f'database "{user}", login role "{user}"' in t and f"{host}:{port}" in t for t in text)
        assert h.delete(f"/clusters/{cid}").status_code == 200
        assert h.get(f"/clusters/{cid}").status_code == 404
    assert on_server(psycopg, cid) == ([], [])


def members_on_server(psycopg, cluster_id):
    """(roles, databases with their owners) the data plane made for the v1 cluster's further users and databases,
    by their API names."""
    prefix = f"{MARK}{cluster_id} "
    with psycopg.connect(SERVER + "/postgres") as conn:
        roles = conn.execute(
            "SELECT substr(shobj_description(oid, 'pg_authid'), %s), rolname, rolpassword FROM pg_authid "
            "WHERE starts_with(shobj_description(oid, 'pg_authid'), %s) ORDER BY 1",
            (len(prefix) + 1, prefix),
        ).fetchall()
        dbs = conn.execute(
            "SELECT substr(shobj_description(oid, 'pg_database'), %s), datname, pg_get_userbyid(datdba) "
            "FROM pg_database WHERE starts_with(shobj_description(oid, 'pg_database'), %s) ORDER BY 1",
            (len(prefix) + 1, prefix),
        ).fetchall()
    return roles, dbs


def test_dataplane_v1_users_and_databases(make_emulator, server):
    """The v1 API's users are login roles of the cluster's server and its databases are databases there owned
    by the role named; a PATCH changes the real password; deleting drops them (names quoted as identifiers)."""
    psycopg, made = server
    emu, _ = dataplane_emulator(make_emulator, "pg-plane-v1-users")
    tag = uuid.uuid4().hex[:6]
    owner, user, dbname = f"v1o_{tag}", f"App-{tag}", f"shop-${tag}"  # mixed case, '-' and '$': quoted names
    host, port = SERVER.rsplit("@", 1)[-1].split(":")
    dc, lan = network(emu)

    def connect(role, password, db):
        return psycopg.connect(host=host, port=int(port), user=role, password=password, dbname=db, connect_timeout=5)

    with httpx.Client(base_url=emu.url + V1, auth=OWNER) as h:
        assert emu.admin("PUT", "timing", json={"overrides": {"postgresql-v1.cluster": 1.0}}).status_code == 200
        r = h.post("/clusters", json=v1_body(dc, lan, username=owner))
        assert r.status_code == 200, r.text
        cid = r.json()["id"]
        made.append(cid)
        # a user made while its cluster is not yet on the server is made with the cluster
        r = h.post(f"/clusters/{cid}/users", json={"properties": {"username": user, "password": "Secret12345"}})
        assert r.status_code == 200 and r.json()["properties"] == {"username": user, "system": False}, r.text
        assert h.get(f"/clusters/{cid}/users/{user}").status_code == 200  # the next request settles the change
        assert h.get(f"/clusters/{cid}").json()["metadata"]["state"] == "BUSY"
        assert members_on_server(psycopg, cid) == ([], [])
        emu.admin("PUT", "timing", json={"overrides": {}})
        deadline = time.monotonic() + 10
        while h.get(f"/clusters/{cid}").json()["metadata"]["state"] == "BUSY" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert h.get(f"/clusters/{cid}").json()["metadata"]["state"] == "AVAILABLE"
        roles, _ = members_on_server(psycopg, cid)
        assert [(r[0], r[1]) for r in roles] == [(f"user {user}", user)] and password_matches(
            roles[0][2], "Secret12345"
        )
        # the new user reaches the cluster's initial database; no one else's
        with connect(user, "Secret12345", owner) as conn:
            assert conn.execute("SELECT current_user, current_database()").fetchone() == (user, owner)
        r = h.post(f"/clusters/{cid}/databases", json={"properties": {"name": dbname, "owner": user}})
        assert r.status_code == 200 and r.json()["properties"] == {"name": dbname, "owner": user}, r.text
        assert h.get(f"/clusters/{cid}/databases/{dbname}").status_code == 200
        assert members_on_server(psycopg, cid)[1] == [(f"database {dbname}", dbname, user)]
        with connect(user, "Secret12345", dbname) as conn:
            conn.execute("CREATE TABLE items (id int)")
            conn.commit()
            assert conn.execute("SELECT current_user, current_database()").fetchone() == (user, dbname)
        with connect(owner, "Secret12345", dbname) as conn:  # the cluster's other roles may connect too
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'items'").fetchone() == (1,)
        # a PATCH of the password changes it for real
        r = h.patch(f"/clusters/{cid}/users/{user}", json={"properties": {"password": "Another12345"}})
        assert r.status_code == 200, r.text
        assert h.get(f"/clusters/{cid}/users/{user}").status_code == 200
        verifier = members_on_server(psycopg, cid)[0][0][2]  # the test server trusts loopback: check the verifier
        assert password_matches(verifier, "Another12345") and not password_matches(verifier, "Secret12345")
        connect(user, "Another12345", dbname).close()
        # a user who owns a database stays, and nothing changes
        r = h.delete(f"/clusters/{cid}/users/{user}")
        assert r.status_code == 422 and dbname in r.json()["messages"][0]["message"], r.text
        assert h.get(f"/clusters/{cid}/users/{user}").status_code == 200
        assert len(members_on_server(psycopg, cid)[0]) == 1
        # deleting the database drops it, with a session open; then the user's role goes
        session = connect(user, "Another12345", dbname)
        assert h.delete(f"/clusters/{cid}/databases/{dbname}").status_code == 204
        assert h.get(f"/clusters/{cid}/databases/{dbname}").status_code == 404
        session.close()
        assert members_on_server(psycopg, cid)[1] == []
        assert h.delete(f"/clusters/{cid}/users/{user}").status_code == 204
        assert h.get(f"/clusters/{cid}/users/{user}").status_code == 404
        assert members_on_server(psycopg, cid) == ([], [])
        with pytest.raises(psycopg.OperationalError):
            connect(user, "Another12345", owner).close()
        assert h.get(f"/clusters/{cid}").json()["metadata"]["state"] == "AVAILABLE"
        # a user and database made again, then the cluster deleted: all of it goes
        h.post(f"/clusters/{cid}/users", json={"properties": {"username": user, "password": "Secret12345"}})
        h.post(f"/clusters/{cid}/databases", json={"properties": {"name": dbname, "owner": user}})
        assert len(h.get(f"/clusters/{cid}/databases").json()["items"]) == 1
        assert [len(x) for x in members_on_server(psycopg, cid)] == [1, 1]
        assert h.delete(f"/clusters/{cid}").status_code == 200
        assert h.get(f"/clusters/{cid}").status_code == 404
    assert members_on_server(psycopg, cid) == ([], []) and on_server(psycopg, cid) == ([], [])


def test_dataplane_v1_database_refused_fails_the_cluster(make_emulator, server):
    """A database the server cannot make (its name and the cluster's variant both taken there by others) turns the
    cluster FAILED, the reason in its logs; the API's database stays, as the cluster can be changed again."""
    psycopg, made = server
    emu, _ = dataplane_emulator(make_emulator, "pg-plane-v1-refused")
    tag = uuid.uuid4().hex[:6]
    dc, lan = network(emu)
    with httpx.Client(base_url=emu.url + V1, auth=OWNER) as h:
        r = h.post("/clusters", json=v1_body(dc, lan, username=f"v1r_{tag}"))
        cid = r.json()["id"]
        made.append(cid)
        assert h.get(f"/clusters/{cid}").json()["metadata"]["state"] == "AVAILABLE"
        taken = [f"clash_{tag}", f"clash_{tag}_{cid.replace('-', '')[:8]}"]
        with psycopg.connect(SERVER + "/postgres", autocommit=True) as conn:
            for name in taken:
                conn.execute(f'CREATE DATABASE "{name}"')
        try:
            r = h.post(f"/clusters/{cid}/databases", json={"properties": {"name": taken[0], "owner": f"v1r_{tag}"}})
            assert r.status_code == 200, r.text
            got = h.get(f"/clusters/{cid}").json()
            assert got["metadata"]["state"] == "FAILED"
            text = [m["message"] for m in h.get(f"/clusters/{cid}/logs").json()["instances"][0]["messages"]]
            assert any("refused the database" in t and taken[0] in t for t in text), text
            assert h.get(f"/clusters/{cid}/databases/{taken[0]}").status_code == 200
            assert h.delete(f"/clusters/{cid}").status_code == 200
        finally:
            with psycopg.connect(SERVER + "/postgres", autocommit=True) as conn:
                for name in taken:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_dataplane_refusal_fails_the_cluster(make_emulator):
    """A server that cannot be reached turns the cluster FAILED, with the reason; it can still be deleted."""
    emu = make_emulator(
        "pg-plane-down", env={"IONOS_EMULATOR_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{free_port()}"}
    )
    tok = httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]
    with pg_client(emu, tok) as c:
        made, _, _ = new_cluster(c, emu)
        got = pg.ClustersApi(c).clusters_find_by_id(made.id)
        assert got.metadata.state == "FAILED" and "refused" in got.metadata.status_message
        assert pg.ClustersApi(c).clusters_delete_with_http_info(made.id).status_code == 202
        assert refused(pg.ClustersApi(c).clusters_find_by_id, made.id)[0] == 404
