"""Tests for the compiled specs and the spec validators (no server needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

try:
    import ionos_emulator  # noqa: F401
except ImportError:  # running from a checkout without PYTHONPATH=src / install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import ionos_emulator.spec as spec_mod
from ionos_emulator.spec import Spec, load

DATA_DIR = Path(spec_mod.__file__).resolve().parent / "data"
PROSE_KEYS = {"description", "summary", "example", "examples", "title", "tags", "externalDocs"}


@pytest.fixture(scope="module")
def cloud() -> Spec:
    return load("cloud")


@pytest.fixture(scope="module")
def auth() -> Spec:
    return load("auth")


def _datacenter_response() -> dict:
    return {
        "id": "15f67991-0f51-4efc-a8ad-ef1fb31a480c",
        "type": "datacenter",
        "href": "https://api.ionos.com/cloudapi/v6/datacenters/15f67991-0f51-4efc-a8ad-ef1fb31a480c",
        "metadata": {
            "etag": "45480eb3fbfc31f1d916c1eaa4abdcc3",
            "createdDate": "2024-01-01T10:00:00Z",
            "createdBy": "user@example.com",
            "createdByUserId": "63cef532-26fe-4a64-a4e0-de7c8a506c90",
            "lastModifiedDate": "2024-01-01T10:00:00Z",
            "lastModifiedBy": "user@example.com",
            "lastModifiedByUserId": "63cef532-26fe-4a64-a4e0-de7c8a506c90",
            "state": "AVAILABLE",
        },
        "properties": {
            "name": "prod",
            "description": None,
            "location": "de/fra",
            "version": 3,
            "features": ["SSD", "cloud-init"],
            "secAuthProtection": False,
            "cpuArchitecture": [
                {"cpuFamily": "INTEL_SKYLAKE", "maxCores": 4, "maxRam": 20480, "vendor": "GenuineIntel"}
            ],
            "ipv6CidrBlock": None,
            "someFutureField": {"x": 1},  # fields the spec does not list are tolerated
        },
        "entities": {"servers": {"id": "15f67991/servers", "type": "collection", "href": "https://x/servers"}},
    }


def _server_body() -> dict:
    return {
        "properties": {"name": "web", "cores": 2, "ram": 2048, "cpuFamily": "INTEL_SKYLAKE"},
        "entities": {
            "volumes": {
                "items": [
                    {
                        "properties": {
                            "name": "boot",
                            "type": "SSD",
                            "size": 20,
                            "image": "d6ad1576-fde9-4696-aa41-1ebd75bdaf49",
                            "imagePassword": "secret123",
                            "bootOrder": None,  # nullable
                        }
                    }
                ]
            },
            "nics": {"items": [{"properties": {"name": "eth0", "lan": 1, "dhcp": True, "ips": None}}]},
        },
    }


# -- compiled data ---------------------------------------------------------


def test_json_files_load_and_counts(cloud, auth):
    assert (DATA_DIR / "cloud.json").is_file() and (DATA_DIR / "auth.json").is_file()
    assert cloud.api == "cloud" and auth.api == "auth"
    assert cloud.base_path == "/cloudapi/v6"
    assert auth.base_path == "/auth/v1"
    assert len(cloud.operations) == 266
    assert len(auth.operations) == 5
    assert load("cloud") is cloud  # cached


@pytest.mark.parametrize("api", ["cloud", "auth"])
def test_every_operation_is_complete(api):
    s = load(api)
    ids = set()
    for op in s.operations:
        assert op.id and op.method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
        assert op.path.startswith("/")
        assert op.responses
        assert isinstance(op.security, list)
        ids.add(op.id)
        assert s.operation(op.id) is op
    assert len(ids) == len(s.operations)


def test_security_names(cloud):
    assert cloud.operation("apiInfoGet").security == []
    assert set(cloud.operation("datacentersGet").security) == {"BasicAuthentication", "TokenAuthentication"}


def _walk_keys(node, in_props_map=False):
    """Yield every dict key, except the attribute names of `properties` maps."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not in_props_map:
                yield key
            yield from _walk_keys(value, in_props_map=(key == "properties" and not in_props_map))
    elif isinstance(node, list):
        for item in node:
            yield from _walk_keys(item)


@pytest.mark.parametrize("api", ["cloud", "auth"])
def test_no_prose_in_compiled_json(api):
    data = json.loads((DATA_DIR / f"{api}.json").read_bytes())
    keys = set(_walk_keys(data))
    assert not keys & PROSE_KEYS
    assert not [k for k in keys if k.startswith("x-")]
    raw = (DATA_DIR / f"{api}.json").read_text()
    assert '"example"' not in raw
    assert "#/components/" not in raw


@pytest.mark.parametrize("api", ["cloud", "auth"])
def test_all_refs_resolve(api):
    s = load(api)
    raw = json.loads((DATA_DIR / f"{api}.json").read_bytes())

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for v in node.values():
                yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(raw):
        assert ref.startswith("#/schemas/") and ref[len("#/schemas/") :] in s.schemas, ref
    for view in ("request", "response"):
        defs = s._view(view)
        for ref in refs(defs):
            assert ref[len("#/schemas/") :] in defs, ref


def test_path_params_present(cloud):
    op = cloud.operation("datacentersServersFindById")
    names = {(p["name"], p["in"]) for p in op.params}
    assert {("datacenterId", "path"), ("serverId", "path"), ("depth", "query")} <= names


# -- request bodies --------------------------------------------------------


def test_datacenter_post_valid(cloud):
    op = cloud.operation("datacentersPost")
    assert cloud.body_errors(op, {"properties": {"name": "dc", "location": "de/fra", "description": "x"}}) == []


def test_datacenter_post_missing_location(cloud):
    op = cloud.operation("datacentersPost")
    errors = cloud.body_errors(op, {"properties": {"name": "dc"}})
    assert errors == [("properties.location", "attribute 'properties.location' is required")]


def test_datacenter_post_read_only(cloud):
    op = cloud.operation("datacentersPost")
    errors = cloud.body_errors(op, {"properties": {"location": "de/fra", "version": 5}})
    assert errors == [("properties.version", "attribute 'properties.version' is read-only")]
    # null read-only values and top-level id/metadata are tolerated
    assert (
        cloud.body_errors(
            op, {"id": "abc", "metadata": {"etag": "x"}, "properties": {"location": "de/fra", "version": None}}
        )
        == []
    )


def test_wrong_type(cloud):
    op = cloud.operation("datacentersServersPost")
    errors = cloud.body_errors(op, {"properties": {"name": "s", "cores": "two", "ram": 1024}})
    assert ("properties.cores", "attribute 'properties.cores' must be of type integer, got string") in errors


def test_bad_enum(cloud):
    op = cloud.operation("datacentersVolumesPost")
    errors = cloud.body_errors(op, {"properties": {"type": "FLOPPY", "size": 10}})
    assert len(errors) == 1
    path, msg = errors[0]
    assert path == "properties.type"
    assert msg.startswith("attribute 'properties.type' must be one of: HDD, SSD")


def test_composite_server_valid(cloud):
    op = cloud.operation("datacentersServersPost")
    assert cloud.body_errors(op, _server_body()) == []


def test_composite_server_nested_errors(cloud):
    op = cloud.operation("datacentersServersPost")
    body = _server_body()
    body["entities"]["volumes"]["items"][0]["properties"]["size"] = "big"
    del body["entities"]["nics"]["items"][0]["properties"]["lan"]
    errors = dict(cloud.body_errors(op, body))
    assert errors["entities.volumes.items[0].properties.size"] == (
        "attribute 'entities.volumes.items[0].properties.size' must be of type number, got string"
    )
    assert "entities.nics.items[0].properties.lan" in errors


def test_body_root_and_missing(cloud):
    op = cloud.operation("datacentersPost")
    assert cloud.body_errors(op, []) == [("", "request body must be of type object, got array")]
    assert cloud.body_errors(op, None) == [("", "request body is required")]
    assert cloud.body_errors(cloud.operation("datacentersGet"), {"anything": 1}) == []


def test_patch_is_partial(cloud):
    op = cloud.operation("datacentersNatgatewaysPatch")
    assert cloud.body_errors(op, {"name": "renamed"}) == []
    assert cloud.body_errors(op, {"name": 1}) == [("name", "attribute 'name' must be of type string, got integer")]


def test_error_cap(cloud):
    op = cloud.operation("datacentersServersPost")
    props = {k: [] for k in ("name", "cores", "ram", "cpuFamily", "availabilityZone", "type", "bootCdrom")}
    assert len(cloud.body_errors(op, {"properties": props})) <= 5


# -- query parameters ------------------------------------------------------


def test_query_errors(cloud):
    op = cloud.operation("datacentersFindById")
    assert cloud.query_errors(op, {"depth": "11"}) == [("depth", "query parameter 'depth' must be at most 10")]
    errs = cloud.query_errors(op, {"depth": "abc"})
    assert len(errs) == 1 and errs[0][0] == "depth" and "integer" in errs[0][1]
    assert cloud.query_errors(op, {"pretty": "True", "depth": "2"}) == []
    assert cloud.query_errors(op, {"pretty": "FALSE", "unknownParam": "zzz"}) == []
    assert cloud.query_errors(op, {"depth": "-1"}) == [("depth", "query parameter 'depth' must be at least 0")]
    assert cloud.query_errors(op, {"pretty": "yes"})[0][0] == "pretty"


def test_auth_required_query(auth):
    op = auth.operation("tokensDeleteByCriteria")
    assert auth.query_errors(op, {}) == [("criteria", "query parameter 'criteria' is required")]
    assert auth.query_errors(op, {"criteria": "ALL"}) == []


# -- responses -------------------------------------------------------------


def test_response_valid_datacenter(cloud):
    op = cloud.operation("datacentersFindById")
    assert cloud.response_errors(op, 200, _datacenter_response()) == []


def test_response_wrong_name_type(cloud):
    op = cloud.operation("datacentersFindById")
    body = _datacenter_response()
    body["properties"]["name"] = 42
    errors = cloud.response_errors(op, 200, body)
    assert errors == [("properties.name", "attribute 'properties.name' must be of type string, got integer")]


def test_response_depth0_collection_and_error(cloud):
    op = cloud.operation("datacentersGet")
    listing = {
        "id": "datacenters",
        "type": "collection",
        "href": "https://api.ionos.com/cloudapi/v6/datacenters",
        "items": [{"id": "a", "type": "datacenter", "href": "https://x/a"}],
    }
    assert cloud.response_errors(op, 200, listing) == []
    err = {"httpStatus": 404, "messages": [{"errorCode": "309", "message": "Resource does not exist"}]}
    assert cloud.response_errors(op, 404, err) == []
    assert cloud.response_errors(op, 404, {"httpStatus": "404"})[0][0] == "httpStatus"


# -- synthetic schemas (OpenAPI features the real specs barely use) ---------


def _synthetic() -> Spec:
    return Spec(
        {
            "api": "test",
            "basePath": "/t",
            "version": "1",
            "schemas": {
                "Color": {"type": "string", "enum": ["red", "green"]},
                "Cat": {"type": "object", "required": ["meow"], "properties": {"meow": {"type": "boolean"}}},
                "Dog": {"type": "object", "required": ["bark"], "properties": {"bark": {"type": "integer"}}},
            },
            "operations": [
                {
                    "id": "thingPost",
                    "method": "POST",
                    "path": "/things",
                    "params": [],
                    "body": {
                        "required": True,
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "color": {"allOf": [{"$ref": "#/schemas/Color"}], "nullable": True},
                                "pet": {"oneOf": [{"$ref": "#/schemas/Cat"}, {"$ref": "#/schemas/Dog"}]},
                                "count": {"type": "integer", "minimum": 1, "exclusiveMaximum": True, "maximum": 5},
                            },
                        },
                    },
                    "responses": {
                        "201": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "secret": {"type": "string", "writeOnly": True},
                                    "id": {"type": "string", "readOnly": True},
                                },
                            },
                            "headers": [],
                        },
                        "default": {"schema": None, "headers": []},
                    },
                    "security": [],
                }
            ],
        }
    )


def test_synthetic_nullable_ref_and_oneof():
    s = _synthetic()
    op = s.operation("thingPost")
    assert s.body_errors(op, {"color": None, "pet": {"meow": True}, "count": 4}) == []
    errs = s.body_errors(op, {"color": "blue"})
    assert errs == [("color", "attribute 'color' must be one of: red, green")]
    errs = s.body_errors(op, {"pet": {"bark": "loud"}})
    assert errs and errs[0][0] == "pet.bark"
    assert s.body_errors(op, {"count": 5}) == [("count", "attribute 'count' must be less than 5")]
    errs = s.body_errors(op, {"nope": 1})
    assert errs and "nope" in errs[0][1]
    assert s.response_errors(op, 500, {"whatever": True}) == []  # default: no schema


def test_synthetic_response_write_only():
    s = _synthetic()
    op = s.operation("thingPost")
    assert s.response_errors(op, 201, {"id": "x", "secret": None}) == []
    errs = s.response_errors(op, 201, {"id": "x", "secret": "hunter2"})
    assert errs == [("secret", "attribute 'secret' is write-only and must not be returned")]
