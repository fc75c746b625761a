"""Cloud API v6: family modules register kinds and special handlers; the rest is bound by path shape."""

from __future__ import annotations

from ... import spec as specs
from ...engine.resources import bind
from ...gateway.context import ApiModule

# importing a family registers its kinds and handlers
from . import compute, k8s, labels, misc, netservices, network, readonly, rules, security, storage, um  # noqa: F401
from .model import CLOUD, REGISTRY

API = ApiModule(
    name="cloud",
    prefix="/cloudapi/v6",
    spec_name="cloud",
    product="cloud",
    hosts={"api.ionos.com": "/cloudapi/v6"},
    put_keeps_omitted=not CLOUD.put_replaces_all,
    slash_params=frozenset({"locationId"}),  # sub-locations: the SDKs send /locations/de/fra/2 as it is
    cached_reads=True,  # pending requests aside (the cache stands aside then), answers come from the store
    counts=rules.COUNTS,  # the contract's usage, kept by the store (rules.usage)
)
API.handlers.update(compute.API_HANDLERS)
bind(API.handlers, specs.load("cloud").operations, REGISTRY)
