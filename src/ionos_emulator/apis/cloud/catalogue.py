"""Read-only catalogue of the Cloud API v6: locations, public images, Cubes and GPU templates.

The facts are the real cloud's, kept in catalogue/cloud.json with their sources; this module only shapes
them into the v6 schemas (LocationProperties, CpuArchitectureProperties, ImageProperties, TemplateProperties).

Templates carry their real public ids. Public image ids differ per location and change as images are
refreshed, so they are derived with uuid5 from a fixed namespace: two processes (or two test runs) agree
on them without sharing state. Callers always get deep copies: the catalogue itself can never be mutated
through a returned dict.
"""

from __future__ import annotations

import copy
import uuid
from functools import lru_cache

from ...catalogue import load

# Never change this value: every public image id is derived from it.
NAMESPACE = uuid.UUID("236cedcf-5166-45fd-bab1-110657272ae6")

# Public catalogue entries are owned by the platform, not by a user.
_CATALOGUE_DATE = "2025-01-01T00:00:00Z"


def _stable_id(kind: str, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join((kind, *parts))))


def _system_metadata(created_by: str) -> dict:
    return {
        "createdDate": _CATALOGUE_DATE,
        "createdBy": created_by,
        "createdByUserId": "[UNKNOWN]",
        "lastModifiedDate": _CATALOGUE_DATE,
        "lastModifiedBy": created_by,
        "lastModifiedByUserId": "[UNKNOWN]",
        "state": "AVAILABLE",
    }


_DATA = load("cloud")

# --------------------------------------------------------------------------- images

# One entry per OS image (catalogue/cloud.json); each exists once in every location (with its own id there).
_IMAGE_SPECS: tuple[dict, ...] = tuple(_DATA["images"])

# Every alias any location offers; derived so imageAliases and resolution cannot drift.
_ALL_ALIASES: tuple[str, ...] = tuple(sorted({a for s in _IMAGE_SPECS for a in s["aliases"]}))


def _image_properties(spec: dict, location_id: str) -> dict:
    windows = spec["licenceType"].startswith("WINDOWS")
    return {
        "name": spec["name"],
        "description": spec["description"],
        "location": location_id,
        "size": float(spec["size"]),
        "cpuHotPlug": True,
        "cpuHotUnplug": False,
        "ramHotPlug": True,
        "ramHotUnplug": False,
        "nicHotPlug": True,
        "nicHotUnplug": True,
        "discVirtioHotPlug": True,
        # The spec notes Virt-IO hot-unplug is not supported with Windows VMs.
        "discVirtioHotUnplug": not windows,
        "discScsiHotPlug": False,
        "discScsiHotUnplug": False,
        "exposeSerial": False,
        "requireLegacyBios": spec["requireLegacyBios"],
        "licenceType": spec["licenceType"],
        "applicationType": "UNKNOWN",
        "imageType": spec["imageType"],
        "public": True,
        "imageAliases": list(spec["aliases"]),
        "cloudInit": spec["cloudInit"],
    }


# ------------------------------------------------------------------------ locations

_LOCATION_TABLE: tuple[dict, ...] = tuple(_DATA["locations"])


def _cpu_architecture(families: list[str]) -> list[dict]:
    return [{"cpuFamily": family, **_DATA["cpu_families"][family]} for family in families]


LOCATIONS: list[dict] = [
    {
        "id": loc["id"],
        "type": "location",
        "properties": {
            "name": loc["name"],
            "features": list(_DATA["features"]),
            "imageAliases": list(_ALL_ALIASES),
            "cpuArchitecture": _cpu_architecture(loc["cpus"]),
            # GPU servers are offered only where a GPU architecture is listed (the GPU templates' card)
            "gpuArchitecture": loc.get("gpus", []),
        },
    }
    for loc in _LOCATION_TABLE
]

_LOCATIONS_BY_ID: dict[str, dict] = {loc["id"]: loc for loc in LOCATIONS}


# ------------------------------------------------------------------- built catalogue


@lru_cache(maxsize=1)
def _built_images() -> tuple[dict, ...]:
    return tuple(
        {
            "id": _stable_id("image", loc["id"], spec["name"]),
            "type": "image",
            "metadata": _system_metadata("System"),
            "properties": _image_properties(spec, loc["id"]),
        }
        # From the private table, so a caller mutating LOCATIONS cannot skew the images.
        for loc in _LOCATION_TABLE
        for spec in _IMAGE_SPECS
    )


@lru_cache(maxsize=1)
def _images_by_id() -> dict[str, dict]:
    return {img["id"]: img for img in _built_images()}


@lru_cache(maxsize=1)
def _alias_index() -> dict[tuple[str, str], dict]:
    return {
        (img["properties"]["location"], alias): img
        for img in _built_images()
        for alias in img["properties"]["imageAliases"]
    }


_TEMPLATE_PROPERTIES = ("name", "cores", "ram", "storageSize", "gpus")


@lru_cache(maxsize=1)
def _built_templates() -> tuple[dict, ...]:
    """The real templates, with their public ids (location independent)."""
    return tuple(
        {
            "id": tpl["id"],
            "type": "template",
            "metadata": _system_metadata("[UNKNOWN]"),
            "properties": {
                **{k: tpl[k] for k in _TEMPLATE_PROPERTIES if k in tpl},
                "category": _DATA["template_category"],
            },
        }
        for tpl in _DATA["templates"]
    )


# ------------------------------------------------------------------------ public API


def images() -> list[dict]:
    """All public images, one per OS image per location."""
    return copy.deepcopy(list(_built_images()))


def image(image_id: str) -> dict | None:
    found = _images_by_id().get(image_id)
    return copy.deepcopy(found) if found is not None else None


def templates() -> list[dict]:
    """All Cubes templates (location independent)."""
    return copy.deepcopy(list(_built_templates()))


def template(template_id: str) -> dict | None:
    for tpl in _built_templates():
        if tpl["id"] == template_id:
            return copy.deepcopy(tpl)
    return None


def location(id: str) -> dict | None:  # the name `id` is fixed by the module contract
    found = shared_location(id)
    return copy.deepcopy(found) if found is not None else None


def shared_location(id: str) -> dict | None:
    """The catalogue's own entry, not a copy: for reading only (checks on the request path; a deep copy per
    create cost a fifth of a data center's POST)."""
    return _LOCATIONS_BY_ID.get(id)


def resolve_image_alias(alias: str, location: str) -> dict | None:
    """The public image of `location` that carries `alias`, e.g. "ubuntu:latest"."""
    found = _alias_index().get((location, alias))
    return copy.deepcopy(found) if found is not None else None
