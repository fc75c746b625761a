"""Product APIs that are routed but not implemented yet: every operation of their compiled spec answers
501 in the IONOS error envelope (and is listed so in docs/coverage.md), at the same prefixes, real host
names and config-file entries a finished implementation will use."""
from __future__ import annotations

from urllib.parse import urlsplit

from ... import spec as specs
from ..product import REGIONS, Product

# compiled spec -> product name in the IONOS config file
ROUTED = {"certmanager": "cert", "logging": "logging", "kafka": "kafka", "vpn": "vpn",
          "objectstoragemanagement": "objectstoragemanagement", "apigateway": "apigateway",
          "containerregistry": "containerregistry", "autoscaling": "autoscaling", "cdn": "cdn"}

_BY_LABEL = {label: loc for loc, label in REGIONS.items()}


def _product(spec_name: str, config_name: str) -> Product:
    """Locations and host names come from the servers the official SDK lists."""
    hosts = [urlsplit(s["url"]).hostname for s in specs.load(spec_name).servers]
    labels = [h.split(".")[1] for h in hosts if h.count(".") >= 3 and h.split(".")[1] in _BY_LABEL]
    if labels and len(labels) == len(hosts):  # regional: <name>.<region>.ionos.com
        first = hosts[0]
        return Product(name=spec_name, spec_name=spec_name, config_name=config_name,
                       locations=tuple(_BY_LABEL[label] for label in labels),
                       host=first.replace(f".{labels[0]}.", ".{region}.", 1))
    return Product(name=spec_name, spec_name=spec_name, config_name=config_name, host=hosts[0] if hosts else "")


PRODUCTS = [_product(spec, config) for spec, config in ROUTED.items()]
