"""Checks on the seeded read-only catalogue (locations, public images, Cubes templates)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from ionos_emulator import spec as specs
from ionos_emulator.apis.cloud import catalogue

LOCATION_ID = re.compile(r"^[a-z]{2}/[a-z]{3}(/[0-9]+)?$")
HDD_OSES = ("ubuntu:22.04", "ubuntu:24.04", "debian:12", "rockylinux:9", "windows:2022")
ISO_ALIASES = ("ubuntu:24.04_iso", "debian:12_iso", "windows:2022_iso")


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError):
        return False


# ----------------------------------------------------------------------- locations


def test_location_ids_unique_and_well_formed():
    ids = [loc["id"] for loc in catalogue.LOCATIONS]
    assert len(ids) == len(set(ids))
    assert {
        "de/fra",
        "de/fra/2",
        "de/txl",
        "es/vit",
        "fr/par",
        "gb/lhr",
        "gb/bhx",
        "us/las",
        "us/ewr",
        "us/mci",
    } <= set(ids)
    for loc_id in ids:
        assert LOCATION_ID.match(loc_id), loc_id


def test_location_names_unique_and_frankfurt_is_de_fra():
    names = [loc["properties"]["name"] for loc in catalogue.LOCATIONS]
    assert len(names) == len(set(names))
    assert catalogue.location("de/fra")["properties"]["name"] == "frankfurt"


def test_location_cpu_architecture_shape():
    for loc in catalogue.LOCATIONS:
        cpus = loc["properties"]["cpuArchitecture"]
        assert cpus, loc["id"]
        for cpu in cpus:
            assert cpu["vendor"] in {"GenuineIntel", "AuthenticAMD"}
            assert cpu["vendor"] == ("AuthenticAMD" if cpu["cpuFamily"].startswith("AMD") else "GenuineIntel")
            assert isinstance(cpu["maxCores"], int) and cpu["maxCores"] > 0
            # MB, so at least a GB and divisible into whole MB
            assert isinstance(cpu["maxRam"], int) and cpu["maxRam"] >= 1024
        assert isinstance(loc["properties"]["gpuArchitecture"], list)


def test_location_lookup_returns_copy_and_none_for_unknown():
    loc = catalogue.location("de/txl")
    assert loc["id"] == "de/txl"
    loc["properties"]["name"] = "mutated"
    assert catalogue.location("de/txl")["properties"]["name"] != "mutated"
    assert catalogue.location("xx/nope") is None


# -------------------------------------------------------------------------- images


def test_image_ids_valid_and_unique():
    ids = [img["id"] for img in catalogue.images()]
    assert ids
    assert all(_is_uuid(i) for i in ids)
    assert len(ids) == len(set(ids))


def test_images_are_public_system_owned_and_located():
    known = {loc["id"] for loc in catalogue.LOCATIONS}
    for img in catalogue.images():
        props = img["properties"]
        assert props["public"] is True
        assert props["location"] in known
        assert isinstance(props["size"], float) and props["size"] > 0
        assert img["metadata"]["createdBy"] == "System"
        assert img["metadata"]["createdByUserId"] == "[UNKNOWN]"


def test_each_os_image_in_every_location_with_distinct_ids():
    by_name: dict[str, dict[str, str]] = {}
    for img in catalogue.images():
        props = img["properties"]
        by_name.setdefault(props["name"], {})[props["location"]] = img["id"]
    all_locations = {loc["id"] for loc in catalogue.LOCATIONS}
    for name, per_location in by_name.items():
        assert set(per_location) == all_locations, name
        assert len(set(per_location.values())) == len(per_location), name
    # no image name appears twice in one location
    counts = Counter((i["properties"]["name"], i["properties"]["location"]) for i in catalogue.images())
    assert max(counts.values()) == 1


def test_expected_hdd_and_iso_images_everywhere():
    for loc in catalogue.LOCATIONS:
        for alias in HDD_OSES:
            img = catalogue.resolve_image_alias(alias, loc["id"])
            assert img is not None and img["properties"]["imageType"] == "HDD", (alias, loc["id"])
        for alias in ISO_ALIASES:
            img = catalogue.resolve_image_alias(alias, loc["id"])
            assert img is not None and img["properties"]["imageType"] == "CDROM", (alias, loc["id"])


def test_cloud_init_and_licence_rules():
    for img in catalogue.images():
        props = img["properties"]
        if props["imageType"] == "HDD" and props["licenceType"] == "LINUX":
            assert props["cloudInit"] == "V1", props["name"]
        if props["licenceType"].startswith("WINDOWS") or props["imageType"] == "CDROM":
            assert props["cloudInit"] == "NONE", props["name"]
    win = catalogue.resolve_image_alias("windows:2022", "de/fra")["properties"]
    assert win["licenceType"] == "WINDOWS2022"
    assert win["cloudInit"] == "NONE"


def test_ids_stable_across_processes():
    code = (
        "from ionos_emulator.apis.cloud import catalogue as c;"
        "print(','.join(sorted(i['id'] for i in c.images() + c.templates())))"
    )
    src = str(Path(catalogue.__file__).parents[3])
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PYTHONHASHSEED": "123"},
    ).stdout.strip()
    local = ",".join(sorted(i["id"] for i in catalogue.images() + catalogue.templates()))
    assert out == local


def test_images_returns_independent_copies():
    first = catalogue.images()
    first[0]["properties"]["name"] = "mutated"
    assert catalogue.images()[0]["properties"]["name"] != "mutated"
    img = catalogue.image(first[0]["id"])
    assert img is not None and img["properties"]["name"] != "mutated"
    assert catalogue.image(str(uuid.uuid4())) is None


# ------------------------------------------------------------------------- aliases


def test_every_listed_alias_resolves_in_its_location():
    for loc in catalogue.LOCATIONS:
        aliases = loc["properties"]["imageAliases"]
        assert aliases, loc["id"]
        for alias in aliases:
            img = catalogue.resolve_image_alias(alias, loc["id"])
            assert img is not None, (alias, loc["id"])
            assert img["properties"]["location"] == loc["id"]
            assert alias in img["properties"]["imageAliases"]


def test_location_lists_exactly_the_resolvable_aliases():
    for loc in catalogue.LOCATIONS:
        carried = {
            a
            for img in catalogue.images()
            if img["properties"]["location"] == loc["id"]
            for a in img["properties"]["imageAliases"]
        }
        assert set(loc["properties"]["imageAliases"]) == carried, loc["id"]


def test_alias_resolution_specifics_and_misses():
    img = catalogue.resolve_image_alias("ubuntu:latest", "de/fra")
    assert img["properties"]["location"] == "de/fra"
    assert img["properties"]["imageType"] == "HDD"
    assert img["id"] == catalogue.resolve_image_alias("ubuntu:24.04", "de/fra")["id"]
    assert img["id"] != catalogue.resolve_image_alias("ubuntu:latest", "us/las")["id"]
    assert catalogue.resolve_image_alias("nosuchos:1.0", "de/fra") is None
    assert catalogue.resolve_image_alias("ubuntu:latest", "xx/nope") is None


# ----------------------------------------------------------------------- templates


def test_templates_positive_and_unique():
    tpls = catalogue.templates()
    assert {"Basic Cube XS", "Basic Cube S", "Basic Cube M", "Basic Cube L", "Basic Cube XL"} <= {
        t["properties"]["name"] for t in tpls
    }
    ids = [t["id"] for t in tpls]
    assert all(_is_uuid(i) for i in ids) and len(ids) == len(set(ids))
    for t in tpls:
        props = t["properties"]
        for key in ("cores", "ram", "storageSize"):
            assert props[key] > 0, (props["name"], key)
        assert props["category"]
    assert catalogue.template(ids[0])["id"] == ids[0]
    assert catalogue.template(str(uuid.uuid4())) is None


# ------------------------------------------------------------------ spec agreement


@pytest.fixture(scope="module")
def schemas():
    """The Cloud API's schemas as the package ships them (spec/data/cloud.json, compiled from the upstream
    cloud-v6.yaml by tools/compile_specs.py): enums, required lists and properties as upstream has them."""
    return specs.load("cloud").schemas


def _resolve(schemas: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _allowed(schemas: dict, schema: dict) -> list | None:
    schema = _resolve(schemas, schema)
    return schema.get("enum") or schema.get("x-extensible-enum")


def _check_object(schemas: dict, name: str, obj: dict):
    schema = schemas[name]
    props = schema["properties"]
    assert set(obj) <= set(props), (name, set(obj) - set(props))
    for required in schema.get("required", []):
        assert required in obj, (name, required)
    for key, value in obj.items():
        allowed = _allowed(schemas, props[key])
        if allowed is not None:
            assert value in allowed, (name, key, value)


def test_image_properties_match_spec(schemas):
    for img in catalogue.images():
        _check_object(schemas, "ImageProperties", img["properties"])


def test_location_properties_match_spec(schemas):
    for loc in catalogue.LOCATIONS:
        _check_object(schemas, "LocationProperties", loc["properties"])
        for cpu in loc["properties"]["cpuArchitecture"]:
            _check_object(schemas, "CpuArchitectureProperties", cpu)
        for gpu in loc["properties"]["gpuArchitecture"]:
            _check_object(schemas, "GpuArchitectureProperties", gpu)


def test_template_properties_match_spec(schemas):
    for tpl in catalogue.templates():
        _check_object(schemas, "TemplateProperties", tpl["properties"])


def test_resource_envelopes_match_spec(schemas):
    type_enum = schemas["Type"]["enum"]
    for schema_name, items in (
        ("Image", catalogue.images()),
        ("Location", catalogue.LOCATIONS),
        ("Template", catalogue.templates()),
    ):
        allowed_keys = set(schemas[schema_name]["properties"])
        for item in items:
            assert set(item) <= allowed_keys, (schema_name, set(item) - allowed_keys)
            assert item["type"] in type_enum
        meta_keys = set(schemas["DatacenterElementMetadata"]["properties"])
        for item in items:
            assert set(item.get("metadata", {})) <= meta_keys
