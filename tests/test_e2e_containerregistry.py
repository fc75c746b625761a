"""End-to-end: the Container Registry through the unmodified `ionoscloud_container_registry` SDK (API 1.2), the
first generation (1.0) over HTTP, and every registry's OCI data plane with a real OCI client (`oras`) and
raw distribution-API calls (httpx), against the run's strict emulator."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
import uuid
from pathlib import Path

import dns.message
import httpx
import ionoscloud
import ionoscloud_container_registry as cr
import oras.provider
import pytest
from ionoscloud_container_registry.exceptions import ApiException

from conftest import sdk_client
from ionos_emulator.dataplanes.dns import Authority
from support import OWNER, InProcessEmulator, bearer, wait

PREFIX = "/containerregistries"
ALL = [cr.Scope(name="*", type="repository", actions=["pull", "push", "delete"])]
CATALOG = cr.Scope(name="*", type="registry", actions=["pull"])
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def api_client(emu, token: str | None = None) -> cr.ApiClient:
    return cr.ApiClient(cr.Configuration(host=emu.url + PREFIX, token=token or bearer(emu)))


@pytest.fixture(scope="module")
def api(emulator):
    with api_client(emulator) as c:
        yield c


def unique(prefix: str = "reg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_registry(api, name: str | None = None, **props) -> cr.RegistryResponse:
    reg = cr.RegistriesApi(api).registries_post(
        cr.PostRegistryInput(properties=cr.PostRegistryProperties(name=name or unique(), location="de/fra", **props))
    )
    return cr.RegistriesApi(api).registries_find_by_id(reg.id)  # Running once the creation completes


def new_token(api, registry_id: str, scopes=None, **props) -> tuple[str, str, str]:
    """(token id, name, password) of a new token of the registry."""
    name = props.pop("name", None) or unique("tok")
    t = cr.TokensApi(api).registries_tokens_post(
        registry_id,
        cr.PostTokenInput(
            properties=cr.PostTokenProperties(name=name, scopes=ALL if scopes is None else scopes, **props)
        ),
    )
    return t.id, name, t.properties.credentials.password


def status_of(call) -> int:
    with pytest.raises(ApiException) as e:
        call()
    return e.value.status


def oras_client(host: str, user: str, password: str) -> oras.provider.Registry:
    reg = oras.provider.Registry(hostname=host, insecure=True)
    reg.auth.set_basic_auth(user, password)
    return reg


def oci(emu, user: str, password: str) -> httpx.Client:
    return httpx.Client(base_url=emu.url + "/v2", auth=(user, password), timeout=30)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(c: httpx.Client, repo: str, data: bytes) -> str:
    d = digest(data)
    r = c.post(f"/{repo}/blobs/uploads/", params={"digest": d}, content=data)
    assert r.status_code == 201, r.text
    return d


def image_manifest(config: str, layers: list[tuple[str, int]], **extra) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s} for d, s in layers
            ],
            **extra,
        }
    ).encode()


# -- the management API ------------------------------------------------------------------------------------


def test_registry_lifecycle(api):
    regs = cr.RegistriesApi(api)
    name = unique()
    schedule = cr.WeeklySchedule(days=["Monday", "Thursday"], time="01:23:00+00:00")
    created = regs.registries_post(
        cr.PostRegistryInput(
            properties=cr.PostRegistryProperties(name=name, location="de/fra", garbage_collection_schedule=schedule)
        )
    )
    assert created.metadata.state == "New" and created.properties.hostname is None  # no host allocated yet
    reg = regs.registries_find_by_id(created.id)
    assert reg.metadata.state == "Running"
    assert reg.properties.hostname == f"{name}.cr.de-fra.ionos.com"
    assert reg.properties.features.vulnerability_scanning.enabled is True  # on unless refused
    assert reg.properties.storage_usage.bytes == 0
    assert [d.value for d in reg.properties.garbage_collection_schedule.days] == ["Monday", "Thursday"]
    assert [r.id for r in regs.registries_get(filter_name=name).items] == [reg.id]
    # PATCH sends the properties themselves; PUT replaces them
    patched = regs.registries_patch(reg.id, cr.PatchRegistryInput(api_subnet_allow_list=["10.1.0.0/16", "192.0.2.7"]))
    assert patched.properties.api_subnet_allow_list == ["10.1.0.0/16", "192.0.2.7"]
    assert patched.properties.garbage_collection_schedule.time == "01:23:00+00:00"
    put = regs.registries_put(
        reg.id, cr.PutRegistryInput(properties=cr.PostRegistryProperties(name=name, location="de/fra"))
    )
    assert put.properties.garbage_collection_schedule is None and put.properties.api_subnet_allow_list is None
    assert put.properties.features.vulnerability_scanning.enabled is True
    # a PUT to a new id creates the registry under it
    rid = str(uuid.uuid4())
    other = regs.registries_put(
        rid, cr.PutRegistryInput(properties=cr.PostRegistryProperties(name=unique(), location="es/vit"))
    )
    assert other.id == rid and regs.registries_find_by_id(rid).properties.hostname.endswith(".cr.es-vit.ionos.com")
    regs.registries_delete(reg.id)
    assert status_of(lambda: regs.registries_find_by_id(reg.id)) == 404
    assert status_of(lambda: cr.NamesApi(api).names_check_usage(name)) == 404  # the name is free again
    regs.registries_delete(rid)


def test_registry_list_pages_by_token(api):
    regs = cr.RegistriesApi(api)
    stem = unique("pg")
    ids = [new_registry(api, f"{stem}-{i}").id for i in range(3)]
    first = regs.registries_get(filter_name=stem, limit="2")
    assert [r.id for r in first.items] == ids[:2] and first.pagination.limit == 2 and first.pagination.token
    assert "pagination.token=" in first.links.next
    second = regs.registries_get(filter_name=stem, limit="2", pagination_token=first.pagination.token)
    assert [r.id for r in second.items] == ids[2:] and second.pagination.token == ""
    assert status_of(lambda: regs.registries_get(limit="0")) == 400
    assert status_of(lambda: regs.registries_get(pagination_token="%%%")) == 400
    for rid in ids:
        regs.registries_delete(rid)


def test_registry_rules(api):
    regs = cr.RegistriesApi(api)
    reg = new_registry(api)
    before = len(regs.registries_get().items)

    def post(**props):
        return lambda: regs.registries_post(cr.PostRegistryInput(properties=cr.PostRegistryProperties(**props)))

    assert status_of(post(name="Bad_Name", location="de/fra")) == 400
    assert status_of(post(name="ab", location="de/fra")) == 400
    assert status_of(post(name=unique(), location="xx/nowhere")) == 400
    assert status_of(post(name=reg.properties.name, location="de/txl")) == 409  # names are host names
    assert status_of(post(name=unique(), location="de/fra", api_subnet_allow_list=["not-an-ip"])) == 400
    bad_time = cr.WeeklySchedule(days=["Monday"], time="25:00")
    assert status_of(post(name=unique(), location="de/fra", garbage_collection_schedule=bad_time)) == 400
    assert len(regs.registries_get().items) == before  # nothing was created
    rename = cr.PutRegistryInput(properties=cr.PostRegistryProperties(name=unique(), location="de/fra"))
    assert status_of(lambda: regs.registries_put(reg.id, rename)) == 400
    off = cr.RegistryFeatures(vulnerability_scanning=cr.FeatureVulnerabilityScanning(enabled=False))
    assert status_of(lambda: regs.registries_patch(reg.id, cr.PatchRegistryInput(features=off))) == 400
    assert regs.registries_find_by_id(reg.id).properties.features.vulnerability_scanning.enabled is True
    # refused at creation, scanning stays off (and can be turned on)
    plain = new_registry(api, features=off)
    assert plain.properties.features.vulnerability_scanning.enabled is False
    on = cr.RegistryFeatures(vulnerability_scanning=cr.FeatureVulnerabilityScanning(enabled=True))
    assert regs.registries_patch(
        plain.id, cr.PatchRegistryInput(features=on)
    ).properties.features.vulnerability_scanning.enabled
    r = httpx.patch(
        f"{api.configuration.host}/registries/{reg.id}",
        auth=OWNER,
        json={"name": "renamed"},
    )
    assert r.status_code == 422 and "name" in r.json()["messages"][0]["message"]
    assert status_of(lambda: regs.registries_find_by_id(str(uuid.uuid4()))) == 404
    for rid in (reg.id, plain.id):
        regs.registries_delete(rid)


def test_names_check_and_locations(api):
    names = cr.NamesApi(api)
    reg = new_registry(api)
    assert names.names_check_usage_with_http_info(reg.properties.name).status_code == 200  # valid, in use
    assert status_of(lambda: names.names_check_usage(unique())) == 404  # valid, available
    assert status_of(lambda: names.names_check_usage("-bad-")) == 400
    locations = [loc.id for loc in cr.LocationsApi(api).locations_get().items]
    assert "de/fra" in locations and "de/txl" in locations
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_tokens_show_their_password_once(api, emulator):
    tokens = cr.TokensApi(api)
    reg = new_registry(api)
    expiry = "2099-01-01T00:00:00Z"
    created = tokens.registries_tokens_post(
        reg.id,
        cr.PostTokenInput(
            properties=cr.PostTokenProperties(name="ci-push", scopes=ALL, expiry_date=expiry, status="enabled")
        ),
    )
    password = created.properties.credentials.password
    assert created.properties.credentials.username == "ci-push" and len(password) >= 32
    assert created.metadata.state == "enabled"
    shown = tokens.registries_tokens_find_by_id(reg.id, created.id)
    assert shown.properties.credentials.password == "" and shown.properties.expiry_date.year == 2099
    listed = tokens.registries_tokens_get(reg.id)
    assert [t.id for t in listed.items] == [created.id] and listed.items[0].properties.credentials.password == ""
    # the password is the token's: Basic on the registry's data plane
    r = httpx.get(f"{emulator.url}/containerregistry/{reg.properties.name}/v2/", auth=("ci-push", password))
    assert r.status_code == 200
    # names are unique in the registry and fixed; scopes, status and expiry change
    post = cr.PostTokenInput(properties=cr.PostTokenProperties(name="ci-push", scopes=ALL))
    assert status_of(lambda: tokens.registries_tokens_post(reg.id, post)) == 409
    patched = tokens.registries_tokens_patch(
        reg.id,
        created.id,
        cr.PatchTokenInput(status="disabled", scopes=[cr.Scope(name="app", type="repository", actions=["pull"])]),
    )
    assert patched.properties.status == "disabled" and patched.properties.scopes[0].actions == ["pull"]
    r = httpx.get(f"{emulator.url}/containerregistry/{reg.properties.name}/v2/", auth=("ci-push", password))
    assert r.status_code == 401  # a disabled token opens nothing
    put = tokens.registries_tokens_put(
        reg.id, created.id, cr.PutTokenInput(properties=cr.PostTokenProperties(name="ci-push", scopes=ALL))
    )
    assert put.properties.status == "enabled" and put.properties.credentials.password == ""  # not shown again
    rename = cr.PutTokenInput(properties=cr.PostTokenProperties(name="other", scopes=ALL))
    assert status_of(lambda: tokens.registries_tokens_put(reg.id, created.id, rename)) == 400
    past = cr.PostTokenInput(
        properties=cr.PostTokenProperties(name="old", scopes=ALL, expiry_date="2001-01-01T00:00:00Z")
    )
    assert status_of(lambda: tokens.registries_tokens_post(reg.id, past)) == 400
    wrong = cr.PostTokenInput(
        properties=cr.PostTokenProperties(name="wrong", scopes=[cr.Scope(name="*", type="repository", actions=["fly"])])
    )
    assert status_of(lambda: tokens.registries_tokens_post(reg.id, wrong)) == 400
    bad_name = cr.PostTokenInput(properties=cr.PostTokenProperties(name="9lives", scopes=ALL))
    assert status_of(lambda: tokens.registries_tokens_post(reg.id, bad_name)) == 400
    # a PUT to a new id creates the token, with its password shown
    tid = str(uuid.uuid4())
    ensured = tokens.registries_tokens_put(
        reg.id, tid, cr.PutTokenInput(properties=cr.PostTokenProperties(name="ensured", scopes=ALL))
    )
    assert ensured.id == tid and ensured.properties.credentials.password
    tokens.registries_tokens_delete(reg.id, created.id)
    assert status_of(lambda: tokens.registries_tokens_find_by_id(reg.id, created.id)) == 404
    r = httpx.get(f"{emulator.url}/containerregistry/{reg.properties.name}/v2/", auth=("ci-push", password))
    assert r.status_code == 401
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_first_generation_api_shares_the_registries(api, emulator):
    """API 1.0 at /containerregistries/v1: the same registries and tokens, without 1.2's features."""
    v1 = f"{emulator.url}{PREFIX}/v1"
    name = unique()
    r = httpx.post(f"{v1}/registries", auth=OWNER, json={"properties": {"name": name, "location": "de/txl"}})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    got = httpx.get(f"{v1}/registries/{rid}", auth=OWNER).json()
    assert got["properties"]["hostname"] == f"{name}.cr.de-txl.ionos.com" and "features" not in got["properties"]
    assert cr.RegistriesApi(api).registries_find_by_id(rid).properties.features.vulnerability_scanning.enabled
    listed = httpx.get(f"{v1}/registries", auth=OWNER).json()
    assert rid in [i["id"] for i in listed["items"]] and set(listed["_links"]) == {"self", "next", "previous"}
    t = httpx.post(f"{v1}/registries/{rid}/tokens", auth=OWNER, json={"properties": {"name": "v1tok"}})
    assert t.status_code == 201 and t.json()["properties"]["credentials"]["password"]
    assert httpx.get(f"{v1}/registries/{rid}/tokens", auth=OWNER).json()["items"][0]["id"] == t.json()["id"]
    tok = f"{v1}/registries/{rid}/tokens/{t.json()['id']}"
    assert httpx.get(tok, auth=OWNER).json()["properties"]["credentials"]["password"] == ""
    r = httpx.patch(tok, auth=OWNER, json={"status": "disabled"})
    assert r.status_code == 200 and r.json()["properties"]["status"] == "disabled"
    r = httpx.put(
        tok,
        auth=OWNER,
        json={"properties": {"name": "v1tok", "scopes": [{"name": "*", "type": "repository", "actions": ["pull"]}]}},
    )
    assert r.status_code == 201 and r.json()["properties"]["status"] == "enabled"
    assert httpx.delete(tok, auth=OWNER).status_code == 204
    gc = {"days": ["Sunday"], "time": "03:00:00+00:00"}
    r = httpx.patch(f"{v1}/registries/{rid}", auth=OWNER, json={"garbageCollectionSchedule": gc})
    assert r.status_code == 200 and r.json()["properties"]["garbageCollectionSchedule"] == gc
    r = httpx.put(f"{v1}/registries/{rid}", auth=OWNER, json={"properties": {"name": name, "location": "de/txl"}})
    assert r.status_code == 201 and "garbageCollectionSchedule" not in r.json()["properties"]
    assert httpx.head(f"{v1}/names/{name}", auth=OWNER).status_code == 200
    assert httpx.get(f"{v1}/locations", auth=OWNER).status_code == 200
    r = httpx.delete(f"{v1}/registries/{rid}/repositories/nothing", auth=OWNER)
    assert r.status_code == 404
    assert httpx.delete(f"{v1}/registries/{rid}", auth=OWNER).status_code == 204
    assert httpx.get(f"{v1}/registries/{rid}", auth=OWNER).status_code == 404


def test_non_administrators_need_the_registry_privilege(emulator):
    email, password = f"cr-{uuid.uuid4().hex[:8]}@example.com", "Passw0rd!"
    with sdk_client(emulator) as cloud:
        um = ionoscloud.UserManagementApi(cloud)
        user, _, h = um.um_users_post_with_http_info(
            ionoscloud.UserPost(
                properties=ionoscloud.UserPropertiesPost(
                    firstname="Cr", lastname="User", email=email, password=password, administrator=False
                )
            )
        )
        wait(cloud, h)
        r = httpx.get(f"{emulator.url}{PREFIX}/registries", auth=(email, password))
        assert r.status_code == 403 and "manageRegistry" in r.json()["messages"][0]["message"]
        group, _, h = um.um_groups_post_with_http_info(
            ionoscloud.Group(properties=ionoscloud.GroupProperties(name=unique("crg"), manage_registry=True))
        )
        wait(cloud, h)
        wait(cloud, um.um_groups_users_post_with_http_info(group.id, ionoscloud.UserGroupPost(id=user.id))[2])
    with api_client(emulator, bearer(emulator, (email, password))) as c:
        assert cr.RegistriesApi(c).registries_get().type == "collection"


# -- the data plane: oras ---------------------------------------------------------------------------------------


def test_oras_pushes_and_pulls_through_localhost(api, emulator, tmp_path, monkeypatch):
    """`oras push localhost:<port>/<registry>/<repository>:<tag>`: monolithic and chunked uploads, then a pull;
    the management API lists what the push created."""
    reg = new_registry(api)
    _, user, password = new_token(api, reg.id, ALL + [CATALOG])
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("hello registry\n")
    Path("big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    host = f"127.0.0.1:{emulator.port}"
    name = reg.properties.name
    client = oras_client(host, user, password)
    assert client.push(target=f"{host}/{name}/app:1.0", files=["notes.txt", "big.bin"]).status_code == 201
    r = client.push(target=f"{host}/{name}/app:chunked", files=["big.bin"], do_chunked=True, chunk_size=1024 * 1024)
    assert r.status_code == 201
    pulled = client.pull(target=f"{host}/{name}/app:1.0", outdir=str(tmp_path / "out"))
    assert sorted(Path(p).name for p in pulled) == ["big.bin", "notes.txt"]
    assert (tmp_path / "out" / "big.bin").read_bytes() == Path("big.bin").read_bytes()
    assert client.get_tags(f"{host}/{name}/app") == ["1.0", "chunked"]
    # what the API now lists
    repos = cr.RepositoriesApi(api).registries_repositories_get(reg.id)
    assert [r.properties.name for r in repos.items] == ["app"]
    assert repos.items[0].metadata.artifact_count == 2 and repos.items[0].metadata.push_count == 2
    assert repos.items[0].metadata.pull_count == 1
    repo = cr.RepositoriesApi(api).registries_repositories_find_by_name(reg.id, "app")
    assert repo.metadata.last_pushed_at is not None
    arts = cr.ArtifactsApi(api).registries_repositories_artifacts_get(reg.id, "app")
    by_tag = {tuple(a.properties.tags): a for a in arts.items}
    assert set(by_tag) == {("1.0",), ("chunked",)}
    art = by_tag[("1.0",)]
    assert art.properties.media_type == OCI_MANIFEST and art.metadata.pull_count == 1
    found = cr.ArtifactsApi(api).registries_repositories_artifacts_find_by_digest(reg.id, "app", art.properties.digest)
    assert found.properties.tags == ["1.0"] and found.properties.repository_name == "app"
    assert len(cr.ArtifactsApi(api).registries_artifacts_get(reg.id).items) == 2
    vulns = cr.ArtifactsApi(api).registries_repositories_artifacts_vulnerabilities_get(reg.id, "app", art.id)
    assert vulns.items == []  # no scanner runs here
    assert status_of(lambda: cr.VulnerabilitiesApi(api).vulnerabilities_find_by_id("CVE-2021-44228")) == 404
    assert (
        status_of(
            lambda: cr.ArtifactsApi(api).registries_repositories_artifacts_find_by_digest(
                reg.id, "app", digest(b"none")
            )
        )
        == 404
    )
    storage = cr.RegistriesApi(api).registries_find_by_id(reg.id).properties.storage_usage
    usage = storage.bytes
    assert storage.updated_at >= repo.metadata.last_pushed_at  # the last push changed it
    assert usage > 3 * 1024 * 1024  # the layer once, though two artifacts hold it
    assert usage < 2 * 3 * 1024 * 1024
    # deleting the repository through the API removes it from the registry
    cr.RepositoriesApi(api).registries_repositories_delete(reg.id, "app")
    with oci(emulator, user, password) as c:
        r = c.get(f"/{name}/app/manifests/1.0")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert cr.RepositoriesApi(api).registries_repositories_get(reg.id).items == []
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_oras_at_the_registry_host_name(api, emulator, tmp_path, monkeypatch):
    """The registry's own host name, as a user points it at the emulator in /etc/hosts."""
    reg = new_registry(api)
    host = reg.properties.hostname
    _, user, password = new_token(api, reg.id)
    real = socket.getaddrinfo

    def resolve(name, *args, **kw):  # what `127.0.0.1 <hostname>` in /etc/hosts does
        return real("127.0.0.1" if name == host else name, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.chdir(tmp_path)
    Path("chart.tgz").write_bytes(os.urandom(4096))
    client = oras_client(f"{host}:{emulator.port}", user, password)
    assert client.push(target=f"{host}:{emulator.port}/team/chart:0.1", files=["chart.tgz"]).status_code == 201
    out = tmp_path / "out"
    client.pull(target=f"{host}:{emulator.port}/team/chart:0.1", outdir=str(out))
    assert (out / "chart.tgz").read_bytes() == Path("chart.tgz").read_bytes()
    repos = cr.RepositoriesApi(api).registries_repositories_get(reg.id).items
    assert [r.properties.name for r in repos] == ["team/chart"]
    nested = cr.RepositoriesApi(api).registries_repositories_find_by_name(reg.id, "team/chart")  # sent as team%2Fchart
    assert nested.metadata.artifact_count == 1
    # the emulator's DNS server answers for the registry's host name (the other way to reach it)
    authority = Authority(emulator.app)
    answer = authority.handle(dns.message.make_query(host, "A"), False, "127.0.0.1")[0]
    assert [rr.address for rrset in answer.answer for rr in rrset] == ["127.0.0.1"]
    unknown = authority.handle(dns.message.make_query(f"x{uuid.uuid4().hex[:6]}.cr.de-fra.ionos.com", "A"), False, "")
    assert unknown[0].answer == []
    # another registry's host does not know the repository
    r = httpx.get(
        f"{emulator.url}/v2/team/chart/tags/list",
        headers={"Host": f"nobody-{uuid.uuid4().hex[:6]}.cr.de-fra.ionos.com"},
    )
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    cr.RegistriesApi(api).registries_delete(reg.id)


# -- the data plane: the distribution API -------------------------------------------------------------------


def test_challenge_and_bearer_tokens(api, emulator):
    reg = new_registry(api)
    _, user, password = new_token(api, reg.id)
    name = reg.properties.name
    r = httpx.get(f"{emulator.url}/v2/{name}/app/tags/list")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    challenge = r.headers["www-authenticate"]
    assert (
        challenge.startswith('Bearer realm="http://127.0.0.1:') and f'scope="repository:{name}/app:pull"' in challenge
    )
    realm = challenge.split('realm="')[1].split('"')[0]
    assert httpx.get(realm, params={"scope": f"repository:{name}/app:pull"}, auth=(user, "wrong")).status_code == 401
    tok = httpx.get(realm, params={"scope": f"repository:{name}/app:pull"}, auth=(user, password)).json()
    assert tok["token"] == tok["access_token"] and tok["expires_in"] > 0
    r = httpx.get(f"{emulator.url}/v2/{name}/app/tags/list", headers={"Authorization": f"Bearer {tok['token']}"})
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"  # authenticated; no such repo
    forged = tok["token"][:-4] + ("AAAA" if not tok["token"].endswith("AAAA") else "BBBB")
    r = httpx.get(f"{emulator.url}/v2/{name}/app/tags/list", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    # the registry's host: the challenge names its token endpoint there
    r = httpx.get(f"{emulator.url}/v2/", headers={"Host": reg.properties.hostname})
    assert r.status_code == 401 and f'service="{reg.properties.hostname}"' in r.headers["www-authenticate"]
    r = httpx.get(f"{emulator.url}/v2/", headers={"Host": reg.properties.hostname}, auth=(user, password))
    assert r.status_code == 200 and r.headers["docker-distribution-api-version"] == "registry/2.0"
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_distribution_api(api, emulator):
    reg = new_registry(api)
    _, user, password = new_token(api, reg.id, ALL + [CATALOG])
    n = reg.properties.name
    with oci(emulator, user, password) as c:
        config = push_blob(c, f"{n}/web", b"{}")
        layer = b"layer-bytes" * 1000
        layer_digest = push_blob(c, f"{n}/web", layer)
        head = c.head(f"/{n}/web/blobs/{layer_digest}")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(layer))
        assert c.get(f"/{n}/web/blobs/{layer_digest}").content == layer
        part = c.get(f"/{n}/web/blobs/{layer_digest}", headers={"Range": "bytes=10-19"})  # a resumed download
        assert part.status_code == 206 and part.content == layer[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{len(layer)}"
        assert c.get(f"/{n}/web/blobs/{layer_digest}", headers={"Range": "bytes=10990-"}).content == layer[10990:]
        assert c.get(f"/{n}/web/blobs/{layer_digest}", headers={"Range": "bytes=99999-"}).status_code == 416
        # a wrong digest stores nothing
        r = c.post(f"/{n}/web/blobs/uploads/", params={"digest": digest(b"other")}, content=b"this")
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "DIGEST_INVALID"
        assert c.head(f"/{n}/web/blobs/{digest(b'this')}").status_code == 404
        # chunked: POST, PATCH with Content-Range, PUT with the digest
        data = os.urandom(200_000)
        start = c.post(f"/{n}/web/blobs/uploads/")
        assert start.status_code == 202 and start.headers["range"] == "0-0"
        loc = start.headers["location"]
        r = c.patch(loc, content=data[:100_000], headers={"Content-Range": "0-99999"})
        assert r.status_code == 202 and r.headers["range"] == "0-99999"
        r = c.patch(r.headers["location"], content=data[150_000:], headers={"Content-Range": "150000-199999"})
        assert r.status_code == 416  # out of order
        assert c.get(loc).headers["range"] == "0-99999"
        r = c.patch(loc, content=data[100_000:], headers={"Content-Range": "100000-199999"})
        r = c.put(r.headers["location"], params={"digest": digest(data)})
        assert r.status_code == 201 and r.headers["docker-content-digest"] == digest(data)
        assert c.get(f"/{n}/web/blobs/{digest(data)}").content == data
        cancelled = c.post(f"/{n}/web/blobs/uploads/").headers["location"]
        assert c.delete(cancelled).status_code == 204 and c.get(cancelled).status_code == 404
        # manifests: blobs must be there; by tag and by digest
        missing = image_manifest(config, [(digest(b"never pushed"), 12)])
        r = c.put(f"/{n}/web/manifests/v1", content=missing, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
        manifest = image_manifest(config, [(layer_digest, len(layer)), (digest(data), len(data))])
        r = c.put(f"/{n}/web/manifests/v1", content=manifest, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 201 and r.headers["docker-content-digest"] == digest(manifest)
        got = c.get(f"/{n}/web/manifests/v1")
        assert got.content == manifest and got.headers["content-type"] == OCI_MANIFEST
        assert c.get(f"/{n}/web/manifests/{digest(manifest)}").content == manifest
        assert c.head(f"/{n}/web/manifests/v1").headers["docker-content-digest"] == digest(manifest)
        r = c.put(f"/{n}/web/manifests/{digest(b'x')}", content=manifest, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "DIGEST_INVALID"
        r = c.put(f"/{n}/web/manifests/v2", content=b"not json", headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "MANIFEST_INVALID"
        for broken in ({"layers": 5}, {"layers": ["x"]}, [1, 2]):
            r = c.put(f"/{n}/web/manifests/v2", json=broken, headers={"Content-Type": OCI_MANIFEST})
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "MANIFEST_INVALID", r.text
        r = c.put(f"/{n}/web/manifests/v2", json={"manifests": 7}, headers={"Content-Type": INDEX})
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "MANIFEST_INVALID"
        for tag in ("v2", "v3", "v4"):
            assert (
                c.put(f"/{n}/web/manifests/{tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST}).status_code
                == 201
            )
        # a referrer (an artifact about the image)
        sig = image_manifest(
            config,
            [],
            artifactType="application/vnd.example.sig",
            subject={"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest)},
        )
        r = c.put(f"/{n}/web/manifests/{digest(sig)}", content=sig, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 201 and r.headers["oci-subject"] == digest(manifest)
        refs = c.get(f"/{n}/web/referrers/{digest(manifest)}").json()
        assert [m["digest"] for m in refs["manifests"]] == [digest(sig)]
        # tags and the catalog, paged with n and last
        assert c.get(f"/{n}/web/tags/list").json() == {"name": f"{n}/web", "tags": ["v1", "v2", "v3", "v4"]}
        page = c.get(f"/{n}/web/tags/list", params={"n": 2})
        assert page.json()["tags"] == ["v1", "v2"] and "last=v2" in page.headers["link"]
        assert c.get(f"/{n}/web/tags/list", params={"n": 2, "last": "v2"}).json()["tags"] == ["v3", "v4"]
        # a mount from another repository of the registry links the blob without uploading it
        r = c.post(f"/{n}/api/blobs/uploads/", params={"mount": layer_digest, "from": "web"})
        assert r.status_code == 201 and c.head(f"/{n}/api/blobs/{layer_digest}").status_code == 200
        assert c.get("/_catalog").json() == {"repositories": [f"{n}/api", f"{n}/web"]}
        # deletes: a tag, a manifest (with its tags), a blob link
        assert c.delete(f"/{n}/web/manifests/v4").status_code == 202
        assert c.get(f"/{n}/web/manifests/v4").status_code == 404
        assert c.delete(f"/{n}/web/manifests/{digest(manifest)}").status_code == 202
        assert c.get(f"/{n}/web/tags/list").json()["tags"] == []
        assert c.delete(f"/{n}/api/blobs/{layer_digest}").status_code == 202
        assert c.head(f"/{n}/api/blobs/{layer_digest}").status_code == 404
        assert c.head(f"/{n}/web/blobs/{layer_digest}").status_code == 200  # still linked there
        # bad input is a 4xx in the distribution API's shape
        for method, path, code in (
            ("GET", f"/{n}/web/blobs/sha256:short", "DIGEST_INVALID"),
            ("GET", f"/{n}/Web/tags/list", "NAME_INVALID"),
            ("GET", f"/{n}/web/blobs/uploads/not-an-upload", "BLOB_UPLOAD_UNKNOWN"),
            ("GET", f"/{n}/web/tags/list?n=x", "PAGINATION_NUMBER_INVALID"),
            ("PUT", f"/{n}/web/manifests/bad:tag", "TAG_INVALID"),
        ):
            r = c.request(method, path)
            assert 400 <= r.status_code < 500 and r.json()["errors"][0]["code"] == code, (path, r.text)
    # the same registry under its path prefix on any host
    with httpx.Client(base_url=f"{emulator.url}/containerregistry/{n}/v2", auth=(user, password)) as c:
        assert c.get("/web/blobs/" + layer_digest).content == layer
        assert c.get("/_catalog").json() == {"repositories": ["api", "web"]}
    arts = cr.ArtifactsApi(api).registries_repositories_artifacts_get(reg.id, "web").items
    assert [a.properties.digest for a in arts] == [digest(sig)]
    cr.RegistriesApi(api).registries_delete(reg.id)
    with oci(emulator, user, password) as c:  # the registry is gone, and so are its blobs
        assert c.get(f"/{n}/web/blobs/{layer_digest}").json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert not list((emulator.data_dir / "containerregistry").glob(f"{reg.id}*"))


def test_scopes_are_enforced(api, emulator):
    reg = new_registry(api)
    n = reg.properties.name
    _, pusher, push_pw = new_token(api, reg.id)
    _, reader, read_pw = new_token(api, reg.id, [cr.Scope(name="app*", type="repository", actions=["pull"])])
    with oci(emulator, pusher, push_pw) as c:
        config = push_blob(c, f"{n}/app", b"{}")
        manifest = image_manifest(config, [])
        assert (
            c.put(f"/{n}/app/manifests/1", content=manifest, headers={"Content-Type": OCI_MANIFEST}).status_code == 201
        )
        push_blob(c, f"{n}/other", b"{}")
        r = c.get("/_catalog")  # no scope of type registry
        assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
    with oci(emulator, reader, read_pw) as c:
        assert c.get(f"/{n}/app/manifests/1").content == manifest
        r = c.put(f"/{n}/app/manifests/2", content=manifest, headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
        assert c.post(f"/{n}/app/blobs/uploads/").status_code == 403
        assert c.delete(f"/{n}/app/manifests/1").status_code == 403
        assert c.head(f"/{n}/other/blobs/{config}").status_code == 403  # outside the scope's repositories
    # another registry's token opens nothing here
    other = new_registry(api)
    _, stranger, stranger_pw = new_token(api, other.id)
    with oci(emulator, stranger, stranger_pw) as c:
        assert c.get(f"/{n}/app/manifests/1").status_code == 401
    for rid in (reg.id, other.id):
        cr.RegistriesApi(api).registries_delete(rid)


def test_basic_header_garbage_is_a_401(emulator):
    r = httpx.get(f"{emulator.url}/v2/", headers={"Authorization": "Basic " + base64.b64encode(b"\xff\xfe").decode()})
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    r = httpx.get(f"{emulator.url}/v2/", headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401


def test_the_server_certificate_covers_every_registry_host():
    from ionos_emulator.apis import build_apis
    from ionos_emulator.endpoints import certificate_names

    names = certificate_names(build_apis(), "127.0.0.1")
    assert {"*.cr.de-fra.ionos.com", "*.cr.us-ewr.ionos.com", "api.ionos.com"} <= set(names)


def test_allow_list_limits_who_reaches_the_registry(api, emulator):
    regs = cr.RegistriesApi(api)
    reg = new_registry(api)
    _, user, password = new_token(api, reg.id)
    url = f"{emulator.url}/containerregistry/{reg.properties.name}/v2/"
    assert httpx.get(url, auth=(user, password)).status_code == 200
    regs.registries_patch(reg.id, cr.PatchRegistryInput(api_subnet_allow_list=["192.0.2.0/24"]))
    r = httpx.get(url, auth=(user, password))
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"  # 127.0.0.1 is not in the list
    regs.registries_patch(reg.id, cr.PatchRegistryInput(api_subnet_allow_list=["192.0.2.0/24", "127.0.0.1"]))
    assert httpx.get(url, auth=(user, password)).status_code == 200
    regs.registries_patch(reg.id, cr.PatchRegistryInput(api_subnet_allow_list=["0.0.0.0/0"]))  # denies everyone
    assert httpx.get(url, auth=(user, password)).status_code == 403
    regs.registries_patch(reg.id, cr.PatchRegistryInput(api_subnet_allow_list=[]))
    assert httpx.get(url, auth=(user, password)).status_code == 200
    regs.registries_delete(reg.id)


def test_token_expiry_is_cleared_by_null(api):
    tokens = cr.TokensApi(api)
    reg = new_registry(api)
    tid, _, _ = new_token(api, reg.id, expiry_date="2099-06-01T00:00:00Z")
    kept = tokens.registries_tokens_patch(reg.id, tid, cr.PatchTokenInput(status="enabled"))
    assert kept.properties.expiry_date is not None  # not sent: unchanged
    cleared = tokens.registries_tokens_patch(reg.id, tid, cr.PatchTokenInput(expiry_date=None))
    assert cleared.properties.expiry_date is None
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_token_endpoint_takes_the_oauth2_password_grant(api, emulator):
    """containerd posts the credentials as a form instead of sending Basic."""
    reg = new_registry(api)
    _, user, password = new_token(api, reg.id)
    n = reg.properties.name
    form = {"grant_type": "password", "username": user, "password": password, "scope": f"repository:{n}/app:pull"}
    tok = httpx.post(f"{emulator.url}/v2/token", data=form).json()["access_token"]
    r = httpx.get(f"{emulator.url}/v2/{n}/app/tags/list", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert httpx.post(f"{emulator.url}/v2/token", data={**form, "password": "nope"}).status_code == 401
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_contracts_share_the_name_space_and_nothing_else(api, emulator):
    """Registry names are host names: unique across contracts; everything else stays in its contract."""
    other = (31000431, f"cr-other-{uuid.uuid4().hex[:6]}@example.com", "other-secret")
    r = httpx.post(
        emulator.url + "/_emulator/contracts",
        auth=OWNER,
        json=dict(zip(("contractNumber", "user", "password"), other, strict=True)),
    )
    assert r.status_code in (200, 201), r.text
    reg = new_registry(api)
    _, user, password = new_token(api, reg.id)
    with api_client(emulator, bearer(emulator, other[1:])) as theirs:
        post = cr.PostRegistryInput(properties=cr.PostRegistryProperties(name=reg.properties.name, location="de/fra"))
        assert status_of(lambda: cr.RegistriesApi(theirs).registries_post(post)) == 409
        assert status_of(lambda: cr.RegistriesApi(theirs).registries_find_by_id(reg.id)) == 404
        assert reg.id not in [x.id for x in cr.RegistriesApi(theirs).registries_get().items]
        assert cr.NamesApi(theirs).names_check_usage_with_http_info(reg.properties.name).status_code == 200
        mine = new_registry(theirs)
        _, their_user, their_pw = new_token(theirs, mine.id)
    with oci(emulator, their_user, their_pw) as c:  # their token opens their registry, not ours
        assert c.get(f"/{mine.properties.name}/x/tags/list").json()["errors"][0]["code"] == "NAME_UNKNOWN"
        assert c.get(f"/{reg.properties.name}/x/tags/list").status_code == 401
    with oci(emulator, user, password) as c:
        assert c.get(f"/{mine.properties.name}/x/tags/list").status_code == 401
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_the_api_hosts_keep_their_own_v2(emulator):
    """/v2 on a real API host is that API's (MariaDB's second generation), not a registry's namespace."""
    r = httpx.get(f"{emulator.url}/v2/clusters", headers={"Host": "mariadb.de-fra.ionos.com"}, auth=OWNER)
    assert r.status_code == 200 and r.json()["type"] == "collection"
    r = httpx.get(f"{emulator.url}/v2/clusters", headers={"Host": "localhost"}, auth=OWNER)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NOT_FOUND"  # a registry path, malformed


def test_a_registry_serves_once_it_runs_and_a_reset_drops_it(tmp_path):
    own = InProcessEmulator(tmp_path / "data").start()
    try:
        # while a registry is New its host is not allocated: its data plane knows no such registry yet
        timing = {"profile": "instant", "overrides": {"containerregistry.registry": 1.0}}
        assert own.admin("PUT", "timing", json=timing).status_code == 200
        with api_client(own) as c:
            slow = cr.RegistriesApi(c).registries_post(
                cr.PostRegistryInput(properties=cr.PostRegistryProperties(name=unique(), location="de/fra"))
            )
            _, slow_user, slow_pw = new_token(c, slow.id)
        url = f"{own.url}/v2/{slow.properties.name}/app/tags/list"
        r = httpx.get(url, auth=(slow_user, slow_pw))
        assert r.status_code == 404 and "not Running" in r.json()["errors"][0]["message"]
        time.sleep(1.1)
        assert httpx.get(url, auth=(slow_user, slow_pw)).json()["errors"][0]["code"] == "NAME_UNKNOWN"  # the repo
        assert httpx.get(f"{own.url}/v2/", auth=(slow_user, slow_pw)).status_code == 200
        assert own.admin("PUT", "timing", json={"profile": "instant", "overrides": {}}).status_code == 200
        with api_client(own) as c:
            reg = new_registry(c)
            _, user, password = new_token(c, reg.id)
        with oci(own, user, password) as h:
            kept = push_blob(h, f"{reg.properties.name}/app", b"kept until the reset")
        assert list((own.data_dir / "containerregistry" / reg.id).rglob("*"))
        # a snapshot holds the registries with their blobs: deleted, then loaded back, the blob is there again
        assert own.admin("POST", "snapshots", json={"name": "with-registry"}).status_code == 201
        with api_client(own) as c:
            cr.RegistriesApi(c).registries_delete(reg.id)
            assert status_of(lambda: cr.RegistriesApi(c).registries_find_by_id(reg.id)) == 404
        assert own.admin("POST", "snapshots/with-registry/load").status_code == 200
        with oci(own, user, password) as h:
            assert h.get(f"/{reg.properties.name}/app/blobs/{kept}").content == b"kept until the reset"
        assert own.admin("POST", "reset").status_code == 200
        assert not (own.data_dir / "containerregistry").exists()
        r = httpx.get(f"{own.url}/v2/{reg.properties.name}/app/tags/list", auth=(user, password))
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    finally:
        own.stop()


def write_image_layout(root: Path) -> dict[str, bytes]:
    """A real OCI image layout: an index of two platforms' images (configs and a gzipped tar layer); the blobs
    by digest."""
    import gzip
    import io
    import tarfile

    blobs: dict[str, bytes] = {}

    def add(data: bytes) -> tuple[str, int]:
        blobs[digest(data)] = data
        return digest(data), len(data)

    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as t:
        content = b"#!/bin/sh\necho hello from the registry\n"
        info = tarfile.TarInfo("usr/bin/hello")
        info.size, info.mode = len(content), 0o755
        t.addfile(info, io.BytesIO(content))
    layer, layer_size = add(gzip.compress(tar.getvalue(), mtime=0))
    manifests = []
    for arch in ("amd64", "arm64"):
        config = json.dumps(
            {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [digest(tar.getvalue())]}}
        ).encode()
        cfg, cfg_size = add(config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfg_size},
                "layers": [
                    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size}
                ],
            }
        ).encode()
        d, size = add(manifest)
        manifests.append(
            {"mediaType": OCI_MANIFEST, "digest": d, "size": size, "platform": {"architecture": arch, "os": "linux"}}
        )
    index_type = "application/vnd.oci.image.index.v1+json"
    index, index_size = add(json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": manifests}).encode())
    for d, data in blobs.items():
        path = root / "blobs" / "sha256" / d.split(":")[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    top = {"mediaType": index_type, "digest": index, "size": index_size}
    top["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return blobs


def test_oras_pushes_and_pulls_an_image_layout(api, emulator, tmp_path):
    """A multi-platform image from an OCI image layout on disk, pushed and pulled back into another layout."""
    from oras.layout import NewLayout, NewLayoutFromRegistry

    reg = new_registry(api)
    _, user, password = new_token(api, reg.id)
    host = f"127.0.0.1:{emulator.port}"
    client = oras_client(host, user, password)
    blobs = write_image_layout(tmp_path / "src")
    target = f"{host}/{reg.properties.name}/tools/hello:1.0"
    assert NewLayout(str(tmp_path / "src")).push_to_registry(client, target).status_code == 201
    NewLayoutFromRegistry(str(tmp_path / "pulled"), client, target)
    pulled = {f"sha256:{p.name}": p.read_bytes() for p in (tmp_path / "pulled" / "blobs" / "sha256").iterdir()}
    assert pulled == blobs  # every blob, byte for byte: the index, both images, their configs, the layer
    arts = cr.ArtifactsApi(api).registries_repositories_artifacts_get(reg.id, "tools/hello").items
    types = sorted((a.properties.media_type, tuple(a.properties.tags)) for a in arts)
    assert types == [
        ("application/vnd.oci.image.index.v1+json", ("1.0",)),
        (OCI_MANIFEST, ()),
        (OCI_MANIFEST, ()),
    ]
    assert client.delete_tag(f"{host}/{reg.properties.name}/tools/hello", "1.0")  # the index, by its digest
    left = cr.ArtifactsApi(api).registries_repositories_artifacts_get(reg.id, "tools/hello").items
    assert len(left) == 2 and all(not a.properties.tags for a in left)
    cr.RegistriesApi(api).registries_delete(reg.id)


def test_endpoints_and_config_file_name_the_registry(emulator):
    table = emulator.admin("GET", "endpoints").json()
    assert table["containerregistry"] == {"global": emulator.url + PREFIX}
    assert table["containerregistry-v1"] == {"global": emulator.url + PREFIX + "/v1"}
    from ionos_emulator.apis import build_apis
    from ionos_emulator.endpoints import config_file

    text = config_file(build_apis(), emulator.url, user=OWNER[0], password=OWNER[1])
    assert f'      - name: containerregistry\n        endpoints:\n          - name: "{emulator.url}{PREFIX}"' in text


def test_tokens_expire_by_the_emulated_clock(tmp_path):
    own = InProcessEmulator(tmp_path / "data").start()
    try:
        with api_client(own) as c:
            reg = new_registry(c)
            soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
            _, user, password = new_token(c, reg.id, expiry_date=soon)
        url = f"{own.url}/containerregistry/{reg.properties.name}/v2/"
        assert httpx.get(url, auth=(user, password)).status_code == 200
        assert own.admin("POST", "clock", json={"advanceSeconds": 3 * 3600}).status_code == 200
        assert httpx.get(url, auth=(user, password)).status_code == 401  # expired, three emulated hours later
        assert own.admin("DELETE", "clock").status_code == 200
        assert httpx.get(url, auth=(user, password)).status_code == 200
    finally:
        own.stop()
