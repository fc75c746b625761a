"""End-to-end: DBaaS In-Memory DB (API 2.0.0) through the unmodified `ionoscloud_dbaas_inmemorydb` SDK against a
strict emulator: clusters with a pre-hashed password connected to a Cloud API data center and LAN, PUT
ensure, snapshots and restores, snapshot locations and versions; httpx for Basic auth, real-host routing,
privileges and error envelopes; and the real data plane on the machine's Redis (127.0.0.1:6379), reached with
redis-py as the created ACL user."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import ionoscloud_dbaas_inmemorydb as imdb
import pytest
from ionoscloud_dbaas_inmemorydb.exceptions import ApiException

from support import OWNER, bearer, datacenter_with_lan, refused

PREFIX = "/inmemorydb/de-fra/v2"
REDIS_URL = "redis://127.0.0.1:6379"
PASSWORD = "Sup3rSecret!"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


def client(emu, token, prefix=PREFIX):
    return imdb.ApiClient(imdb.Configuration(host=emu.url + prefix, token=token))


@pytest.fixture
def api(emulator, token):
    with client(emulator, token) as c:
        yield c


def network(emu, location="de/fra", public=False):
    return datacenter_with_lan(emu, location, public)


def properties(
    dc,
    lan,
    *,
    name="sessions",
    address="192.168.30.10/24",
    version="7.2",
    username="web",
    password=PASSWORD,
    ram=4,
    cls=imdb.ClusterCreateProperties,
    **extra,
):
    return cls(
        name=name,
        version=version,
        instances=imdb.InstanceConfiguration(count=1, cores=1, ram=ram),
        connection=imdb.ClusterConnection(datacenter_id=dc, lan_id=lan, primary_instance_address=address),
        credentials=imdb.User(
            username=username, password=imdb.HashedPassword(algorithm="SHA-256", hash=sha256(password))
        ),
        **extra,
    )


def create(c, dc, lan, **kw):
    return imdb.ClustersApi(c).clusters_post_with_http_info(imdb.ClusterCreate(properties=properties(dc, lan, **kw)))


def from_snapshot(snapshot_id=None, when=None):
    inner = (
        imdb.RestoreClusterFromSnapshot(source_snapshot_id=snapshot_id, recovery_target_datetime=when)
        if snapshot_id
        else imdb.InPlaceRestoreClusterFromSnapshot(recovery_target_datetime=when)
    )
    return imdb.ClusterRestoreFromSnapshot(inner)


def test_cluster_lifecycle_and_snapshots(api, emulator):
    clusters, snapshots = imdb.ClustersApi(api), imdb.SnapshotsApi(api)
    dc, lan = network(emulator)
    made = create(
        api,
        dc,
        lan,
        persistence_mode="AOF",
        eviction_policy="allkeys-lru",
        snapshot=imdb.SnapshotConfiguration(location="eu-central-3", retention_days=3, snapshot_hours=[6, 0]),
    )
    assert made.status_code == 201
    c = made.data
    assert c.metadata.state == "PROVISIONING" and c.href == f"{emulator.url}{PREFIX}/clusters/{c.id}"
    got = clusters.clusters_find_by_id(c.id)
    assert got.metadata.state == "AVAILABLE" and got.metadata.dns_name == f"{c.id}.in-memory-db.de-fra.ionos.com"
    assert got.properties.credentials.username == "web" and got.properties.credentials.password is None
    assert (got.properties.persistence_mode, got.properties.eviction_policy) == ("AOF", "allkeys-lru")
    assert got.properties.snapshot.snapshot_hours == [0, 6] and got.properties.snapshot.retention_days == 3
    assert [x.id for x in clusters.clusters_get(filter_name="sessions").items] == [c.id]
    # one snapshot series per cluster, from the moment it became AVAILABLE
    snap = snapshots.snapshots_get(filter_cluster_id=c.id).items
    assert len(snap) == 1 and snap[0].properties.datacenter_id == dc and snap[0].properties.location == "eu-central-3"
    assert snap[0].properties.latest_recovery_target_time is None and snap[0].properties.cluster_version == "7.2"
    assert snapshots.snapshots_find_by_id(snap[0].id).properties.required_size_for_restore == 4
    # PUT: more RAM and an upgrade (a new snapshot series); less RAM or a downgrade is refused
    bigger = properties(dc, lan, ram=8, version="9.0", cls=imdb.Cluster)
    put = clusters.clusters_put_with_http_info(c.id, imdb.ClusterEnsure(properties=bigger))
    assert put.status_code == 200 and put.data.metadata.state == "UPDATING"
    assert clusters.clusters_find_by_id(c.id).properties.instances.ram == 8
    assert len(snapshots.snapshots_get(filter_cluster_id=c.id).items) == 2
    for kw, attr in ((dict(ram=4, version="9.0"), "instances.ram"), (dict(ram=8, version="7.2"), "version")):
        status, msg = refused(
            clusters.clusters_put, c.id, imdb.ClusterEnsure(properties=properties(dc, lan, cls=imdb.Cluster, **kw))
        )
        assert status == 422 and attr in msg
    # restore from the first series into a new cluster in the same data center; in place with a time only
    now = datetime.now(timezone.utc)
    first = snapshots.snapshots_find_by_id(snap[0].id).properties  # closed by the upgrade
    assert first.earliest_recovery_target_time <= first.latest_recovery_target_time <= now
    with pytest.raises(ApiException):  # after its window
        create(
            api,
            dc,
            lan,
            name="copy",
            address="192.168.30.11/24",
            version="9.0",
            restore_from_snapshot=from_snapshot(snap[0].id, now + timedelta(seconds=1)),
        )
    restored = create(
        api,
        dc,
        lan,
        name="copy",
        address="192.168.30.11/24",
        version="9.0",
        restore_from_snapshot=from_snapshot(snap[0].id, first.latest_recovery_target_time),
    ).data
    assert clusters.clusters_find_by_id(restored.id).metadata.state == "AVAILABLE"
    other_dc, other_lan = network(emulator)
    elsewhere = from_snapshot(snap[0].id)  # snapshots stay in their data center
    assert "datacenterId" in refused(create, api, other_dc, other_lan, restore_from_snapshot=elsewhere)[1]
    latest = next(s for s in snapshots.snapshots_get(filter_cluster_id=c.id).items if s.id != snap[0].id)
    assert (
        "ram"
        in refused(
            create,
            api,
            dc,
            lan,
            address="192.168.30.12/24",
            version="9.0",
            ram=4,
            restore_from_snapshot=from_snapshot(latest.id),
        )[1]
    )  # it needs 8 GB
    early = from_snapshot(snap[0].id, now - timedelta(days=2))
    assert (
        "recoveryTargetDatetime"
        in refused(create, api, dc, lan, address="192.168.30.12/24", restore_from_snapshot=early)[1]
    )
    in_place = properties(
        dc, lan, ram=8, version="9.0", cls=imdb.Cluster, restore_from_snapshot=from_snapshot(when=now)
    )
    assert clusters.clusters_put_with_http_info(c.id, imdb.ClusterEnsure(properties=in_place)).status_code == 200
    # delete: 202, then 404; the snapshots stay, closed
    assert clusters.clusters_delete_with_http_info(c.id).status_code == 202
    assert refused(clusters.clusters_find_by_id, c.id)[0] == 404
    assert all(s.properties.latest_recovery_target_time for s in snapshots.snapshots_get(filter_cluster_id=c.id).items)


def test_put_ensure_and_validation(api, emulator):
    clusters = imdb.ClustersApi(api)
    dc, lan = network(emulator)
    cid = str(uuid.uuid4())
    body = imdb.ClusterEnsure(properties=properties(dc, lan, address="192.168.31.5/24", cls=imdb.Cluster))
    assert clusters.clusters_put_with_http_info(cid, body).status_code == 201
    assert clusters.clusters_put_with_http_info(cid, body).status_code == 200
    before = len(clusters.clusters_get().items)
    cases = [
        (dict(username="default"), "credentials.username"),
        (dict(username="has-dash"), "credentials.username"),
        (dict(address="10.212.3.4/24"), "primaryInstanceAddress"),
        (dict(address="192.168.31.5/24"), cid),  # taken in this LAN
        (dict(version="6.0"), "properties.version"),
    ]
    for kw, attr in cases:
        status, msg = refused(create, api, dc, lan, **kw)
        assert status == 422 and attr in msg, (kw, msg)
    # the hash must be SHA-256 as 64 lower-case hex digits (the SDK checks only the length)
    creds = {"username": "web", "password": {"algorithm": "SHA-256", "hash": sha256("x").upper()}}
    props = properties(dc, lan, address="192.168.31.6/24").to_dict() | {"credentials": creds}
    r = httpx.post(emulator.url + PREFIX + "/clusters", auth=OWNER, json={"properties": props})
    assert r.status_code == 422 and "password.hash" in r.json()["messages"][0]["message"]
    props["credentials"] = {"username": "web", "password": {"algorithm": "MD5", "hash": sha256("x")}}
    r = httpx.post(emulator.url + PREFIX + "/clusters", auth=OWNER, json={"properties": props})
    assert r.status_code == 422 and "algorithm" in r.json()["messages"][0]["message"]
    r = httpx.post(
        emulator.url + PREFIX + "/clusters",
        auth=OWNER,
        json={"properties": {"name": "n1", "evictionPolicy": "sometimes"}},
    )
    assert r.status_code == 422 and "evictionPolicy" in r.json()["messages"][0]["message"]
    assert len(clusters.clusters_get().items) == before
    # the username is fixed; the password may change
    renamed = properties(dc, lan, address="192.168.31.5/24", username="other", cls=imdb.Cluster)
    assert "credentials.username" in refused(clusters.clusters_put, cid, imdb.ClusterEnsure(properties=renamed))[1]
    clusters.clusters_delete(cid)


def test_catalogue_routing_and_privileges(api, emulator):
    assert [v.properties.version for v in imdb.VersionsApi(api).versions_get().items] == ["7.2", "9.0"]
    assert imdb.VersionsApi(api).versions_find_by_id("7.2").properties.can_upgrade_to == ["9.0"]
    locations = imdb.SnapshotLocationsApi(api)
    assert "eu-central-3" in [x.id for x in locations.snapshotlocations_get().items]
    assert refused(locations.snapshotlocations_find_by_id, "mars")[0] == 404
    assert refused(imdb.SnapshotsApi(api).snapshots_find_by_id, str(uuid.uuid4()))[0] == 404
    url = emulator.url + PREFIX
    assert httpx.get(url + "/clusters").status_code == 401
    assert httpx.get(url + "/clusters", auth=OWNER).status_code == 200  # Basic is accepted too
    r = httpx.get(emulator.url + "/v2/versions", auth=OWNER, headers={"Host": "in-memory-db.us-las.ionos.com"})
    # on the real host, the href keeps that host's own path, so a client following it comes back here
    assert r.status_code == 200 and r.json()["href"] == "http://in-memory-db.us-las.ionos.com/v2/versions"
    email, pw = f"im-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        h.post(
            "/um/users",
            json={
                "properties": {
                    "firstname": "I",
                    "lastname": "M",
                    "email": email,
                    "password": pw,
                    "administrator": False,
                }
            },
        )
    r = httpx.get(url + "/snapshots", auth=(email, pw))
    assert r.status_code == 403 and "manageDBaaS" in r.json()["messages"][0]["message"]


# -- the real data plane ------------------------------------------------------------------------------


def redis_admin():
    redis = pytest.importorskip("redis")
    r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({e})")
    return r


def redis_as(user, password):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        host="127.0.0.1",
        port=6379,
        username=user,
        password=password,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )  # a refused password is final


@pytest.fixture
def redis_plane(make_emulator):
    """A private emulator on the machine's Redis; whatever its clusters made is gone afterwards."""
    admin = redis_admin()
    emu = make_emulator("redis-plane", env={"IONOS_EMULATOR_REDIS_URL": REDIS_URL})
    token = httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]
    made: list[str] = []
    with client(emu, token) as c:
        yield emu, c, admin, made
        for cid in made:
            try:
                imdb.ClustersApi(c).clusters_delete(cid)
                imdb.ClustersApi(c).clusters_find_by_id(cid)
            except ApiException:
                pass
    admin.close()


def test_real_redis_acl_user_and_prefix(redis_plane):
    import redis

    emu, c, admin, made = redis_plane
    clusters = imdb.ClustersApi(c)
    user = f"u_{uuid.uuid4().hex[:8]}"
    admin.set(f"outside_{user}", "not yours")
    try:
        dc, lan = network(emu)
        cluster = create(c, dc, lan, username=user, address="192.168.40.10/24").data
        made.append(cluster.id)
        assert clusters.clusters_find_by_id(cluster.id).metadata.state == "AVAILABLE"
        with pytest.raises(redis.AuthenticationError):
            redis_as(user, "wrong").ping()
        r = redis_as(user, PASSWORD)
        assert r.set(f"{user}:cart", "3 books") and r.get(f"{user}:cart") == b"3 books"
        r.hset(f"{user}:profile", mapping={"name": "Ada"})
        for call in (
            lambda: r.get(f"outside_{user}"),
            lambda: r.set("elsewhere", 1),
            lambda: r.flushall(),
            lambda: r.config_get("*"),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                call()
        assert f"{user}:cart".encode() in r.keys(f"{user}:*")  # KEYS stays allowed
        r.close()
        # a new password hash (PUT) replaces the old password
        body = properties(
            dc, lan, username=user, password="An0ther-Secret", address="192.168.40.10/24", cls=imdb.Cluster
        )
        clusters.clusters_put(cluster.id, imdb.ClusterEnsure(properties=body))
        assert clusters.clusters_find_by_id(cluster.id).metadata.state == "AVAILABLE"
        with pytest.raises(redis.AuthenticationError):
            redis_as(user, PASSWORD).ping()
        assert redis_as(user, "An0ther-Secret").get(f"{user}:cart") == b"3 books"
        # a restore copies the source cluster's keys under the new user's prefix
        snap = imdb.SnapshotsApi(c).snapshots_get(filter_cluster_id=cluster.id).items[0]
        copy_user = f"c_{uuid.uuid4().hex[:8]}"
        copy = create(
            c, dc, lan, username=copy_user, address="192.168.40.11/24", restore_from_snapshot=from_snapshot(snap.id)
        ).data
        made.append(copy.id)
        assert clusters.clusters_find_by_id(copy.id).metadata.state == "AVAILABLE"
        assert redis_as(copy_user, PASSWORD).hget(f"{copy_user}:profile", "name") == b"Ada"
        # deleting removes the user and its keys, and nothing else
        clusters.clusters_delete(cluster.id)
        assert refused(clusters.clusters_find_by_id, cluster.id)[0] == 404
        assert user not in admin.acl_users() and not admin.keys(f"{user}:*")
        assert admin.get(f"outside_{user}") == b"not yours" and admin.exists(f"{copy_user}:cart")
    finally:
        admin.delete(f"outside_{user}")


def test_real_redis_keeps_what_it_does_not_own(redis_plane):
    emu, c, admin, made = redis_plane
    theirs = f"o_{uuid.uuid4().hex[:8]}"
    admin.execute_command("ACL", "SETUSER", theirs, "on", ">their-pass", "~*", "+@read")
    try:
        dc, lan = network(emu)
        cluster = create(c, dc, lan, username=theirs, address="192.168.41.10/24").data
        made.append(cluster.id)
        shown = imdb.ClustersApi(c).clusters_find_by_id(cluster.id).properties.credentials.username
        assert shown == f"{theirs[:7]}_{cluster.id.replace('-', '')[:8]}"
        assert redis_as(shown, PASSWORD).set(f"{shown}:k", 1)
        assert redis_as(theirs, "their-pass").get(f"{shown}:k") == b"1"  # their password still works
        imdb.ClustersApi(c).clusters_delete(cluster.id)
        assert refused(imdb.ClustersApi(c).clusters_find_by_id, cluster.id)[0] == 404
        assert theirs in admin.acl_users() and shown not in admin.acl_users()
    finally:
        admin.acl_deluser(theirs)


def test_unreachable_redis_fails_the_cluster(make_emulator):
    emu = make_emulator("redis-down", env={"IONOS_EMULATOR_REDIS_URL": "redis://127.0.0.1:1"})
    token = httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]
    dc, lan = network(emu)
    with client(emu, token) as c:
        cluster = create(c, dc, lan).data
        got = imdb.ClustersApi(c).clusters_find_by_id(cluster.id)
        assert got.metadata.state == "FAILED" and "data plane" in got.metadata.status_message
