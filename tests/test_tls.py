"""The local CA and the server certificate (ionos_emulator.tls), the names they carry, and how hrefs are built
(the scheme and host the client used; X-Forwarded-* only when trusted)."""

from __future__ import annotations

import base64

import orjson
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ionos_emulator import tls
from ionos_emulator.apis import build_apis
from ionos_emulator.app import Emulator
from ionos_emulator.endpoints import S3_HOSTS, certificate_names, real_hosts
from ionos_emulator.settings import Settings


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_ca_is_made_once_and_kept(tmp_path):
    first = tls.ensure_ca(tmp_path)
    pem, key = first.ca_cert.read_bytes(), first.ca_key.read_bytes()
    ca = load(first.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert first.ca_key.stat().st_mode & 0o077 == 0  # the private key is ours only
    again = tls.ensure_ca(tmp_path)  # a restart: same files, same CA
    assert again.ca_cert.read_bytes() == pem and again.ca_key.read_bytes() == key
    assert pem in first.bundle.read_bytes()


def test_the_server_certificate_names_every_host_and_is_stable(tmp_path):
    apis = build_apis()
    names = certificate_names(apis, "192.0.2.7")
    files = tls.ensure_server_cert(tmp_path, names)
    cert, ca = load(files.cert), load(files.ca_cert)
    sans = set(tls.san_names(cert))
    hosts = set(real_hosts(apis))
    assert {
        "api.ionos.com",
        "dns.de-fra.ionos.com",
        "mariadb.us-ewr.ionos.com",
        "postgresql.de-txl.ionos.com",
        "in-memory-db.es-vit.ionos.com",
        "s3.ionos.com",
    } <= hosts
    assert hosts | set(S3_HOSTS) | {"*.ionos.com", "*.ionoscloud.com", "localhost", "127.0.0.1", "192.0.2.7"} <= sans
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    assert ExtendedKeyUsageOID.SERVER_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # a restart with the same names keeps the certificate; another host gets a new one from the same CA
    assert tls.ensure_server_cert(tmp_path, names).cert.read_bytes() == files.cert.read_bytes()
    other = tls.ensure_server_cert(tmp_path, certificate_names(apis, "127.0.0.1"))
    renewed = load(other.cert)
    assert renewed.serial_number != cert.serial_number and "192.0.2.7" not in tls.san_names(renewed)
    renewed.verify_directly_issued_by(load(other.ca_cert))
    assert other.ca_cert.read_bytes() == files.ca_cert.read_bytes()


def _get(emu: Emulator, path: str, headers: dict[str, str], scheme: str = "http") -> dict:
    auth = "Basic " + base64.b64encode(b"admin@ionos-emulator.local:emulator").decode()
    raw = [(k.lower().encode(), v.encode()) for k, v in {**headers, "authorization": auth}.items()]
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": raw,
        "scheme": scheme,
    }
    reply, _ = emu.handle(scope, b"")
    assert reply.status == 200, reply.body
    return reply.body if isinstance(reply.body, dict) else orjson.loads(reply.body)


def test_hrefs_follow_the_client_and_forwarded_headers_only_when_trusted(tmp_path):
    plain = Emulator(Settings(data_dir=str(tmp_path / "a")))
    forwarded = {"host": "127.0.0.1:8765", "x-forwarded-host": "proxy.example", "x-forwarded-proto": "https"}
    assert _get(plain, "/cloudapi/v6/datacenters", forwarded)["href"] == "http://127.0.0.1:8765/cloudapi/v6/datacenters"
    on_real_host = _get(plain, "/v2/clusters", {"host": "mariadb.de-txl.ionos.com"}, scheme="https")
    assert on_real_host["href"] == "https://mariadb.de-txl.ionos.com/v2/clusters"  # the prefix the client used
    plain.store.close()
    trusting = Emulator(Settings(data_dir=str(tmp_path / "b"), trust_proxy_headers=True))
    assert (
        _get(trusting, "/cloudapi/v6/datacenters", forwarded)["href"] == "https://proxy.example/cloudapi/v6/datacenters"
    )
    trusting.store.close()
