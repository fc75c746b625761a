"""Certificate Manager (API 2.0 at certificate-manager.de-fra.ionos.com, SDK ionoscloud-cert-manager 3.x):
uploaded certificates (PEM certificate, chain and private key, checked with `cryptography`: the key is the
certificate's, the chain links, the dates and names are read from the certificate), ACME providers, and
auto-certificates, which the emulator issues itself (apis/certmanager/issue.py): a real X.509 certificate
signed by its local CA (tls.py) when every name lies in a Cloud DNS zone of the contract, FAILED otherwise.
The first generation, at api.ionos.com/certificatemanager (v1.py), keeps its certificates in the same kind.

Stored kinds: `certmanager.certificate` (the API Gateway and CDN look certificates up by that name: the PEM
in properties `certificate` and `certificateChain`, the key in the row's internal `privateKey`),
`certmanager.provider`, `certmanager.autocertificate`. The private key and an external account binding's
secret are never rendered.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ...engine.change import Change, key
from ...engine.errors import ApiError, invalid, limit_exceeded
from ...gateway.context import Ctx
from ...store import Row
from ..product import PKind, Product, load, rows_of, spec_locations
from . import issue  # pem.py (cryptography) is imported by the hooks that read a PEM: issue.py says why

PRIVILEGE = "accessAndManageCertificates"
PRODUCT = Product(
    name="certmanager",
    spec_name="certmanager",
    config_name="cert",
    locations=spec_locations("certmanager") or ("",),
    host="certificate-manager.{region}.ionos.com",
    privilege=PRIVILEGE,
)
PRODUCTS = [PRODUCT]

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
AUTO_CERTIFICATE_LIMIT = 50  # "There is currently a limit of 50 Auto Certificates" (IONOS docs)


def required_text(props: dict, attr: str, name: str) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{attr}.{name}", "is required")
    return value


# -- certificates ---------------------------------------------------------------------------------------


def uploaded(ctx: Ctx, props: dict, old: Row | None, prefix: str = "properties") -> dict:
    """A new certificate's properties, checked; a change (PATCH) may only rename it."""
    from . import pem

    name = required_text(props, prefix, "name")
    if old is not None:
        return {**old.props, "name": name}
    checked = pem.check(props, prefix)
    return {
        "name": name,
        "certificate": props["certificate"],
        "certificateChain": props.get("certificateChain") or "",
        "privateKey": props["privateKey"],
        "facts": pem.facts(checked.certificate),
    }


def certificate_meta(ctx: Ctx, row: Row) -> dict:
    from . import pem

    facts = row.x.get("facts") or {}
    return {**facts, "expired": pem.expired(facts, ctx.now)} if facts else {}


def by_common_name(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    wanted = {v.lower() for v in values}
    return [r for r in rows if str((r.x.get("facts") or r.props).get("commonName", "")).lower() in wanted]


def by_auto_certificate(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    return [r for r in rows if r.meta.get("autoCertificate") in values]


CERTIFICATE = PKind(
    PRODUCT,
    "certificate",
    "certificate",
    "certificates",
    prepare=lambda ctx, parent, props, old: uploaded(ctx, props, old),
    internal=("privateKey", "facts"),
    meta=certificate_meta,
    patchable=("name",),
    filters={"filter.commonName": by_common_name, "filter.autoCertificate": by_auto_certificate},
)


# -- providers ------------------------------------------------------------------------------------------


def provider_props(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    name = required_text(props, "properties", "name")
    if old is not None:
        return {**old.props, "name": name}
    email = required_text(props, "properties", "email")
    if not EMAIL.match(email):
        raise invalid("properties.email", f"must be an e-mail address, got '{email}'")
    server = required_text(props, "properties", "server")
    url = urlsplit(server)
    if url.scheme != "https" or not url.hostname:
        raise invalid("properties.server", f"must be the https URL of an ACME directory, got '{server}'")
    out: dict[str, object] = {"name": name, "email": email, "server": server}
    binding = props.get("externalAccountBinding")
    if binding is not None:
        key_id = required_text(binding, "properties.externalAccountBinding", "keyId")
        secret = required_text(binding, "properties.externalAccountBinding", "keySecret")
        out.update(externalAccountBinding={"keyId": key_id}, keySecret=secret)
    return out


PROVIDER = PKind(
    PRODUCT, "provider", "provider", "providers", prepare=provider_props, internal=("keySecret",), patchable=("name",)
)


# -- auto-certificates ----------------------------------------------------------------------------------


def dns_name(attr: str, value: object) -> str:
    """A name a certificate can be issued for: a DNS name of two labels or more, the first may be '*'."""
    text = str(value or "").rstrip(".")
    labels = text.split(".")
    if labels and labels[0] == "*":
        labels = labels[1:]
    if not isinstance(value, str) or len(labels) < 2 or len(text) > 253 or not all(LABEL.match(x) for x in labels):
        raise invalid(attr, f"must be a DNS name such as www.example.com or *.example.com, got '{value}'")
    return text.lower()


def auto_props(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    name = required_text(props, "properties", "name")
    if old is not None:
        return {**old.props, "name": name}
    if len(rows_of(ctx, AUTO_CERTIFICATE)) >= AUTO_CERTIFICATE_LIMIT:
        raise limit_exceeded(f"a contract may have at most {AUTO_CERTIFICATE_LIMIT} auto-certificates")
    provider_id = required_text(props, "properties", "provider")
    try:
        load(ctx, PROVIDER, provider_id)
    except ApiError:
        raise invalid("properties.provider", f"names no provider of this contract ('{provider_id}')") from None
    algorithm = required_text(props, "properties", "keyAlgorithm")
    if algorithm not in issue.KEY_ALGORITHMS:
        raise invalid("properties.keyAlgorithm", f"must be one of {', '.join(issue.KEY_ALGORITHMS)}, got '{algorithm}'")
    sans = props.get("subjectAlternativeNames") or []
    return {
        "provider": provider_id,
        "commonName": dns_name("properties.commonName", required_text(props, "properties", "commonName")),
        "keyAlgorithm": algorithm,
        "name": name,
        "subjectAlternativeNames": [
            dns_name(f"properties.subjectAlternativeNames[{i}]", n) for i, n in enumerate(sans)
        ],
    }


def request_issue(ctx: Ctx, row: Row, change: Change) -> None:
    """An auto-certificate is issued (or fails) when its creation completes; one that has none yet (it failed)
    tries again when it is changed."""
    if row.meta.get("lastIssuedCertificate") is None:
        issue.start_key(ctx.tenant, row.id, row.props["keyAlgorithm"])
        change.effect(issue.EFFECT, key(row))


AUTO_CERTIFICATE = PKind(
    PRODUCT,
    "autocertificate",
    "autocertificate",
    "auto-certificates",
    prepare=auto_props,
    after=request_issue,
    patchable=("name",),
)
PRODUCT.effects[issue.EFFECT] = issue.effect(CERTIFICATE)

from .v1 import PRODUCT as V1  # noqa: E402  (the first generation, at api.ionos.com/certificatemanager)

PRODUCTS.append(V1)
