"""Cloud DNS (dns.de-fra.ionos.com): primary zones and their records, secondary zones with zone transfers,
reverse records, DNSSEC keys, zone files and the quota. The zones are served by a real authoritative DNS
server, `ionos_emulator.dataplanes.dns`."""
from __future__ import annotations

from ... import spec as specs

# spec.load() accepts only the names in spec.APIS; until that tuple lists the product specs, ours is added.
if "dns" not in specs.APIS:
    specs.APIS = (*specs.APIS, "dns")

# The zone file upload is text/plain, which the gateway would reject as invalid JSON: without a body
# description there, the handler reads the raw text itself (zonefile.import_).
specs.load("dns").operation("zonesZonefilePut").body = None

from . import dnssec, records, reverse, zonefile, zones  # noqa: E402,F401  (registering the handlers)
from .model import DNS  # noqa: E402

PRODUCTS = [DNS]
