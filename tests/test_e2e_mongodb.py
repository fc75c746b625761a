"""End-to-end: DBaaS MongoDB (control plane) through the unmodified `ionoscloud_dbaas_mongo` SDK against a
strict emulator: clusters connected to a Cloud API data center and LAN, users, snapshots, restores, logs,
templates and API versions; httpx for Basic auth, real-host routing, privileges and error envelopes."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import ionoscloud_dbaas_mongo as mongo
import pytest
from ionoscloud_dbaas_mongo.rest import ApiException

from support import OWNER, bearer, datacenter_with_lan

PREFIX = "/databases/mongodb"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


def mongo_client(emu, token=None, user=None, password=None):
    return mongo.ApiClient(mongo.Configuration(host=emu.url + PREFIX, token=token, username=user, password=password))


@pytest.fixture
def api(emulator, token):
    with mongo_client(emulator, token) as c:
        yield c


def network(emu, location="de/fra", public=False, auth=OWNER):
    return datacenter_with_lan(emu, location, public, auth)


def template_id(c, edition="business", name=None):
    items = mongo.TemplatesApi(c).templates_get().items
    return next(t.id for t in items if t.properties.edition == edition and (name is None or t.properties.name == name))


def cluster_request(
    c, dc, lan, *, instances=1, ips=None, location="de/fra", name="orders", template=None, version="6.0"
):
    ips = ips or [f"192.168.7.{10 + i}/24" for i in range(instances)]
    return mongo.CreateClusterRequest(
        properties=mongo.CreateClusterProperties(
            display_name=name,
            mongo_db_version=version,
            location=location,
            instances=instances,
            template_id=template or template_id(c),
            connections=[mongo.Connection(datacenter_id=dc, lan_id=lan, cidr_list=ips)],
            maintenance_window=mongo.MaintenanceWindow(day_of_the_week="Sunday", time="03:30:00"),
        )
    )


def new_cluster(c, emu, **kw):
    dc, lan = network(emu)
    return mongo.ClustersApi(c).clusters_post(cluster_request(c, dc, lan, **kw)), dc, lan


def error_of(exc: ApiException) -> tuple[int, str]:
    body = json.loads(exc.body)
    assert body["httpStatus"] == exc.status and isinstance(body["messages"][0]["errorCode"], str)
    return exc.status, body["messages"][0]["message"]


def refused(call, *args) -> tuple[int, str]:
    with pytest.raises(ApiException) as e:
        call(*args)
    return error_of(e.value)


def test_cluster_create_read_scale_delete(api, emulator):
    clusters = mongo.ClustersApi(api)
    dc, lan = network(emulator)
    created, status, _ = clusters.clusters_post_with_http_info(cluster_request(api, dc, lan, name="Orders DB"))
    assert status == 200
    assert created.metadata.state == "BUSY" and created.metadata.health == "UNKNOWN"
    p = created.properties
    assert (p.display_name, p.location, p.instances, p.mongo_db_version) == ("Orders DB", "de/fra", 1, "6.0")
    assert p.connection_string == f"mongodb+srv://m-{created.id}.mongodb.de-fra.ionos.com"
    assert p.connections[0].datacenter_id == dc and p.connections[0].lan_id == lan
    assert p.maintenance_window.day_of_the_week == "Sunday" and p.maintenance_window.time == "03:30:00"
    # instant timing: done by the first read
    got = clusters.clusters_find_by_id(created.id)
    assert got.metadata.state == "AVAILABLE" and got.metadata.health == "HEALTHY"
    assert got.metadata.created_date.tzinfo is not None and got.metadata.created_by == OWNER[0]
    # filter.name matches the display name, case-insensitively
    assert created.id in [x.id for x in clusters.clusters_get(filter_name="orders db").items]
    assert created.id not in [x.id for x in clusters.clusters_get(filter_name="nothing-like-it").items]
    # scaling 1 -> 3 needs an address per instance; a bigger template of the same edition is allowed
    bigger = template_id(api, name="MongoDB Business S")
    patched = clusters.clusters_patch(
        created.id,
        mongo.PatchClusterRequest(
            properties=mongo.PatchClusterProperties(
                display_name="orders-3",
                instances=3,
                template_id=bigger,
                connections=[
                    mongo.Connection(
                        datacenter_id=dc,
                        lan_id=lan,
                        cidr_list=["192.168.7.10/24", "192.168.7.11/24", "192.168.7.12/24"],
                    )
                ],
            )
        ),
    )
    assert patched.metadata.state == "BUSY" and patched.properties.instances == 3
    got = clusters.clusters_find_by_id(created.id)
    assert got.metadata.state == "AVAILABLE" and got.properties.display_name == "orders-3"
    assert got.properties.template_id == bigger and len(got.properties.connections[0].cidr_list) == 3
    deleted, status, _ = clusters.clusters_delete_with_http_info(created.id)
    assert status == 200 and deleted.metadata.state == "DESTROYING" and deleted.id == created.id
    assert refused(clusters.clusters_find_by_id, created.id)[0] == 404
    assert created.id not in [x.id for x in clusters.clusters_get().items]


def test_create_is_validated_and_changes_nothing(api, emulator):
    clusters = mongo.ClustersApi(api)
    dc, lan = network(emulator)
    before = len(clusters.clusters_get().items)
    cases = [
        (dict(template="no-such-template"), "properties.templateID"),
        (dict(instances=2), "properties.instances"),
        (dict(instances=3, template=template_id(api, "playground")), "properties.instances"),
        (dict(version="3.6"), "properties.mongoDBVersion"),
        (dict(location="us/las"), "properties.location"),
        (dict(location="de/txl"), "properties.connections[0].datacenterId"),  # the data center is in de/fra
        (dict(ips=["192.168.7.10/24", "192.168.7.11/24"]), "properties.connections[0].cidrList"),
        (dict(ips=["192.168.7.10/16"]), "properties.connections[0].cidrList[0]"),
        (dict(ips=["10.233.114.5/24"]), "properties.connections[0].cidrList[0]"),
        (dict(ips=["not-an-ip"]), "properties.connections[0].cidrList[0]"),
        (dict(name=" "), "properties.displayName"),
    ]
    for kw, attr in cases:
        status, msg = refused(clusters.clusters_post, cluster_request(api, dc, lan, **kw))
        assert status == 422 and f"'{attr}'" in msg, (kw, msg)
    status, msg = refused(clusters.clusters_post, cluster_request(api, str(uuid.uuid4()), lan))
    assert status == 422 and "datacenterId" in msg
    status, msg = refused(clusters.clusters_post, cluster_request(api, dc, "7"))
    assert status == 422 and "lanId" in msg
    public_dc, public_lan = network(emulator, public=True)
    status, msg = refused(clusters.clusters_post, cluster_request(api, public_dc, public_lan))
    assert status == 422 and "public LAN" in msg
    assert len(clusters.clusters_get().items) == before
    # an address another cluster uses in the same LAN is taken
    clusters.clusters_post(cluster_request(api, dc, lan, ips=["192.168.7.50/24"]))
    status, msg = refused(clusters.clusters_post, cluster_request(api, dc, lan, ips=["192.168.7.50/24"]))
    assert status == 422 and "192.168.7.50" in msg and "'properties.connections[0].cidrList'" in msg
    # the schema's required attributes and types, in the IONOS envelope
    with httpx.Client(base_url=emulator.url + PREFIX, auth=OWNER) as h:
        r = h.post("/clusters", json={"properties": {"displayName": "x", "instances": "three"}})
        assert r.status_code == 422 and "properties" in r.json()["messages"][0]["message"]
        r = h.post("/clusters", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["httpStatus"] == 400


def test_patch_rules(api, emulator):
    clusters = mongo.ClustersApi(api)
    c, dc, lan = new_cluster(api, emulator, instances=3)
    patch = lambda **kw: clusters.clusters_patch(
        c.id, mongo.PatchClusterRequest(properties=mongo.PatchClusterProperties(**kw))
    )
    status, msg = refused(lambda: patch(instances=1))
    assert status == 422 and "'properties.instances'" in msg
    status, msg = refused(lambda: patch(template_id=template_id(api, "playground")))
    assert status == 422 and "'properties.templateID'" in msg
    # location and version cannot be changed through PATCH
    with httpx.Client(base_url=emulator.url + PREFIX, auth=OWNER) as h:
        r = h.patch(f"/clusters/{c.id}", json={"properties": {"location": "de/txl"}})
        assert r.status_code == 422 and "'properties.location'" in r.json()["messages"][0]["message"]
    window = mongo.MaintenanceWindow(day_of_the_week="Friday", time="25:00:00")
    status, msg = refused(lambda: patch(maintenance_window=window))
    assert status == 422 and "maintenanceWindow.time" in msg
    assert clusters.clusters_find_by_id(c.id).properties.maintenance_window.day_of_the_week == "Sunday"
    # an upgrade to a bigger template is allowed (the real catalogue has no enterprise templates)
    bigger = template_id(api, name="MongoDB Business 4XL")
    assert patch(template_id=bigger).properties.template_id == bigger


def test_users(api, emulator):
    c, _, _ = new_cluster(api, emulator)
    users = mongo.UsersApi(api)
    made = users.clusters_users_post(
        c.id,
        mongo.User(
            properties=mongo.UserProperties(
                username="app",
                password="s3cret-passw0rd",
                roles=[
                    mongo.UserRoles(role="readWrite", database="orders"),
                    mongo.UserRoles(role="readAnyDatabase", database="admin"),
                ],
            )
        ),
    )
    assert made.type == "user" and made.properties.username == "app" and made.properties.password is None
    assert [(r.role, r.database) for r in made.properties.roles] == [
        ("readWrite", "orders"),
        ("readAnyDatabase", "admin"),
    ]
    assert made.metadata.created_by == OWNER[0]
    got = users.clusters_users_find_by_id(c.id, "app")
    assert got.properties.username == "app" and got.properties.password is None
    assert [u.properties.username for u in users.clusters_users_get(c.id).items] == ["app"]
    # duplicate names, short passwords and cluster-wide roles outside admin are refused
    status, msg = refused(
        users.clusters_users_post,
        c.id,
        mongo.User(properties=mongo.UserProperties(username="app", password="another-passw0rd")),
    )
    assert status == 422 and "username" in msg
    status, msg = refused(
        users.clusters_users_post, c.id, mongo.User(properties=mongo.UserProperties(username="short", password="tiny"))
    )
    assert status == 422 and "password" in msg
    status, msg = refused(
        users.clusters_users_post,
        c.id,
        mongo.User(
            properties=mongo.UserProperties(
                username="mon", password="s3cret-passw0rd", roles=[mongo.UserRoles(role="clusterMonitor", database="x")]
            )
        ),
    )
    assert status == 422 and "roles[0].database" in msg
    patched = users.clusters_users_patch(
        c.id,
        "app",
        mongo.PatchUserRequest(
            properties=mongo.PatchUserProperties(
                roles=[mongo.UserRoles(role="read", database="orders")], password="n3w-passw0rd!"
            )
        ),
    )
    assert [(r.role, r.database) for r in patched.properties.roles] == [("read", "orders")]
    deleted = users.clusters_users_delete(c.id, "app")
    assert deleted.properties.username == "app"
    assert refused(users.clusters_users_find_by_id, c.id, "app")[0] == 404
    assert refused(users.clusters_users_get, str(uuid.uuid4()))[0] == 404
    # the users go with their cluster
    users.clusters_users_post(
        c.id, mongo.User(properties=mongo.UserProperties(username="temp", password="s3cret-passw0rd"))
    )
    mongo.ClustersApi(api).clusters_delete(c.id)
    assert refused(users.clusters_users_find_by_id, c.id, "temp")[0] == 404


def test_snapshots_restore_and_logs(api, emulator):
    c, _, _ = new_cluster(api, emulator, instances=3, version="5.0")
    other, _, _ = new_cluster(api, emulator, name="other")
    snaps = mongo.SnapshotsApi(api).clusters_snapshots_get(c.id)
    assert len(snaps.items) == 1 and snaps.items[0].type == "snapshot"
    snap = snaps.items[0]
    assert snap.properties.version == "5.0" and snap.properties.size > 0 and snap.properties.creation_time.tzinfo
    restores = mongo.RestoresApi(api)
    _, status, _ = restores.clusters_restore_post_with_http_info(c.id, mongo.CreateRestoreRequest(snapshot_id=snap.id))
    assert status == 202
    assert mongo.ClustersApi(api).clusters_find_by_id(c.id).metadata.state == "AVAILABLE"
    # a snapshot of another cluster does not restore this one
    foreign = mongo.SnapshotsApi(api).clusters_snapshots_get(other.id).items[0].id
    assert refused(restores.clusters_restore_post, c.id, mongo.CreateRestoreRequest(snapshot_id=foreign))[0] == 404
    # one log stream per instance, lines with Z timestamps, newest first by default
    logs_api = mongo.LogsApi(api)
    out = logs_api.clusters_logs_get(c.id)
    assert [i.name for i in out.instances] == [f"mongodb-{c.id[:8]}-{n}" for n in range(3)]
    lines = out.instances[0].messages
    assert lines and all(m.time.tzinfo is not None for m in lines)
    assert [m.time for m in lines] == sorted((m.time for m in lines), reverse=True)
    first = logs_api.clusters_logs_get(c.id, direction="FORWARD", limit=2).instances[0].messages
    assert len(first) == 2 and json.loads(first[0].message)["msg"] == "MongoDB starting"
    assert json.loads(first[1].message)["attr"]["buildInfo"]["version"].startswith("5.0.")
    # the window and its bounds
    now = datetime.now(timezone.utc)
    assert logs_api.clusters_logs_get(c.id, end=now - timedelta(days=1)).instances[0].messages == []
    status, msg = refused(lambda: logs_api.clusters_logs_get(c.id, start=now - timedelta(days=40)))
    assert status == 422 and "start" in msg
    status, msg = refused(lambda: logs_api.clusters_logs_get(c.id, start=now, end=now - timedelta(hours=1)))
    assert status == 422 and "start" in msg
    status, msg = refused(lambda: logs_api.clusters_logs_get(c.id, limit=6000))
    assert status == 422 and "limit" in msg


def test_realistic_timing_shows_busy_states(make_emulator):
    emu = make_emulator("mongo-timing")
    timing = {"profile": "instant", "overrides": {"mongodb.cluster": 0.6}}  # seconds a cluster change takes
    assert emu.admin("PUT", "timing", json=timing).status_code == 200
    tok = httpx.get(emu.auth + "/tokens/generate", auth=OWNER).json()["token"]
    with mongo_client(emu, tok) as c:
        clusters = mongo.ClustersApi(c)
        made, dc, lan = new_cluster(c, emu)
        got = clusters.clusters_find_by_id(made.id)
        assert got.metadata.state == "BUSY" and got.metadata.health == "UNKNOWN"
        # nothing runs yet: no snapshots, no log lines, no changes
        assert mongo.SnapshotsApi(c).clusters_snapshots_get(made.id).items == []
        assert mongo.LogsApi(c).clusters_logs_get(made.id).instances[0].messages == []
        status, msg = refused(
            clusters.clusters_patch,
            made.id,
            mongo.PatchClusterRequest(properties=mongo.PatchClusterProperties(display_name="early")),
        )
        assert status == 422 and "BUSY" in msg
        time.sleep(0.7)
        assert clusters.clusters_find_by_id(made.id).metadata.state == "AVAILABLE"
        snap = mongo.SnapshotsApi(c).clusters_snapshots_get(made.id).items[0]
        mongo.RestoresApi(c).clusters_restore_post(made.id, mongo.CreateRestoreRequest(snapshot_id=snap.id))
        got = clusters.clusters_find_by_id(made.id)
        assert got.metadata.state == "BUSY" and got.metadata.health == "HEALTHY"
        time.sleep(0.7)
        assert clusters.clusters_find_by_id(made.id).metadata.state == "AVAILABLE"
        clusters.clusters_delete(made.id)
        assert clusters.clusters_find_by_id(made.id).metadata.state == "DESTROYING"
        time.sleep(0.7)
        assert refused(clusters.clusters_find_by_id, made.id)[0] == 404


def test_templates_and_api_versions(api):
    templates = mongo.TemplatesApi(api)
    every = templates.templates_get()
    assert {t.properties.edition for t in every.items} == {
        "playground",
        "business",
    }  # the real catalogue: no enterprise templates
    assert all(
        t.type == "template" and t.properties.cores > 0 and t.properties.ram > 0 and t.properties.storage_size > 0
        for t in every.items
    )
    page = templates.templates_get(offset=1, limit=2)
    assert [t.id for t in page.items] == [t.id for t in every.items[1:3]]
    assert page.offset == 1 and page.limit == 2 and page.links.next and page.links.prev
    meta = mongo.MetadataApi(api)
    assert meta.infos_version_get().name == "v1"
    assert [v.name for v in meta.infos_versions_get()] == ["v1"]


def test_auth_routing_and_privileges(emulator):
    # the SDK sends Basic when it has a user name and password
    with mongo_client(emulator, user=OWNER[0], password=OWNER[1]) as c:
        assert mongo.TemplatesApi(c).templates_get().items
    r = httpx.get(emulator.url + PREFIX + "/clusters")
    assert r.status_code == 401 and r.json()["httpStatus"] == 401
    # the real host name routes here too
    r = httpx.get(emulator.url + PREFIX + "/templates", auth=OWNER, headers={"Host": "api.ionos.com"})
    assert r.status_code == 200 and r.json()["type"] == "collection" and "href" not in r.json()["items"][0]
    r = httpx.get(emulator.url + PREFIX + f"/clusters/{uuid.uuid4()}", auth=OWNER)
    assert r.status_code == 404 and r.json()["messages"][0]["errorCode"]
    # a user needs the group privilege manageDBaaS, and sees only data centers they may see
    email, pw = f"m-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:
        user = h.post(
            "/um/users",
            json={
                "properties": {
                    "firstname": "D",
                    "lastname": "B",
                    "email": email,
                    "password": pw,
                    "administrator": False,
                }
            },
        ).json()["id"]
        r = httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw))
        assert r.status_code == 403 and "manageDBaaS" in r.json()["messages"][0]["message"]
        group = h.post(
            "/um/groups", json={"properties": {"name": f"dbaas-{uuid.uuid4().hex[:6]}", "manageDBaaS": True}}
        ).json()["id"]
        assert h.post(f"/um/groups/{group}/users", json={"id": user}).status_code == 202
    assert httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw)).status_code == 200
    owners_dc, owners_lan = network(emulator)
    with mongo_client(emulator, user=email, password=pw) as c:
        status, msg = refused(mongo.ClustersApi(c).clusters_post, cluster_request(c, owners_dc, owners_lan))
        assert status == 422 and "datacenterId" in msg


def test_a_partial_patch_and_a_repeated_delete_change_nothing_else(make_emulator):
    emu = make_emulator("mongo-repeat")
    assert (
        emu.admin("PUT", "timing", json={"profile": "instant", "overrides": {"mongodb.cluster": 0.6}}).status_code
        == 200
    )
    dc, lan = network(emu)
    with mongo_client(emu, user=OWNER[0], password=OWNER[1]) as c:
        made = mongo.ClustersApi(c).clusters_post(cluster_request(c, dc, lan))
    with httpx.Client(base_url=emu.url + PREFIX, auth=OWNER) as h:
        time.sleep(0.7)
        users = f"/clusters/{made.id}/users"
        assert (
            h.post(
                users,
                json={
                    "properties": {
                        "username": "app",
                        "password": "s3cret-passw0rd",
                        "roles": [{"role": "read", "database": "x"}],
                    }
                },
            ).status_code
            == 200
        )
        r = h.patch(f"{users}/app", json={"properties": {"password": "n3w-passw0rd!"}})
        assert r.status_code == 200 and r.json()["properties"]["roles"] == [{"role": "read", "database": "x"}]
        first, again = h.delete(f"/clusters/{made.id}"), h.delete(f"/clusters/{made.id}")
        assert first.status_code == again.status_code == 200
        assert again.json()["metadata"]["state"] == "DESTROYING"
        time.sleep(0.7)
        assert h.get(f"/clusters/{made.id}").status_code == 404


def enterprise_body(dc, lan, instances=3, **props):
    return {
        "properties": {
            "displayName": "analytics",
            "mongoDBVersion": "7.0",
            "location": "de/fra",
            "instances": instances,
            "connections": [
                {"datacenterId": dc, "lanId": lan, "cidrList": [f"192.168.8.{10 + i}/24" for i in range(instances)]}
            ],
            "edition": "enterprise",
            "cores": 2,
            "ram": 4096,
            "storageSize": 5120,
            "storageType": "SSD Standard",
            **props,
        }
    }


def test_enterprise_is_sized_without_a_template(api, emulator):
    """Raw HTTP as the Terraform provider and ionosctl send it (SDK 1.2.2 predates these fields); SDK reads."""
    dc, lan = network(emulator)
    with httpx.Client(base_url=emulator.url + PREFIX, auth=OWNER) as h:
        r = h.post("/clusters", json=enterprise_body(dc, lan, backup={"location": "eu-central-3"}))
        assert r.status_code == 200, r.text
        made = r.json()
        got = h.get(f"/clusters/{made['id']}").json()["properties"]
        assert (got["edition"], got["type"], got["cores"], got["ram"]) == ("enterprise", "replicaset", 2, 4096)
        assert (got["storageSize"], got["storageType"]) == (5120, "SSD Standard") and "templateID" not in got
        assert got["backup"] == {"location": "eu-central-3"} and got["biConnector"] == {"enabled": False}
        # the installed SDK reads what it knows of it
        sdk = mongo.ClustersApi(api).clusters_find_by_id(made["id"])
        assert sdk.properties.display_name == "analytics" and sdk.properties.instances == 3
        assert sdk.properties.template_id is None
        # a PATCH grows it and turns the BI Connector on; a template is not for enterprise
        r = h.patch(f"/clusters/{made['id']}", json={"properties": {"cores": 4, "biConnector": {"enabled": True}}})
        assert r.status_code == 200, r.text
        got = h.get(f"/clusters/{made['id']}").json()["properties"]
        assert got["cores"] == 4 and got["ram"] == 4096 and got["biConnector"]["enabled"] is True
        assert got["biConnector"]["host"].startswith(f"r1.m-{made['id']}.") and got["biConnector"]["port"]
        r = h.patch(f"/clusters/{made['id']}", json={"properties": {"templateID": template_id(api)}})
        assert r.status_code == 422 and "'properties.templateID'" in r.json()["messages"][0]["message"]
        # a sharded cluster: enterprise only, with 2 to 32 shards
        body = enterprise_body(dc, lan, 1, type="sharded-cluster", shards=2)
        body["properties"]["connections"][0]["cidrList"] = ["192.168.8.40/24"]
        r = h.post("/clusters", json=body)
        assert r.status_code == 200, r.text
        assert h.get(f"/clusters/{r.json()['id']}").json()["properties"]["shards"] == 2
        # a template cluster reads back its edition, replicaset type and nearest backup location
        r = h.get(f"/clusters/{new_cluster(api, emulator)[0].id}").json()["properties"]
        assert (r["edition"], r["type"], r["backup"]) == ("business", "replicaset", {"location": "de"})


def test_enterprise_and_template_rules(api, emulator):
    dc, lan = network(emulator)
    business = {k: v for k, v in enterprise_body(dc, lan)["properties"].items() if k not in ("cores", "ram")}
    cases = [
        ({"cores": None}, "properties.cores"),
        ({"ram": None}, "properties.ram"),
        ({"storageSize": None}, "properties.storageSize"),
        ({"storageType": None}, "properties.storageType"),
        ({"templateID": template_id(api)}, "properties.templateID"),
        ({"instances": 2}, "properties.instances"),
        ({"type": "sharded-cluster"}, "properties.shards"),
        ({"type": "sharded-cluster", "shards": 1}, "properties.shards"),
        ({"type": "ring"}, "properties.type"),
        ({"edition": "premium"}, "properties.edition"),
        ({"backup": {"location": "mars-1"}}, "properties.backup.location"),
        ({"edition": "business", "cores": None}, "properties.templateID"),  # business without a template
        ({"edition": None}, "properties.templateID"),  # no edition: the template names it
    ]
    with httpx.Client(base_url=emulator.url + PREFIX, auth=OWNER) as h:
        before = len(h.get("/clusters").json()["items"])
        for change, attr in cases:
            body = enterprise_body(dc, lan)
            body["properties"].update(change)
            body["properties"] = {k: v for k, v in body["properties"].items() if v is not None}
            r = h.post("/clusters", json=body)
            assert r.status_code == 422 and f"'{attr}'" in r.json()["messages"][0]["message"], (change, r.text)
        # business: its template's edition, replicaset only, up to 3 instances
        for change, attr in [
            ({"edition": "playground"}, "properties.edition"),
            ({"type": "sharded-cluster", "shards": 2}, "properties.type"),
            ({"instances": 5}, "properties.instances"),
        ]:
            props = {**business, "edition": "business", "templateID": template_id(api), **change}
            props["connections"] = [{**props["connections"][0], "cidrList": props["connections"][0]["cidrList"][:1]}]
            r = h.post("/clusters", json={"properties": {**props, "instances": change.get("instances", 1)}})
            assert r.status_code == 422 and f"'{attr}'" in r.json()["messages"][0]["message"], (change, r.text)
        assert len(h.get("/clusters").json()["items"]) == before
