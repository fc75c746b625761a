"""One Settings object, from command-line flags and IONOS_EMULATOR_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

ENV_PREFIX = "IONOS_EMULATOR_"


def setting(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """A setting with its `serve` flag's help (cli.py makes the flag --<name> from it)."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class Settings:
    """Every setting, once: its default, its IONOS_EMULATOR_<NAME> variable and its `serve --<name>` flag."""

    host: str = setting("127.0.0.1", "Address to listen on.")
    port: int = setting(8765, "Port to listen on.")
    data_dir: str = setting(".ionos-emulator", "Where the embedded database lives.")
    database: str = setting("", "postgresql://... keeps the state in PostgreSQL, shared by every process using it.")
    workers: int = setting(1, "Processes serving the port (they share the database).")
    threads: int = setting(
        8, "Threads per process that run requests off the event loop (one database connection each)."
    )
    timing: str = setting("instant", "How fast asynchronous requests complete.", ("instant", "realistic"))
    user: str = setting("admin@ionos-emulator.local", "E-mail of the contract owner.")
    password: str = setting("emulator", "Password of the contract owner.")
    contract_number: int = setting(31_000_001, "Number of the default contract.")
    strict: bool = setting(False, "Check every response against the compiled spec; a mismatch becomes a 500.")
    dns_port: int = setting(8053, "The authoritative DNS server (UDP and TCP) on the host; 0: off.")
    dns_transfer_allow: str = setting(
        "", "Addresses or networks (comma-separated) the DNS server allows zone transfers (AXFR/IXFR) to; empty: none."
    )
    postgres_url: str = setting("", "PostgreSQL server where DBaaS PostgreSQL clusters become real (postgresql://).")
    mariadb_url: str = setting("", "MariaDB server where DBaaS MariaDB clusters become real (mysql://).")
    redis_url: str = setting("", "Redis server where In-Memory DB replica sets become real ACL users (redis://).")
    dataplanes: str = setting(
        "shared",
        "Where DBaaS clusters' servers run: shared (the --postgres-url/--mariadb-url/--redis-url servers, or "
        "bookkeeping only) or local (a private server process per cluster, from initdb/pg_ctl and redis-server).",
        ("shared", "local"),
    )
    log_level: str = setting("warning", "uvicorn's log level.")
    tls: bool = setting(False, "Serve HTTPS too, on the HTTPS port, with a certificate from the local CA.")
    https_port: int = setting(8443, "The HTTPS port (with --tls).")
    public_ip_ranges: str = setting(
        "192.0.2.0/24,198.51.100.0/24,203.0.113.0/24",
        "IPv4 networks public addresses are handed out from (default: the documentation ranges, routed nowhere).",
    )
    proxy_upstreams: str = setting(
        "loopback",
        "Which upstreams the API Gateway and CDN data planes may forward to: loopback addresses only, private "
        "ones too (RFC 1918, ULA, link-local), or any address.",
        ("loopback", "private", "any"),
    )
    upstream_map: str = setting(
        "",
        "Upstream host names the API Gateway and CDN data planes reach elsewhere: name=[scheme://]host:port,... "
        "(e.g. origin.example.com=127.0.0.1:8080); the target is still held to --proxy-upstreams.",
    )
    trust_proxy_headers: bool = setting(False, "Build hrefs from X-Forwarded-Host/-Proto (only behind your proxy).")
    max_body_bytes: int = setting(
        10 * 1024 * 1024, "Largest request body read (bytes); a larger one answers 413 before it is read."
    )
    keep_alive_timeout: float = setting(5.0, "Seconds an idle keep-alive connection stays open (uvicorn's default).")
    header_timeout: float = setting(
        10.0, "Seconds a client has from connecting (or from its previous response) to send a request's headers."
    )
    login_failures_per_user: int = setting(
        10, "Failed logins per minute for one user from one address before logins answer 429 (0: no limit)."
    )
    login_failures_per_source: int = setting(
        50, "Failed logins per minute from one address, for all users together, before 429 (0: no limit)."
    )
    admin_open: bool = setting(
        None,
        "/_emulator/* without credentials (None: open only when --host is a loopback address, else protected).",
    )
    admin_token: str = setting(
        "", "Bearer token for /_emulator/* when protected (empty: a random one, printed at start)."
    )
    journal_size: int = setting(1000, "Requests the journal (/_emulator/journal) keeps, per process; 0: none.")
    seed: str = setting("", "A seed file (YAML or JSON: contracts, users, groups, resources) applied once at start.")
    init: str = setting(
        "", "A directory of scripts run (in name order) once the emulator serves, with its environment."
    )

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Environment first, then explicit overrides that are not None."""
        values = {}
        for f in fields(cls):
            env = os.environ.get(ENV_PREFIX + f.name.upper())
            if env is not None:
                values[f.name] = _coerce(f.type, env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _coerce(typ, raw: str):
    if typ in (bool, "bool"):  # "True" as str(True) written for worker processes counts too
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if typ in (int, "int"):
        return int(raw)
    if typ in (float, "float"):
        return float(raw)
    return raw
