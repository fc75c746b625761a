"""The emulator inside a test process: `LocalEmulator` serves the app under uvicorn in a thread, on a free
loopback port, with a fresh data directory unless given one; `running()` is the context manager for any test
runner, and the pytest plugin (pytest_plugin.py, registered when the package is installed) builds its
`ionos_emulator` fixture on it.

    with running() as emu:
        config = emu.configuration()          # ionoscloud.Configuration for the Cloud API, owner's credentials
        ...
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .settings import Settings


class ThreadedServer:
    """An ASGI app under uvicorn in a daemon thread of this process, on a socket bound here (so the port is
    known before the thread starts, and a port taken meanwhile is an error here, not in the thread)."""

    def __init__(self, app: Any, settings: Settings, sock: socket.socket):
        import uvicorn

        from .serving import uvicorn_options

        port = sock.getsockname()[1]
        # the options of `serve` (cli.py); uvicorn's logging is left to the host process
        config = uvicorn.Config(app, **{**uvicorn_options(settings), "port": port}, log_config=None)
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.failed: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name=f"ionos-emulator:{port}", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as e:  # uvicorn exits (SystemExit) when the lifespan startup fails
            self.failed.append(e)

    def start(self, timeout: float = 20) -> None:
        self.thread.start()
        deadline = time.time() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start: {self.failed!r}")
            time.sleep(0.005)

    def stop(self) -> None:
        """Graceful: uvicorn drains and runs the lifespan's shutdown (ticker cancelled, store closed)."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(15)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(5)
        self.sock.close()


def listen(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on the loopback (the HTTPS server's binding, without SO_REUSEPORT)."""
    from .https import bind

    return bind(host, port, reuse_port=False)


class LocalEmulator:
    """One emulator in this process. Settings as `serve` takes them (keyword arguments override the
    IONOS_EMULATOR_* environment); by default on 127.0.0.1, a free port, a temporary data directory that
    stop() removes, no DNS server."""

    def __init__(self, data_dir: str | Path | None = None, *, port: int = 0, **settings: Any):
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="ionos-emulator-"))
        self.port = port
        self.overrides = settings
        self.app: Any = None
        self._server: ThreadedServer | None = None

    # -- where it is -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cloud_url(self) -> str:
        return self.url + "/cloudapi/v6"

    @property
    def auth_url(self) -> str:
        return self.url + "/auth/v1"

    @property
    def user(self) -> str:
        return str(self.app.settings.user)

    @property
    def password(self) -> str:
        return str(self.app.settings.password)

    def endpoint(self, product: str, location: str = "") -> str:
        """The base URL of a product API as its SDK is configured (`dns`, `psql`, ... as in the config file;
        `location` such as "de/fra" for regional ones)."""
        for api in self.app.apis:
            if (api.product or api.name) == product and api.location in (location, location or api.location):
                return self.url + api.prefix
        raise KeyError(f"no API '{product}' at '{location or 'any location'}'")

    # -- life ----------------------------------------------------------------------------------------
    def start(self) -> LocalEmulator:
        from .app import create_app

        self.data_dir.mkdir(parents=True, exist_ok=True)
        sock = listen(self.port)
        self.port = sock.getsockname()[1]
        settings = Settings.from_env(
            **{"host": "127.0.0.1", "port": self.port, "data_dir": str(self.data_dir), "dns_port": 0, **self.overrides}
        )
        try:
            self.app = create_app(settings)
            self._server = ThreadedServer(self.app, settings, sock)
        except BaseException:
            sock.close()
            raise
        self._server.start()
        return self

    def reset(self) -> None:
        """Fresh state: every contract's resources gone, the default contract and owner back."""
        self.app.reset()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients -------------------------------------------------------------------------------------
    def configuration(self, product: str = "cloud", location: str = "", **kw: Any) -> Any:
        """The `Configuration` of the official SDK of `product` (ionoscloud for the Cloud API,
        ionoscloud_dns for dns, ...: the module named by SDK_MODULES), pointed here with the owner's
        credentials (a token for the product SDKs, which send Bearer only)."""
        import importlib

        module = importlib.import_module(SDK_MODULES.get(product, f"ionoscloud_{product}"))
        if product == "cloud":
            return module.Configuration(host=self.cloud_url, username=self.user, password=self.password, **kw)
        return module.Configuration(host=self.endpoint(product, location), token=self.token(), **kw)

    def token(self) -> str:
        """A token of the owner from the Auth API."""
        import base64
        import json
        import urllib.request

        creds = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        req = urllib.request.Request(self.auth_url + "/tokens/generate", headers={"Authorization": f"Basic {creds}"})
        with urllib.request.urlopen(req, timeout=10) as r:  # loopback only
            return str(json.loads(r.read())["token"])


# config-file product name -> the official Python SDK module configured for it
SDK_MODULES = {
    "cloud": "ionoscloud",
    "dns": "ionoscloud_dns",
    "psql": "ionoscloud_dbaas_postgres",
    "mariadb": "ionoscloud_dbaas_mariadb",
    "inmemorydb": "ionoscloud_dbaas_inmemorydb",
    "mongo": "ionoscloud_dbaas_mongo",
}


@contextlib.contextmanager
def running(data_dir: str | Path | None = None, **settings: Any) -> Iterator[LocalEmulator]:
    """An emulator for the duration of a `with` block (any test runner)."""
    emu = LocalEmulator(data_dir, **settings).start()
    try:
        yield emu
    finally:
        emu.stop()
