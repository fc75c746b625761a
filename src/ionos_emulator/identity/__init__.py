"""Contracts, users and tokens shared by every API: Basic and Bearer authentication in one place."""
from .service import Identity, Principal, PRIVILEGES

__all__ = ["Identity", "Principal", "PRIVILEGES"]
