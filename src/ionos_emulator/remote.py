"""The commands that drive a running emulator through /_emulator (status, reset, snapshot, chaos, journal,
timing): readable tables, a progress bar for transfers. They authenticate as the admin API asks: the admin
token (--admin-token, IONOS_EMULATOR_ADMIN_TOKEN) or else the owner's credentials (--user/--password or
their IONOS_EMULATOR_* variables); an open loopback emulator needs neither."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import click

from .settings import Settings

CHUNK = 256 * 1024


class Admin:
    """A client of one running emulator's /_emulator API (stdlib HTTP: loopback or the URL given)."""

    def __init__(self, url: str, token: str = "", user: str = "", password: str = ""):
        self.url = url.rstrip("/")
        if token:
            self.authorization = f"Bearer {token}"
        else:
            from .app import basic_header

            self.authorization = basic_header(user, password)

    # urllib.request (with http.client, email, ssl) is imported by the commands that call: `serve` need not
    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None, timeout: float = 60) -> Any:
        import urllib.error
        import urllib.request

        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data, method=method)
        req.add_header("Authorization", self.authorization)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                payload = r.read()
                return (
                    json.loads(payload) if r.headers.get("content-type", "").startswith("application/json") else payload
                )
        except urllib.error.HTTPError as e:
            raise click.ClickException(f"{method} /_emulator/{path}: {e.code} {_message(e.read())}") from None
        except (urllib.error.URLError, OSError) as e:
            raise click.ClickException(f"no emulator answers at {self.url} ({e})") from None

    def download(self, path: str, out: Any, label: str) -> int:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(f"{self.url}/_emulator/{path}")
        req.add_header("Authorization", self.authorization)
        total = 0
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                length = int(r.headers.get("content-length") or 0) or None
                bar: Any = click.progressbar(length=length, label=label, file=click.get_text_stream("stderr"))  # type: ignore[operator]
                with bar:
                    while chunk := r.read(CHUNK):
                        out.write(chunk)
                        total += len(chunk)
                        bar.update(len(chunk))
        except urllib.error.HTTPError as e:
            raise click.ClickException(f"GET /_emulator/{path}: {e.code} {_message(e.read())}") from None
        except (urllib.error.URLError, OSError) as e:
            raise click.ClickException(f"no emulator answers at {self.url} ({e})") from None
        return total


def _message(payload: bytes) -> str:
    try:
        doc = json.loads(payload)
        return str(doc["messages"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return payload[:500].decode("utf-8", "replace")


def table(rows: Iterable[Iterable[Any]], headers: list[str]) -> str:
    """Columns padded to their widest cell."""
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def admin_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--url, --admin-token, --user, --password: which emulator, and the admin credential."""
    fn = click.option("--password", help="The owner's password (default: the settings').")(fn)
    fn = click.option("--user", help="The owner's e-mail (default: the settings').")(fn)
    fn = click.option("--admin-token", envvar="IONOS_EMULATOR_ADMIN_TOKEN", help="The emulator's admin token.")(fn)
    fn = click.option(
        "--url", envvar="IONOS_EMULATOR_URL", help="The emulator (default http://HOST:PORT of the settings)."
    )(fn)
    return fn


def admin_of(url: str | None, admin_token: str | None, user: str | None, password: str | None) -> Admin:
    settings = Settings.from_env(user=user, password=password)
    from .endpoints import address

    return Admin(
        url or f"http://{address(settings.host)}:{settings.port}",
        admin_token or settings.admin_token,
        settings.user,
        settings.password,
    )


def register(main: click.Group) -> None:
    """Adds the commands to the `ionos-emulator` group (cli.py)."""

    @main.command()
    @admin_options
    def status(**creds: Any) -> None:
        """What the running emulator serves, its timing, chaos rules and journal."""
        admin = admin_of(**creds)
        health = admin.call("GET", "health")
        timing = admin.call("GET", "timing")
        chaos = admin.call("GET", "chaos")
        journal = admin.call("GET", "journal", timeout=30)
        contracts = admin.call("GET", "contracts")
        click.echo(f"ionos-emulator at {admin.url}: {health['status']}")
        click.echo(
            f"timing {timing['profile']}" + (f", overrides {timing['overrides']}" if timing["overrides"] else "")
        )
        click.echo(
            f"contracts {len(contracts)}; chaos rules {len(chaos['rules'])}"
            + (", rate limits enforced" if chaos["enforceRateLimits"] else "")
        )
        click.echo(
            f"journal: {len(journal)} requests"
            + (f", the last {journal[-1]['method']} {journal[-1]['url']} -> {journal[-1]['status']}" if journal else "")
        )
        rows = [(api, loc, url) for api, locs in sorted(health["apis"].items()) for loc, url in sorted(locs.items())]
        click.echo(table(rows, ["api", "location", "url"]))

    @main.group()
    def snapshot() -> None:
        """Save, load, list, delete, export and import the running emulator's whole state."""

    @snapshot.command("save")
    @click.argument("name")
    @admin_options
    def snapshot_save(name: str, **creds: Any) -> None:
        """Save the state as NAME (in the emulator's data dir)."""
        made = admin_of(**creds).call("POST", "snapshots", {"name": name}, timeout=600)
        counts = ", ".join(f"{v} {k}" for k, v in made["counts"].items())
        click.echo(f"saved snapshot {made['name']}: {counts}")

    @snapshot.command("load")
    @click.argument("name")
    @admin_options
    def snapshot_load(name: str, **creds: Any) -> None:
        """Replace the state with snapshot NAME (atomically)."""
        loaded = admin_of(**creds).call("POST", f"snapshots/{name}/load", timeout=600)
        click.echo(f"loaded snapshot {name} (made {loaded['created']})")

    @snapshot.command("list")
    @admin_options
    def snapshot_list(**creds: Any) -> None:
        """The saved snapshots."""
        rows = [(s["name"], s["created"], s["bytes"]) for s in admin_of(**creds).call("GET", "snapshots")]
        click.echo(table(rows, ["name", "created", "bytes"]))

    @snapshot.command("delete")
    @click.argument("name")
    @admin_options
    def snapshot_delete(name: str, **creds: Any) -> None:
        """Delete snapshot NAME."""
        admin_of(**creds).call("DELETE", f"snapshots/{name}")
        click.echo(f"deleted snapshot {name}")

    @snapshot.command("export")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    @admin_options
    def snapshot_export(file: str, **creds: Any) -> None:
        """Write the state to FILE (a portable, versioned .tar.gz)."""
        with open(file, "wb") as out:
            size = admin_of(**creds).download("snapshots/export", out, "exporting")
        click.echo(f"exported {size} bytes to {file}")

    @snapshot.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @admin_options
    def snapshot_import(file: str, **creds: Any) -> None:
        """Replace the state with the snapshot in FILE."""
        with open(file, "rb") as f:
            raw = f.read()
        loaded = admin_of(**creds).call("PUT", "snapshots/import", raw=raw, timeout=600)
        click.echo(f"imported {file} (format {loaded['version']}, made {loaded['created']})")

    @main.group()
    def chaos() -> None:
        """Chaos rules of the running emulator."""

    @chaos.command("list")
    @admin_options
    def chaos_list(**creds: Any) -> None:
        """The rules, in the order they are tried."""
        state = admin_of(**creds).call("GET", "chaos")
        rows = [
            (
                r["id"][:8],
                r["api"],
                r["operation"],
                r["method"],
                r["path"],
                r["contract"] or "*",
                r["probability"],
                _effect(r),
                r["applied"],
            )
            for r in state["rules"]
        ]
        click.echo(table(rows, ["id", "api", "operation", "method", "path", "contract", "p", "effect", "applied"]))
        click.echo(f"rate limits {'enforced' if state['enforceRateLimits'] else 'not enforced'}")

    @chaos.command("add")
    @click.option("--api", default="*", help="The API (cloud, dns, psql ...; * any).")
    @click.option("--operation", default="*", help="An operationId (* any).")
    @click.option("--method", default="*", help="An HTTP method (* any).")
    @click.option("--path", default="", help="A regular expression searched in the path.")
    @click.option("--contract", type=int, default=0, help="Only this contract's requests.")
    @click.option("--probability", type=float, default=1.0)
    @click.option("--status", type=int, default=0, help="Answer this status in the API's envelope.")
    @click.option("--retry-after", type=int, default=1, help="Retry-After of a 429 or 503.")
    @click.option("--latency-ms", type=int, default=0, help="Serve the request this much later.")
    @click.option("--failed", is_flag=True, help="Serve it, and let its change end FAILED.")
    @click.option("--times", type=int, default=0, help="At most this often (0: without end).")
    @admin_options
    def chaos_add(url, admin_token, user, password, retry_after, latency_ms, **rule: Any) -> None:
        """Add a rule (exactly one of --status, --latency-ms, --failed)."""
        body = {**rule, "retryAfter": retry_after, "latencyMs": latency_ms}
        state = admin_of(url, admin_token, user, password).call("POST", "chaos", body)
        click.echo(f"added rule {state['rules'][-1]['id']} ({len(state['rules'])} rules)")

    @chaos.command("clear")
    @admin_options
    def chaos_clear(**creds: Any) -> None:
        """Remove every rule (and stop enforcing rate limits)."""
        admin_of(**creds).call("DELETE", "chaos")
        click.echo("no chaos rules")

    @chaos.command("rate-limits")
    @click.argument("state", type=click.Choice(["on", "off"]))
    @admin_options
    def chaos_rate_limits(state: str, **creds: Any) -> None:
        """Enforce X-RateLimit-* (429 past the limit), or not."""
        admin_of(**creds).call("POST", "chaos", {"enforceRateLimits": state == "on"})
        click.echo(f"rate limits {'enforced' if state == 'on' else 'not enforced'}")

    @main.command()
    @click.option("--follow", "-f", is_flag=True, help="Keep printing new requests (Ctrl-C ends).")
    @click.option("--method", help="Only this method.")
    @click.option("--status", help="Only this status (404) or class (5xx).")
    @click.option("--path", help="Only URLs containing this.")
    @click.option("--limit", type=int, default=50, help="At most this many at first (default 50).")
    @click.option(
        "--har", "har_file", type=click.Path(dir_okay=False, writable=True), help="Write HAR 1.2 here instead."
    )
    @admin_options
    def journal(follow, method, status, path, limit, har_file, **creds: Any) -> None:
        """The requests the running emulator answered."""
        admin = admin_of(**creds)
        query = {k: v for k, v in {"method": method, "status": status, "path": path}.items() if v}
        if har_file:
            doc = admin.call("GET", "journal?" + _qs({**query, "format": "har"}))
            with open(har_file, "w") as f:
                json.dump(doc, f, indent=1)
            click.echo(f"wrote {len(doc['log']['entries'])} requests to {har_file}")
            return
        entries = admin.call("GET", "journal?" + _qs({**query, "limit": str(limit)}))
        for e in entries:
            click.echo(_line(e))
        last = max([e["seq"] for e in entries], default=0)
        while follow:
            time.sleep(0.5)
            for e in admin.call("GET", "journal?" + _qs({**query, "after": str(last)})):
                click.echo(_line(e))
                last = e["seq"]

    @main.command()
    @click.argument("profile", required=False, type=click.Choice(["instant", "realistic"]))
    @click.option("--override", multiple=True, help="KIND=SECONDS: how long changes of one kind take.")
    @admin_options
    def timing(profile, override, **creds: Any) -> None:
        """Show or set how fast asynchronous requests complete."""
        admin = admin_of(**creds)
        if profile or override:
            overrides = {}
            for item in override:
                kind, _, seconds = item.partition("=")
                try:
                    overrides[kind] = float(seconds)
                except ValueError:
                    raise click.BadParameter(f"{item!r} is not KIND=SECONDS", param_hint="--override") from None
            body: dict[str, Any] = {"overrides": overrides} if override else {}
            if profile:
                body["profile"] = profile
            state = admin.call("PATCH", "timing", body)
        else:
            state = admin.call("GET", "timing")
        click.echo(f"timing {state['profile']}")
        if state["overrides"]:
            click.echo(table(sorted(state["overrides"].items()), ["kind", "seconds"]))


def _effect(rule: dict[str, Any]) -> str:
    if rule["effect"] == "status":
        return f"status {rule['status']}"
    if rule["effect"] == "latency":
        return f"+{rule['latencyMs']} ms"
    return "FAILED"


def _qs(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(query)


def _line(e: dict[str, Any]) -> str:
    chaos = f"  chaos {e['chaos'][:8]}" if e.get("chaos") else ""
    return f"{e['time']}  {e['status']}  {e['method']:6} {e['url']}  {e['duration_ms']:.1f} ms  {e['caller']}{chaos}"
