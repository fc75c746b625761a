"""One Settings object, from command-line flags and IONOS_EMULATOR_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

ENV_PREFIX = "IONOS_EMULATOR_"


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: str = ".ionos-emulator"
    database: str = ""  # postgresql://... to share state; empty: SQLite in data_dir
    workers: int = 1  # processes serving the same port (they share the database)
    timing: str = "instant"  # instant | realistic
    user: str = "admin@ionos-emulator.local"
    password: str = "emulator"
    contract_number: int = 31_000_001
    strict: bool = False  # validate every response against the compiled spec
    dns_port: int = 8053  # the authoritative DNS server (UDP and TCP) on `host`; 0: off
    postgres_url: str = ""  # real data plane of DBaaS PostgreSQL (postgresql://...); empty: bookkeeping
    mariadb_url: str = ""  # real data plane of DBaaS MariaDB (mysql://...)
    redis_url: str = ""  # real data plane of In-Memory DB (redis://...)
    log_level: str = "warning"
    tls: bool = False  # serve HTTPS too, with a certificate from the local CA in data_dir
    https_port: int = 8443  # the HTTPS port (with tls), on `host`
    trust_proxy_headers: bool = False  # build hrefs from X-Forwarded-Host/-Proto (only behind a proxy you run)

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
    return raw
