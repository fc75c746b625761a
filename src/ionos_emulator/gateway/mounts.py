"""Where each API is served: its path prefix on the emulator, its real host names, and its router."""

from __future__ import annotations

from dataclasses import dataclass

from .. import spec as specs
from ..spec import Spec
from .context import ApiModule
from .router import Router


@dataclass
class Mount:
    api: ApiModule
    spec: Spec
    router: Router

    @property
    def complete(self) -> bool:
        """Every operation of the spec has a handler (otherwise the rest answer 501)."""
        return all(op.id in self.api.handlers for op in self.spec.operations)


class Mounts:
    """The served APIs, found by the first path segment and then the longest prefix."""

    def __init__(self, apis: list[ApiModule]) -> None:
        self.all: list[Mount] = []
        routers: dict[str, Router] = {}
        self._by_segment: dict[str, list[Mount]] = {}
        self._hosts: dict[str, list[tuple[str, str]]] = {}  # real host -> [(its path prefix, our prefix)]
        for api in apis:
            spec = specs.load(api.spec_name)
            router = routers.get(api.spec_name)
            if router is None:  # regional instances of one product share their spec's router
                router = routers[api.spec_name] = Router()
                for op in spec.operations:
                    router.add(op.method, op.path[len(api.path_base) :] or "/", op, api.slash_params)
            mount = Mount(api, spec, router)
            self.all.append(mount)
            self._by_segment.setdefault(_first_segment(api.prefix), []).append(mount)
            for host, host_prefix in api.hosts.items():
                self._hosts.setdefault(host.lower(), []).append((host_prefix, api.prefix))
        for served in self._hosts.values():
            # longest first, so a host's "/v2" is not taken by an older API version served at its root
            served.sort(key=lambda entry: -len(entry[0]))
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
