"""End-to-end: Event Streams for Apache Kafka (API 1.8.0) through the unmodified `ionoscloud_kafka` SDK against a
strict emulator: clusters on a Cloud API data center's LAN with broker addresses, topics, the cluster's user and
its credentials (verified with `cryptography`: signed by the emulator's CA, the key matches the certificate),
regional hosts and the error envelope."""

from __future__ import annotations

import json
import uuid

import httpx
import ionoscloud_kafka as kafka
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from support import OWNER, bearer, datacenter_with_lan, new_member, refused

PREFIX = "/kafka/de-fra"
BROKERS = ["192.168.30.11/24", "192.168.30.12/24", "192.168.30.13/24"]


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


def client(emu, token, prefix=PREFIX):
    return kafka.ApiClient(kafka.Configuration(host=emu.url + prefix, token=token))


@pytest.fixture
def api(emulator, token):
    with client(emulator, token) as c:
        yield c


def cluster_body(dc, lan, *, name="events", brokers=BROKERS, version="3.8.0", size="S"):
    conn = kafka.KafkaClusterConnection(datacenter_id=dc, lan_id=lan, broker_addresses=list(brokers))
    return kafka.ClusterCreate(properties=kafka.Cluster(name=name, version=version, size=size, connections=[conn]))


def test_cluster_topics_and_user_credentials(api, emulator):
    clusters, topics, users = kafka.ClustersApi(api), kafka.TopicsApi(api), kafka.UsersApi(api)
    dc, lan = datacenter_with_lan(emulator)
    made = clusters.clusters_post_with_http_info(cluster_body(dc, lan))
    assert made.status_code == 201 and made.data.metadata.state == "DEPLOYING"
    cid = made.data.id
    got = clusters.clusters_find_by_id(cid)
    assert got.metadata.state == "AVAILABLE" and got.href == f"/clusters/{cid}"
    assert got.metadata.broker_addresses == ["192.168.30.11:9093", "192.168.30.12:9093", "192.168.30.13:9093"]
    assert got.properties.connections[0].lan_id == lan and got.properties.size == "S"
    assert [c.id for c in clusters.clusters_get(filter_name="event").items] == [cid]
    assert clusters.clusters_get(filter_name="nomatch").items == []
    # the same cluster is not found in another location
    with client(emulator, api.configuration.token, "/kafka/de-txl") as txl:
        assert refused(kafka.ClustersApi(txl).clusters_find_by_id, cid)[0] == 404

    # topics: defaults filled in, names unique in the cluster, replication bounded by the brokers
    t = topics.clusters_topics_post(cid, kafka.TopicCreate(properties=kafka.Topic(name="orders")))
    assert topics.clusters_topics_find_by_id(cid, t.id).metadata.state == "AVAILABLE"
    p = topics.clusters_topics_find_by_id(cid, t.id).properties
    assert (p.replication_factor, p.number_of_partitions, p.log_retention.retention_time) == (3, 3, 604800000)
    retained = kafka.TopicLogRetention(retention_time=3600000, segment_bytes=1048576)
    t2 = topics.clusters_topics_post(
        cid,
        kafka.TopicCreate(
            properties=kafka.Topic(
                name="audit.log", replication_factor=2, number_of_partitions=12, log_retention=retained
            )
        ),
    )
    assert topics.clusters_topics_find_by_id(cid, t2.id).properties.log_retention.segment_bytes == 1048576
    assert sorted(x.properties.name for x in topics.clusters_topics_get(cid).items) == ["audit.log", "orders"]
    assert refused(topics.clusters_topics_post, cid, kafka.TopicCreate(properties=kafka.Topic(name="orders")))[0] == 409
    status, msg = refused(
        topics.clusters_topics_post, cid, kafka.TopicCreate(properties=kafka.Topic(name="big", replication_factor=4))
    )
    assert status == 422 and "replicationFactor" in msg
    status, msg = refused(topics.clusters_topics_post, cid, kafka.TopicCreate(properties=kafka.Topic(name="-x-")))
    assert status == 422 and "properties.name" in msg
    assert topics.clusters_topics_delete_with_http_info(cid, t2.id).status_code == 202
    assert refused(topics.clusters_topics_find_by_id, cid, t2.id)[0] == 404

    # the cluster's user and its access credentials
    listed = users.clusters_users_get(cid).items
    assert [u.properties.name for u in listed] == ["admin"]
    access = users.clusters_users_access_get(cid, listed[0].id)
    assert access.id == listed[0].id and access.properties.name == "admin"
    cert = x509.load_pem_x509_certificate(access.metadata.certificate.encode())
    ca = x509.load_pem_x509_certificate(access.metadata.certificate_authority.encode())
    emulator_ca = x509.load_pem_x509_certificate((emulator.data_dir / "tls" / "ca.pem").read_bytes())
    assert ca == emulator_ca and cert.issuer == ca.subject
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    key = serialization.load_pem_private_key(access.metadata.private_key.encode(), password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.PEM, spki) == cert.public_key().public_bytes(
        serialization.Encoding.PEM, spki
    )
    assert x509.ExtendedKeyUsageOID.CLIENT_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # the credentials are the user's: the same on every read, never in the plain user listing
    assert users.clusters_users_access_get(cid, listed[0].id).metadata.private_key == access.metadata.private_key
    raw = httpx.get(f"{emulator.url}{PREFIX}/clusters/{cid}/users", auth=OWNER).json()
    assert "privateKey" not in json.dumps(raw)

    # delete: 202, then gone with its topics
    assert clusters.clusters_delete_with_http_info(cid).status_code == 202
    assert refused(clusters.clusters_find_by_id, cid)[0] == 404
    assert refused(topics.clusters_topics_get, cid)[0] == 404


def test_cluster_validation_names_the_attribute_and_changes_nothing(api, emulator):
    clusters = kafka.ClustersApi(api)
    dc, lan = datacenter_with_lan(emulator)
    public_dc, public_lan = datacenter_with_lan(emulator, public=True)
    txl_dc, txl_lan = datacenter_with_lan(emulator, location="de/txl")
    before = len(clusters.clusters_get().items)
    cases = [
        (dict(version="2.8.0"), "properties.version"),
        (dict(size="XXL"), "properties.size"),
        (dict(brokers=BROKERS[:2]), "brokerAddresses"),
        (dict(brokers=["10.230.0.5/24", *BROKERS[1:]]), "brokerAddresses[0]"),  # the range the service keeps
        (dict(brokers=[BROKERS[0], BROKERS[0], BROKERS[2]]), "brokerAddresses[1]"),
        (dict(brokers=["192.168.30.0/24", *BROKERS[1:]]), "brokerAddresses[0]"),  # a network address
        (dict(name="-bad-"), "properties.name"),
    ]
    for kw, attr in cases:
        status, msg = refused(clusters.clusters_post, cluster_body(dc, lan, **kw))
        assert status == 422 and attr in msg, (kw, msg)
    assert "public LAN" in refused(clusters.clusters_post, cluster_body(public_dc, public_lan))[1]
    assert "lanId" in refused(clusters.clusters_post, cluster_body(dc, "77"))[1]
    assert "de/txl" in refused(clusters.clusters_post, cluster_body(txl_dc, txl_lan))[1]
    assert "datacenterId" in refused(clusters.clusters_post, cluster_body(str(uuid.uuid4()), lan))[1]
    assert len(clusters.clusters_get().items) == before
    # a second cluster in the LAN cannot take the first one's broker addresses
    first = clusters.clusters_post(
        cluster_body(dc, lan, brokers=["192.168.40.1/24", "192.168.40.2/24", "192.168.40.3/24"])
    )
    status, msg = refused(
        clusters.clusters_post, cluster_body(dc, lan, brokers=["192.168.40.3/24", "192.168.40.4/24", "192.168.40.5/24"])
    )
    assert status == 422 and "taken by cluster" in msg and first.id in msg
    # topics of a cluster that is still deploying are refused with 409
    emulator.admin("PUT", "timing", json={"profile": "instant", "overrides": {"kafka.cluster": 30.0}})
    try:
        slow = clusters.clusters_post(
            cluster_body(dc, lan, brokers=["192.168.50.1/24", "192.168.50.2/24", "192.168.50.3/24"])
        )
        status, msg = refused(
            kafka.TopicsApi(api).clusters_topics_post, slow.id, kafka.TopicCreate(properties=kafka.Topic(name="t1"))
        )
        assert status == 409 and "DEPLOYING" in msg
    finally:
        emulator.admin("PUT", "timing", json={"profile": "instant"})
    clusters.clusters_delete(first.id)


def test_real_host_and_missing_attributes(emulator, token):
    r = httpx.get(
        emulator.url + "/clusters", headers={"Host": "kafka.de-txl.ionos.com", "Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200 and r.json()["type"] == "collection"
    r = httpx.post(emulator.url + PREFIX + "/clusters", auth=OWNER, json={"properties": {"name": "x1"}})
    assert r.status_code == 422 and "properties.version" in r.json()["messages"][0]["message"]
    r = httpx.get(emulator.url + PREFIX + f"/clusters/{uuid.uuid4()}/users", auth=OWNER)
    assert r.status_code == 404


def test_a_user_needs_no_privilege_but_the_data_center(emulator):
    email, pw, _, _ = new_member(emulator, "kafka")
    assert httpx.get(emulator.url + PREFIX + "/clusters", auth=(email, pw)).status_code == 200
    dc, lan = datacenter_with_lan(emulator)  # the owner's: not the user's to connect to
    body = cluster_body(dc, lan, brokers=["192.168.60.1/24", "192.168.60.2/24", "192.168.60.3/24"]).to_dict()
    r = httpx.post(emulator.url + PREFIX + "/clusters", auth=(email, pw), json=body)
    assert r.status_code == 422 and "datacenterId" in r.json()["messages"][0]["message"]
