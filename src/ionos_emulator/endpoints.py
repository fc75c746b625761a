"""Where every served product and location is reachable: /_emulator/endpoints and the IONOS config file
(`IONOS_CONFIG_FILE`, read by the Go SDK bundle, Terraform and ionosctl) that points them at the emulator."""

from __future__ import annotations

from urllib.parse import urlsplit

from .gateway.context import ApiModule
from .s3.regions import REGIONS as S3_REGIONS
from .s3.regions import s3_hosts


def endpoints(apis: list[ApiModule], base_url: str) -> dict[str, dict[str, str]]:
    """{product: {location or "global": base URL}} as a client would configure it."""
    out: dict[str, dict[str, str]] = {}
    for api in apis:
        out.setdefault(api.product or api.name, {})[api.location or "global"] = base_url + api.prefix
    out[OBJECT_STORAGE] = {r.id: base_url + r.prefix for r in S3_REGIONS}
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


# Product names the tools look up in the config file (sdk-go-bundle shared/fileconfiguration: the names its
# Validate accepts; ionosctl and the Terraform provider look up these constants, nothing else). Two generations
# of one product share a name in some tools: ionosctl looks up "inmemorydb" for In-Memory DB v1 and v2, the
# Terraform provider "inmemorydbv2" for v2. An API's entries are written under its alias as well when no
# API declares that name itself.
ALIASES = {"inmemorydb": "inmemorydbv2", "inmemorydbv2": "inmemorydb", "mariadb": "mariadbv2", "mariadbv2": "mariadb"}
# Names the tools know that the emulator neither serves nor routes yet: listed as comments (the newest Go SDK
# bundle refuses a file naming a product it does not know, so nothing else is listed, not even "auth": no
# tool looks "auth" up, they reach the Auth API through the Cloud API's host).
NOT_SERVED: tuple[str, ...] = ()
# Object Storage (S3) is not an ApiModule: its regions are served by the S3 data plane (s3/), listed by region
OBJECT_STORAGE = "objectstorage"
DEFAULT_S3_REGION = "eu-central-3"  # guess: the region the tools' contract-owned buckets default to
# Products some tools have that the config file has no name for: the tools reach them at their real URL.
NO_CONFIG_NAME = ("auth", "dataplatform", "aimodelhub", "openai")


def default_location(apis: list[ApiModule]) -> str:
    """The location a tool uses when none is given: that of the first server its SDK lists."""
    from . import spec as specs

    servers = specs.head(apis[0].spec_name).servers
    first = urlsplit(servers[0]["url"]).hostname if servers else None
    return next((a.location for a in apis if first in a.hosts), apis[0].location)


def config_products(apis: list[ApiModule], base_url: str) -> dict[str, list[tuple[str, str]]]:
    """{config name: [(location or "", URL)]}: a regional product's endpoint without a location (its default
    location's) first, since the Go SDK bundle falls back to the first endpoint when no location is asked for."""
    by_name: dict[str, list[ApiModule]] = {}
    for api in apis:
        if api.product and api.product not in NO_CONFIG_NAME:
            by_name.setdefault(api.product, []).append(api)
    for name, alias in ALIASES.items():
        if name in by_name and alias not in by_name:
            by_name[alias] = by_name[name]
    out: dict[str, list[tuple[str, str]]] = {}
    s3 = {r.id: base_url + r.prefix for r in S3_REGIONS}
    out[OBJECT_STORAGE] = [("", s3[DEFAULT_S3_REGION]), *sorted(s3.items())]
    for name, group in sorted(by_name.items()):
        regional = sorted((a.location, base_url + a.prefix) for a in group if a.location)
        if regional:
            default = default_location(group)
            out[name] = [("", dict(regional)[default]), *regional]
        else:
            out[name] = [("", base_url + group[0].prefix)]
    return out


def config_file(apis: list[ApiModule], base_url: str, *, user: str, password: str, token: str = "") -> str:
    """The YAML config file: one profile and environment named `emulator`, every product's endpoints.
    Endpoint names carry the scheme (http://), which the SDKs keep as given."""

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "# Written by `ionos-emulator config-file`: every IONOS product endpoint points at the emulator.",
        "version: 1.0",
        "currentProfile: emulator",
        "profiles:",
        "  - name: emulator",
        "    environment: emulator",
        "    credentials:",
        f"      username: {q(user)}",
        f"      password: {q(password)}",
    ]
    if token:
        lines.append(f"      token: {q(token)}")
    lines += ["environments:", "  - name: emulator", "    products:"]
    for product, entries in config_products(apis, base_url).items():
        lines += [f"      - name: {product}", "        endpoints:"]
        for loc, url in entries:
            lines.append(f"          - name: {q(url)}")
            if loc:
                lines.append(f"            location: {loc}")
            lines.append("            skipTlsVerify: true")
    lines += [
        f"      # {name}: not served by the emulator yet (the tools use the real endpoint)" for name in NOT_SERVED
    ]
    return "\n".join(lines) + "\n"


# The Object Storage (S3) endpoints (s3/regions.py, from ../shared/specs/object-storage-index-2.0.17.yaml) and
# their website endpoints; a bucket's virtual host (bucket.s3.eu-central-3.ionoscloud.com) is one label more,
# so the certificate names a wildcard for each.
S3_HOSTS = s3_hosts()
S3_BUCKET_PARENTS = tuple(h for r in S3_REGIONS for h in (*r.hosts, r.website))
S3_WILDCARDS = tuple(f"*.{h}" for h in S3_BUCKET_PARENTS)
WILDCARDS = ("*.ionos.com", "*.ionoscloud.com")  # a wildcard covers one label: the hosts are named as well


def real_hosts(apis: list[ApiModule]) -> list[str]:
    """Every real IONOS host name served (the SDKs' server lists, the Object Storage endpoints), api.ionos.com first."""
    hosts = {h.lower() for api in apis for h in api.hosts} | set(S3_HOSTS) | {r.website for r in S3_REGIONS}
    return sorted(hosts, key=lambda h: (h != "api.ionos.com", h))


def local_names(host: str) -> list[str]:
    """localhost, the loopback addresses and the configured host (the machine's name when it listens on all)."""
    import socket

    names = ["localhost", "127.0.0.1", "::1"]
    if host in ("0.0.0.0", "::", ""):
        names.append(socket.gethostname())
    else:
        names.append(host.strip("[]"))
    return list(dict.fromkeys(n.lower() for n in names if n))


def registry_wildcards() -> tuple[str, ...]:
    """Every Container Registry is a host of its own, <name>.cr.<region>.ionos.com: one wildcard per region."""
    from .apis.product import REGIONS

    return tuple(f"*.cr.{region}.ionos.com" for region in REGIONS.values())


def certificate_names(apis: list[ApiModule], host: str) -> list[str]:
    """The names of the emulator's server certificate: every host it serves and will serve."""
    names = set(real_hosts(apis)) | set(S3_WILDCARDS) | set(WILDCARDS) | set(registry_wildcards())
    return sorted(names | set(local_names(host)))


def address(host: str) -> str:
    """The address clients reach the emulator at: the configured host, loopback when it listens on all."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "localhost": "127.0.0.1"}.get(host, host.strip("[]"))
