"""`ionos-emulator`: serve, reset, and print the settings in effect."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import fields
from typing import Any

import click

from .settings import ENV_PREFIX, Settings


@click.group()
def main() -> None:
    """A local, stateful emulator of the IONOS Cloud APIs."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8765).")
@click.option("--data-dir", default=None, help="Where the embedded database lives (default ./.ionos-emulator).")
@click.option(
    "--database",
    default=None,
    help="postgresql://... to keep state in PostgreSQL, shared by every process pointed at it "
    "(default: SQLite in the data dir).",
)
@click.option("--workers", type=int, default=None, help="Processes serving the port (default 1).")
@click.option(
    "--timing",
    type=click.Choice(["instant", "realistic"]),
    default=None,
    help="How fast asynchronous requests complete (default instant).",
)
@click.option("--user", default=None, help="E-mail of the contract owner (default admin@ionos-emulator.local).")
@click.option("--password", default=None, help="Password of the contract owner (default emulator).")
@click.option("--contract-number", type=int, default=None, help="Number of the default contract (default 31000001).")
@click.option(
    "--dns-port",
    type=int,
    default=None,
    help="Port of the authoritative DNS server for Cloud DNS zones, UDP and TCP (default 8053; 0: off).",
)
@click.option(
    "--postgres-url",
    default=None,
    help="PostgreSQL server on which DBaaS PostgreSQL clusters become real databases and roles.",
)
@click.option(
    "--mariadb-url",
    default=None,
    help="MariaDB server on which DBaaS MariaDB clusters become real databases and users (mysql://...).",
)
@click.option(
    "--redis-url",
    default=None,
    help="Redis server on which In-Memory DB replica sets become real ACL users and key prefixes.",
)
@click.option(
    "--strict/--no-strict",
    default=None,
    help="Check every response against the compiled spec; a mismatch becomes a 500.",
)
@click.option("--log-level", default=None, help="uvicorn log level (default warning).")
def serve(**opts) -> None:
    """Start the emulator in the foreground."""
    started = time.perf_counter()
    settings = Settings.from_env(**opts)
    import uvicorn

    from .app import Emulator

    emu = Emulator(settings)  # also creates the schema and the default contract before workers start
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"ionos-emulator listening on {base}")
    from .endpoints import endpoints

    table = endpoints(emu.apis, base)
    for product in ("cloud", "auth"):
        click.echo(f"  {product:<9} {table[product]['global']}")
    done = sorted({m.api.product for m in emu.mounts.all if m.complete} - {"cloud", "auth"})
    routed = sorted({m.api.product for m in emu.mounts.all if not m.complete})
    click.echo(f"  products  {', '.join(done)} (+ {len(routed)} routed, answering 501): {base}/_emulator/endpoints")
    if settings.dns_port:
        click.echo(f"  dns       udp+tcp {settings.host}:{settings.dns_port}")
    click.echo(f"  admin     {base}/_emulator/health")
    click.echo(f"credentials: {settings.user} / {settings.password}  (contract {settings.contract_number})")
    click.echo(
        f"data dir: {os.path.abspath(settings.data_dir)}  timing: {settings.timing}"
        f"{'  strict' if settings.strict else ''}  (built in {time.perf_counter() - started:.3f}s)"
    )
    sys.stdout.flush()
    common: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        http="httptools",
        loop="auto",
        lifespan="on",
        access_log=False,
        proxy_headers=False,
    )  # X-Forwarded-* is read by the gateway itself, for hrefs
    if settings.workers > 1:
        # each worker process builds its own Emulator from the same settings, passed on by environment
        emu.store.close()
        for f in fields(settings):
            os.environ[ENV_PREFIX + f.name.upper()] = str(getattr(settings, f.name))
        uvicorn.run("ionos_emulator.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(emu, **common)


@main.command()
@click.option("--data-dir", default=None, help="The data dir to empty (default ./.ionos-emulator).")
@click.option("--database", default=None, help="The PostgreSQL database to empty instead.")
def reset(data_dir, database) -> None:
    """Empty the state kept in the data dir (the default contract and owner are made again on start)."""
    settings = Settings.from_env(data_dir=data_dir, database=database)
    from .store import open_store

    store = open_store(settings.data_dir, settings.database)
    store.reset()
    store.close()
    click.echo(f"emptied {settings.database or os.path.abspath(settings.data_dir)}")


@main.command("config-file")
@click.option("--url", default=None, help="Base URL of the emulator (default http://HOST:PORT from the settings).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write here (default: print it). Point IONOS_CONFIG_FILE at the file.",
)
@click.option("--token", default="", help="Put this token in the profile's credentials too.")
def config_file(url, output, token) -> None:
    """Write an IONOS config file that points every product and location at the emulator."""
    from .apis import build_apis
    from .endpoints import config_file as render

    settings = Settings.from_env()
    text = render(
        build_apis(),
        url or f"http://{settings.host}:{settings.port}",
        user=settings.user,
        password=settings.password,
        token=token,
    )
    if output:
        with open(output, "w") as f:
            f.write(text)
        click.echo(f"wrote {output}; use it with: export IONOS_CONFIG_FILE={os.path.abspath(output)}")
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()
