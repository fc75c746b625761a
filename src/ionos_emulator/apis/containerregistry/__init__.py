"""Container Registry (api.ionos.com/containerregistries): registries, their tokens, the repositories and
artifacts that pushes create, vulnerabilities, the names check and the locations, in API 1.2 (the current
SDK) and 1.0 (the first generation, at /containerregistries/v1 on the same rules). Every registry is a real
OCI registry: `ionos_emulator.dataplanes.registry` serves the distribution API at its host name."""

from __future__ import annotations

from . import model  # noqa: F401  (registering the handlers)
from .model import PRODUCT, PRODUCT_V1

PRODUCTS = [PRODUCT, PRODUCT_V1]
