"""`ionos-emulator`: serve, reset, and print the settings in effect."""

from __future__ import annotations

import gc
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import fields

import click

from .remote import admin_of, admin_options, register
from .settings import ENV_PREFIX, Settings


@click.group()
def main() -> None:
    """A local, stateful emulator of the IONOS Cloud APIs."""


_FLAG_TYPES: dict[str, type] = {"int": int, "float": float}


def setting_flags(fn: Callable[..., None]) -> Callable[..., None]:
    """One flag per setting (settings.py): --<name>, --<name>/--no-<name> for a switch; None when not given,
    so the IONOS_EMULATOR_* variable or the default holds."""
    for f in reversed(fields(Settings)):
        name = "--" + f.name.replace("_", "-")
        help = f"{f.metadata['help']} (default {f.default!r}; {ENV_PREFIX}{f.name.upper()})"
        if f.type in (bool, "bool"):
            fn = click.option(f"{name}/--no-{name[2:]}", default=None, help=help)(fn)
        elif f.metadata["choices"]:
            fn = click.option(name, type=click.Choice(f.metadata["choices"]), help=help)(fn)
        else:
            fn = click.option(name, type=_FLAG_TYPES.get(str(f.type), str), help=help)(fn)
    return fn


@main.command()
@setting_flags
def serve(**opts) -> None:
    """Start the emulator in the foreground."""
    started = time.perf_counter()
    # a start-up makes tens of thousands of long-lived objects and next to no garbage: the collector's passes
    # over them (about a tenth of the start-up) are wasted. The app's lifespan collects once, freezes what is
    # left and turns the collector on again (app.py)
    gc.disable()
    settings = Settings.from_env(**opts)
    if settings.tls and settings.workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise click.UsageError("--tls with --workers needs SO_REUSEPORT, which this system lacks: use one worker")
    import uvicorn

    from .app import Emulator
    from .serving import uvicorn_options

    emu = Emulator(settings)  # also creates the schema and the default contract before workers start
    if settings.seed:  # through the normal pipeline, before anyone is served (and before workers start)
        _seed(emu, settings.seed)
    tls_files = None
    if settings.tls:  # made (or checked) once here, before any worker starts; only when asked for
        from . import tls
        from .endpoints import certificate_names

        tls_files = tls.ensure_server_cert(settings.data_dir, certificate_names(emu.apis, settings.host))
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"ionos-emulator listening on {base}")
    from .endpoints import endpoints

    table = endpoints(emu.apis, base)
    for product in ("cloud", "auth"):
        click.echo(f"  {product:<9} {table[product]['global']}")
    # by config-file name; the first generations (MariaDB v1, In-Memory DB v1) have none: named by their API
    done = sorted({m.api.product or m.api.name for m in emu.mounts.all if m.complete} - {"cloud", "auth"})
    routed = sorted({m.api.product or m.api.name for m in emu.mounts.all if not m.complete})
    click.echo(f"  products  {', '.join(done)} (+ {len(routed)} routed, answering 501): {base}/_emulator/endpoints")
    if tls_files is not None:
        click.echo(
            f"  https     https://{settings.host}:{settings.https_port} and every real host name "
            f"(`ionos-emulator hosts`), CA {tls_files.ca_cert}"
        )
    click.echo(
        f"  web       {base}/_gateway/<gateway id>/..., {base}/_cdn/<domain>/... and their hosts by Host "
        f"(upstreams: {settings.proxy_upstreams})"
    )
    if settings.dns_port:
        click.echo(f"  dns       udp+tcp {settings.host}:{settings.dns_port} (zones, and the real API host names)")
    if settings.admin_open:
        click.echo(f"  admin     {base}/_emulator/health  (open: no credentials; --no-admin-open protects it)")
    else:
        click.echo(f"  admin     {base}/_emulator/health  (protected: owner's credentials or the admin token)")
        click.echo(f"admin token: {settings.admin_token}")
    click.echo(f"credentials: {settings.user} / {settings.password}  (contract {settings.contract_number})")
    click.echo(
        f"data dir: {os.path.abspath(settings.data_dir)}  timing: {settings.timing}"
        f"{'  strict' if settings.strict else ''}  (built in {time.perf_counter() - started:.3f}s)"
    )
    sys.stdout.flush()
    if settings.init:
        _run_init_scripts(settings)
    common = uvicorn_options(settings)
    if settings.workers > 1:
        # each worker process builds its own Emulator from the same settings, passed on by environment
        emu.store.close()
        gc.enable()  # this process only supervises them: no lifespan of its own turns the collector on again
        for f in fields(settings):
            os.environ[ENV_PREFIX + f.name.upper()] = str(getattr(settings, f.name))
        uvicorn.run("ionos_emulator.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(emu, **common)


def _seed(emu, path: str) -> None:
    from .seeds import SeedError, apply, calls, read

    try:
        doc, _ = read(path)
        owner = {"email": emu.settings.user, "password": emu.settings.password}
        total = len(list(calls(doc, owner)))
        with click.progressbar(length=total, label=f"seeding from {path}", file=sys.stderr) as bar:
            made = apply(emu, path, bar.update)
    except (SeedError, OSError) as e:
        raise click.ClickException(f"seed: {e}") from None
    click.echo(f"seed {path}: {made} calls" if made else f"seed {path}: applied before to this data dir, skipped")


def _run_init_scripts(settings: Settings) -> None:
    """Once the emulator answers: every executable file of --init, in name order, with the clients'
    environment (`env`); each one's exit status is printed, a failure does not stop the emulator."""
    import subprocess
    import threading
    import urllib.request

    scripts = sorted(
        (p for p in os.scandir(settings.init) if p.is_file() and os.access(p.path, os.X_OK)), key=lambda p: p.name
    )
    url = f"http://{settings.host}:{settings.port}"

    def run() -> None:
        for _ in range(600):
            try:
                with urllib.request.urlopen(url + "/_emulator/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        environment = {**os.environ, **dict(client_environment(settings)), "IONOS_EMULATOR_URL": url}
        for script in scripts:
            done = subprocess.run([script.path], env=environment, cwd=settings.init)
            click.echo(f"init {script.name}: exit {done.returncode}", err=done.returncode != 0)
            (sys.stderr if done.returncode else sys.stdout).flush()

    threading.Thread(target=run, name="init-scripts", daemon=True).start()


@main.command()
@click.option("--data-dir", help="Empty this data dir (the emulator must not be running).")
@click.option("--database", help="Empty this PostgreSQL database instead.")
@admin_options
def reset(data_dir, database, **creds) -> None:
    """Fresh state: the running emulator resets (the default contract and owner are made again); with
    --data-dir or --database, or when no emulator answers, the stored state is emptied in place."""
    if not data_dir and not database:
        admin = admin_of(**creds)
        try:
            admin.call("POST", "reset")
            click.echo(f"reset the emulator at {admin.url}")
            return
        except click.ClickException as e:
            if "no emulator answers" not in e.message:
                raise
    settings = Settings.from_env(data_dir=data_dir, database=database)
    from .store import open_store

    store = open_store(settings.data_dir, settings.database)
    store.reset()
    store.close()
    click.echo(f"emptied {settings.database or os.path.abspath(settings.data_dir)}")


@main.command("config-file")
@click.option("--url", help="Base URL of the emulator (default http://HOST:PORT from the settings).")
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


@main.command()
@click.option("--data-dir", help="The data dir whose CA it is (default ./.ionos-emulator).")
@click.option("--pem", is_flag=True, help="Print the CA certificate (PEM) and nothing else.")
def ca(data_dir, pem) -> None:
    """The emulator's local certificate authority (made on first use, then kept): trust it to use --tls."""
    from cryptography.hazmat.primitives import hashes

    from . import tls

    settings = Settings.from_env(data_dir=data_dir)
    files = tls.ensure_ca(settings.data_dir)
    if pem:
        click.echo(files.ca_cert.read_text(), nl=False)
        return
    cert = tls.load_ca(settings.data_dir)
    click.echo(f"CA certificate: {files.ca_cert}")
    click.echo(f"  subject  {cert.subject.rfc4514_string()}")
    click.echo(f"  sha256   {cert.fingerprint(hashes.SHA256()).hex(':').upper()}")
    click.echo(f"  valid    {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"system roots + this CA: {files.bundle}")
    click.echo('trust it in a shell: eval "$(ionos-emulator env --tls)"')


@main.command()
@click.option(
    "--apply", "action", flag_value="apply", help="Add the lines to the hosts file (replacing an earlier block)."
)
@click.option("--remove", "action", flag_value="remove", help="Remove the lines added by --apply.")
@click.option(
    "--file",
    "path",
    default=None,
    envvar="IONOS_EMULATOR_HOSTS_FILE",
    type=click.Path(dir_okay=False),
    help="The hosts file (default /etc/hosts; IONOS_EMULATOR_HOSTS_FILE).",
)
@click.option("--host", help="The emulator's address (default: --host of serve, 127.0.0.1).")
def hosts(action, path, host) -> None:
    """The hosts-file lines that send every real IONOS API host name to the emulator."""
    from . import hostsfile
    from .apis import build_apis
    from .endpoints import address, real_hosts

    settings = Settings.from_env(host=host)
    path = path or hostsfile.default_path()
    names = real_hosts(build_apis())
    try:
        if action == "apply":
            changed = hostsfile.apply(path, address(settings.host), names)
            click.echo(
                f"{path}: {'added' if changed else 'already has'} {len(names)} host names -> "
                f"{address(settings.host)} (undo: ionos-emulator hosts --remove)"
            )
        elif action == "remove":
            changed = hostsfile.remove(path)
            click.echo(f"{path}: {'removed the ionos-emulator lines' if changed else 'no ionos-emulator lines'}")
        else:
            click.echo(hostsfile.block(address(settings.host), names), nl=False)
    except PermissionError as e:
        raise click.ClickException(f"{e}: run it as root (sudo), or pass --file") from None


SHELLS = ("bash", "fish", "powershell")


def _assign(shell: str, name: str, value: str) -> str:
    if shell == "fish":
        return f"set -gx {name} '" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "powershell":
        return f"$env:{name} = '" + value.replace("'", "''") + "'"
    return f"export {name}='" + value.replace("'", "'\\''") + "'"


@main.command()
@click.option("--shell", type=click.Choice(SHELLS), default="bash", help="Syntax of the output (default bash).")
@click.option("--tls", is_flag=True, help="Use HTTPS (serve --tls) and trust the emulator's CA.")
@click.option("--token", is_flag=True, help="IONOS_TOKEN from the running emulator instead of user and password.")
@click.option("--host", help="The emulator's address (default: the settings, 127.0.0.1).")
@click.option("--port", type=int, help="Its HTTP port (default 8765).")
@click.option("--https-port", type=int, help="Its HTTPS port (default 8443).")
@click.option("--data-dir", help="Its data dir: the CA and the config file (default ./.ionos-emulator).")
def env(shell, tls, token, host, port, https_port, data_dir) -> None:
    """Environment variables for the SDKs, ionosctl, Terraform, Ansible, curl and Node:
    eval "$(ionos-emulator env --tls)"."""
    import urllib.error
    import urllib.request

    from .endpoints import address

    settings = Settings.from_env(host=host, port=port, https_port=https_port, data_dir=data_dir)
    addr = address(settings.host)
    addr = f"[{addr}]" if ":" in addr else addr
    http_url = f"http://{addr}:{settings.port}"
    url = f"https://{addr}:{settings.https_port}" if tls else http_url
    # no IONOS_API_URL: the Go SDK bundle, Terraform and ionosctl send every product to that one URL, so the
    # config file (one endpoint per product and location) is how they find the emulator
    out: list[tuple[str, str]] = []
    bearer = ""
    try:
        with urllib.request.urlopen(http_url + "/_emulator/health", timeout=2) as r:
            running = r.status == 200
    except (OSError, urllib.error.URLError):
        running = False
    if not running:
        click.echo(
            f"warning: no emulator answers at {http_url}; start it with `ionos-emulator serve"
            f"{' --tls' if tls else ''}`",
            err=True,
        )
    if token:
        if not running:
            raise click.ClickException("--token needs the running emulator")
        from .app import basic_header

        req = urllib.request.Request(http_url + "/auth/v1/tokens/generate")
        req.add_header("Authorization", basic_header(settings.user, settings.password))
        with urllib.request.urlopen(req, timeout=5) as r:
            import json

            bearer = json.load(r)["token"]
    out += client_environment(settings, tls, bearer)
    click.echo(f"# ionos-emulator at {url}: {shell} variables for its clients")
    for name, value in out:
        click.echo(_assign(shell, name, value))
    click.echo(
        "# S3 (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): not set, the emulator does "
        "not serve Object Storage yet"
    )


register(main)  # status, snapshot, chaos, journal, timing: remote.py


def client_environment(settings: Settings, tls: bool = False, bearer: str = "") -> list[tuple[str, str]]:
    """The variables a client of this emulator needs: the config file (written into the data dir), the
    credentials, and with TLS the trust bundles."""
    from .apis import build_apis
    from .endpoints import address
    from .endpoints import config_file as render

    addr = address(settings.host)
    addr = f"[{addr}]" if ":" in addr else addr
    url = f"https://{addr}:{settings.https_port}" if tls else f"http://{addr}:{settings.port}"
    os.makedirs(settings.data_dir, exist_ok=True)
    path = os.path.abspath(os.path.join(settings.data_dir, "ionos-config-tls.yaml" if tls else "ionos-config.yaml"))
    with open(path, "w") as f:
        f.write(render(build_apis(), url, user=settings.user, password=settings.password, token=bearer))
    out = [("IONOS_CONFIG_FILE", path)]
    if bearer:
        out.append(("IONOS_TOKEN", bearer))
    else:
        out += [("IONOS_USERNAME", settings.user), ("IONOS_PASSWORD", settings.password)]
    if tls:
        from . import tls as ca

        files = ca.ensure_ca(settings.data_dir)
        bundle = str(files.bundle)  # the system's roots and the CA: these variables replace the trust store
        out += [
            ("SSL_CERT_FILE", bundle),
            ("REQUESTS_CA_BUNDLE", bundle),
            ("CURL_CA_BUNDLE", bundle),
            ("AWS_CA_BUNDLE", bundle),
            ("NODE_EXTRA_CA_CERTS", str(files.ca_cert)),
        ]  # Node adds to its own
    return out


if __name__ == "__main__":
    main()
