"""End-to-end: DBaaS MariaDB (API 2.0.0) through the unmodified `ionoscloud_dbaas_mariadb` SDK against a strict
emulator: clusters connected to a Cloud API data center and LAN, PUT ensure, backups and restores, backup
locations and versions; httpx for Basic auth, real-host routing, privileges and error envelopes; and the
real data plane on the machine's MariaDB (127.0.0.1:3306, root), reached with PyMySQL as the created user."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import ionoscloud_dbaas_mariadb as mdb
import pytest
from ionoscloud_dbaas_mariadb.exceptions import ApiException

from support import OWNER, bearer, datacenter_with_lan, refused

PREFIX = "/mariadb/de-fra/v2"
MARIADB_URL = "mysql://root@127.0.0.1:3306"
PASSWORD = "Sup3rSecret!"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


def client(emu, token, prefix=PREFIX):
    return mdb.ApiClient(mdb.Configuration(host=emu.url + prefix, token=token))


@pytest.fixture
def api(emulator, token):
    with client(emulator, token) as c:
        yield c


def network(emu, location="de/fra", public=False, auth=OWNER):
    return datacenter_with_lan(emu, location, public, auth)


def properties(
    dc,
    lan,
    *,
    name="shop",
    address="192.168.10.10/24",
    version="10.11",
    username="shop",
    database="shopdb",
    storage=20,
    cls=mdb.ClusterCreateProperties,
    **extra,
):
    return cls(
        name=name,
        version=version,
        instances=mdb.InstanceConfiguration(count=1, cores=2, ram=4, storage_size=storage),
        connection=mdb.MariadbClusterConnection(datacenter_id=dc, lan_id=lan, primary_instance_address=address),
        credentials=mdb.MariadbUser(username=username, password=PASSWORD, database=database),
        maintenance_window=mdb.MaintenanceWindow(day_of_the_week="Sunday", time="03:30:00"),
        **extra,
    )


def create(c, dc, lan, **kw):
    return mdb.ClustersApi(c).clusters_post_with_http_info(mdb.ClusterCreate(properties=properties(dc, lan, **kw)))


def test_cluster_create_read_update_delete(api, emulator):
    clusters = mdb.ClustersApi(api)
    dc, lan = network(emulator)
    made = create(api, dc, lan)
    assert made.status_code == 201
    c = made.data
    assert c.metadata.state == "PROVISIONING" and c.type == "cluster"
    assert c.href == f"{emulator.url}{PREFIX}/clusters/{c.id}"
    got = clusters.clusters_find_by_id(c.id)
    assert got.metadata.state == "AVAILABLE" and got.metadata.dns_name == f"{c.id}.mariadb.de-fra.ionos.com"
    assert got.properties.credentials.username == "shop" and got.properties.credentials.password is None
    assert got.properties.credentials.database == "shopdb"
    assert got.properties.connection.lan_id == lan and got.properties.instances.storage_size == 20
    assert got.properties.backup.location == "de" and got.properties.backup.retention_days == 7
    assert got.metadata.created_by == OWNER[0] and got.metadata.resource_urn.startswith("ionos:mariadb:de/fra:")
    # lists filter by name and state; another location does not see it
    assert [x.id for x in clusters.clusters_get(filter_name="sho").items] == [c.id]
    assert clusters.clusters_get(filter_name="nomatch").items == []
    assert c.id in [x.id for x in clusters.clusters_get(filter_state="AVAILABLE").items]
    with client(emulator, api.configuration.token, "/mariadb/de-txl/v2") as other:
        assert refused(mdb.ClustersApi(other).clusters_find_by_id, c.id)[0] == 404
    # PUT replaces: new name, more storage, a version upgrade; UPDATING, then AVAILABLE
    body = properties(dc, lan, name="shop-2", storage=40, version="11.4", cls=mdb.Cluster)
    put = clusters.clusters_put_with_http_info(c.id, mdb.ClusterEnsure(id=c.id, properties=body))
    assert put.status_code == 200 and put.data.metadata.state == "UPDATING"
    got = clusters.clusters_find_by_id(c.id)
    p = got.properties
    assert (p.name, p.version, p.instances.storage_size) == ("shop-2", "11.4", 40)
    assert got.metadata.state == "AVAILABLE"
    # the upgrade closed the first backup and started one of the new version
    backups = mdb.BackupsApi(api).backups_get(filter_cluster_id=c.id).items
    assert sorted(b.properties.mariadb_cluster_version for b in backups) == ["10.11", "11.4"]
    closed = next(b for b in backups if b.properties.mariadb_cluster_version == "10.11")
    assert closed.properties.latest_recovery_target_time is not None and closed.properties.cluster_name == "shop"
    # DELETE: 202 without a body, then 404; the backups stay, all closed
    deleted = clusters.clusters_delete_with_http_info(c.id)
    assert deleted.status_code == 202 and deleted.data is None
    assert refused(clusters.clusters_find_by_id, c.id)[0] == 404
    left = mdb.BackupsApi(api).backups_get(filter_cluster_id=c.id).items
    assert len(left) == 2 and all(b.properties.latest_recovery_target_time for b in left)


def test_put_ensures_a_cluster_under_the_clients_id(api, emulator):
    clusters = mdb.ClustersApi(api)
    dc, lan = network(emulator)
    cid = str(uuid.uuid4())
    body = mdb.ClusterEnsure(
        id=cid, properties=properties(dc, lan, name="ensured", address="192.168.11.5/24", cls=mdb.Cluster)
    )
    made = clusters.clusters_put_with_http_info(cid, body)
    assert made.status_code == 201 and made.data.id == cid
    assert clusters.clusters_find_by_id(cid).metadata.state == "AVAILABLE"
    # a second identical PUT replaces (200); a PUT without credentials keeps them
    again = mdb.ClusterEnsure(
        id=cid, properties=properties(dc, lan, name="ensured", address="192.168.11.5/24", cls=mdb.Cluster)
    )
    again.properties.credentials = None
    assert clusters.clusters_put_with_http_info(cid, again).status_code == 200
    assert clusters.clusters_find_by_id(cid).properties.credentials.username == "shop"
    # names that can not be changed, ids that are not UUIDs, busy clusters
    renamed = properties(dc, lan, name="ensured", address="192.168.11.5/24", username="other", cls=mdb.Cluster)
    status, msg = refused(clusters.clusters_put, cid, mdb.ClusterEnsure(properties=renamed))
    assert status == 422 and "credentials.username" in msg
    status, msg = refused(clusters.clusters_put, "not-a-uuid", mdb.ClusterEnsure(properties=renamed))
    assert status == 422 and "UUID" in msg
    status, msg = refused(clusters.clusters_put, cid, mdb.ClusterEnsure(id=str(uuid.uuid4()), properties=renamed))
    assert status == 422 and "'id'" in msg
    # once deleted, the same PUT makes it again
    clusters.clusters_delete(cid)
    assert refused(clusters.clusters_find_by_id, cid)[0] == 404
    assert clusters.clusters_put_with_http_info(cid, body).status_code == 201
    clusters.clusters_delete(cid)


def test_delete_twice_is_one_deletion_and_an_id_of_another_location_is_taken(make_emulator):
    emu = make_emulator("mariadb-edges")
    token = bearer(emu)
    dc, lan = network(emu)
    txl_dc, txl_lan = network(emu, location="de/txl")
    with client(emu, token) as c, client(emu, token, "/mariadb/de-txl/v2") as txl:
        clusters = mdb.ClustersApi(c)
        cluster = create(c, dc, lan).data
        # a PUT cannot ensure a cluster under an id a cluster of another location has
        there = mdb.ClusterEnsure(properties=properties(txl_dc, txl_lan, cls=mdb.Cluster))
        status, msg = refused(mdb.ClustersApi(txl).clusters_put, cluster.id, there)
        assert status == 409 and "de/fra" in msg
        emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {"mariadb.cluster": 30.0}})
        assert clusters.clusters_delete_with_http_info(cluster.id).status_code == 202
        first = clusters.clusters_find_by_id(cluster.id).metadata
        assert first.state == "DESTROYING"
        assert clusters.clusters_delete_with_http_info(cluster.id).status_code == 202
        again = clusters.clusters_find_by_id(cluster.id).metadata
        assert (again.state, again.last_modified_date) == ("DESTROYING", first.last_modified_date)


def test_validation_names_the_attribute_and_changes_nothing(api, emulator):
    clusters = mdb.ClustersApi(api)
    dc, lan = network(emulator)
    public_dc, public_lan = network(emulator, public=True)
    txl_dc, txl_lan = network(emulator, location="de/txl")
    before = len(clusters.clusters_get().items)
    cases = [
        (dict(address="10.233.1.5/24"), "primaryInstanceAddress"),  # a range the service keeps
        (dict(address="192.168.10.0/24"), "primaryInstanceAddress"),  # the network address
        (dict(address="192.168.10.7"), "primaryInstanceAddress"),  # no netmask
        (dict(version="9.9"), "properties.version"),
        (dict(username="admin"), "credentials.username"),
        (dict(database="mysql"), "credentials.database"),
        (dict(name="-bad-"), "properties.name"),
    ]
    for kw, attr in cases:
        status, msg = refused(create, api, dc, lan, **kw)
        assert status == 422 and attr in msg, (kw, msg)
    assert "public LAN" in refused(create, api, public_dc, public_lan)[1]
    assert "lanId" in refused(create, api, dc, "77")[1]
    assert "de/txl" in refused(create, api, txl_dc, txl_lan)[1]  # a data center of another location
    assert "datacenterId" in refused(create, api, str(uuid.uuid4()), lan)[1]
    # the SDK sends what the schema allows; the server checks the rest (a missing attribute)
    r = httpx.post(
        emulator.url + PREFIX + "/clusters",
        auth=OWNER,
        json={"properties": {"name": "x1", "instances": {"count": 1, "cores": 1, "ram": 4}}},
    )
    assert r.status_code == 422 and "storageSize" in r.json()["messages"][0]["message"]
    r = httpx.post(emulator.url + PREFIX + "/clusters", auth=OWNER, content=b"{nope")
    assert r.status_code == 400 and r.json()["httpStatus"] == 400
    assert len(clusters.clusters_get().items) == before
    # an address already used in the LAN, storage that shrinks, a downgrade
    first = create(api, dc, lan, address="192.168.10.20/24").data
    status, msg = refused(create, api, dc, lan, address="192.168.10.20/24")
    assert status == 422 and first.id in msg
    for kw, attr in ((dict(storage=10), "storageSize"), (dict(version="10.6"), "downgrades")):
        body = properties(dc, lan, address="192.168.10.20/24", cls=mdb.Cluster, **kw)
        status, msg = refused(clusters.clusters_put, first.id, mdb.ClusterEnsure(properties=body))
        assert status == 422 and attr in msg
    assert clusters.clusters_find_by_id(first.id).properties.instances.storage_size == 20


def test_restore_from_backup(api, emulator):
    clusters, backups = mdb.ClustersApi(api), mdb.BackupsApi(api)
    dc, lan = network(emulator)
    src = create(api, dc, lan, address="192.168.12.10/24").data
    backup = backups.backups_get(filter_cluster_id=src.id).items[0]
    assert backup.properties.cluster_id == src.id and backup.properties.latest_recovery_target_time is None
    assert backups.backups_find_by_id(backup.id).properties.earliest_recovery_target_time
    assert refused(backups.backups_find_by_id, str(uuid.uuid4()))[0] == 404
    now = datetime.now(timezone.utc)
    restore = mdb.MariadbRestoreClusterFromBackup(source_backup_id=backup.id, recovery_target_datetime=now)
    made = create(api, dc, lan, name="restored", address="192.168.12.11/24", restore_from_backup=restore).data
    assert clusters.clusters_find_by_id(made.id).metadata.state == "AVAILABLE"
    assert made.properties.restore_from_backup is None  # a one-time instruction, not a property
    # a backup that does not exist, a time outside its window, a downgrade from its version
    bad = mdb.MariadbRestoreClusterFromBackup(source_backup_id=str(uuid.uuid4()))
    assert "sourceBackupId" in refused(create, api, dc, lan, address="192.168.12.12/24", restore_from_backup=bad)[1]
    early = mdb.MariadbRestoreClusterFromBackup(
        source_backup_id=backup.id, recovery_target_datetime=now - timedelta(days=3)
    )
    assert (
        "recoveryTargetDatetime"
        in refused(create, api, dc, lan, address="192.168.12.12/24", restore_from_backup=early)[1]
    )
    older = mdb.MariadbRestoreClusterFromBackup(source_backup_id=backup.id)
    assert (
        "version"
        in refused(create, api, dc, lan, address="192.168.12.12/24", version="10.6", restore_from_backup=older)[1]
    )
    # in place: a PUT with only a point in time
    in_place = properties(
        dc,
        lan,
        address="192.168.12.10/24",
        cls=mdb.Cluster,
        restore_from_backup=mdb.MariadbRestoreClusterFromBackup(recovery_target_datetime=now),
    )
    assert clusters.clusters_put_with_http_info(src.id, mdb.ClusterEnsure(properties=in_place)).status_code == 200
    in_place.restore_from_backup = mdb.MariadbRestoreClusterFromBackup(
        source_backup_id=backup.id, recovery_target_datetime=now
    )
    assert "in-place" in refused(clusters.clusters_put, src.id, mdb.ClusterEnsure(properties=in_place))[1]


def test_versions_locations_and_paging(api):
    versions = mdb.VersionsApi(api).versions_get()
    names = [v.properties.version for v in versions.items]
    assert names == ["10.6", "10.11", "11.4"]
    assert mdb.VersionsApi(api).versions_find_by_id("10.6").properties.can_upgrade_to == ["10.11", "11.4"]
    assert refused(mdb.VersionsApi(api).versions_find_by_id, "5.5")[0] == 404
    locations = mdb.BackupLocationsApi(api)
    assert [x.properties.location for x in locations.backuplocations_get().items][0] == "de"
    assert locations.backuplocations_find_by_id("eu-south-2").id == "eu-south-2"
    page = mdb.VersionsApi(api).versions_get(offset=1, limit=1)
    assert [v.id for v in page.items] == ["10.11"] and page.links.next and page.links.prev
    assert page.offset == 1 and page.limit == 1


def test_auth_routing_and_privileges(emulator):
    url = emulator.url + PREFIX
    assert httpx.get(url + "/versions", auth=OWNER).status_code == 200  # Basic is accepted too
    r = httpx.get(url + "/clusters")
    assert r.status_code == 401 and r.json()["httpStatus"] == 401
    # the real regional host name routes to the same API (its path is just /v2/...)
    r = httpx.get(emulator.url + "/v2/backup-locations", auth=OWNER, headers={"Host": "mariadb.es-vit.ionos.com"})
    assert r.status_code == 200 and r.json()["href"].endswith("/backup-locations")
    r = httpx.get(url + f"/clusters/{uuid.uuid4()}", auth=OWNER)
    assert r.status_code == 404 and r.json()["messages"][0]["errorCode"]
    email, pw = f"ma-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        user = h.post(
            "/um/users",
            json={
                "properties": {
                    "firstname": "M",
                    "lastname": "D",
                    "email": email,
                    "password": pw,
                    "administrator": False,
                }
            },
        ).json()["id"]
        r = httpx.get(url + "/clusters", auth=(email, pw))
        assert r.status_code == 403 and "manageDBaaS" in r.json()["messages"][0]["message"]
        group = h.post(
            "/um/groups", json={"properties": {"name": f"maria-{uuid.uuid4().hex[:6]}", "manageDBaaS": True}}
        ).json()["id"]
        assert h.post(f"/um/groups/{group}/users", json={"id": user}).status_code == 202
    assert httpx.get(url + "/clusters", auth=(email, pw)).status_code == 200
    # the owner's data center is not the user's to connect to
    dc, lan = network(emulator)
    body = properties(dc, lan).to_dict()
    r = httpx.post(url + "/clusters", auth=(email, pw), json={"properties": body})
    assert r.status_code == 422 and "datacenterId" in r.json()["messages"][0]["message"]


# -- the real data plane ------------------------------------------------------------------------------


def mariadb_root():
    pymysql = pytest.importorskip("pymysql")
    try:
        return pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", autocommit=True, connect_timeout=2
        )
    except pymysql.err.MySQLError as e:
        pytest.skip(f"no MariaDB on 127.0.0.1:3306 ({e})")


def connect_as(user, password, database=None):
    import pymysql

    return pymysql.connect(
        host="127.0.0.1", port=3306, user=user, password=password, database=database, autocommit=True, connect_timeout=2
    )


def server_names(root):
    with root.cursor() as cur:
        cur.execute("SELECT User FROM mysql.user")
        users = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        return users, {r[0] for r in cur.fetchall()}


@pytest.fixture
def mariadb(make_emulator):
    """A private emulator on the machine's MariaDB; whatever its clusters made is gone afterwards."""
    root = mariadb_root()
    emu = make_emulator("mariadb-plane", env={"IONOS_EMULATOR_MARIADB_URL": MARIADB_URL})
    token = httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]
    made: list[str] = []
    with client(emu, token) as c:
        yield emu, c, root, made
        for cid in made:  # a failing test still drops what it made
            try:
                mdb.ClustersApi(c).clusters_delete(cid)
                mdb.ClustersApi(c).clusters_find_by_id(cid)
            except ApiException:
                pass
    with root.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ionos_emulator'")
        if cur.fetchone()[0]:
            cur.execute("SELECT COUNT(*) FROM ionos_emulator.owners")
            if cur.fetchone()[0] == 0:  # the books of emulators that still run elsewhere stay
                cur.execute("DROP DATABASE ionos_emulator")
    root.close()


def test_real_mariadb_user_and_database(mariadb):
    import pymysql

    emu, c, root, made = mariadb
    clusters = mdb.ClustersApi(c)
    tag = uuid.uuid4().hex[:6]
    user, db = f"u_{tag}", f"db_{tag}"
    dc, lan = network(emu)
    # the user and database appear when the cluster becomes AVAILABLE, not before
    emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {"mariadb.cluster": 1.0}})
    try:
        cluster = create(c, dc, lan, username=user, database=db, address="192.168.20.10/24").data
        made.append(cluster.id)
        assert clusters.clusters_find_by_id(cluster.id).metadata.state == "PROVISIONING"
        assert user not in server_names(root)[0]
        assert mdb.BackupsApi(c).backups_get(filter_cluster_id=cluster.id).items == []
        deadline = time.monotonic() + 10
        while clusters.clusters_find_by_id(cluster.id).metadata.state == "PROVISIONING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        emu.admin("PUT", "timing", json={"profile": "instant"})
    got = clusters.clusters_find_by_id(cluster.id)
    assert got.metadata.state == "AVAILABLE", got.metadata
    assert user in server_names(root)[0]
    assert (got.properties.credentials.username, got.properties.credentials.database) == (user, db)
    # MariaDB checks the password; the user owns its database and reaches nothing else
    with pytest.raises(pymysql.err.OperationalError):
        connect_as(user, "wrong-password", db)
    with connect_as(user, PASSWORD, db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20))")
        cur.execute("INSERT INTO orders VALUES (1, 'book'), (2, 'pen')")
        with pytest.raises(pymysql.err.OperationalError):
            cur.execute("SELECT * FROM mysql.user")
        with pytest.raises(pymysql.err.OperationalError):
            cur.execute("CREATE DATABASE elsewhere_x")
    # a PUT with a new password changes the real user's
    body = properties(dc, lan, username=user, database=db, address="192.168.20.10/24", cls=mdb.Cluster)
    body.credentials.password = "An0ther-Secret"
    clusters.clusters_put(cluster.id, mdb.ClusterEnsure(properties=body))
    assert clusters.clusters_find_by_id(cluster.id).metadata.state == "AVAILABLE"
    with pytest.raises(pymysql.err.OperationalError):
        connect_as(user, PASSWORD, db)
    connect_as(user, "An0ther-Secret", db).close()
    # a cluster restored from the backup gets the source's tables and rows
    backup = mdb.BackupsApi(c).backups_get(filter_cluster_id=cluster.id).items[0]
    copy = create(
        c,
        dc,
        lan,
        username=f"c_{tag}",
        database=f"copy_{tag}",
        address="192.168.20.11/24",
        restore_from_backup=mdb.MariadbRestoreClusterFromBackup(source_backup_id=backup.id),
    ).data
    made.append(copy.id)
    assert clusters.clusters_find_by_id(copy.id).metadata.state == "AVAILABLE"
    with connect_as(f"c_{tag}", PASSWORD, f"copy_{tag}") as conn, conn.cursor() as cur:
        cur.execute("SELECT item FROM orders ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["book", "pen"]
    # deleting drops the user and the database
    clusters.clusters_delete(cluster.id)
    assert refused(clusters.clusters_find_by_id, cluster.id)[0] == 404
    users, dbs = server_names(root)
    assert user not in users and db not in dbs
    assert f"c_{tag}" in users and f"copy_{tag}" in dbs


def test_real_mariadb_keeps_what_it_does_not_own(mariadb):
    """A name the server already has is not taken over: the cluster gets a suffixed one and shows it."""
    emu, c, root, made = mariadb
    tag = uuid.uuid4().hex[:6]
    theirs = f"own_{tag}"
    with root.cursor() as cur:
        cur.execute(f"CREATE DATABASE {theirs}")
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY 'Th31r-Password'", (theirs,))
    try:
        dc, lan = network(emu)
        cluster = create(c, dc, lan, username=theirs, database=theirs, address="192.168.21.10/24").data
        made.append(cluster.id)
        creds = mdb.ClustersApi(c).clusters_find_by_id(cluster.id).properties.credentials
        short = cluster.id.replace("-", "")[:8]
        assert creds.username == f"{theirs[:7]}_{short}" and creds.database == f"{theirs}_{short}"
        connect_as(creds.username, PASSWORD, creds.database).close()
        connect_as(theirs, "Th31r-Password").close()  # their password is untouched
        mdb.ClustersApi(c).clusters_delete(cluster.id)
        assert refused(mdb.ClustersApi(c).clusters_find_by_id, cluster.id)[0] == 404  # the next call settles it
        users, dbs = server_names(root)
        assert theirs in users and theirs in dbs and creds.username not in users and creds.database not in dbs
    finally:
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {theirs}")
            cur.execute("DROP USER IF EXISTS %s@'%%'", (theirs,))


def test_unreachable_mariadb_fails_the_cluster(make_emulator):
    emu = make_emulator("mariadb-down", env={"IONOS_EMULATOR_MARIADB_URL": "mysql://root@127.0.0.1:1"})
    token = httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]
    dc, lan = network(emu)
    with client(emu, token) as c:
        cluster = create(c, dc, lan).data
        got = mdb.ClustersApi(c).clusters_find_by_id(cluster.id)
        assert got.metadata.state == "FAILED" and "data plane" in got.metadata.status_message
        mdb.ClustersApi(c).clusters_delete(cluster.id)  # a failed cluster can still be deleted
        assert refused(mdb.ClustersApi(c).clusters_find_by_id, cluster.id)[0] == 404


def test_change_pending_at_a_restart_completes_afterwards(mariadb):
    """A data-plane change still queued when the process stops completes in the next one (never a 500)."""
    emu, c, root, made = mariadb
    emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {"mariadb.cluster": 1.5}})
    dc, lan = network(emu)
    cluster = create(c, dc, lan, name="restart", username="restart_user").data
    made.append(cluster.id)
    emu.stop()
    emu.start()
    deadline = time.time() + 15
    state = None
    while time.time() < deadline:
        r = httpx.get(f"{emu.url}{PREFIX}/clusters/{cluster.id}", auth=OWNER)
        assert r.status_code == 200, r.text
        state = r.json()["metadata"]["state"]
        if state == "AVAILABLE":
            break
        time.sleep(0.1)
    assert state == "AVAILABLE"
    users, _ = server_names(root)
    assert any(u.startswith("restart_user") for u in users)
