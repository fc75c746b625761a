"""Uploaded certificates, read with `cryptography`: the certificate, its chain and its private key in PEM, the
checks the service makes of them (the key is the certificate's, each certificate of the chain signed the one
before it), and what the service shows of a certificate (common name, names, dates, serial number).
Errors are 422s naming the attribute (docs/fidelity.md: Certificate Manager)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from ...engine.errors import invalid


@dataclass(frozen=True)
class Checked:
    """What a valid upload holds: the certificate and its chain, parsed."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]


def certificates(attr: str, text: object, *, one: bool) -> list[x509.Certificate]:
    """The PEM certificates of an attribute (exactly one where `one`), or a 422 naming it."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(attr, "is required")
    try:
        found = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        raise invalid(attr, "must hold X.509 certificates in PEM format (-----BEGIN CERTIFICATE-----)") from None
    if one and len(found) != 1:
        raise invalid(attr, f"must hold exactly one certificate in PEM format, got {len(found)}")
    return found


def private_key(attr: str, text: object):
    if not isinstance(text, str) or not text.strip():
        raise invalid(attr, "is required")
    try:
        return serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise invalid(attr, "must be an unencrypted private key (it is protected by a password)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise invalid(attr, "must be a private key in PEM format (-----BEGIN PRIVATE KEY-----)") from None


def _public(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` issued `cert`: its subject is the issuer named and its key made the signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check(props: dict, prefix: str = "properties") -> Checked:
    """An upload's certificate, chain (optional unless the API requires it: its schema does) and private key."""
    cert = certificates(f"{prefix}.certificate", props.get("certificate"), one=True)[0]
    key = private_key(f"{prefix}.privateKey", props.get("privateKey"))
    if _public(key.public_key()) != _public(cert.public_key()):
        raise invalid(f"{prefix}.privateKey", "does not belong to the certificate (their public keys differ)")
    chain: list[x509.Certificate] = []
    if props.get("certificateChain") not in (None, ""):
        chain = certificates(f"{prefix}.certificateChain", props["certificateChain"], one=False)
        below = cert
        for i, link in enumerate(chain):
            if not signed_by(below, link):
                what = "the certificate" if i == 0 else f"chain certificate {i}"
                raise invalid(
                    f"{prefix}.certificateChain",
                    f"does not link: certificate {i + 1} of the chain ({link.subject.rfc4514_string()}) did not "
                    f"issue {what} ({below.subject.rfc4514_string()})",
                )
            below = link
    return Checked(cert, chain)


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def alt_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in san.get_values_for_type(x509.DNSName)] + [
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    ]


def _iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def facts(cert: x509.Certificate) -> dict:
    """What the service shows of a certificate, read from it (kept with it when it is stored)."""
    return {
        "commonName": common_name(cert),
        "subjectAlternativeNames": alt_names(cert),
        "notBefore": _iso(cert.not_valid_before_utc),
        "notAfter": _iso(cert.not_valid_after_utc),
        "serialNumber": format(cert.serial_number, "x"),
    }


def expired(facts: dict, now: float) -> bool:
    """Whether a certificate's end (its `notAfter` fact) has passed, as of `now` (the emulated clock's)."""
    end = datetime.datetime.strptime(facts["notAfter"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return end.timestamp() < now
