"""Cloud DNS (dns.de-fra.ionos.com): primary zones and their records, secondary zones with zone transfers,
reverse records, DNSSEC keys, zone files and the quota. The zones are served by a real authoritative DNS
server, `ionos_emulator.dataplanes.dns`."""

from __future__ import annotations

from . import dnssec, records, reverse, zonefile, zones  # noqa: F401  (registering the handlers)
from .model import DNS

PRODUCTS = [DNS]
