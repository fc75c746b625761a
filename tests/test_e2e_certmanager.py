"""End-to-end: Certificate Manager through the unmodified `ionoscloud_cert_manager` 3.0.0 SDK (the current API)
against a strict emulator, httpx for the v1 API at /certificatemanager (no SDK of that version is installed):
uploaded certificates checked with `cryptography` (the key is the certificate's, the chain links, dates and
names read from the certificate), ACME providers, and auto-certificates the emulator issues with its local CA
for names in a Cloud DNS zone of the contract (made with the `ionoscloud_dns` SDK), verified here with
`cryptography`; a name outside every zone makes the auto-certificate FAILED. Bad PEM, a foreign key and a
broken chain are 422s with nothing created."""

from __future__ import annotations

import datetime
import json
import time
import uuid

import httpx
import ionoscloud_cert_manager as cm
import ionoscloud_dns as dns
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from ionoscloud_cert_manager.exceptions import ApiException

from support import OWNER, bearer, http_client

PREFIX = "/certmanager/de-fra"
V1 = "/certificatemanager"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


@pytest.fixture
def api(emulator, token):
    with cm.ApiClient(cm.Configuration(host=emulator.url + PREFIX, token=token)) as c:
        yield c


def refused(call, *args, **kw) -> tuple[int, str]:
    with pytest.raises(ApiException) as e:
        call(*args, **kw)
    body = json.loads(e.value.body)
    assert body["httpStatus"] == e.value.status and isinstance(body["messages"][0]["errorCode"], str)
    return e.value.status, body["messages"][0]["message"]


# -- a small PKI of the test's own --------------------------------------------------------------------


def pem(obj) -> str:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_cert(subject: str, issuer=None, issuer_key=None, *, ca=False, names=(), days=30):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki():
    root, root_key = make_cert("Test Root", ca=True, days=3650)
    inter, inter_key = make_cert("Test Intermediate", root, root_key, ca=True, days=1000)
    leaf, leaf_key = make_cert("shop.example.com", inter, inter_key, names=("shop.example.com", "www.shop.example.com"))
    return {"root": root, "inter": inter, "leaf": leaf, "leaf_key": leaf_key}


def upload(pki, **kw):
    fields = dict(
        name="shop",
        certificate=pem(pki["leaf"]),
        certificate_chain=pem(pki["inter"]) + pem(pki["root"]),
        private_key=pem(pki["leaf_key"]),
    )
    fields.update(kw)
    return cm.CertificateCreate(properties=cm.Certificate(**fields))


def test_uploaded_certificate(api, pki):
    certs = cm.CertificateApi(api)
    r = certs.certificates_post_with_http_info(upload(pki))
    assert r.status_code == 201 and r.data.type == "certificate"
    cid = r.data.id
    assert r.data.href == f"/certificates/{cid}" and r.data.metadata.state == "PROVISIONING"
    got = certs.certificates_find_by_id(cid)
    leaf = pki["leaf"]
    assert got.metadata.state == "AVAILABLE" and got.metadata.expired is False
    assert got.metadata.common_name == "shop.example.com"
    assert got.metadata.subject_alternative_names == ["shop.example.com", "www.shop.example.com"]
    assert got.metadata.not_before == leaf.not_valid_before_utc and got.metadata.not_after == leaf.not_valid_after_utc
    assert int(got.metadata.serial_number, 16) == leaf.serial_number
    assert got.properties.private_key is None and got.properties.certificate == pem(leaf)
    assert [c.id for c in certs.certificates_get(filter_common_name="shop.example.com").items] == [cid]
    assert certs.certificates_get(filter_common_name="other.example.com").items == []
    renamed = certs.certificates_patch(cid, cm.CertificatePatch(properties=cm.PatchName(name="shop-2025")))
    assert renamed.properties.name == "shop-2025" and renamed.properties.certificate == pem(leaf)
    # a certificate without a chain (self-signed) is taken as well
    root, root_key = make_cert("self.example.com")
    alone = certs.certificates_post(
        cm.CertificateCreate(properties=cm.Certificate(name="self", certificate=pem(root), private_key=pem(root_key)))
    )
    for rid in (cid, alone.id):
        certs.certificates_delete(rid)
        assert refused(certs.certificates_find_by_id, rid)[0] == 404


def test_bad_uploads_create_nothing(api, pki):
    certs = cm.CertificateApi(api)
    before = len(certs.certificates_get().items)
    other_key = rsa.generate_private_key(65537, 2048)
    stranger, _ = make_cert("Stranger CA", ca=True)
    encrypted = (
        pki["leaf_key"]
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        .decode()
    )
    cases = {
        "not PEM": upload(pki, certificate="hello"),
        "two certificates": upload(pki, certificate=pem(pki["leaf"]) + pem(pki["inter"])),
        "a foreign key": upload(pki, private_key=pem(other_key)),
        "a key that is no key": upload(
            pki, private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        ),
        "an encrypted key": upload(pki, private_key=encrypted),
        "a broken chain": upload(pki, certificate_chain=pem(stranger)),
        "a chain in the wrong order": upload(pki, certificate_chain=pem(pki["root"]) + pem(pki["inter"])),
        "a bad chain": upload(pki, certificate_chain="-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n"),
        "no name": upload(pki, name=None),
    }
    for what, body in cases.items():
        status, message = refused(certs.certificates_post, body)
        assert status == 422, (what, message)
    assert len(certs.certificates_get().items) == before


def test_providers(api):
    providers = cm.ProviderApi(api)
    body = cm.Provider(
        name="Let's Encrypt",
        email="ops@example.com",
        server="https://acme-v02.api.letsencrypt.org/directory",
        external_account_binding=cm.ProviderExternalAccountBinding(key_id="kid-1", key_secret="s3cr3t"),
    )
    r = providers.providers_post_with_http_info(cm.ProviderCreate(properties=body))
    assert r.status_code == 201 and r.data.type == "provider"
    pid = r.data.id
    got = providers.providers_find_by_id(pid)
    assert got.metadata.state == "AVAILABLE" and got.properties.email == "ops@example.com"
    assert got.properties.external_account_binding.key_id == "kid-1"
    assert got.properties.external_account_binding.key_secret is None  # the secret is never shown
    assert providers.providers_patch(pid, cm.ProviderPatch(properties=cm.PatchName(name="LE"))).properties.name == "LE"
    before = len(providers.providers_get().items)
    for bad in (
        body.model_copy(update={"email": "nobody"}),
        body.model_copy(update={"server": "http://acme.example.com/directory"}),
        body.model_copy(update={"server": None}),
        body.model_copy(update={"external_account_binding": cm.ProviderExternalAccountBinding(key_id="k")}),
    ):
        assert refused(providers.providers_post, cm.ProviderCreate(properties=bad))[0] == 422
    assert len(providers.providers_get().items) == before
    providers.providers_delete(pid)
    assert refused(providers.providers_find_by_id, pid)[0] == 404


def dns_zone(emulator, token) -> str:
    name = f"cm-{uuid.uuid4().hex[:8]}.example"
    with dns.ApiClient(dns.Configuration(host=emulator.url + "/dns/de-fra", token=token)) as c:
        dns.ZonesApi(c).zones_post(dns.ZoneCreate(properties=dns.Zone(zone_name=name)))
    return name


def settled(autos, aid, seconds=60.0):
    """The auto-certificate once it is no longer PROVISIONING (an RSA key takes a moment to make)."""
    deadline = time.monotonic() + seconds
    while True:
        auto = autos.auto_certificates_find_by_id(aid)
        if auto.metadata.state != "PROVISIONING" or time.monotonic() > deadline:
            return auto
        time.sleep(0.1)


def test_auto_certificate_issued_by_the_emulator_ca(api, emulator, token):
    zone = dns_zone(emulator, token)
    provider = cm.ProviderApi(api).providers_post(
        cm.ProviderCreate(
            properties=cm.Provider(name="LE", email="ops@example.com", server="https://acme.example.com/directory")
        )
    )
    autos, certs = cm.AutoCertificateApi(api), cm.CertificateApi(api)
    r = autos.auto_certificates_post_with_http_info(
        cm.AutoCertificateCreate(
            properties=cm.AutoCertificate(
                provider=provider.id,
                common_name=f"www.{zone}",
                key_algorithm="ecdsa256",
                name="web",
                subject_alternative_names=[zone, f"*.api.{zone}"],
            )
        )
    )
    assert r.status_code == 201 and r.data.metadata.state == "PROVISIONING" and r.data.type == "autocertificate"
    assert r.data.href == f"/auto-certificates/{r.data.id}"
    auto = autos.auto_certificates_find_by_id(r.data.id)
    assert auto.metadata.state == "AVAILABLE" and auto.metadata.last_issued_certificate
    issued = certs.certificates_find_by_id(auto.metadata.last_issued_certificate)
    assert issued.metadata.auto_certificate == auto.id and issued.metadata.state == "AVAILABLE"
    assert issued.metadata.common_name == f"www.{zone}" and issued.properties.private_key is None
    cert = x509.load_pem_x509_certificate(issued.properties.certificate.encode())
    ca = x509.load_pem_x509_certificate((emulator.data_dir / "tls" / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(ca)  # signed by the emulator's CA (raises otherwise)
    assert x509.load_pem_x509_certificates(issued.properties.certificate_chain.encode()) == [ca]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"www.{zone}"
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [f"www.{zone}", zone, f"*.api.{zone}"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc <= now + datetime.timedelta(days=91)
    assert issued.metadata.not_after == cert.not_valid_after_utc
    assert [c.id for c in certs.certificates_get(filter_auto_certificate=auto.id).items] == [issued.id]
    assert [a.id for a in autos.auto_certificates_get(filter_common_name=f"www.{zone}").items] == [auto.id]
    renamed = autos.auto_certificates_patch(auto.id, cm.AutoCertificatePatch(properties=cm.PatchName(name="web-2")))
    assert renamed.properties.name == "web-2"

    # an RSA key is made in a worker thread: PROVISIONING until it is ready, then issued the same way
    r = autos.auto_certificates_post(
        cm.AutoCertificateCreate(
            properties=cm.AutoCertificate(
                provider=provider.id, common_name=f"rsa.{zone}", key_algorithm="rsa2048", name="rsa"
            )
        )
    )
    rsa_auto = settled(autos, r.id)
    assert rsa_auto.metadata.state == "AVAILABLE", rsa_auto.metadata.message
    rsa_cert = x509.load_pem_x509_certificate(
        certs.certificates_find_by_id(rsa_auto.metadata.last_issued_certificate).properties.certificate.encode()
    )
    rsa_cert.verify_directly_issued_by(ca)
    assert isinstance(rsa_cert.public_key(), rsa.RSAPublicKey) and rsa_cert.public_key().key_size == 2048
    assert len(certs.certificates_get(filter_auto_certificate=r.id).items) == 1
    autos.auto_certificates_delete(r.id)

    # a name outside the contract's zones: FAILED with the reason, no certificate
    r = autos.auto_certificates_post(
        cm.AutoCertificateCreate(
            properties=cm.AutoCertificate(
                provider=provider.id, common_name="www.not-mine.example", key_algorithm="rsa2048", name="x"
            )
        )
    )
    failed = settled(autos, r.id)
    assert failed.metadata.state == "FAILED" and "www.not-mine.example" in failed.metadata.message
    assert failed.metadata.last_issued_certificate is None
    assert certs.certificates_get(filter_auto_certificate=r.id).items == []

    before = len(autos.auto_certificates_get().items)
    for bad in (
        dict(provider=str(uuid.uuid4())),
        dict(key_algorithm="dsa1024"),
        dict(common_name="not a name"),
        dict(subject_alternative_names=["ok.example", "bad..name"]),
    ):
        fields = dict(provider=provider.id, common_name=f"www.{zone}", key_algorithm="ecdsa256", name="bad")
        fields.update(bad)
        status, message = refused(
            autos.auto_certificates_post, cm.AutoCertificateCreate(properties=cm.AutoCertificate(**fields))
        )
        assert status == 422, (bad, message)
    assert len(autos.auto_certificates_get().items) == before
    for aid in (auto.id, failed.id):
        autos.auto_certificates_delete(aid)
        assert refused(autos.auto_certificates_find_by_id, aid)[0] == 404
    assert certs.certificates_find_by_id(issued.id).id == issued.id  # what was issued stays


def test_v1_api_and_routing(emulator, pki):
    h = emulator.http()
    info = h.get(V1)
    assert info.status_code == 200 and info.json()["version"] == "1.0"
    body = {
        "properties": {
            "name": "v1",
            "certificate": pem(pki["leaf"]),
            "certificateChain": pem(pki["inter"]) + pem(pki["root"]),
            "privateKey": pem(pki["leaf_key"]),
        }
    }
    r = h.post(V1 + "/certificates", json=body)
    assert r.status_code == 200 and "privateKey" not in r.json()["properties"], r.text
    cid = r.json()["id"]
    assert r.json()["href"] == f"{emulator.url}{V1}/certificates/{cid}"
    got = h.get(f"{V1}/certificates/{cid}").json()
    assert got["metadata"]["state"] == "AVAILABLE" and set(got["properties"]) == {
        "name",
        "certificate",
        "certificateChain",
    }
    assert cid in [c["id"] for c in h.get(V1 + "/certificates").json()["items"]]
    assert (
        h.patch(f"{V1}/certificates/{cid}", json={"properties": {"name": "v1b"}}).json()["properties"]["name"] == "v1b"
    )
    bad = {"properties": {**body["properties"], "privateKey": pem(ec.generate_private_key(ec.SECP256R1()))}}
    r = h.post(V1 + "/certificates", json=bad)
    assert r.status_code == 422 and "privateKey" in r.json()["messages"][0]["message"]
    r = h.get(V1 + "/certificates", headers={"Host": "api.ionos.com"})
    assert r.status_code == 200 and r.json()["items"][0]["href"].startswith("http://api.ionos.com/certificatemanager/")
    spec = h.get(V1 + "/openapi.json")
    assert spec.status_code == 200 and "/certificatemanager/certificates" in spec.json()["paths"]
    assert h.get(V1 + "/openapi.yaml").status_code == 200
    assert h.delete(f"{V1}/certificates/{cid}").status_code == 204
    assert h.get(f"{V1}/certificates/{cid}").status_code == 404
    # the current API on its real host; a user without the privilege is refused
    r = httpx.get(emulator.url + "/providers", auth=OWNER, headers={"Host": "certificate-manager.de-fra.ionos.com"})
    assert r.status_code == 200 and r.json()["type"] == "collection"
    email, pw = f"cm-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    r = http_client().post(
        emulator.cloud + "/um/users",
        auth=OWNER,
        json={
            "properties": {"firstname": "C", "lastname": "M", "email": email, "password": pw, "administrator": False}
        },
    )
    assert r.status_code == 202, r.text
    for path in (PREFIX + "/certificates", V1 + "/certificates"):
        r = httpx.get(emulator.url + path, auth=(email, pw))
        assert r.status_code == 403 and "accessAndManageCertificates" in r.json()["messages"][0]["message"]


def test_a_zone_of_another_contract_does_not_validate(api, emulator):
    number = 7_000_000 + uuid.uuid4().int % 1_000_000
    email = f"cm-other-{number}@example.com"
    r = emulator.admin("POST", "contracts", json={"contractNumber": number, "user": email, "password": "Other1!"})
    assert r.status_code == 200, r.text
    theirs = dns_zone(emulator, bearer(emulator, (email, "Other1!")))
    provider = cm.ProviderApi(api).providers_post(
        cm.ProviderCreate(
            properties=cm.Provider(name="LE", email="ops@example.com", server="https://acme.example.com/directory")
        )
    )
    autos = cm.AutoCertificateApi(api)
    r = autos.auto_certificates_post(
        cm.AutoCertificateCreate(
            properties=cm.AutoCertificate(
                provider=provider.id, common_name=f"www.{theirs}", key_algorithm="ecdsa384", name="theirs"
            )
        )
    )
    got = autos.auto_certificates_find_by_id(r.id)
    assert got.metadata.state == "FAILED" and f"www.{theirs}" in got.metadata.message
