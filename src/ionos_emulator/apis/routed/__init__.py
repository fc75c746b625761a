"""Product APIs that are routed but not implemented yet: every operation of their compiled spec answers
501 in the IONOS error envelope (and is listed so in docs/coverage.md), at the same prefixes, real host
names and config-file entries a finished implementation will use."""

from __future__ import annotations

from urllib.parse import urlsplit

from ... import spec as specs
from ..product import REGIONS, Product, spec_locations

# compiled spec -> product name in the IONOS config file (none left: every compiled spec has its package)
ROUTED: dict[str, str] = {}


def _product(spec_name: str, config_name: str) -> Product:
    """Locations and host names come from the servers the official SDK lists."""
    hosts = [urlsplit(s["url"]).hostname for s in specs.head(spec_name).servers]
    locations = spec_locations(spec_name)
    if locations and len(locations) == len(hosts):  # regional: <name>.<region>.ionos.com
        label = REGIONS[locations[0]]
        first = next(h for h in hosts if h.split(".")[1] == label)
        return Product(
            name=spec_name,
            spec_name=spec_name,
            config_name=config_name,
            locations=locations,
            host=first.replace(f".{label}.", ".{region}.", 1),
        )
    return Product(name=spec_name, spec_name=spec_name, config_name=config_name, host=hosts[0] if hosts else "")


PRODUCTS = [_product(spec, config) for spec, config in ROUTED.items()]
