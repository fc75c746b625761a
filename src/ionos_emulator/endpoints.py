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
