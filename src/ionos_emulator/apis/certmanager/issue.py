"""Auto-certificates, issued by the emulator: when an auto-certificate's creation completes, every name it asks
for (common name and alternative names) must lie in an enabled primary Cloud DNS zone of the same contract,
where the real service proves them to its ACME provider with DNS-01 TXT records. Then the emulator's local CA
(tls.py, its key in the data dir) signs a certificate for them with a new key of the asked algorithm, stored
as a certificate of the contract (readable through the certificates API, chain = the CA); otherwise the
auto-certificate is FAILED with a message naming the first name outside the zones.

An RSA key takes from a few hundred milliseconds to seconds to make: it is made in a worker thread (the
generation releases the GIL), started when the auto-certificate is created; until it is ready, the issuance is
put off (a new lifecycle request, RETRY_SECONDS later) and the auto-certificate stays PROVISIONING. A process
that settles an issuance it did not start (a restart, another worker) starts the key itself. EC keys take
microseconds and are made at once."""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ...engine import clock
from ...engine.lifecycle import Effect, touch
from ...engine.resources import Kind, path_of
from ...settings import Settings
from ...store import Row, Store

# cryptography (and tls.py, pem.py, which need it) is imported where a key or certificate is made: it costs
# about 10 MB and 20 ms of every start-up, and most emulators never issue a certificate

EFFECT = "certmanager.issue"
DNS_ZONE = "dns.zone"  # Cloud DNS primary zones (apis/dns/model.py)
VALID_DAYS = 90  # an ACME (Let's Encrypt) certificate's life

# keyAlgorithm -> its key's size (RSA) or curve (EC)
KEY_ALGORITHMS: dict[str, int | str] = {
    "rsa2048": 2048,
    "rsa3072": 3072,
    "rsa4096": 4096,
    "ecdsa256": "SECP256R1",
    "ecdsa384": "SECP384R1",
}


def new_key(algorithm: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    size_or_curve = KEY_ALGORITHMS[algorithm]
    if isinstance(size_or_curve, int):
        return rsa.generate_private_key(65537, size_or_curve)
    return ec.generate_private_key(getattr(ec, size_or_curve)())


RETRY_SECONDS = 0.2  # how soon an issuance waiting for its RSA key is tried again

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="certmanager-keys")
_KEYS: dict[tuple[int, str], Future] = {}  # (tenant, auto-certificate id) -> its key being made here
_KEYS_LOCK = threading.Lock()


def start_key(tenant: int, auto_id: str, algorithm: str) -> None:
    """Starts making an auto-certificate's RSA key in the worker thread (an EC key is made when it is needed)."""
    if algorithm.startswith("rsa"):
        with _KEYS_LOCK:
            if (tenant, auto_id) not in _KEYS:
                _KEYS[(tenant, auto_id)] = _POOL.submit(new_key, algorithm)


def take_key(tenant: int, auto_id: str, algorithm: str) -> Any | None:
    """The auto-certificate's new key, or None while its RSA key is still being made."""
    if not algorithm.startswith("rsa"):
        return new_key(algorithm)
    start_key(tenant, auto_id, algorithm)
    with _KEYS_LOCK:
        future = _KEYS[(tenant, auto_id)]
        if not future.done():
            return None
        del _KEYS[(tenant, auto_id)]
    return future.result()


def drop_key(tenant: int, auto_id: str) -> None:
    with _KEYS_LOCK:
        future = _KEYS.pop((tenant, auto_id), None)
    if future is not None:
        future.cancel()


def retry(store: Store, eff: dict[str, Any], auto: Row) -> None:
    """Puts the issuance off: a lifecycle request of its own, due RETRY_SECONDS from now."""
    now = clock.Clock(store).now()  # the emulated clock the lifecycle runs on
    store.insert_request(
        {
            "id": str(uuid.uuid4()),
            "tenant": auto.tenant,
            "scope": auto.scope,
            "created": now,
            "run_at": now,
            "done_at": now + RETRY_SECONDS,
            "state": "PENDING",
            "message": None,
            "api": "certmanager",
            "method": "POST",
            "url": "",
            "body": None,
            "headers": {},
            "user": auto.meta.get("createdBy", ""),
            "user_id": auto.meta.get("createdByUserId", ""),
            "targets": [],
            "effects": [dict(eff)],
            "on_fail": [],
        }
    )


def in_zone(name: str, zone: str) -> bool:
    name, zone = name.lower().rstrip(".").removeprefix("*."), zone.lower().rstrip(".")
    return name == zone or name.endswith("." + zone)


def outside_zones(store: Store, tenant: int, names: list[str]) -> str | None:
    """The first of `names` that no enabled Cloud DNS zone of the contract holds, or None."""
    zones = [
        z.props.get("zoneName", "")
        for z in store.list(tenant, DNS_ZONE)
        if z.meta.get("state") == "AVAILABLE" and z.props.get("enabled", True) is not False
    ]
    return next((n for n in names if not any(in_zone(n, z) for z in zones)), None)


def sign(data_dir: str, names: list[str], key: Any) -> tuple[str, str, str]:
    """(certificate PEM, chain PEM = the CA, private key PEM) for `names` (the first is the common name) and
    the new private key `key`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from ... import tls

    files = tls.ensure_ca(data_dir)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "the CA key is made by tls.py, EC P-256"
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=is_rsa,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        files.ca_cert.read_text(),
        key_pem.decode(),
    )


def effect(certificate: Kind) -> Callable[[Settings], Effect]:
    """The lifecycle effect that issues an auto-certificate's certificate, for the product's effects."""

    def factory(settings: Settings) -> Effect:
        def apply(store: Store, eff: dict[str, Any], ts: float) -> None:
            from cryptography import x509

            from . import pem

            auto = store.get(eff["tenant"], eff["kind"], eff["parent"], eff["id"])
            if auto is None or auto.meta.get("state") not in ("AVAILABLE", "PROVISIONING"):
                drop_key(eff["tenant"], eff["id"])  # deleted, being deleted or failed meanwhile
                return
            if auto.meta.get("lastIssuedCertificate"):  # issued by an issuance queued before this one
                return
            names = list(dict.fromkeys([auto.props["commonName"], *auto.props.get("subjectAlternativeNames", [])]))
            missing = outside_zones(store, auto.tenant, names)
            if missing is not None:
                drop_key(auto.tenant, auto.id)
                auto.meta.update(
                    state="FAILED",
                    message=f"DNS validation failed: '{missing}' is not part of a Cloud DNS zone of this contract",
                )
                touch(auto, ts)
                store.update(auto)
                return
            key = take_key(auto.tenant, auto.id, auto.props["keyAlgorithm"])
            if key is None:  # its RSA key is not made yet: PROVISIONING until it is
                if auto.meta.get("state") != "PROVISIONING":
                    auto.meta["state"] = "PROVISIONING"
                    store.update(auto)
                retry(store, eff, auto)
                return
            cert_pem, chain_pem, key_pem = sign(settings.data_dir, names, key)
            cid = str(uuid.uuid4())
            path = path_of(certificate, None, cid)
            owner = {k: auto.meta[k] for k in ("createdBy", "createdByUserId") if k in auto.meta}
            when = clock.iso_precise(ts)
            row = Row(
                tenant=auto.tenant,
                kind=certificate.name,
                id=cid,
                scope=auto.scope,
                path=path,
                doc={
                    "properties": {"name": auto.props["name"], "certificate": cert_pem, "certificateChain": chain_pem},
                    "metadata": {
                        "createdDate": when,
                        **owner,
                        "lastModifiedDate": when,
                        **{k.replace("created", "lastModified"): v for k, v in owner.items()},
                        "resourceURN": auto.meta.get("resourceURN", "").rsplit(":", 1)[0] + f":{path}",
                        "state": "AVAILABLE",
                        "autoCertificate": auto.id,
                        "lastIssuedCertificate": cid,
                    },
                    "x": {
                        "privateKey": key_pem,
                        "facts": pem.facts(x509.load_pem_x509_certificate(cert_pem.encode())),
                    },
                },
            )
            store.insert(row)
            auto.meta.update(state="AVAILABLE", lastIssuedCertificate=cid, message="The certificate was issued.")
            touch(auto, ts)
            store.update(auto)

        return apply

    return factory
