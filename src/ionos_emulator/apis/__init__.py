"""The APIs the emulator serves. `build_apis()` makes their mounts when an app is built: the Cloud and Auth
APIs, then every product package's `PRODUCTS`, each mounted once per location it serves. Which APIs are
complete is not declared anywhere: it is what their handlers cover (gateway/mounts.py, Mount.complete)."""
from __future__ import annotations

import importlib

from ..gateway.context import ApiModule

PRODUCT_PACKAGES = ("dns", "postgresql", "mariadb", "inmemorydb", "mongodb", "routed")


def build_apis() -> list[ApiModule]:
    from .auth import API as AUTH_API
    from .cloud import API as CLOUD_API
    apis = [CLOUD_API.copy(), AUTH_API.copy()]
    for name in PRODUCT_PACKAGES:
        for product in importlib.import_module(f"{__name__}.{name}").PRODUCTS:
            apis += product.modules()
    return apis
