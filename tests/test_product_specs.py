"""The compiled product specs (no server): they load, count what their SDKs count, hold no prose and
dangling references, and their validators reject a wrong body and accept what the official SDKs send
and read.

Specs compiled from a spec file (tools/compile_specs.py): dns, postgresql-v1, mongodb, mariadb-v1,
inmemorydb-v1, certmanager-v1,
containerregistry-v1, cdn, autoscaling-v1, monitoring, nfs.  Specs compiled from an official Python SDK
(tools/compile_sdk_specs.py): postgresql, mariadb, inmemorydb, logging, kafka, vpn,
objectstoragemanagement, apigateway, certmanager, containerregistry, autoscaling, dataplatform.  The checks that build
bodies with an SDK's own models are skipped when that SDK is not installed (pip install -e '.[specs]').
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

try:
    import ionos_emulator  # noqa: F401
except ImportError:  # running from a checkout without PYTHONPATH=src / install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import ionos_emulator.spec as spec_mod
from ionos_emulator.spec import Spec, load

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(spec_mod.__file__).resolve().parent / "data"
PROSE_KEYS = {"description", "summary", "example", "examples", "title", "tags", "externalDocs"}

# name -> (operations, SDK package whose public *_with_http_info methods are counted, its distribution)
SPEC_FILE_PRODUCTS = {
    "dns": (30, "ionoscloud_dns", "ionoscloud-dns"),
    # the upstream originals: v1 with users, databases and versions (the SDK on PyPI is the v2 API)
    "postgresql-v1": (25, None, None),
    "mongodb": (18, None, None),  # ionoscloud-dbaas-mongo 1.2.2 has 16 of them (no versions endpoints)
    "mariadb-v1": (9, None, None),  # ionoscloud-dbaas-mariadb 2.x; the suite's 3.x is the v2 API
    "inmemorydb-v1": (10, None, None),
    "certmanager-v1": (8, None, None),  # the 3.x SDK is the newer API (certmanager.json)
    "containerregistry-v1": (15, None, None),
    "cdn": (7, None, None),  # ionoscloud-cdn 1.0.0b2 has 5 of them (test_cdn_sdk_is_part_of_the_spec)
    "autoscaling-v1": (11, None, None),
    "monitoring": (9, None, None),  # no official Python SDK
    "nfs": (10, None, None),  # no official Python SDK
}
SDK_PRODUCTS = {
    "postgresql": (11, "ionoscloud_dbaas_postgres", "ionoscloud-dbaas-postgres"),
    "mariadb": (11, "ionoscloud_dbaas_mariadb", "ionoscloud-dbaas-mariadb"),
    "inmemorydb": (11, "ionoscloud_dbaas_inmemorydb", "ionoscloud-dbaas-inmemorydb"),
    "logging": (9, "ionoscloud_logging", "ionoscloud-logging"),
    "kafka": (10, "ionoscloud_kafka", "ionoscloud-kafka"),
    "vpn": (20, "ionoscloud_vpn", "ionoscloud-vpn"),
    "objectstoragemanagement": (8, "ionoscloud_object_storage_management", "ionoscloud-object-storage-management"),
    "apigateway": (10, "ionoscloud_api_gateway", "ionoscloud-api-gateway"),
    "certmanager": (15, "ionoscloud_cert_manager", "ionoscloud-cert-manager"),
    "containerregistry": (22, "ionoscloud_container_registry", "ionoscloud-container-registry"),
    "autoscaling": (9, "ionoscloud_vm_autoscaling", "ionoscloud-vm-autoscaling"),
    "dataplatform": (12, "ionoscloud_dataplatform", "ionoscloud-dataplatform"),  # the older generator
}
PRODUCTS = {**SPEC_FILE_PRODUCTS, **SDK_PRODUCTS}

UUID = "5fb7e3b2-61a5-4d4a-a5f6-4f9b1c1e1a2b"
UUID2 = "0f3c6a9e-1b2d-4c5e-8f70-9a1b2c3d4e5f"
WHEN = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def _spec(name: str) -> Spec:
    """load(name); names that spec.APIS does not list yet (it is extended when the products are served)
    are let through for the call (load() is cached, so this happens once)."""
    if name in spec_mod.APIS:
        return load(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(spec_mod, "APIS", tuple(spec_mod.APIS) + (name,))
        return load(name)


def _raw(name: str) -> dict:
    return json.loads((DATA_DIR / f"{name}.json").read_bytes())


def _sdk(pkg: str):
    """The SDK's models module, or skip."""
    if importlib.util.find_spec(pkg) is None:
        pytest.skip(f"{pkg} is not installed (pip install -e '.[specs]')")
    return importlib.import_module(f"{pkg}.models")


def _wire(obj) -> dict:
    """A model's to_dict() as it goes over the wire (datetimes as ISO 8601 strings, enums as values)."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    return json.loads(json.dumps(obj, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o)))


def _count_with_http_info(pkg: str) -> int:
    api_dir = Path(importlib.util.find_spec(pkg).origin).parent / "api"
    n = 0
    for path in api_dir.glob("*_api.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.FunctionDef)
                and node.name.endswith("_with_http_info")
                and not node.name.startswith("_")
            ):
                n += 1
    return n


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# ---------------------------------------------------------------------------------------------------
# the compiled files
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_loads_with_expected_operations(name):
    s = _spec(name)
    assert s.api == name
    assert len(s.operations) == PRODUCTS[name][0]
    ids = set()
    for op in s.operations:
        assert op.method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
        assert op.path.startswith("/") and op.responses
        assert s.operation(op.id) is op
        ids.add(op.id)
        for p in op.path_params:
            assert "{" + p["name"] + "}" in op.path and p["required"]
    assert len(ids) == len(s.operations)
    raw = _raw(name)
    assert raw["servers"] and all(srv["url"].startswith("https://") for srv in raw["servers"])
    assert s.base_path == urlparse(raw["servers"][0]["url"]).path.rstrip("/")
    assert set(s.security_schemes) >= {n for op in s.operations for n in op.security}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_operation_count_matches_the_sdk(name):
    count, pkg, dist = PRODUCTS[name]
    if pkg is None:
        pytest.skip("no SDK of this API version")
    _sdk(pkg)
    installed = importlib.metadata.version(dist)
    if name in SDK_PRODUCTS and installed != _raw(name)["sdkVersion"]:
        pytest.skip(f"{dist} {installed} is installed, {name}.json was compiled from {_raw(name)['sdkVersion']}")
    assert _count_with_http_info(pkg) == count


@pytest.mark.parametrize("name", sorted(SDK_PRODUCTS))
def test_sdk_operation_ids_are_the_method_names(name):
    _, pkg, dist = SDK_PRODUCTS[name]
    _sdk(pkg)
    if importlib.metadata.version(dist) != _raw(name)["sdkVersion"]:
        pytest.skip("another SDK version is installed")
    api_dir = Path(importlib.util.find_spec(pkg).origin).parent / "api"
    methods = {
        node.name[: -len("_with_http_info")]
        for path in api_dir.glob("*_api.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_with_http_info") and not node.name.startswith("_")
    }
    assert {_camel(m) for m in methods} == {op.id for op in _spec(name).operations}


def test_sdk_outputs_record_their_origin():
    expect_base = {
        "mariadb": "/v2",
        "inmemorydb": "/v2",
        "postgresql": "",
        "containerregistry": "/containerregistries",
        "autoscaling": "/autoscaling",
        "dataplatform": "/dataplatform",
    }
    for name in SDK_PRODUCTS:
        raw = _raw(name)
        assert raw["sdkVersion"] and raw["version"], name
        if name in expect_base:
            assert raw["basePath"] == expect_base[name], name
    assert len(_raw("postgresql")["servers"]) > 5  # the regional hosts
    assert _raw("postgresql")["version"].startswith("2.")


def _walk_keys(node, in_props_map=False):
    """Every dict key, except the attribute names of `properties` maps."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not in_props_map:
                yield key
            yield from _walk_keys(value, in_props_map=(key == "properties" and not in_props_map))
    elif isinstance(node, list):
        for item in node:
            yield from _walk_keys(item)


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_no_prose(name):
    raw = _raw(name)
    keys = set(_walk_keys(raw))
    assert not keys & PROSE_KEYS
    assert not [k for k in keys if k.startswith("x-") or k == "$defs"]
    text = (DATA_DIR / f"{name}.json").read_text()
    assert '"example"' not in text and "#/components/" not in text and "#/$defs/" not in text


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_every_ref_resolves_and_every_schema_is_valid(name):
    from jsonschema import Draft4Validator

    s = _spec(name)
    for ref in _refs(_raw(name)):
        assert ref.startswith("#/schemas/") and ref[len("#/schemas/") :] in s.schemas, ref
    for view in ("request", "response"):
        defs = s._view(view)
        for ref in _refs(defs):
            assert ref[len("#/schemas/") :] in defs, ref
        for schema in defs.values():
            Draft4Validator.check_schema(schema)  # e.g. no `type: int`
    s.warm()


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_required_names_are_attributes(name):
    """A `required` entry that names no attribute anywhere in the spec can never be met (a schema used
    in an allOf may require what a sibling declares, so the names are looked up spec-wide)."""
    required: dict[str, str] = {}
    attributes: set[str] = set()

    def walk(node, where):
        if isinstance(node, dict):
            for r in node.get("required") or () if isinstance(node.get("required"), list) else ():
                required.setdefault(r, where)
            for k, v in node.items():
                if k == "properties":
                    attributes.update(v)
                    for pname, sub in v.items():
                        walk(sub, f"{where}.{pname}")
                elif k != "required":
                    walk(v, where)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    for schema_name, schema in _raw(name)["schemas"].items():
        walk(schema, schema_name)
    assert not {f"{where}: {r}" for r, where in required.items() if r not in attributes}


def test_corrections_of_the_autoscaling_v1_spec():
    raw = _raw("autoscaling-v1")
    assert raw["schemas"]["ParseError_allOf"]["properties"]["httpStatus"]["type"] == "integer"
    assert raw["schemas"]["ErrorMessageParse_allOf"]["properties"]["errorCode"]["type"] == "integer"
    assert raw["schemas"]["Group_allOf"]["properties"]["entities"] == {"$ref": "#/schemas/GroupEntities"}
    assert "type: int" not in json.dumps(raw)


def test_sdk_schemas_use_json_names_and_nullable():
    pg = _raw("postgresql")["schemas"]
    props = pg["ClusterCreateProperties"]["properties"]
    assert {"maintenanceWindow", "connectionPooler", "logsEnabled"} <= set(props)
    assert not {"maintenance_window", "connection_pooler"} & set(props)
    assert pg["InstanceConfiguration"]["properties"]["cores"] == {"type": "integer", "minimum": 1, "maximum": 62}
    assert pg["PostgresClusterStates"] == {
        "type": "string",
        "enum": ["PROVISIONING", "AVAILABLE", "UPDATING", "DESTROYING", "FAILED"],
    }
    assert pg["ClusterMetadata"]["properties"]["createdDate"] == {"type": "string", "format": "date-time"}
    assert "anyOf" in pg["ClusterRestoreFromBackup"]
    assert "_links" in pg["ClusterReadList"]["properties"]
    # nullable only where the SDK sends null (its "(nullable)" attributes), not for every Optional
    assert _raw("mariadb")["schemas"]["Backup"]["properties"]["latestRecoveryTargetTime"].get("nullable") is True
    assert "nullable" not in props["name"]
    state = {p["name"]: p for p in _spec("postgresql").operation("clustersGet").query_params}["filter.state"]
    assert state["schema"]["enum"][0] == "PROVISIONING"  # parameter enums are inlined


def test_cdn_sdk_is_part_of_the_spec():
    """tools/compile_sdk_specs.py writes cdn-sdk.json only when the SDK describes what cdn.json does not."""
    if importlib.util.find_spec("ionoscloud_cdn") is None:
        pytest.skip("ionoscloud-cdn is not installed")
    spec_ops = {(op.method, op.path) for op in _spec("cdn").operations}
    api = Path(importlib.util.find_spec("ionoscloud_cdn").origin).parent / "api" / "distributions_api.py"
    sdk_ops = set()
    for node in ast.walk(ast.parse(api.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "param_serialize":
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            sdk_ops.add((kw["method"], kw["resource_path"]))
    assert sdk_ops and sdk_ops <= spec_ops
    assert not (DATA_DIR / "cdn-sdk.json").exists()


def test_sdk_compiler_is_deterministic(tmp_path):
    """Compiling the PostgreSQL SDK again gives the committed file, byte for byte."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import compile_sdk_specs
    finally:
        sys.path.remove(str(REPO / "tools"))
    _sdk("ionoscloud_dbaas_postgres")
    if importlib.metadata.version("ionoscloud-dbaas-postgres") != _raw("postgresql")["sdkVersion"]:
        pytest.skip("another SDK version is installed")
    assert compile_sdk_specs.main(["--only", "postgresql", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "postgresql.json").read_bytes() == (DATA_DIR / "postgresql.json").read_bytes()


# ---------------------------------------------------------------------------------------------------
# request bodies: one create operation per product
# ---------------------------------------------------------------------------------------------------

# name -> (operation, an obviously wrong body, the attribute the error must name)
WRONG_BODIES = {
    "dns": ("zonesPost", {"properties": {"zoneName": 5}}, "properties.zoneName"),
    "postgresql-v1": ("clustersPost", {"properties": {"cores": "x"}}, "properties.cores"),
    "mongodb": ("clustersPost", {"properties": {"instances": "three"}}, "properties.instances"),
    "mariadb-v1": ("clustersPost", {"properties": {"instances": "three"}}, "properties.instances"),
    "inmemorydb-v1": ("replicasetsPost", {"properties": {"replicas": "three"}}, "properties.replicas"),
    "certmanager-v1": ("certificatesPost", {"properties": {"name": ["x"]}}, "properties.name"),
    "containerregistry-v1": (
        "registriesPost",
        {"properties": {"name": "Bad Name!", "location": "de/fra"}},
        "properties.name",
    ),
    "cdn": (
        "distributionsPost",
        {"properties": {"domain": "example.com", "routingRules": "all"}},
        "properties.routingRules",
    ),
    "autoscaling-v1": ("autoscalingGroupsPost", {"properties": {"maxReplicaCount": 500}}, "properties.maxReplicaCount"),
    "monitoring": ("pipelinesPost", {"properties": {"name": 7}}, "properties.name"),
    "nfs": ("clustersPost", {"properties": {"name": "files", "connections": [], "size": 1}}, "properties.connections"),
    "postgresql": ("clustersPost", {"properties": {"instances": {"cores": "x"}}}, "properties.instances.cores"),
    "mariadb": ("clustersPost", {"properties": {"instances": {"cores": "x"}}}, "properties.instances.cores"),
    "inmemorydb": ("clustersPost", {"properties": {"persistenceMode": "SOMETIMES"}}, "properties.persistenceMode"),
    "logging": ("pipelinesPost", {"properties": {"logs": {"source": "kubernetes"}}}, "properties.logs"),
    "kafka": ("clustersPost", {"properties": {"connections": []}}, "properties.connections"),
    "vpn": ("wireguardgatewaysPost", {"properties": {"listenPort": 70000}}, "properties.listenPort"),
    "objectstoragemanagement": ("accesskeysPost", {"properties": {"description": 42}}, "properties.description"),
    "apigateway": ("apigatewaysPost", {"properties": {"logs": "yes"}}, "properties.logs"),
    "certmanager": (
        "providersPost",
        {"properties": {"externalAccountBinding": "k:s"}},
        "properties.externalAccountBinding",
    ),
    "containerregistry": (
        "registriesPost",
        {"properties": {"garbageCollectionSchedule": {"days": ["Funday"]}}},
        "properties.garbageCollectionSchedule.days[0]",
    ),
    "autoscaling": (
        "groupsPost",
        {"properties": {"replicaConfiguration": {"cores": 0}}},
        "properties.replicaConfiguration.cores",
    ),
    "dataplatform": (
        "createCluster",
        {"properties": {"name": "dp", "datacenterId": UUID, "maintenanceWindow": {"time": "25:00:00"}}},
        "properties.maintenanceWindow.time",
    ),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_wrong_body_is_rejected(name):
    assert name in WRONG_BODIES
    op_id, body, where = WRONG_BODIES[name]
    s = _spec(name)
    op = s.operation(op_id)
    assert op.method == "POST" and op.body is not None
    errors = s.body_errors(op, body)
    assert any(path == where for path, _ in errors), errors
    assert s.body_errors(op, [body]), "a list is no object"


def _body_dns():
    m = _sdk("ionoscloud_dns")
    return m.ZoneCreate(properties=m.Zone(zone_name="example.com", description="test zone", enabled=True))


def _body_mongodb():
    m = _sdk("ionoscloud_dbaas_mongo")
    from ionoscloud_dbaas_mongo import ApiClient

    body = m.CreateClusterRequest(
        properties=m.CreateClusterProperties(
            template_id=UUID,
            mongo_db_version="5.0",
            instances=3,
            location="de/fra",
            display_name="mongo",
            connections=[
                m.Connection(
                    datacenter_id=UUID,
                    lan_id="1",
                    cidr_list=["192.168.1.100/24", "192.168.1.101/24", "192.168.1.102/24"],
                )
            ],
            maintenance_window=m.MaintenanceWindow(time="16:30:59", day_of_the_week="Sunday"),
        )
    )
    return ApiClient().sanitize_for_serialization(body)  # the old generator's wire form


def _body_cdn():
    m = _sdk("ionoscloud_cdn")
    return m.DistributionCreate(
        properties=m.DistributionProperties(
            domain="www.example.com",
            certificate_id=UUID,
            routing_rules=[
                m.RoutingRule(
                    scheme="https",
                    prefix="/api",
                    upstream=m.Upstream(
                        host="origin.example.com",
                        caching=True,
                        waf=False,
                        rate_limit_class="R100",
                        sni_mode="distribution",
                    ),
                )
            ],
        )
    )


def _body_postgresql():
    m = _sdk("ionoscloud_dbaas_postgres")
    return m.ClusterCreate(
        properties=m.ClusterCreateProperties(
            name="pg-prod",
            description="orders",
            version="16",
            instances=m.InstanceConfiguration(count=2, ram=8, cores=4, storage_size=100),
            connection=m.PostgresClusterConnection(
                datacenter_id=UUID, lan_id="2", primary_instance_address="10.1.1.10/24"
            ),
            maintenance_window=m.MaintenanceWindow(time="02:00:00", day_of_the_week=m.DayOfTheWeek.SUNDAY),
            replication_mode=m.PostgresClusterReplicationMode.ASYNCHRONOUS,
            credentials=m.PostgresUser(username="admin", password="s3cret-password", database="orders"),
            connection_pooler="DISABLED",
            restore_from_backup=m.ClusterRestoreFromBackup(
                m.PostgresRestoreClusterFromBackup(source_backup_id=UUID2, recovery_target_datetime=WHEN)
            ),
            logs_enabled=True,
            metrics_enabled=False,
            backup=m.ClusterBackup(location="de", retention_days=7),
        )
    )


def _body_mariadb():
    m = _sdk("ionoscloud_dbaas_mariadb")
    return m.ClusterCreate(
        properties=m.ClusterCreateProperties(
            name="maria",
            version="10.11",
            instances=m.InstanceConfiguration(count=1, ram=4, cores=2, storage_size=20),
            connection=m.MariadbClusterConnection(
                datacenter_id=UUID, lan_id="1", primary_instance_address="10.0.0.5/24"
            ),
            maintenance_window=m.MaintenanceWindow(time="03:00:00", day_of_the_week=m.DayOfTheWeek.MONDAY),
            credentials=m.MariadbUser(username="admin", password="a-long-password", database="app"),
            backup=m.ClusterBackup(location="de", retention_days=14),
        )
    )


def _body_inmemorydb():
    m = _sdk("ionoscloud_dbaas_inmemorydb")
    return m.ClusterCreate(
        properties=m.ClusterCreateProperties(
            name="cache",
            version="7.2",
            instances=m.InstanceConfiguration(count=1, cores=1, ram=4),
            connection=m.ClusterConnection(datacenter_id=UUID, lan_id="3", primary_instance_address="10.0.0.9/24"),
            persistence_mode=m.PersistenceMode.RDB,
            eviction_policy=m.EvictionPolicy.ALLKEYS_MINUS_LRU,
            snapshot=m.SnapshotConfiguration(location="de", retention_days=3, snapshot_hours=[0, 12]),
            credentials=m.User(username="app", password=m.HashedPassword(algorithm="SHA-256", hash="ab" * 32)),
        )
    )


def _body_logging():
    m = _sdk("ionoscloud_logging")
    return m.PipelineCreate(
        properties=m.PipelineNoAddr(
            name="logs",
            logs=[
                m.PipelineNoAddrLogsInner(
                    source="kubernetes",
                    tag="k8s",
                    protocol="http",
                    destinations=[m.PipelineNoAddrLogsInnerDestinationsInner(type="loki", retention_in_days=30)],
                )
            ],
        )
    )


def _body_kafka():
    m = _sdk("ionoscloud_kafka")
    return m.ClusterCreate(
        properties=m.Cluster(
            name="events",
            version="3.7.0",
            size="S",
            connections=[
                m.KafkaClusterConnection(datacenter_id=UUID, lan_id="2", broker_addresses=["192.168.1.101/24"])
            ],
        )
    )


def _body_vpn():
    m = _sdk("ionoscloud_vpn")
    return m.WireguardGatewayCreate(
        properties=m.WireguardGateway(
            name="wg",
            gateway_ip="203.0.113.10",
            interface_ipv4_cidr="10.8.0.1/24",
            connections=[m.Connection(datacenter_id=UUID, lan_id="1", ipv4_cidr="192.168.1.1/24")],
            private_key="cHJpdmF0ZWtleQ==",
            listen_port=51820,
        )
    )


def _body_objectstoragemanagement():
    m = _sdk("ionoscloud_object_storage_management")
    return m.AccessKeyCreate(properties=m.AccessKey(description="ci key"))


def _body_apigateway():
    m = _sdk("ionoscloud_api_gateway")
    return m.GatewayCreate(
        properties=m.Gateway(
            name="gw",
            logs=False,
            metrics=True,
            custom_domains=[m.GatewayCustomDomainsInner(name="api.example.com", certificate_id=UUID)],
        )
    )


def _body_certmanager():
    m = _sdk("ionoscloud_cert_manager")
    return m.ProviderCreate(
        properties=m.Provider(
            name="letsencrypt",
            email="ops@example.com",
            server="https://acme-v02.api.letsencrypt.org/directory",
            external_account_binding=m.ProviderExternalAccountBinding(key_id="kid", key_secret="secret"),
        )
    )


def _body_containerregistry():
    m = _sdk("ionoscloud_container_registry")
    return m.PostRegistryInput(
        properties=m.PostRegistryProperties(
            name="my-registry",
            location="de/fra",
            garbage_collection_schedule=m.WeeklySchedule(days=[m.Day.MONDAY, m.Day.THURSDAY], time="05:19:00+00:00"),
            features=m.RegistryFeatures(vulnerability_scanning=m.FeatureVulnerabilityScanning(enabled=True)),
            api_subnet_allow_list=["203.0.113.0/24"],
        )
    )


def _body_dataplatform():
    m = _sdk("ionoscloud_dataplatform")
    props = m.CreateClusterProperties(
        name="stack",
        data_platform_version="23.4",
        datacenter_id=UUID,
        maintenance_window=m.MaintenanceWindow(time="16:30:59", day_of_the_week="Monday"),
    )
    # the older generator's models name their attributes in Python; its client writes the JSON names
    return (
        importlib.import_module("ionoscloud_dataplatform")
        .ApiClient()
        .sanitize_for_serialization(m.CreateClusterRequest(properties=props))
    )


def _body_autoscaling():
    m = _sdk("ionoscloud_vm_autoscaling")
    return m.GroupPost(
        properties=m.GroupProperties(
            datacenter=m.GroupPropertiesDatacenter(id=UUID),
            location="de/fra",
            name="web",
            max_replica_count=5,
            min_replica_count=1,
            policy=m.GroupPolicy(
                metric=m.Metric.INSTANCE_CPU_UTILIZATION_AVERAGE,
                range="120s",
                unit=m.QueryUnit.PER_MINUTE,
                scale_in_threshold=33,
                scale_out_threshold=77,
                scale_in_action=m.GroupPolicyScaleInAction(
                    amount=1, amount_type=m.ActionAmount.ABSOLUTE, cooldown_period="5m", delete_volumes=True
                ),
                scale_out_action=m.GroupPolicyScaleOutAction(amount=50.5, amount_type=m.ActionAmount.PERCENTAGE),
            ),
            replica_configuration=m.ReplicaPropertiesPost(
                availability_zone=m.AvailabilityZone.AUTO,
                cores=2,
                ram=2048,
                cpu_family=m.CpuFamily.INTEL_SKYLAKE,
                nics=[m.ReplicaNic(lan=1, name="nic", dhcp=True)],
                volumes=[
                    m.ReplicaVolumePost(
                        image=UUID2, name="root", size=20, type=m.VolumeHwType.SSD, image_password="not-a-secret-1"
                    )
                ],
            ),
        )
    )


HAND_WRITTEN = {  # APIs whose SDK (of that version) is not on PyPI: bodies as their clients send them
    # ionoscloud-dbaas-mariadb 2.x cannot be installed beside the suite's 3.x (the v2 API): as 2.x sends it
    "mariadb-v1": {
        "properties": {
            "mariadbVersion": "10.6",
            "instances": 1,
            "cores": 1,
            "ram": 4,
            "storageSize": 10,
            "connections": [{"datacenterId": "dc", "lanId": "1", "cidr": "192.168.1.100/24"}],
            "displayName": "maria",
            "credentials": {"username": "app", "password": "Secret12345"},
        }
    },
    "inmemorydb-v1": {
        "properties": {
            "displayName": "cache",
            "version": "7.2",
            "replicas": 1,
            "resources": {"cores": 1, "ram": 4},
            "persistenceMode": "None",
            "evictionPolicy": "noeviction",
            "connections": [{"datacenterId": "dc", "lanId": "1", "cidr": "192.168.1.100/24"}],
            "credentials": {"username": "app", "password": "Secret12345"},
        }
    },
    "postgresql-v1": {
        "properties": {
            "displayName": "pg",
            "postgresVersion": "15",
            "instances": 1,
            "cores": 2,
            "ram": 4096,
            "storageSize": 20480,
            "storageType": "SSD Premium",
            "location": "de/fra",
            "synchronizationMode": "ASYNCHRONOUS",
            "connections": [{"datacenterId": UUID, "lanId": "1", "cidr": "192.168.1.100/24"}],
            "credentials": {"username": "admin", "password": "s3cret-password"},
            "maintenanceWindow": {"time": "16:30:59", "dayOfTheWeek": "Sunday"},
        }
    },
    "certmanager-v1": {
        "properties": {
            "name": "web",
            "certificate": "-----BEGIN CERTIFICATE-----\n...",
            "certificateChain": "-----BEGIN CERTIFICATE-----\n...",
            "privateKey": "-----BEGIN PRIVATE KEY-----\n...",
        }
    },
    "containerregistry-v1": {
        "properties": {
            "name": "my-registry",
            "location": "de/fra",
            "garbageCollectionSchedule": {"days": ["Monday"], "time": "05:19:00+00:00"},
        }
    },
    # no official Python SDK: bodies as the Go SDK bundle's models send them
    "monitoring": {"properties": {"name": "metrics"}},
    "nfs": {
        "properties": {
            "name": "files",
            "connections": [{"datacenterId": UUID, "lan": "1", "ipAddress": "192.168.100.10/24"}],
            "nfs": {"minVersion": "4.2"},
            "size": 2,
        }
    },
    "autoscaling-v1": {
        "properties": {
            "datacenter": {"id": UUID},
            "name": "web",
            "maxReplicaCount": 5,
            "minReplicaCount": 1,
            "policy": {
                "metric": "INSTANCE_CPU_UTILIZATION_AVERAGE",
                "unit": "PER_MINUTE",
                "range": "120s",
                "scaleInThreshold": 33,
                "scaleOutThreshold": 77,
                "scaleInAction": {"amount": 1, "amountType": "ABSOLUTE", "terminationPolicy": "OLDEST_SERVER_FIRST"},
                "scaleOutAction": {"amount": 1, "amountType": "ABSOLUTE"},
            },
            "replicaConfiguration": {
                "availabilityZone": "AUTO",
                "cores": 2,
                "ram": 2048,
                "nics": [{"lan": 1, "name": "nic", "dhcp": True}],
                "volumes": [{"image": UUID2, "name": "root", "size": 20, "type": "SSD"}],
            },
        }
    },
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_sdk_built_body_is_accepted(name):
    op_id = WRONG_BODIES[name][0]
    body = HAND_WRITTEN.get(name)
    if body is None:
        body = _wire(globals()[f"_body_{name.replace('-', '_')}"]())
    s = _spec(name)
    assert body.get("properties"), body
    assert s.body_errors(s.operation(op_id), body) == []


# ---------------------------------------------------------------------------------------------------
# responses: what the SDKs read
# ---------------------------------------------------------------------------------------------------


def _dns_zone_read():
    m = _sdk("ionoscloud_dns")
    return m.ZoneRead(
        id=UUID,
        type="zone",
        href=f"https://dns.de-fra.ionos.com/zones/{UUID}",
        metadata=m.MetadataWithStateNameservers(
            created_date=WHEN,
            created_by="user@example.com",
            created_by_user_id=UUID2,
            last_modified_date=WHEN,
            last_modified_by="user@example.com",
            last_modified_by_user_id=UUID2,
            resource_urn=f"ionos:dns:::zone:{UUID}",
            state=m.ProvisioningState.AVAILABLE,
            nameservers=["ns-ic.ui-dns.com", "ns-ic.ui-dns.de"],
        ),
        properties=m.Zone(zone_name="example.com", description="test zone", enabled=True),
    )


def _dbaas_cluster_read(pkg: str):
    m = _sdk(pkg)
    states = next(
        getattr(m, n) for n in ("PostgresClusterStates", "MariadbClusterStates", "ClusterState") if hasattr(m, n)
    )
    return m.ClusterRead(
        id=UUID,
        type="cluster",
        href=f"/clusters/{UUID}",
        metadata=m.ClusterMetadata(
            created_date=WHEN,
            created_by="user@example.com",
            created_by_user_id=UUID2,
            last_modified_date=WHEN,
            state=states.AVAILABLE,
            dns_name=f"pg-{UUID}.postgresql.de-txl.ionos.com",
        ),
        properties=m.Cluster(
            name="prod",
            description="orders",
            version="16",
            logs_enabled=True,
            metrics_enabled=True,
            maintenance_window=m.MaintenanceWindow(time="02:00:00", day_of_the_week=m.DayOfTheWeek.SUNDAY),
        ),
    )


def _postgresql_cluster_read():
    m = _sdk("ionoscloud_dbaas_postgres")
    read = _dbaas_cluster_read("ionoscloud_dbaas_postgres")
    read.properties.instances = m.InstanceConfiguration(count=3, ram=8, cores=4, storage_size=100)
    read.properties.connection = m.PostgresClusterConnection(
        datacenter_id=UUID, lan_id="2", primary_instance_address="10.1.1.10/24"
    )
    read.properties.replication_mode = m.PostgresClusterReplicationMode.STRICTLY_SYNCHRONOUS
    read.properties.credentials = m.PostgresUser(username="admin", database="orders")
    read.properties.connection_pooler = "TRANSACTION"
    read.properties.backup = m.ClusterBackup(location="de", retention_days=7)
    return read


def _mariadb_cluster_read():
    m = _sdk("ionoscloud_dbaas_mariadb")
    read = _dbaas_cluster_read("ionoscloud_dbaas_mariadb")
    read.properties.instances = m.InstanceConfiguration(count=1, ram=4, cores=2, storage_size=20)
    read.properties.connection = m.MariadbClusterConnection(
        datacenter_id=UUID, lan_id="1", primary_instance_address="10.0.0.5/24"
    )
    read.properties.credentials = m.MariadbUser(username="admin", database="app")
    return read


def _inmemorydb_cluster_read():
    m = _sdk("ionoscloud_dbaas_inmemorydb")
    read = _dbaas_cluster_read("ionoscloud_dbaas_inmemorydb")
    read.properties.instances = m.InstanceConfiguration(count=3, cores=1, ram=4)
    read.properties.connection = m.ClusterConnection(
        datacenter_id=UUID, lan_id="3", primary_instance_address="10.0.0.9/24"
    )
    read.properties.persistence_mode = m.PersistenceMode.RDB_AOF
    read.properties.eviction_policy = m.EvictionPolicy.NOEVICTION
    read.properties.snapshot = m.SnapshotConfiguration(location="de", retention_days=3, snapshot_hours=[4])
    read.properties.credentials = m.User(username="app")
    return read


# name -> (operation, builder of the SDK read model, an attribute to break, a wrong value for it)
READ_MODELS = {
    "dns": ("zonesFindById", _dns_zone_read, "metadata.state", "SLEEPING"),
    "postgresql": ("clustersFindById", _postgresql_cluster_read, "properties.instances.cores", "four"),
    "mariadb": ("clustersFindById", _mariadb_cluster_read, "properties.instances.cores", "two"),
    "inmemorydb": ("clustersFindById", _inmemorydb_cluster_read, "properties.persistenceMode", "SOMETIMES"),
}


@pytest.mark.parametrize("name", sorted(READ_MODELS))
def test_sdk_read_model_is_a_valid_response(name):
    op_id, build, where, wrong = READ_MODELS[name]
    s = _spec(name)
    op = s.operation(op_id)
    body = _wire(build())
    assert body["id"] == UUID and body["properties"] and body["metadata"]
    assert s.response_errors(op, 200, body) == []
    # and the same document with one attribute of the wrong kind or value is not
    *parents, leaf = where.split(".")
    node = body
    for key in parents:
        node = node[key]
    assert leaf in node
    node[leaf] = wrong
    errors = s.response_errors(op, 200, body)
    assert any(path == where for path, _ in errors), errors


def test_sdk_read_list_is_a_valid_response():
    m = _sdk("ionoscloud_dbaas_postgres")
    s = _spec("postgresql")
    listing = m.ClusterReadList(
        id="clusters",
        type="collection",
        href="/clusters",
        offset=0,
        limit=100,
        links=m.Links(var_self="/clusters?offset=0&limit=100"),
        items=[_postgresql_cluster_read()],
    )
    body = _wire(listing)
    assert "_links" in body
    assert s.response_errors(s.operation("clustersGet"), 200, body) == []
    assert s.query_errors(s.operation("clustersGet"), {"limit": "0"})
    assert s.query_errors(s.operation("clustersGet"), {"filter.state": "SLEEPING"})
    assert s.query_errors(s.operation("clustersGet"), {"limit": "10", "filter.state": "AVAILABLE"}) == []
