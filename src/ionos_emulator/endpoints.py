"""Where every served product and location is reachable: /_emulator/endpoints and the IONOS config file
(`IONOS_CONFIG_FILE`, read by the Go SDK bundle, Terraform and ionosctl) that points them at the emulator."""

from __future__ import annotations

from .gateway.context import ApiModule


def endpoints(apis: list[ApiModule], base_url: str) -> dict[str, dict[str, str]]:
    """{product: {location or "global": base URL}} as a client would configure it."""
    out: dict[str, dict[str, str]] = {}
    for api in apis:
        out.setdefault(api.product or api.name, {})[api.location or "global"] = base_url + api.prefix
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


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
    for product, locations in endpoints(apis, base_url).items():
        if product == "auth":
            continue
        lines += [f"      - name: {product}", "        endpoints:"]
        for loc, url in locations.items():
            lines.append(f"          - name: {q(url)}")
            if loc != "global":
                lines.append(f"            location: {loc}")
            lines.append("            skipTlsVerify: true")
    return "\n".join(lines) + "\n"


# The Object Storage (S3) endpoints, from the servers of the Object Storage API (../shared/specs/
# object-storage-index-2.0.17.yaml). Not served yet: the certificate names them so that clients trust the
# emulator once the S3 API lands; `hosts` and the DNS server leave them alone until then.
S3_HOSTS = (
    "s3.eu-central-1.ionoscloud.com",
    "s3.eu-central-2.ionoscloud.com",
    "s3.eu-central-3.ionoscloud.com",
    "s3.eu-south-2.ionoscloud.com",
    "s3.us-central-1.ionoscloud.com",
)
WILDCARDS = ("*.ionos.com", "*.ionoscloud.com")  # a wildcard covers one label: the hosts are named as well


def real_hosts(apis: list[ApiModule]) -> list[str]:
    """Every real IONOS host name a mounted API answers on (from the SDKs' server lists), api.ionos.com first."""
    hosts = {h.lower() for api in apis for h in api.hosts}
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


def certificate_names(apis: list[ApiModule], host: str) -> list[str]:
    """The names of the emulator's server certificate: every host it serves and will serve."""
    return sorted(set(real_hosts(apis)) | set(S3_HOSTS) | set(WILDCARDS) | set(local_names(host)))


def address(host: str) -> str:
    """The address clients reach the emulator at: the configured host, loopback when it listens on all."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "localhost": "127.0.0.1"}.get(host, host.strip("[]"))
