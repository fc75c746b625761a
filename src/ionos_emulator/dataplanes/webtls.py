"""HTTPS for the web data planes: with --tls, a client that names a gateway's custom domain or a CDN
distribution's domain in its TLS handshake (SNI) gets the certificate that domain names in Certificate Manager
(kind `certmanager.certificate`: the PEM certificate and chain, the key in the row's internal part), as the
real products present them. Any other name gets the emulator's own certificate, as before.

The contexts are made once per certificate (and again when it changes) and kept in memory; the PEM goes through
a file only for the moment `load_cert_chain` reads it, in a private folder of the data dir."""

from __future__ import annotations

import logging
import os
import ssl
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..apis import webhosts

if TYPE_CHECKING:
    from ..app import Emulator
    from ..store import Row

log = logging.getLogger("ionos_emulator")


def certificate_of(emu: Emulator, host: str) -> Row | None:
    """The Certificate Manager certificate the resource answering for `host` names for it, if any."""
    row = webhosts.owner(emu.store, host)
    if row is None:
        return None
    if row.kind == "cdn.distribution":
        cert_id = row.props.get("certificateId")
    else:
        cert_id = next((d.get("certificateId") for d in row.props.get("customDomains", []) if d["name"] == host), None)
    if not cert_id:
        return None
    return emu.store.find(row.tenant, webhosts.CERTIFICATE_KIND, cert_id)


def server_context(cert: Row, folder: Path) -> ssl.SSLContext:
    key_pem = cert.x.get("privateKey") or cert.props.get("privateKey")
    if not key_pem:
        raise ValueError(f"certificate {cert.id} has no private key")
    chain = cert.props["certificate"].strip() + "\n" + (cert.props.get("certificateChain") or "").strip() + "\n"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        certfile, keyfile = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        certfile.write_text(chain)
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_pem)
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


def install(context: ssl.SSLContext, emu: Emulator) -> None:
    """Makes `context` (the HTTPS server's) hand a data-plane domain's handshake to that domain's certificate."""
    made: dict[tuple[str, str], ssl.SSLContext] = {}
    folder = Path(emu.settings.data_dir) / "webtls"

    def pick(sslobj: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        if not server_name:
            return
        try:
            cert = certificate_of(emu, server_name.lower())
            if cert is None:
                return
            key = (cert.id, str(cert.meta.get("lastModifiedDate", "")))
            if key not in made:
                made[key] = server_context(cert, folder)
            sslobj.context = made[key]
        except Exception:  # a broken certificate: the handshake goes on with the emulator's own
            log.exception("no TLS context for %s", server_name)

    context.sni_callback = pick
