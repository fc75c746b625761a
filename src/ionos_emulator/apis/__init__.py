"""The APIs the emulator serves; each is an ApiModule with handlers keyed by operationId."""
from __future__ import annotations


def enabled_apis():
    from .auth import API as auth
    from .cloud import API as cloud
    return [cloud, auth]
