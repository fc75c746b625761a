"""Contracts, users and tokens shared by every API: Basic and Bearer authentication in one place."""

from .service import PRIVILEGES, Identity, Principal

__all__ = ["Identity", "Principal", "PRIVILEGES"]
