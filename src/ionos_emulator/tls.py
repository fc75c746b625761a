"""The emulator's local certificate authority and its one server certificate, kept in `<data dir>/tls/`.

The CA is made once (the first `serve --tls`, `ca` or `env --tls`) and kept: clients that trust it keep
trusting the emulator across restarts. The server certificate names every host the emulator answers on
(`endpoints.certificate_names`); it is issued again, by the same CA, only when that list changes or it
nears its end. Both keys are EC P-256 (made in microseconds, unlike RSA, so `serve --tls` stays quick).

Files: `ca.pem` (the CA certificate: NODE_EXTRA_CA_CERTS, `ionos-emulator ca --pem`), `ca.key`,
`server.pem` (the server certificate followed by the CA), `server.key`, and `ca-bundle.pem`: the system's
trusted roots followed by the CA, for the variables that replace the trust store instead of adding to it
(SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, AWS_CA_BUNDLE), so other HTTPS keeps working.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 397  # the longest validity Apple's TLS clients accept for a server certificate
RENEW_DAYS = 30  # a server certificate this close to its end is issued again on start
CA_NAME = "ionos-emulator local CA"


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA and the server certificate live: <data dir>/tls."""

    dir: Path
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path
    bundle: Path  # the system's roots and the CA, for clients that take one bundle


def files(data_dir: str | os.PathLike[str]) -> TlsFiles:
    d = Path(data_dir).absolute() / "tls"
    return TlsFiles(d, d / "ca.pem", d / "ca.key", d / "server.pem", d / "server.key", d / "ca-bundle.pem")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Atomically (a concurrent reader sees the old file or the new one), private keys readable by us only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_ca(data_dir: str | os.PathLike[str]) -> TlsFiles:
    """The CA of this data dir, made on first use and never replaced while its files are there."""
    f = files(data_dir)
    if f.ca_cert.exists() and f.ca_key.exists():
        if not f.bundle.exists():
            _write(f.bundle, _system_roots() + f.ca_cert.read_bytes())
        return f
    f.dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ionos-emulator"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        _builder(name, name, key, ski, days=CA_DAYS, ca=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(f.ca_key, _key_pem(key), private=True)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    _write(f.ca_cert, pem)
    _write(f.bundle, _system_roots() + pem)
    if f.cert.exists():  # issued by a CA that is gone
        f.cert.unlink()
    return f


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer_ski: x509.SubjectKeyIdentifier,
    *,
    days: int,
    ca: bool,
) -> x509.CertificateBuilder:
    """What the CA's and a server's certificate share: validity from an hour ago (clock skew), the CA flag,
    key usage (a CA signs certificates, a server only signs its handshakes) and the issuer's key id."""
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
    )


def load_ca(data_dir: str | os.PathLike[str]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ensure_ca(data_dir).ca_cert.read_bytes())


def _system_roots() -> bytes:
    """The roots this machine's OpenSSL trusts (or certifi's, when installed and OpenSSL names no file)."""
    paths = ssl.get_default_verify_paths()
    candidates = [paths.cafile, paths.openssl_cafile]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    for path in candidates:
        if path and os.path.isfile(path):
            data = Path(path).read_bytes()
            return data if data.endswith(b"\n") else data + b"\n"
    return b""


def _general_names(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def san_names(cert: x509.Certificate) -> list[str]:
    """A certificate's subject alternative names, as strings (DNS names and IP addresses)."""
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(v) for v in san.get_values_for_type(x509.DNSName)] + [
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    ]


def ensure_server_cert(data_dir: str | os.PathLike[str], names: list[str]) -> TlsFiles:
    """The server certificate for `names`, signed by the data dir's CA; kept while it names the same hosts
    and is not near its end."""
    f = ensure_ca(data_dir)
    wanted = sorted(set(names))
    ca_pem = f.ca_cert.read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    if f.cert.exists() and f.key.exists():
        try:
            current = x509.load_pem_x509_certificate(f.cert.read_bytes())
            if (
                sorted(san_names(current)) == wanted
                and current.issuer == ca.subject
                and current.not_valid_after_utc - _now() > datetime.timedelta(days=RENEW_DAYS)
            ):
                return f
        except (ValueError, x509.ExtensionNotFound):
            pass  # unreadable: issue a new one
    ca_key = serialization.load_pem_private_key(f.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "the CA key is made here, EC P-256"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, wanted[0] if wanted else "localhost")])
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        _builder(subject, ca.subject, key, ca_ski, days=SERVER_DAYS, ca=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_general_names(wanted)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(f.key, _key_pem(key), private=True)
    _write(f.cert, cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    return f


def issue_client_cert(
    data_dir: str | os.PathLike[str], common_name: str, days: int = SERVER_DAYS
) -> tuple[str, str, str]:
    """A TLS client certificate for `common_name` and its new private key, signed by the data dir's CA (the
    credentials a managed service hands its users): (certificate PEM, key PEM, CA certificate PEM)."""
    f = ensure_ca(data_dir)
    ca_pem = f.ca_cert.read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(f.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "the CA key is made here, EC P-256"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        _builder(subject, ca.subject, key, ca_ski, days=days, ca=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key).decode(), ca_pem.decode()
