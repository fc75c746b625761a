"""The Container Registry's kinds and rules, shared by API 1.2 and 1.0: registries (names unique across every
contract, since each is a host name; location; garbage-collection schedule; vulnerability scanning, on unless
refused and never off again), tokens (names unique in their registry, scopes, expiry, status; a password
shown once), the repositories and artifacts that pushes to the registry's OCI data plane create, and
vulnerabilities (no scanner runs here: empty lists)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.datastructures import QueryParams

from ...engine import clock, listing
from ...engine.errors import ApiError, conflict
from ...gateway.context import Ctx, Reply
from ...settings import Settings
from ...store import Row, Store
from ..product import REGIONS, PKind, Product, filter_view, page, render, rows_of

PRODUCT = Product(
    name="containerregistry",
    spec_name="containerregistry",
    config_name="containerregistry",
    host="api.ionos.com",
    # the Cloud API's group flag for the registry (GroupProperties.manageRegistry); the product's docs call it
    # 'accessAndManageRegistries', a name no group can hold
    privilege="manageRegistry",
)
# the first generation (1.0): the same service and resources, at a prefix of its own, no host of its own (the
# real host answers 1.2, which 1.0 clients read)
PRODUCT_V1 = Product(
    name="containerregistry-v1",
    spec_name="containerregistry-v1",
    config_name="",
    path="containerregistries/v1",
    privilege="manageRegistry",
    registry=PRODUCT.registry,
)
V1 = PRODUCT_V1.spec_name

LOCATIONS = tuple(REGIONS)  # guess: every location of the regional products
NAME = re.compile(r"^[a-z][-a-z0-9]{1,61}[a-z0-9]$")
TOKEN_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,61}[A-Za-z0-9]$")
GC_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?([+-]\d\d:\d\d|Z)?$")
ACTIONS = ("pull", "push", "delete")
SCOPE_TYPES = ("repository", "registry")
TOKEN_STATUS = ("enabled", "disabled")
NAME_KEY = "containerregistry:name:"  # registry name -> {"tenant", "id"}: names are host names, unique everywhere
UPLOAD_KEY = "containerregistry:upload:"  # upload session id -> {"registry", "repo", "started"}
SECRET_KEY = "containerregistry:secret"  # the key token passwords and bearer tokens are derived with
RUNNING = "Running"


def bad(attr: str, message: str) -> ApiError:
    """The Container Registry answers a bad value with 400 (its spec declares no 422)."""
    return ApiError(400, f"attribute '{attr}' {message}")


def hostname(props: dict[str, Any]) -> str:
    return f"{props['name']}.cr.{REGIONS.get(props['location'], props['location'].replace('/', '-'))}.ionos.com"


def blob_root(settings: Settings, registry_id: str) -> Path:
    return Path(settings.data_dir) / "containerregistry" / registry_id


def remove_later(path: Path) -> None:
    """Removes a folder of blobs off the request: renamed away at once (atomically), deleted in a thread."""
    trash = path.with_name(f".removed-{path.name}-{secrets.token_hex(4)}")
    try:
        os.replace(path, trash)
    except FileNotFoundError:
        return
    threading.Thread(target=shutil.rmtree, args=(trash,), kwargs={"ignore_errors": True}, daemon=True).start()


def secret_key(store: Store) -> bytes:
    key = store.kv_get(SECRET_KEY)
    if not key:
        key = secrets.token_hex(32)
        store.kv_set(SECRET_KEY, key)
    return bytes.fromhex(key)


def token_password(store: Store, row: Row) -> str:
    """A token's password: derived from the emulator's key and the token's salt, so it is never stored and the
    API can show it once, in the reply that created the token."""
    msg = f"{row.tenant}:{row.parent}:{row.id}:{row.x.get('salt', '')}".encode()
    digest = hmac.new(secret_key(store), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _both(op_id: str):
    """A handler of an operation both API versions have."""

    def deco(fn):
        PRODUCT.handler(op_id)(fn)
        PRODUCT_V1.handler(op_id)(fn)
        return fn

    return deco


# -- registries -------------------------------------------------------------------------------------------


def _schedule(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    days = value.get("days") or []
    if len(set(days)) != len(days):
        raise bad("properties.garbageCollectionSchedule.days", "must not repeat a day")
    time = value.get("time")
    if not isinstance(time, str) or not GC_TIME.match(time):
        raise bad("properties.garbageCollectionSchedule.time", f"must be a time such as 01:23:00+00:00, got {time!r}")
    return {"days": list(days), "time": time}


def _allow_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    for i, entry in enumerate(value):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise bad(
                f"properties.apiSubnetAllowList[{i}]", f"must be an IP address or a CIDR, got {entry!r}"
            ) from None
    return list(value)


def _features(value: Any, old: Row | None) -> dict[str, Any]:
    """Vulnerability scanning is on unless the creation says otherwise, and once on it stays on."""
    was = ((old.props.get("features") or {}).get("vulnerabilityScanning") or {}) if old else {}
    asked = ((value or {}).get("vulnerabilityScanning")) or {}
    enabled = asked.get("enabled")
    if enabled is None:
        enabled = was.get("enabled", True)
    if was.get("enabled") and not enabled:
        raise bad("properties.features.vulnerabilityScanning.enabled", "cannot be turned off once it is on")
    out: dict[str, Any] = {"enabled": bool(enabled)}
    if asked.get("properties") or was.get("properties"):
        out["properties"] = asked.get("properties") or was.get("properties")
    return {"vulnerabilityScanning": out}


def registry_prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    name, location = props.get("name"), props.get("location")
    if old is None:
        if not isinstance(name, str) or not NAME.match(name):
            raise bad(
                "properties.name",
                "must be 3 to 63 characters of a-z, 0-9 and '-', start with a letter and end with a letter or digit",
            )
        if location not in LOCATIONS:
            raise bad("properties.location", f"must be one of {', '.join(LOCATIONS)}, got {location!r}")
        if ctx.store.kv_get(NAME_KEY + name) is not None:
            raise conflict(f"the registry name '{name}' is already in use")
    else:
        if name is not None and name != old.props["name"]:
            raise bad("properties.name", f"cannot be changed (the registry is '{old.props['name']}')")
        if location is not None and location != old.props["location"]:
            raise bad("properties.location", f"cannot be changed (the registry is in '{old.props['location']}')")
        name, location = old.props["name"], old.props["location"]
    out: dict[str, Any] = {"name": name, "location": location}
    schedule = _schedule(props.get("garbageCollectionSchedule"))
    if schedule is not None:
        out["garbageCollectionSchedule"] = schedule
    out["features"] = _features(props.get("features"), old)
    allow = _allow_list(props.get("apiSubnetAllowList"))
    if allow is not None:
        out["apiSubnetAllowList"] = allow
    return out


def storage_usage(store: Store, registry: Row) -> dict[str, Any]:
    """What the registry's repositories hold (each blob and manifest once), and when that last changed."""
    sizes: dict[str, int] = {}
    changes = [registry.meta.get("lastModifiedDate")]
    for repo in store.list(registry.tenant, REPOSITORY.name, registry.id):
        sizes.update(repo.x.get("blobs") or {})
        sizes.update({d: m["size"] for d, m in (repo.x.get("manifests") or {}).items()})
        changes.append(repo.meta.get("lastModifiedDate"))
    # the latest by time: the stamps differ in precision ("...:33Z" and "...:33.49Z")
    updated = max((c for c in changes if c), key=lambda c: datetime.fromisoformat(c.replace("Z", "+00:00")))
    return {"bytes": sum(sizes.values()), "updatedAt": updated}


def registry_view(ctx: Ctx, row: Row) -> dict:
    props = dict(row.props)
    if row.meta.get("state") == RUNNING:  # the host is allocated once the registry runs
        props["hostname"] = hostname(props)
    props["storageUsage"] = storage_usage(ctx.store, row)
    if ctx.api.spec_name == V1:  # 1.0 has neither features nor an allow list
        props.pop("features", None)
        props.pop("apiSubnetAllowList", None)
    return props


def registry_after(ctx: Ctx, row: Row, change) -> None:
    ctx.store.kv_set(NAME_KEY + row.props["name"], {"tenant": row.tenant, "id": row.id})


def registry_delete(ctx: Ctx, row: Row, change) -> None:
    """The name is free again and the registry's blobs are gone."""
    ctx.store.kv_delete(NAME_KEY + row.props["name"])
    for key, upload in ctx.store.kv_prefix(UPLOAD_KEY):  # its upload sessions
        if upload.get("registry") == row.id:
            ctx.store.kv_delete(key)
    remove_later(blob_root(ctx.settings, row.id))


def _token(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()))
    except ValueError:
        raise ApiError(400, "query parameter 'pagination.token' is not a token this API issued") from None


def _pagination_token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def registry_page(ctx: Ctx, kind, rows: list[Row], path: str) -> dict:
    """Registries page by `limit` and an opaque `pagination.token` (the next one's offset), not offset."""
    raw_limit = ctx.query.get("limit") or "100"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
        raise ApiError(400, f"query parameter 'limit' must be an integer from 1 to 1000, got {raw_limit!r}")
    limit, offset = int(raw_limit), _token(ctx.query.get("pagination.token"))
    query = QueryParams(
        [(k, v) for k, v in ctx.query.multi_items() if k.startswith("filter.")]
        + [("offset", str(offset)), ("limit", str(limit))]
    )
    items, _, _, total = listing.select(
        rows, lambda r: filter_view(ctx, kind, r), query, paginated=True, default_limit=100
    )
    href = ctx.href(path) if kind.absolute_href else "/" + path
    nxt = _pagination_token(offset + limit) if offset + limit < total else ""
    prev = _pagination_token(max(0, offset - limit)) if offset > 0 else ""
    return {
        "id": "registries",
        "type": "collection",
        "href": href,
        "items": [render(ctx, kind, r) for r in items],
        "pagination": {"limit": limit, "token": nxt},
        "_links": {
            "self": f"{href}?limit={limit}" + (f"&pagination.token={_pagination_token(offset)}" if offset else ""),
            "next": f"{href}?limit={limit}&pagination.token={nxt}" if nxt else "",
            "previous": f"{href}?limit={limit}&pagination.token={prev}" if offset > 0 else "",
        },
    }


REGISTRY = PKind(
    PRODUCT,
    "registry",
    "registry",
    "registries",
    creating="New",  # guess
    updating=RUNNING,
    destroying="Deleting",  # guess
    ready=RUNNING,  # terraform-provider-ionoscloud waits for "RUNNING", case-insensitively
    prepare=registry_prepare,
    view=registry_view,
    after=registry_after,
    delete=registry_delete,
    pager=registry_page,
    flat_patch=True,
    patchable=("garbageCollectionSchedule", "features", "apiSubnetAllowList"),
    metadata_fields=(
        "createdBy",
        "createdByUserId",
        "createdDate",
        "lastModifiedBy",
        "lastModifiedByUserId",
        "lastModifiedDate",
        "state",
    ),
)


# -- tokens -----------------------------------------------------------------------------------------------


def _expiry(value: Any, now: float) -> str | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad("properties.expiryDate", f"must be a date-time, got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if when.timestamp() <= now:
        raise bad("properties.expiryDate", "must be in the future")
    return clock.iso(when.timestamp())


def _scopes(value: Any) -> list[dict[str, Any]]:
    out = []
    for i, scope in enumerate(value or []):
        attr = f"properties.scopes[{i}]"
        if not isinstance(scope.get("name"), str) or not scope["name"]:
            raise bad(f"{attr}.name", "is required: a repository name, '*' as a wildcard")
        if scope.get("type") not in SCOPE_TYPES:
            raise bad(f"{attr}.type", f"must be one of {', '.join(SCOPE_TYPES)}, got {scope.get('type')!r}")
        actions = scope.get("actions") or []
        wrong = [a for a in actions if a not in ACTIONS]
        if wrong or not actions:
            raise bad(f"{attr}.actions", f"must list some of {', '.join(ACTIONS)}, got {actions!r}")
        out.append({"name": scope["name"], "type": scope["type"], "actions": list(dict.fromkeys(actions))})
    return out


def token_prepare(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    assert parent is not None
    name = props.get("name")
    if old is None:
        if not isinstance(name, str) or not TOKEN_NAME.match(name):
            raise bad(
                "properties.name",
                "must be 2 to 63 characters of letters, digits and '-', start with a letter and end with a letter "
                "or digit",
            )
        if any(t.props.get("name") == name for t in rows_of(ctx, TOKEN, parent)):
            raise conflict(f"the registry already has a token named '{name}'")
    elif name is not None and name != old.props["name"]:
        raise bad("properties.name", f"cannot be changed (the token is '{old.props['name']}')")
    else:
        name = old.props["name"]
    status = props.get("status") or "enabled"
    if status not in TOKEN_STATUS:
        raise bad("properties.status", f"must be one of {', '.join(TOKEN_STATUS)}, got {status!r}")
    out: dict[str, Any] = {
        "name": name,
        "scopes": _scopes(props.get("scopes")),
        "status": status,
        "expiryDate": _expiry(props.get("expiryDate"), ctx.now),
    }
    if old is None:
        out["salt"] = secrets.token_hex(16)  # internal: the password is derived from it
    return out


def token_view(ctx: Ctx, row: Row) -> dict:
    return {**row.props, "credentials": {"username": row.props["name"], "password": ""}}


def token_created_view(ctx: Ctx, row: Row) -> dict:
    return {**row.props, "credentials": {"username": row.props["name"], "password": token_password(ctx.store, row)}}


def token_page(ctx: Ctx, kind, rows: list[Row], path: str) -> dict:
    out = page(ctx, kind, rows, path)
    links = out["_links"]
    out["_links"] = {"self": links["self"], "previous": links.get("prev", ""), "next": links.get("next", "")}
    out.update(count=len(out["items"]), total=len(rows))
    return out


TOKEN = PKind(
    PRODUCT,
    "token",
    "token",
    "tokens",
    parent=REGISTRY,
    stateless=True,
    prepare=token_prepare,
    view=token_view,
    created_view=token_created_view,
    meta=lambda ctx, row: {"state": row.props.get("status")},
    internal=("salt",),
    pager=token_page,
    flat_patch=True,
    patchable=("expiryDate", "scopes", "status"),
    patch_clears=("expiryDate",),
)


def token_valid(row: Row, now: float) -> bool:
    if row.props.get("status") != "enabled":
        return False
    expiry = row.props.get("expiryDate")
    return expiry is None or datetime.fromisoformat(expiry.replace("Z", "+00:00")).timestamp() > now


# -- repositories, artifacts, vulnerabilities ------------------------------------------------------------
# Repositories are written by the data plane (dataplanes/registry.py) as a push arrives: one stored row per
# repository, its manifests, tags and blobs inside it; the artifacts are its manifests, computed as they are read.


def repository_meta(ctx: Ctx, row: Row) -> dict:
    return {"artifactCount": len(row.x.get("manifests") or {})}


REPOSITORY = PKind(
    PRODUCT,
    "repository",
    "repository",
    "repositories",
    parent=REGISTRY,
    stateless=True,
    meta=repository_meta,
)


def artifact_rows(ctx: Ctx, repo: Row | None) -> list[Row]:
    assert repo is not None
    tags: dict[str, list[str]] = {}
    for tag, digest in (repo.x.get("tags") or {}).items():
        tags.setdefault(digest, []).append(tag)
    out = []
    for digest, m in (repo.x.get("manifests") or {}).items():
        meta = {k: v for k, v in m.items() if k not in ("size", "mediaType", "subject", "artifactType", "annotations")}
        meta.update(vulnTotalCount=0, vulnFixableCount=0)
        out.append(
            Row(
                tenant=repo.tenant,
                kind=ARTIFACT.name,
                id=digest,
                parent=repo.id,
                path=f"{repo.path}/artifacts/{digest}",
                doc={
                    "properties": {
                        "digest": digest,
                        "mediaType": m["mediaType"],
                        "repositoryName": repo.id,
                        "tags": sorted(tags.get(digest, [])),
                    },
                    "metadata": meta,
                },
            )
        )
    return out


ARTIFACT = PKind(PRODUCT, "artifact", "artifact", "artifacts", parent=REPOSITORY, stateless=True, rows=artifact_rows)
# every artifact of a registry, across its repositories
REGISTRY_ARTIFACT = PKind(
    PRODUCT,
    "registryartifact",
    "artifact",
    "artifacts",
    parent=REGISTRY,
    stateless=True,
    rows=lambda ctx, registry: [a for repo in rows_of(ctx, REPOSITORY, registry) for a in artifact_rows(ctx, repo)],
)
# no scanner runs in the emulator: every artifact has no known vulnerability, and none is known by id
ARTIFACT_VULNERABILITY = PKind(
    PRODUCT,
    "artifactvulnerability",
    "vulnerability",
    "vulnerabilities",
    parent=ARTIFACT,
    stateless=True,
    rows=lambda ctx, artifact: [],
)
VULNERABILITY = PKind(
    PRODUCT, "vulnerability", "vulnerability", "vulnerabilities", stateless=True, rows=lambda ctx, parent: []
)


# -- the names check and the locations --------------------------------------------------------------------


@_both("namesCheckUsage")
def names_check(ctx: Ctx) -> Reply:
    """200: a valid name in use; 404: valid and free; 400: not a valid registry name."""
    name = ctx.params["name"]
    if not NAME.match(name):
        raise ApiError(400, f"'{name}' is not a valid registry name")
    if ctx.store.kv_get(NAME_KEY + name) is None:
        raise ApiError(404, f"the registry name '{name}' is available")
    return Reply(200)


@_both("locationsGet")
def locations(ctx: Ctx) -> Reply:
    return Reply(
        200,
        {"id": "locations", "type": "collection", "href": "/locations", "items": [{"id": loc} for loc in LOCATIONS]},
    )
