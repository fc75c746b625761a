"""The OCI distribution API of every Container Registry (apis/containerregistry): what `docker`, `oras`,
`skopeo` or `helm` push to and pull from.

A registry answers at three addresses, all on the emulator's port:

    http://<name>.cr.<region>.ionos.com:<port>/v2/...      its real host name (the registry's `hostname`), with
                                                           /etc/hosts (or --resolve) pointing it at the emulator
    http://localhost:<port>/v2/<name>/<repository>/...     any other host: the registry's name is the first
                                                           component of the repository (`oras push
                                                           localhost:8080/myregistry/app:1.0`)
    http://<any host>/containerregistry/<name>/v2/...      a path prefix, for clients that take a base URL

Authentication is the registry's tokens (apis/containerregistry/model.py): HTTP Basic with the token's name
and password, or the Bearer token the token endpoint (`/v2/token`, the realm of the `WWW-Authenticate`
challenge) issues for them. Each request is checked against the token's scopes at that moment: pull, push or
delete on repositories matching a scope's name (`*` a wildcard), the catalog with a scope of type registry.

Blobs are files under <data dir>/containerregistry/<registry id>/blobs/<algorithm>/<hex>, streamed to disk in
chunks off the event loop, their digests verified before they are moved into place (atomically, os.replace);
upload sessions are files beside them. Manifests are blobs too. A repository is the stored row the management
API lists, holding its manifests (the API's artifacts), tags and the blobs linked to it; a push creates it, and
a delete through the API removes it."""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from starlette.datastructures import Headers, QueryParams

from ..apis.containerregistry.model import (
    NAME_KEY,
    REGISTRY,
    REPOSITORY,
    TOKEN,
    UPLOAD_KEY,
    blob_root,
    hostname,
    secret_key,
    token_password,
    token_valid,
)
from ..engine import clock
from ..settings import Settings
from ..store import Row, Store

log = logging.getLogger("ionos_emulator.registry")

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

HOST = re.compile(r"^(?P<name>[a-z][-a-z0-9]{1,61}[a-z0-9])\.cr\.(?P<region>[a-z]{2}-[a-z]{3})\.ionos\.com$")
PREFIX = "/containerregistry/"
COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPO_NAME = re.compile(rf"^{COMPONENT}(?:/{COMPONENT})*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
DIGEST = re.compile(r"^(?P<algo>sha256|sha512):(?P<hex>[a-f0-9]+)$")
HEX_LENGTH = {"sha256": 64, "sha512": 128}
ROUTE = re.compile(
    r"^/(?P<name>.+)/(?:"
    r"blobs/uploads/?(?P<upload>[^/]*)|blobs/(?P<digest>[^/]+)|manifests/(?P<ref>[^/]+)|(?P<tags>tags/list)"
    r"|referrers/(?P<subject>[^/]+))$"
)
MANIFEST_LIMIT = 4 * 1024 * 1024  # the size every registry must accept
CHUNK = 1024 * 1024
BEARER_SECONDS = 3600
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
IMAGE_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


class OciError(Exception):
    """An answer in the distribution API's error shape: {"errors": [{"code", "message", "detail"}]}."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass
class Target:
    """A request to a registry's data plane: the registry's name where the address says it, and the path below
    /v2 ("/", "/_catalog", "/app/manifests/1.0")."""

    name: str | None
    path: str
    base: str  # what precedes /v2 in the URLs the client uses: "" or "/containerregistry/<name>"
    namespaced: bool  # localhost: the registry's name is the first component of the repository
    host: str  # the host name the client addressed, without the port
    client: str = ""  # the client's address


def match(scope: dict[str, Any], api_hosts: frozenset[str] = frozenset()) -> Target | None:
    """The data-plane request this is, or None for the emulator's APIs (`api_hosts`: the real host names they
    answer on, whose /v2 is theirs: mariadb.de-fra.ionos.com/v2 is MariaDB's second generation)."""
    path = scope.get("path", "")
    host = (Headers(scope=scope).get("host") or "").rsplit(":", 1)[0].lower() if scope else ""
    if host.startswith("[") or host.count(":"):  # an IPv6 literal: no registry host
        host = ""
    client = (scope.get("client") or ("",))[0] or ""
    m = HOST.match(host)
    if m:
        sub = path[3:] if path == "/v2" or path.startswith("/v2/") else None
        return Target(m["name"], sub if sub is not None else "", "", False, host, client)
    if path.startswith(PREFIX):
        name, _, rest = path[len(PREFIX) :].partition("/")
        if rest == "v2" or rest.startswith("v2/"):
            return Target(name, rest[2:] or "/", PREFIX + name, False, host, client)
        return None
    if (path == "/v2" or path.startswith("/v2/")) and host not in api_hosts:
        return Target(None, path[3:] or "/", "", True, host, client)
    return None


def registry_at(store: Store, host: str) -> Row | None:
    """The registry whose host name this is, if there is one."""
    m = HOST.match(host)
    entry = store.kv_get(NAME_KEY + m["name"]) if m else None
    row = store.get(entry["tenant"], REGISTRY.name, "", entry["id"]) if entry else None
    return row if row is not None and hostname(row.props) == host else None


@dataclass
class Grant:
    """Who is calling: a registry's token."""

    registry: Row
    token: Row

    def may(self, repo: str, action: str) -> bool:
        return any(
            s.get("type") == "repository" and action in s.get("actions", []) and fnmatch.fnmatchcase(repo, s["name"])
            for s in self.token.props.get("scopes") or []
        )

    def may_list(self) -> bool:
        return any(s.get("type") == "registry" for s in self.token.props.get("scopes") or [])


class RegistryPlane:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        settle: Callable[[], object] = lambda: None,
        now: Callable[[], float] = time.time,
    ):
        self.store, self.settings = store, settings
        self.now = now  # the emulated clock (/_emulator/clock): token expiry, timestamps
        self.settle = settle  # completes due changes first, as the API pipeline does: a registry just made runs

    # -- ASGI -----------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send, target: Target) -> None:
        started = False

        async def sending(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.serve(scope, receive, sending, target)
        except OciError as e:
            if started:
                raise
            await respond(send, e.status, error_body(e.code, e.message), {**API_VERSION, **e.headers})
        except Exception:
            log.exception("registry request %s %s failed", scope.get("method"), scope.get("path"))
            if started:  # half a blob was sent: the connection closes
                raise
            await respond(send, 500, error_body("UNKNOWN", "an unexpected error occurred"), API_VERSION)

    async def serve(self, scope: dict[str, Any], receive: Receive, send: Send, t: Target) -> None:
        try:
            self.settle()
        except Exception:  # completing other requests must never fail this one
            log.exception("settling requests failed")
        method = scope["method"].upper()
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        url = f"{scope.get('scheme', 'http')}://{headers.get('host') or t.host}{t.base}/v2"
        if t.path == "":  # the registry's host, outside /v2
            raise OciError(404, "NOT_FOUND", "the registry serves the distribution API at /v2/")
        # on its host name a registry is found by name and region; under the path prefix by name
        on_host = t.name is not None and not t.base and not t.namespaced
        registry = self.registry_named(t.name, t.host if on_host else None) if t.name is not None else None
        if t.path == "/token":
            if method == "POST":  # the OAuth2 password grant (containerd): the form carries the credentials
                form = QueryParams((await receive_all(receive, 64 * 1024)).decode("utf-8", "replace"))
                user, password = form.get("username") or "", form.get("password") or ""
                basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                headers = Headers({"authorization": basic})
                query = QueryParams([(k, v) for k, v in form.multi_items() if k in ("scope", "service")])
            await self.issue_token(send, headers, query, registry, t)
            return
        if t.path in ("/", "/_catalog"):
            grant = self.authenticate(headers, registry, url, t, "registry:catalog:*" if t.path != "/" else "")
            if t.path == "/":
                await respond(send, 200, b"{}", API_VERSION)
                return
            await self.catalog(send, query, grant, t, url)
            return
        m = ROUTE.match(t.path)
        if m is None:
            raise OciError(404, "NOT_FOUND", f"no distribution API endpoint at {t.path}")
        full = m["name"]
        repo = full
        if t.namespaced:  # /v2/<registry>/<repository>/...
            reg_name, _, repo = full.partition("/")
            if not repo:
                raise OciError(
                    404, "NAME_UNKNOWN", "name the registry and the repository: /v2/<registry>/<repository>/"
                )
            registry = self.registry_named(reg_name, None)
        if not REPO_NAME.match(repo):
            raise OciError(400, "NAME_INVALID", f"'{repo}' is not a valid repository name")
        assert registry is not None
        r = Request(self, scope, receive, send, method, headers, query, registry, repo, full, url, t)
        if m["upload"] is not None:
            await r.upload(m["upload"])
        elif m["digest"] is not None:
            await r.blob(m["digest"])
        elif m["ref"] is not None:
            await r.manifest(m["ref"])
        elif m["tags"] is not None:
            await r.tags()
        else:
            await r.referrers(m["subject"])

    # -- registries and tokens ---------------------------------------------------------------------------

    def registry_named(self, name: str | None, host: str | None) -> Row:
        if host is not None:
            row = registry_at(self.store, host)
        else:
            entry = self.store.kv_get(NAME_KEY + (name or ""))
            row = self.store.get(entry["tenant"], REGISTRY.name, "", entry["id"]) if entry else None
        if row is None:
            raise OciError(404, "NAME_UNKNOWN", f"no registry '{name}' is served here")
        if row.meta.get("state") != REGISTRY.states.ready:  # New (its host is not allocated yet) or Deleting
            raise OciError(404, "NAME_UNKNOWN", f"the registry '{name}' is {row.meta.get('state')}, not Running")
        return row

    def grant(self, headers: Headers, registry: Row | None) -> Grant | None:
        """The token the Authorization header names, if it is valid (enabled, not expired) now."""
        auth = headers.get("authorization") or ""
        scheme, _, value = auth.partition(" ")
        now = self.now()
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except ValueError:
                return None
            candidates = [registry] if registry is not None else self.all_registries()
            for reg in candidates:
                for token in self.store.list(reg.tenant, TOKEN.name, reg.id):
                    if token.props.get("name") == user and hmac.compare_digest(
                        token_password(self.store, token), password
                    ):
                        return Grant(reg, token) if token_valid(token, now) else None
            return None
        if scheme.lower() == "bearer":
            claims = self.verify_bearer(value.strip())
            if claims is None or claims["exp"] < now:
                return None
            found = self.store.get(claims["t"], REGISTRY.name, "", claims["r"])
            held = self.store.get(claims["t"], TOKEN.name, claims["r"], claims["k"])
            if found is None or held is None or not token_valid(held, now):
                return None
            if registry is not None and found.id != registry.id:
                return None
            return Grant(found, held)
        return None

    def all_registries(self) -> list[Row]:
        out = []
        for _, entry in self.store.kv_prefix(NAME_KEY):
            row = self.store.get(entry["tenant"], REGISTRY.name, "", entry["id"])
            if row is not None:
                out.append(row)
        return out

    def authenticate(self, headers: Headers, registry: Row | None, url: str, t: Target, scope_hint: str) -> Grant:
        if registry is not None:
            self.check_source(registry, t)
        grant = self.grant(headers, registry)
        if grant is None:
            service = hostname(registry.props) if registry is not None else t.host
            challenge = f'Bearer realm="{url}/token",service="{service}"' + (
                f',scope="{scope_hint}"' if scope_hint else ""
            )
            raise OciError(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
        self.check_source(grant.registry, t)
        return grant

    def check_source(self, registry: Row, t: Target) -> None:
        """A registry with an `apiSubnetAllowList` answers only the addresses in it (none with 0.0.0.0/0)."""
        allowed = registry.props.get("apiSubnetAllowList") or []
        if not allowed:
            return
        try:
            client = ipaddress.ip_address(t.client)
        except ValueError:
            client = None
        nets = [ipaddress.ip_network(a, strict=False) for a in allowed]
        deny_all = any(n.prefixlen == 0 and n.version == 4 for n in nets)
        if deny_all or client is None or not any(client in n for n in nets if n.version == client.version):
            raise OciError(403, "DENIED", f"the registry does not accept requests from {t.client or 'this client'}")

    def bearer(self, grant: Grant) -> str:
        claims = {"t": grant.registry.tenant, "r": grant.registry.id, "k": grant.token.id}
        claims["exp"] = int(self.now()) + BEARER_SECONDS
        payload = base64.urlsafe_b64encode(orjson.dumps(claims)).decode().rstrip("=")
        sig = hmac.new(secret_key(self.store), payload.encode(), hashlib.sha256).digest()
        return payload + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")

    def verify_bearer(self, value: str) -> dict[str, Any] | None:
        payload, _, sig = value.partition(".")
        want = hmac.new(secret_key(self.store), payload.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)), want):
                return None
            claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, orjson.JSONDecodeError):
            return None
        return claims

    async def issue_token(
        self, send: Send, headers: Headers, query: QueryParams, registry: Row | None, t: Target
    ) -> None:
        """The token endpoint (the challenge's realm): a Bearer token for a registry token's Basic credentials.
        It stands for the registry token: each request is checked against that token's scopes as they are then."""
        if registry is None and t.namespaced:  # scope=repository:<registry>/<repository>:pull,push
            for scope in (s for raw in query.getlist("scope") for s in raw.split(" ")):
                parts = scope.split(":")
                if len(parts) >= 2 and parts[0] == "repository" and "/" in parts[1]:
                    registry = self.registry_named(parts[1].split("/", 1)[0], None)
                    break
        grant = (
            self.grant(headers, registry) if (headers.get("authorization") or "").lower().startswith("basic") else None
        )
        if registry is not None:
            self.check_source(registry, t)
        if grant is None:
            raise OciError(
                401,
                "UNAUTHORIZED",
                "a registry token's name and password are required (HTTP Basic)",
                {"WWW-Authenticate": 'Basic realm="container registry"'},
            )
        self.check_source(grant.registry, t)
        token = self.bearer(grant)
        body = {
            "token": token,
            "access_token": token,
            "expires_in": BEARER_SECONDS,
            "issued_at": clock.iso(self.now()),
        }
        await respond(send, 200, orjson.dumps(body), {"Content-Type": "application/json"})

    async def catalog(self, send: Send, query: QueryParams, grant: Grant, t: Target, url: str) -> None:
        if not grant.may_list():
            raise OciError(403, "DENIED", "listing the repositories needs a token scope of type 'registry'")
        reg = grant.registry
        names = sorted(r.id for r in self.store.list(reg.tenant, REPOSITORY.name, reg.id))
        if t.namespaced:
            names = [f"{reg.props['name']}/{n}" for n in names]
        page, link = paginate(names, query, f"{url}/_catalog")
        await respond(send, 200, orjson.dumps({"repositories": page}), {**API_VERSION, **link})

    # -- files ----------------------------------------------------------------------------------------------

    def drop_all(self) -> None:
        """Every registry's blobs (a reset of the store)."""
        shutil.rmtree(Path(self.settings.data_dir) / "containerregistry", ignore_errors=True)  # as a snapshot load

    def root(self, registry: Row) -> Path:
        return blob_root(self.settings, registry.id)

    def blob_path(self, registry: Row, digest: str) -> Path:
        algo, _, hexa = digest.partition(":")
        return self.root(registry) / "blobs" / algo / hexa

    def upload_path(self, registry: Row, upload: str) -> Path:
        return self.root(registry) / "uploads" / upload


class Request:
    """One request on a repository of a registry."""

    def __init__(
        self,
        plane: RegistryPlane,
        scope: dict[str, Any],
        receive: Receive,
        send: Send,
        method: str,
        headers: Headers,
        query: QueryParams,
        registry: Row,
        repo: str,
        full: str,
        url: str,
        target: Target,
    ):
        self.plane, self.store = plane, plane.store
        self.scope, self.receive, self.send = scope, receive, send
        self.method, self.headers, self.query = method, headers, query
        self.registry, self.repo, self.full, self.url, self.target = registry, repo, full, url, target
        self.grant: Grant | None = None

    def need(self, *actions: str) -> None:
        """The caller's token may do each action on this repository (401 with the challenge, else 403)."""
        want = ",".join(actions)
        if self.grant is None:
            self.grant = self.plane.authenticate(
                self.headers, self.registry, self.url, self.target, f"repository:{self.full}:{want}"
            )
        missing = [a for a in actions if not self.grant.may(self.repo, a)]
        if missing:
            raise OciError(403, "DENIED", f"the token may not {', '.join(missing)} the repository '{self.repo}'")

    # -- the repository row -----------------------------------------------------------------------------

    def repo_row(self) -> Row | None:
        return self.store.get(self.registry.tenant, REPOSITORY.name, self.registry.id, self.repo)

    def existing_repo(self) -> Row:
        row = self.repo_row()
        if row is None:
            raise OciError(404, "NAME_UNKNOWN", f"the repository '{self.repo}' is not known")
        return row

    def change_repo(self, fn: Callable[[Row], None], *, create: bool) -> None:
        """Applies `fn` to the repository's row in one transaction, creating the repository if asked."""
        with self.store.tx():
            row = self.repo_row()
            if row is None:
                if not create:
                    raise OciError(404, "NAME_UNKNOWN", f"the repository '{self.repo}' is not known")
                row = self.new_repo()
                fn(row)
                self.store.insert(row)
                return
            fn(row)
            self.store.update(row)

    def new_repo(self) -> Row:
        reg, token = self.registry, self.grant.token if self.grant else None
        now = clock.iso_precise(self.plane.now())
        who = {"by": token.props["name"] if token else "", "id": token.id if token else ""}
        path = f"{reg.path}/repositories/{self.repo}"
        return Row(
            tenant=reg.tenant,
            kind=REPOSITORY.name,
            id=self.repo,
            parent=reg.id,
            path=path,
            doc={
                "properties": {"name": self.repo},
                "metadata": {
                    "createdDate": now,
                    "createdBy": who["by"],
                    "createdByUserId": who["id"],
                    "lastModifiedDate": now,
                    "lastModifiedBy": who["by"],
                    "lastModifiedByUserId": who["id"],
                    "resourceURN": f"ionos:containerregistry:global:{reg.tenant}:{path}",
                    "pushCount": 0,
                    "pullCount": 0,
                },
                "x": {"blobs": {}, "manifests": {}, "tags": {}},
            },
        )

    # -- blobs ----------------------------------------------------------------------------------------------

    async def blob(self, digest: str) -> None:
        check_digest(digest)
        if self.method in ("GET", "HEAD"):
            self.need("pull")
            repo = self.existing_repo()
            size = (repo.x.get("blobs") or {}).get(digest)
            if size is None and digest in (repo.x.get("manifests") or {}):
                size = repo.x["manifests"][digest]["size"]
            path = self.plane.blob_path(self.registry, digest)
            if size is None or not path.exists():
                raise OciError(404, "BLOB_UNKNOWN", f"the blob {digest} is not in the repository '{self.repo}'")
            hdrs = {
                **API_VERSION,
                "Docker-Content-Digest": digest,
                "Content-Type": "application/octet-stream",
                "Accept-Ranges": "bytes",
            }
            byte_range = self.headers.get("range") if self.method == "GET" else None
            await send_file(self.send, path, hdrs, head=self.method == "HEAD", byte_range=byte_range)
        elif self.method == "DELETE":
            self.need("delete")

            def unlink(row: Row) -> None:
                if digest not in (row.x.get("blobs") or {}):
                    raise OciError(404, "BLOB_UNKNOWN", f"the blob {digest} is not in the repository '{self.repo}'")
                del row.x["blobs"][digest]

            self.change_repo(unlink, create=False)
            await respond(self.send, 202, b"", API_VERSION)
        else:
            raise OciError(405, "UNSUPPORTED", f"{self.method} is not allowed on a blob")

    def link(self, digest: str, size: int) -> None:
        def add(row: Row) -> None:
            row.x.setdefault("blobs", {})[digest] = size
            row.meta["lastModifiedDate"] = clock.iso_precise(self.plane.now())

        self.change_repo(add, create=True)

    async def blob_created(self, digest: str) -> None:
        hdrs = {**API_VERSION, "Location": f"{self.url}/{self.full}/blobs/{digest}", "Docker-Content-Digest": digest}
        await respond(self.send, 201, b"", hdrs)

    async def upload(self, upload: str) -> None:
        self.need("push")  # a mount also needs pull on its source (mountable)
        if self.method == "POST" and not upload:
            await self.start_upload()
            return
        if not upload:
            raise OciError(405, "UNSUPPORTED", f"{self.method} is not allowed on the uploads collection")
        session = self.store.kv_get(UPLOAD_KEY + upload)
        if (
            not re.fullmatch(r"[0-9a-f-]{36}", upload)
            or not session
            or session["registry"] != self.registry.id
            or session["repo"] != self.repo
        ):
            raise OciError(404, "BLOB_UPLOAD_UNKNOWN", f"no upload {upload} is in progress in '{self.repo}'")
        path = self.plane.upload_path(self.registry, upload)
        if self.method == "PATCH":
            offset = path.stat().st_size if path.exists() else 0
            start = content_range_start(self.headers.get("content-range"))
            if start is not None and start != offset:
                raise OciError(
                    416,
                    "BLOB_UPLOAD_INVALID",
                    f"the chunk starts at {start}, the upload is at {offset}",
                    {"Location": self.upload_url(upload), "Range": f"0-{max(0, offset - 1)}"},
                )
            size = await receive_to(self.receive, path, append=True)
            await self.upload_status(202, upload, size)
        elif self.method == "PUT":
            digest = self.query.get("digest") or ""
            check_digest(digest, code="DIGEST_INVALID")
            await receive_to(self.receive, path, append=True)
            await self.commit(path, digest)
            self.store.kv_delete(UPLOAD_KEY + upload)
            await self.blob_created(digest)
        elif self.method == "GET":
            await self.upload_status(204, upload, path.stat().st_size if path.exists() else 0)
        elif self.method == "DELETE":
            path.unlink(missing_ok=True)
            self.store.kv_delete(UPLOAD_KEY + upload)
            await respond(self.send, 204, b"", API_VERSION)
        else:
            raise OciError(405, "UNSUPPORTED", f"{self.method} is not allowed on an upload")

    def upload_url(self, upload: str) -> str:
        return f"{self.url}/{self.full}/blobs/uploads/{upload}"

    async def upload_status(self, status: int, upload: str, size: int) -> None:
        hdrs = {
            **API_VERSION,
            "Location": self.upload_url(upload),
            "Range": f"0-{max(0, size - 1)}",
            "Docker-Upload-UUID": upload,
        }
        await respond(self.send, status, b"", hdrs)

    async def start_upload(self) -> None:
        mount, source = self.query.get("mount"), self.query.get("from")
        if mount and source and self.mountable(mount, source):
            self.link(mount, self.plane.blob_path(self.registry, mount).stat().st_size)
            await self.blob_created(mount)
            return
        upload = str(uuid.uuid4())
        path = self.plane.upload_path(self.registry, upload)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        digest = self.query.get("digest")
        if digest:  # monolithic: the blob is this request's body
            check_digest(digest, code="DIGEST_INVALID")
            await receive_to(self.receive, path, append=False)
            await self.commit(path, digest)
            await self.blob_created(digest)
            return
        path.touch()
        self.store.kv_set(
            UPLOAD_KEY + upload, {"registry": self.registry.id, "repo": self.repo, "started": self.plane.now()}
        )
        await self.upload_status(202, upload, 0)

    def mountable(self, digest: str, source: str) -> bool:
        """A blob of another repository of the same registry, which the token may pull, is linked here."""
        if DIGEST.match(digest) is None or self.grant is None or not self.grant.may(source, "pull"):
            return False
        row = self.store.get(self.registry.tenant, REPOSITORY.name, self.registry.id, source)
        return bool(
            row and digest in (row.x.get("blobs") or {}) and self.plane.blob_path(self.registry, digest).exists()
        )

    async def commit(self, path: Path, digest: str) -> None:
        """Verifies the upload's digest and moves it into the blob store (atomically); links it here."""
        algo = digest.split(":", 1)[0]
        actual = await asyncio.to_thread(file_digest, path, algo)
        if actual != digest:
            path.unlink(missing_ok=True)
            raise OciError(400, "DIGEST_INVALID", f"the content's digest is {actual}, not {digest}")
        target = self.plane.blob_path(self.registry, digest)
        size = path.stat().st_size
        await asyncio.to_thread(_place, path, target)
        self.link(digest, size)

    # -- manifests --------------------------------------------------------------------------------------------

    def resolve(self, repo: Row, ref: str) -> str:
        digest = ref if DIGEST.match(ref) else (repo.x.get("tags") or {}).get(ref)
        if digest is None or digest not in (repo.x.get("manifests") or {}):
            raise OciError(404, "MANIFEST_UNKNOWN", f"the manifest '{ref}' is not in the repository '{self.repo}'")
        return digest

    async def manifest(self, ref: str) -> None:
        if self.method in ("GET", "HEAD"):
            self.need("pull")
            repo = self.existing_repo()
            digest = self.resolve(repo, ref)
            entry = repo.x["manifests"][digest]
            path = self.plane.blob_path(self.registry, digest)
            hdrs = {**API_VERSION, "Docker-Content-Digest": digest, "Content-Type": entry["mediaType"]}
            if self.method == "GET":
                self.count_pull(digest)
            await send_file(self.send, path, hdrs, head=self.method == "HEAD")
        elif self.method == "PUT":
            self.need("push")
            await self.put_manifest(ref)
        elif self.method == "DELETE":
            self.need("delete")

            def forget(row: Row) -> None:
                tags = row.x.setdefault("tags", {})
                if DIGEST.match(ref):
                    digest = self.resolve(row, ref)
                    del row.x["manifests"][digest]
                    for tag in [t for t, d in tags.items() if d == digest]:
                        del tags[tag]
                elif ref in tags:
                    del tags[ref]
                else:
                    raise OciError(404, "MANIFEST_UNKNOWN", f"the tag '{ref}' is not in the repository '{self.repo}'")

            self.change_repo(forget, create=False)
            await respond(self.send, 202, b"", API_VERSION)
        else:
            raise OciError(405, "UNSUPPORTED", f"{self.method} is not allowed on a manifest")

    def count_pull(self, digest: str) -> None:
        now = clock.iso_precise(self.plane.now())

        def pulled(row: Row) -> None:
            entry = row.x["manifests"].get(digest)
            if entry is not None:
                entry["pullCount"] = entry.get("pullCount", 0) + 1
                entry["lastPulledAt"] = now
            row.meta["pullCount"] = row.meta.get("pullCount", 0) + 1
            row.meta["lastPulledAt"] = now

        self.change_repo(pulled, create=False)

    async def put_manifest(self, ref: str) -> None:
        is_digest = DIGEST.match(ref) is not None
        if not is_digest and not TAG.match(ref):
            raise OciError(400, "TAG_INVALID", f"'{ref}' is neither a tag nor a digest")
        body = await receive_all(self.receive, MANIFEST_LIMIT)
        media_type = (self.headers.get("content-type") or "").split(";")[0].strip()
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise OciError(400, "MANIFEST_INVALID", "the manifest is not JSON") from None
        if not isinstance(doc, dict):
            raise OciError(400, "MANIFEST_INVALID", "the manifest is not a JSON object")
        media_type = media_type or doc.get("mediaType") or ""
        if doc.get("mediaType") and doc["mediaType"] != media_type:
            raise OciError(
                400, "MANIFEST_INVALID", f"the manifest's mediaType {doc['mediaType']} is not its Content-Type"
            )
        if not media_type:
            raise OciError(400, "MANIFEST_INVALID", "the manifest has no media type (Content-Type)")
        if is_digest:  # pushed by digest: it must be the body's
            algo = ref.split(":", 1)[0]
            digest = f"{algo}:{hashlib.new(algo, body).hexdigest()}"
            if digest != ref:
                raise OciError(400, "DIGEST_INVALID", f"the manifest's digest is {digest}, not {ref}")
        else:
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        repo = self.repo_row()
        known_blobs = (repo.x.get("blobs") or {}) if repo else {}
        known_manifests = (repo.x.get("manifests") or {}) if repo else {}
        for field in ("manifests", "layers"):
            items = doc.get(field)
            if items is not None and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items)):
                raise OciError(400, "MANIFEST_INVALID", f"the manifest's {field} must be a list of descriptors")
        if media_type in INDEX_TYPES:
            missing = [m.get("digest") for m in doc.get("manifests") or [] if m.get("digest") not in known_manifests]
            if missing:
                raise OciError(400, "MANIFEST_UNKNOWN", f"the index names manifests not in the repository: {missing}")
        else:
            config = doc.get("config")
            refs: list[dict[str, Any]] = [config] if isinstance(config, dict) else []
            refs += doc.get("layers") or []
            missing = [d.get("digest") for d in refs if d.get("digest") not in known_blobs]
            if missing:
                raise OciError(
                    400, "MANIFEST_BLOB_UNKNOWN", f"the manifest names blobs not in the repository: {missing}"
                )
        await asyncio.to_thread(_write_atomically, self.plane.blob_path(self.registry, digest), body)
        now = clock.iso_precise(self.plane.now())
        subject = doc.get("subject") if isinstance(doc.get("subject"), dict) else None

        def pushed(row: Row) -> None:
            manifests = row.x.setdefault("manifests", {})
            entry = manifests.get(digest) or {"createdDate": now, "pushCount": 0, "pullCount": 0}
            entry.update(
                mediaType=media_type,
                size=len(body),
                lastPushedAt=now,
                pushCount=entry.get("pushCount", 0) + 1,
            )
            if subject and subject.get("digest"):
                entry["subject"] = subject["digest"]
            artifact_type = doc.get("artifactType") or ((doc.get("config") or {}).get("mediaType"))
            if artifact_type:
                entry["artifactType"] = artifact_type
            if isinstance(doc.get("annotations"), dict):
                entry["annotations"] = doc["annotations"]
            manifests[digest] = entry
            if not is_digest:
                row.x.setdefault("tags", {})[ref] = digest
            row.meta.update(
                pushCount=row.meta.get("pushCount", 0) + 1,
                lastPushedAt=now,
                lastModifiedDate=now,
                lastModifiedBy=self.grant.token.props["name"] if self.grant else "",
            )

        self.change_repo(pushed, create=True)
        hdrs = {
            **API_VERSION,
            "Location": f"{self.url}/{self.full}/manifests/{digest}",
            "Docker-Content-Digest": digest,
        }
        if subject and subject.get("digest"):
            hdrs["OCI-Subject"] = subject["digest"]
        await respond(self.send, 201, b"", hdrs)

    async def tags(self) -> None:
        if self.method != "GET":
            raise OciError(405, "UNSUPPORTED", f"{self.method} is not allowed on the tags list")
        self.need("pull")
        repo = self.existing_repo()
        page, link = paginate(sorted(repo.x.get("tags") or {}), self.query, f"{self.url}/{self.full}/tags/list")
        await respond(self.send, 200, orjson.dumps({"name": self.full, "tags": page}), {**API_VERSION, **link})

    async def referrers(self, subject: str) -> None:
        if self.method != "GET":
            raise OciError(405, "UNSUPPORTED", f"{self.method} is not allowed on referrers")
        check_digest(subject)
        self.need("pull")
        repo = self.repo_row()
        wanted = self.query.get("artifactType")
        items = []
        for digest, m in ((repo.x.get("manifests") or {}) if repo else {}).items():
            if m.get("subject") != subject or (wanted and m.get("artifactType") != wanted):
                continue
            item = {"mediaType": m["mediaType"], "digest": digest, "size": m["size"]}
            if m.get("artifactType"):
                item["artifactType"] = m["artifactType"]
            if m.get("annotations"):
                item["annotations"] = m["annotations"]
            items.append(item)
        body = {"schemaVersion": 2, "mediaType": INDEX_TYPES[0], "manifests": items}
        hdrs = {**API_VERSION, "Content-Type": INDEX_TYPES[0]}
        if wanted:
            hdrs["OCI-Filters-Applied"] = "artifactType"
        await respond(self.send, 200, orjson.dumps(body), hdrs)


# -- helpers -------------------------------------------------------------------------------------------------


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"errors": [{"code": code, "message": message, "detail": None}]})


def check_digest(digest: str, code: str = "DIGEST_INVALID") -> None:
    m = DIGEST.match(digest)
    if m is None or len(m["hex"]) != HEX_LENGTH[m["algo"]]:
        raise OciError(400, code, f"'{digest}' is not a digest (sha256:<64 hex digits> or sha512:<128>)")


def content_range_start(value: str | None) -> int | None:
    if not value:
        return None
    m = re.fullmatch(r"(?:bytes[ =])?(\d+)-(\d+)", value.strip())
    if m is None:
        raise OciError(400, "BLOB_UPLOAD_INVALID", f"Content-Range '{value}' is not <start>-<end>")
    return int(m[1])


def paginate(names: list[str], query: QueryParams, href: str) -> tuple[list[str], dict[str, str]]:
    """The distribution API's paging: `n` names after `last`, and a Link header to the next page."""
    last = query.get("last")
    if last:
        names = [n for n in names if n > last]
    raw = query.get("n")
    if raw is None or raw == "":
        return names, {}
    if not raw.isdigit():
        raise OciError(400, "PAGINATION_NUMBER_INVALID", f"n must be a number, got '{raw}'")
    n = int(raw)
    page = names[:n]
    if len(names) > n and page:
        return page, {"Link": f'<{href}?n={n}&last={page[-1]}>; rel="next"'}
    return page, {}


async def respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    hdrs = {"Content-Length": str(len(body)), **headers}
    if body and "Content-Type" not in hdrs:
        hdrs["Content-Type"] = "application/json"
    await send({"type": "http.response.start", "status": status, "headers": _encode(hdrs)})
    await send({"type": "http.response.body", "body": body})


async def send_file(
    send: Send, path: Path, headers: dict[str, str], *, head: bool, byte_range: str | None = None
) -> None:
    """The file as the body, in chunks read off the event loop; `byte_range` ("bytes=<start>-[<end>]", a
    resumed download) answers that part of it (206)."""
    try:
        f = await asyncio.to_thread(open, path, "rb")
    except FileNotFoundError:
        raise OciError(404, "BLOB_UNKNOWN", "the content is gone from the registry's storage") from None
    try:
        size = os.fstat(f.fileno()).st_size
        status, start, end = 200, 0, size - 1
        if byte_range:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", byte_range.strip())
            if m is None or int(m[1]) >= size or (m[2] and int(m[2]) < int(m[1])):
                raise OciError(
                    416,
                    "BLOB_UNKNOWN",
                    f"the range {byte_range!r} is not within the {size} bytes",
                    {"Content-Range": f"bytes */{size}"},
                )
            status, start = 206, int(m[1])
            end = min(size - 1, int(m[2])) if m[2] else size - 1
            headers = {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}
        length = max(0, end - start + 1)
        start_msg = {"type": "http.response.start", "status": status}
        await send({**start_msg, "headers": _encode({**headers, "Content-Length": str(length)})})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        await asyncio.to_thread(f.seek, start)
        left = length
        while left > 0:
            chunk = await asyncio.to_thread(f.read, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        f.close()


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), str(v).encode("latin-1")) for k, v in headers.items()]


async def receive_to(receive: Receive, path: Path, *, append: bool) -> int:
    """Streams the request body to the file, in chunks written off the event loop; the file's size after."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    f = await asyncio.to_thread(open, path, "ab" if append else "wb")
    try:
        buffered: list[bytes] = []
        pending = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                raise OciError(400, "BLOB_UPLOAD_INVALID", "the client went away during the upload")
            chunk = msg.get("body", b"")
            if chunk:
                buffered.append(chunk)
                pending += len(chunk)
            if pending >= CHUNK or (not msg.get("more_body") and buffered):
                await asyncio.to_thread(f.write, b"".join(buffered))
                buffered, pending = [], 0
            if not msg.get("more_body"):
                break
        return f.tell()
    finally:
        await asyncio.to_thread(f.close)


async def receive_all(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise OciError(400, "MANIFEST_INVALID", "the client went away")
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise OciError(413, "SIZE_INVALID", f"a manifest is at most {limit} bytes")
        chunks.append(chunk)
        if not msg.get("more_body"):
            return b"".join(chunks)


def file_digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return f"{algo}:{h.hexdigest()}"


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)  # atomic: a reader sees the whole blob or none


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, target)
