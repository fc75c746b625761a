"""The APIs the emulator serves; each is an ApiModule with handlers keyed by operationId. Product
packages declare `PRODUCTS` (apis/product.py), mounted once per location they serve."""
from __future__ import annotations

import importlib
from functools import cache

PRODUCT_PACKAGES = ("dns", "postgresql", "mariadb", "inmemorydb", "mongodb", "routed")
# products whose every operation is implemented; the rest ("routed") answer 501 until they are
COMPLETE = ("cloud", "auth", "dns", "postgresql", "postgresql-v1", "mariadb", "inmemorydb", "mongodb")


@cache
def enabled_apis():
    from .auth import API as auth
    from .cloud import API as cloud
    apis = [cloud, auth]
    for name in PRODUCT_PACKAGES:
        for product in importlib.import_module(f"{__name__}.{name}").PRODUCTS:
            apis += product.modules()
    return apis
