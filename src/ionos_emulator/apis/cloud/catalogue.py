"""Seeded, read-only catalogue of the Cloud API v6: locations, public images, Cubes templates.

Pure data plus small lookup helpers; no I/O. Property names follow the v6 spec schemas
(LocationProperties, CpuArchitectureProperties, ImageProperties, TemplateProperties).

Every id is derived with uuid5 from a fixed namespace, so two processes (or two test
runs) agree on them without sharing state. Callers always get deep copies: the
catalogue itself can never be mutated through a returned dict.
"""

from __future__ import annotations

import copy
import uuid
from functools import lru_cache
from typing import NamedTuple

# Never change this value: every image and template id is derived from it.
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


# --------------------------------------------------------------------------- images


class _ImageSpec(NamedTuple):
    name: str
    description: str
    aliases: tuple[str, ...]
    licence: str  # ImageProperties.licenceType
    image_type: str  # "HDD" or "CDROM"
    size: float  # GB
    cloud_init: str  # "V1" only for cloud-init capable HDD images


# One entry per OS image; each exists once in every location (with its own id there).
# "<os>:latest" points at the newest HDD image of that OS, ISOs use the "_iso" suffix.
_IMAGE_SPECS: tuple[_ImageSpec, ...] = (
    _ImageSpec(
        "Ubuntu-22.04-LTS-server-2025-01-01", "Ubuntu 22.04 LTS server", ("ubuntu:22.04",), "LINUX", "HDD", 3.5, "V1"
    ),
    _ImageSpec(
        "Ubuntu-24.04-LTS-server-2025-01-01",
        "Ubuntu 24.04 LTS server",
        ("ubuntu:24.04", "ubuntu:latest"),
        "LINUX",
        "HDD",
        3.5,
        "V1",
    ),
    _ImageSpec(
        "Debian-12-server-2025-01-01",
        "Debian 12 (bookworm) server",
        ("debian:12", "debian:latest"),
        "LINUX",
        "HDD",
        2.0,
        "V1",
    ),
    _ImageSpec(
        "Rocky-9-server-2025-01-01",
        "Rocky Linux 9 server",
        ("rockylinux:9", "rockylinux:latest"),
        "LINUX",
        "HDD",
        10.0,
        "V1",
    ),
    # Windows images boot without cloud-init, hence NONE.
    _ImageSpec(
        "windows-2022-server-2025-01",
        "Windows Server 2022 Datacenter",
        ("windows:2022",),
        "WINDOWS2022",
        "HDD",
        20.0,
        "NONE",
    ),
    _ImageSpec(
        "ubuntu-24.04.1-live-server-amd64.iso",
        "Ubuntu 24.04 live server installer",
        ("ubuntu:24.04_iso",),
        "LINUX",
        "CDROM",
        2.6,
        "NONE",
    ),
    _ImageSpec(
        "debian-12.8.0-amd64-netinst.iso",
        "Debian 12 network installer",
        ("debian:12_iso",),
        "LINUX",
        "CDROM",
        0.63,
        "NONE",
    ),
    _ImageSpec(
        "Windows-Server-2022-x64.iso",
        "Windows Server 2022 installer",
        ("windows:2022_iso",),
        "WINDOWS2022",
        "CDROM",
        4.7,
        "NONE",
    ),
)

# Every alias any location offers; derived so imageAliases and resolution cannot drift.
_ALL_ALIASES: tuple[str, ...] = tuple(sorted({a for s in _IMAGE_SPECS for a in s.aliases}))


def _image_properties(spec: _ImageSpec, location_id: str) -> dict:
    windows = spec.licence.startswith("WINDOWS")
    return {
        "name": spec.name,
        "description": spec.description,
        "location": location_id,
        "size": float(spec.size),
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
        "requireLegacyBios": True,  # spec default
        "licenceType": spec.licence,
        "applicationType": "UNKNOWN",
        "imageType": spec.image_type,
        "public": True,
        "imageAliases": list(spec.aliases),
        "cloudInit": spec.cloud_init,
    }


# ------------------------------------------------------------------------ locations

# cpuFamily -> (vendor, maxCores, maxRam in MB)
_CPU_FAMILIES: dict[str, tuple[str, int, int]] = {
    "AMD_EPYC": ("AuthenticAMD", 62, 230400),
    "INTEL_SKYLAKE": ("GenuineIntel", 62, 230400),
    "INTEL_ICELAKE": ("GenuineIntel", 62, 245760),
    "INTEL_SIERRAFOREST": ("GenuineIntel", 62, 245760),
}

# Feature flags the emulator advertises everywhere ("SSD" is what clients filter on).
_FEATURES: tuple[str, ...] = (
    "SSD",
    "cloud-init",
    "cloud-init-private-image",
    "contract-identities",
    "cpu-hot-plug",
    "disk-vio-hot-plug",
    "disk-vio-hot-unplug",
    "flow-logs",
    "k8s",
    "mem-hot-plug",
    "nic-hot-plug",
    "nic-hot-unplug",
    "pcc",
    "private-loadbalancer",
    "ssd-storage-zoning",
    "vnf-alb",
    "vnf-lb",
    "vnf-nat",
)

# (id, name, cpu families offered there)
_LOCATION_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("de/fra", "frankfurt", ("AMD_EPYC", "INTEL_SKYLAKE", "INTEL_ICELAKE")),
    ("de/fra/2", "frankfurt-2", ("INTEL_ICELAKE", "INTEL_SIERRAFOREST")),
    ("de/txl", "berlin", ("AMD_EPYC", "INTEL_SKYLAKE", "INTEL_ICELAKE")),
    ("es/vit", "logrono", ("AMD_EPYC", "INTEL_SKYLAKE", "INTEL_ICELAKE")),
    ("fr/par", "paris", ("AMD_EPYC", "INTEL_ICELAKE")),
    ("gb/lhr", "london", ("AMD_EPYC", "INTEL_SKYLAKE", "INTEL_ICELAKE")),
    ("gb/bhx", "worcester", ("INTEL_ICELAKE", "INTEL_SIERRAFOREST")),
    ("us/las", "lasvegas", ("AMD_EPYC", "INTEL_SKYLAKE", "INTEL_ICELAKE")),
    ("us/ewr", "newark", ("AMD_EPYC", "INTEL_SKYLAKE", "INTEL_ICELAKE")),
    ("us/mci", "lenexa", ("AMD_EPYC", "INTEL_ICELAKE")),
)


def _cpu_architecture(families: tuple[str, ...]) -> list[dict]:
    out = []
    for family in families:
        vendor, max_cores, max_ram = _CPU_FAMILIES[family]
        out.append({"cpuFamily": family, "maxCores": max_cores, "maxRam": max_ram, "vendor": vendor})
    return out


LOCATIONS: list[dict] = [
    {
        "id": loc_id,
        "type": "location",
        "properties": {
            "name": name,
            "features": list(_FEATURES),
            "imageAliases": list(_ALL_ALIASES),
            "cpuArchitecture": _cpu_architecture(families),
            # GPU servers are offered only where a GPU architecture is listed (the GPU templates' card)
            "gpuArchitecture": [{"vendor": "NVIDIA", "model": "H100"}] if loc_id == "de/fra/2" else [],
        },
    }
    for loc_id, name, families in _LOCATION_TABLE
]

_LOCATIONS_BY_ID: dict[str, dict] = {loc["id"]: loc for loc in LOCATIONS}


# ------------------------------------------------------------------------ templates

# (name, category, cores, ram in MB, storageSize in GB)
_TEMPLATE_TABLE: tuple[tuple[str, str, int, int, int], ...] = (
    ("Basic Cube XS", "Basic", 1, 2048, 60),
    ("Basic Cube S", "Basic", 2, 4096, 120),
    ("Basic Cube M", "Basic", 4, 8192, 240),
    ("Basic Cube L", "Basic", 8, 16384, 480),
    ("Basic Cube XL", "Basic", 16, 32768, 960),
    ("Memory Cube S", "Memory", 2, 8192, 120),
    ("Memory Cube M", "Memory", 4, 16384, 240),
    ("Memory Cube L", "Memory", 8, 32768, 480),
    ("Memory Cube XL", "Memory", 16, 65536, 960),
)

# GPU server templates: (name, cores, ram in MB, storageSize in GB, cards). The card model and sizes are
# a guess at the real offer (no public listing found); servers of type GPU take one of these.
_GPU_CARD = {"vendor": "NVIDIA", "model": "H100"}
_GPU_TEMPLATE_TABLE: tuple[tuple[str, int, int, int, int], ...] = (
    ("GPU H100 S", 16, 131072, 500, 1),
    ("GPU H100 M", 32, 262144, 1000, 2),
)

# ------------------------------------------------------------------- built catalogue


@lru_cache(maxsize=1)
def _built_images() -> tuple[dict, ...]:
    return tuple(
        {
            "id": _stable_id("image", loc_id, spec.name),
            "type": "image",
            "metadata": _system_metadata("System"),
            "properties": _image_properties(spec, loc_id),
        }
        # From the private table, so a caller mutating LOCATIONS cannot skew the images.
        for loc_id, _name, _families in _LOCATION_TABLE
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


@lru_cache(maxsize=1)
def _built_templates() -> tuple[dict, ...]:
    return tuple(
        {
            "id": _stable_id("template", name),
            "type": "template",
            "metadata": _system_metadata("[UNKNOWN]"),
            "properties": {"name": name, "cores": cores, "ram": ram, "storageSize": storage, "category": category},
        }
        for name, category, cores, ram, storage in _TEMPLATE_TABLE
    ) + tuple(
        {
            "id": _stable_id("template", name),
            "type": "template",
            "metadata": _system_metadata("[UNKNOWN]"),
            "properties": {
                "name": name,
                "cores": cores,
                "ram": ram,
                "storageSize": storage,
                "category": "GPU",
                "gpus": [dict(_GPU_CARD) for _ in range(cards)],
            },
        }
        for name, cores, ram, storage, cards in _GPU_TEMPLATE_TABLE
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
    found = _LOCATIONS_BY_ID.get(id)
    return copy.deepcopy(found) if found is not None else None


def resolve_image_alias(alias: str, location: str) -> dict | None:
    """The public image of `location` that carries `alias`, e.g. "ubuntu:latest"."""
    found = _alias_index().get((location, alias))
    return copy.deepcopy(found) if found is not None else None
