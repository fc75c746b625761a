"""The APIs the emulator serves. `build_apis()` makes their mounts when an app is built: the Cloud and Auth
APIs, then the `PRODUCTS` of every product package in this folder (found, not listed), each mounted once per
location it serves. A compiled product spec that no package serves yet is routed by `routed/` and answers 501.
Which APIs are complete is not declared anywhere: it is what their handlers cover (gateway/mounts.py)."""

from __future__ import annotations

import importlib
import pkgutil

from ..gateway.context import ApiModule
from .product import Product

# packages of this folder that are not product packages
NOT_PRODUCTS = {"auth", "cloud", "routed"}


def product_packages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg and m.name not in NOT_PRODUCTS)


def products() -> list[Product]:
    """Every product with a package of its own, then the routed ones no package serves."""
    from . import routed

    served = [p for name in product_packages() for p in importlib.import_module(f"{__name__}.{name}").PRODUCTS]
    taken = {p.spec_name for p in served}
    return served + [p for p in routed.PRODUCTS if p.spec_name not in taken]


def build_apis() -> list[ApiModule]:
    from .auth import API as AUTH_API
    from .cloud import API as CLOUD_API

    apis = [CLOUD_API.copy(), AUTH_API.copy()]
    for product in products():
        apis += product.modules()
    return apis
