"""Cloud API v6: family modules register kinds and special handlers; the rest is bound by path shape."""
from __future__ import annotations

from ... import spec as specs
from ...gateway.context import ApiModule
from . import compute, network, readonly, storage  # noqa: F401  (registering kinds and handlers)
from .model import bind

API = ApiModule(name="cloud", prefix="/cloudapi/v6", spec_name="cloud")
API.handlers.update(compute.API_HANDLERS)
bind(API, specs.load("cloud"))
