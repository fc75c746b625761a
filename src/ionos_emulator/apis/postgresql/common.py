"""What both DBaaS PostgreSQL APIs share: the service's catalogue (PostgreSQL versions, backup locations)
and the checks of a cluster's request (its version, backup location, initial user). The rules of every DBaaS
product (names, maintenance windows, LANs, date-times, recovery points) are in apis/dbaas.py."""

from __future__ import annotations

import re
import uuid

from ...catalogue import load
from ...engine.errors import invalid

# Major versions offered, oldest first, with their support status (a free-form string in both APIs).
VERSIONS = {
    "12": "DEPRECATED",
    "13": "DEPRECATED",
    "14": "SUPPORTED",
    "15": "SUPPORTED",
    "16": "SUPPORTED",
    "17": "SUPPORTED",
}
VERSION_COMMENTS = {
    "DEPRECATED": "no longer supported by the PostgreSQL community; upgrade the cluster",
    "SUPPORTED": "supported",
}

# The real Object Storage locations backups are written to (catalogue/dbaas.json); a cluster's default is the
# one nearest to it.
_STORAGE = load("dbaas")
BACKUP_LOCATIONS: tuple[str, ...] = tuple(_STORAGE["object_storage"])
NEAREST_BACKUP_LOCATION: dict[str, str] = _STORAGE["nearest"]

# Names the service keeps for its own roles; PostgreSQL itself reserves the pg_ prefix.
RESTRICTED_USERNAMES = {"postgres", "admin", "standby"}


# -- catalogue ----------------------------------------------------------------------------------------


def check_version(attr: str, version: str, current: str | None = None) -> str:
    if version not in VERSIONS:
        raise invalid(attr, f"must be one of {', '.join(VERSIONS)}, got '{version}'")
    if current is not None and int(version) < int(current):
        raise invalid(attr, f"cannot go down from PostgreSQL {current} to {version}; only upgrades are possible")
    return version


def upgrades_of(version: str) -> list[str]:
    return [v for v in VERSIONS if int(v) > int(version)]


def stable_id(*parts: str) -> str:
    """Catalogue ids: the same for every contract and across restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ionos-emulator:postgresql:" + ":".join(parts)))


def check_backup_location(attr: str, value: str | None, cluster_location: str) -> str:
    if value is None:
        return NEAREST_BACKUP_LOCATION.get(cluster_location, _STORAGE["fallback"])
    if value not in BACKUP_LOCATIONS:
        raise invalid(attr, f"must be one of {', '.join(BACKUP_LOCATIONS)}, got '{value}'")
    return value


# -- request checks -------------------------------------------------------------------------------------


def check_username(attr: str, name: str, pattern: re.Pattern, rule: str) -> str:
    if not pattern.match(name):
        raise invalid(attr, f"must be {rule}, got '{name}'")
    if name.lower() in RESTRICTED_USERNAMES or name.lower().startswith("pg_"):
        raise invalid(attr, f"'{name}' is reserved for the service's own roles")
    return name
