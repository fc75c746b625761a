"""Where each API is served: its path prefix on the emulator, its real host names, and its router.

Mounting an API reads only its spec's head (operation ids, methods and paths: spec.Head); its whole spec
and router are loaded on its first request (`Mount.spec`, `Mount.router`), and its validators are built in
a thread then, so an emulator that serves one or two of its thirty-odd APIs neither reads nor keeps the
others' schemas, and nothing of the kind competes with the start-up."""

from __future__ import annotations

import threading

from .. import spec as specs
from ..spec import OpHead, Spec
from .context import ApiModule
from .router import Router


class Served:
    """One spec as served: its operations' heads now, the spec and its router on first use. Shared by the
    regional instances of one product; requests run in a thread pool, so the first use is under a lock."""

    def __init__(self, api: ApiModule) -> None:
        self.spec_name, self.path_base, self.slash_params = api.spec_name, api.path_base, api.slash_params
        self.operations: tuple[OpHead, ...] = specs.head(api.spec_name).operations
        self._loaded: tuple[Spec, Router] | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[Spec, Router]:
        got = self._loaded
        if got is None:
            with self._lock:
                got = self._loaded
                if got is None:
                    spec, router = specs.load(self.spec_name), Router()
                    for op in spec.operations:
                        router.add(op.method, op.path[len(self.path_base) :] or "/", op, self.slash_params)
                    got = self._loaded = (spec, router)
                    # its validators are built off the request path, so the API's next requests do not pay
                    threading.Thread(target=spec.warm, name=f"warm-{self.spec_name}", daemon=True).start()
        return got

    @property
    def loaded(self) -> bool:
        return self._loaded is not None


class Mount:
    def __init__(self, api: ApiModule, served: Served) -> None:
        self.api = api
        self.served = served

    @property
    def spec(self) -> Spec:
        return self.served.get()[0]

    @property
    def router(self) -> Router:
        return self.served.get()[1]

    @property
    def operations(self) -> tuple[OpHead, ...]:
        """Every operation's id, method and path, without loading the spec."""
        return self.served.operations

    @property
    def complete(self) -> bool:
        """Every operation of the spec has a handler (otherwise the rest answer 501)."""
        return all(op.id in self.api.handlers for op in self.operations)


class Mounts:
    """The served APIs, found by the first path segment and then the longest prefix."""

    def __init__(self, apis: list[ApiModule]) -> None:
        self.all: list[Mount] = []
        served: dict[str, Served] = {}
        self._by_segment: dict[str, list[Mount]] = {}
        self._hosts: dict[str, list[tuple[str, str]]] = {}  # real host -> [(its path prefix, our prefix)]
        for api in apis:
            if api.spec_name not in served:  # regional instances of one product share their spec's router
                served[api.spec_name] = Served(api)
            mount = Mount(api, served[api.spec_name])
            self.all.append(mount)
            self._by_segment.setdefault(_first_segment(api.prefix), []).append(mount)
            for host, host_prefix in api.hosts.items():
                self._hosts.setdefault(host.lower(), []).append((host_prefix, api.prefix))
        for hosts in self._hosts.values():
            # longest first, so a host's "/v2" is not taken by an older API version served at its root
            hosts.sort(key=lambda entry: -len(entry[0]))
        for candidates in self._by_segment.values():
            # longest prefix first, so "/databases/postgresql" is not taken by a shorter one
            candidates.sort(key=lambda m: -len(m.api.prefix))

    @property
    def apis(self) -> list[ApiModule]:
        return [m.api for m in self.all]

    def from_real_host(self, host: str, path: str) -> tuple[str, tuple[str, str] | None]:
        """A request addressed to a real IONOS host name (dns.de-fra.ionos.com, api.ionos.com/...) is served
        by the API mounted for it, as if it had come to our own path prefix. Returns the path to serve and,
        for a real host, (the prefix the client used, our prefix), so hrefs can be built the client's way."""
        for host_prefix, prefix in self._hosts.get(host.split(":")[0].lower(), ()):
            if path == host_prefix or path.startswith(host_prefix + "/") or not host_prefix:
                return prefix + path[len(host_prefix) :], (host_prefix, prefix)
        return path, None

    def find(self, path: str) -> tuple[Mount, str] | None:
        """The mount serving `path`, and the path below its prefix."""
        for mount in self._by_segment.get(_first_segment(path), ()):
            prefix = mount.api.prefix
            if path == prefix or path.startswith(prefix + "/"):
                return mount, path[len(prefix) :] or "/"
        return None


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]
