"""HTTPS beside HTTP: a second uvicorn server, on the event loop of the first, serving the same app.

The app's lifespan (run by the HTTP server) starts it and stops it, so there is one lifespan, one store and
one ticker, and the store closes only after both servers have drained. It never takes the process's
signals: the HTTP server does, and its shutdown runs the lifespan shutdown, which stops this one."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from . import tls
from .endpoints import certificate_names
from .serving import uvicorn_options
from .settings import Settings


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the HTTP server owns SIGINT/SIGTERM


class HttpsServer:
    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], port: int):
        self.server, self.task, self.port = server, task, port

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self.task), 15)


def bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def start_https(app: Any, settings: Settings) -> HttpsServer:
    """Binds the HTTPS port (raising OSError when it is taken or privileged), serves `app` on it, returns
    once it accepts connections."""
    files = tls.ensure_server_cert(settings.data_dir, certificate_names(app.apis, settings.host))
    sock = bind(settings.host, settings.https_port, reuse_port=settings.workers > 1)
    config = uvicorn.Config(
        app,
        **{
            **uvicorn_options(settings),
            "port": settings.https_port,
            "loop": "none",
            "lifespan": "off",  # the app's one lifespan is the HTTP server's
        },
        log_config=None,  # the HTTP server configured logging
        ssl_certfile=str(files.cert),
        ssl_keyfile=str(files.key),
    )
    config.load()
    if config.ssl is not None:  # gateways' and distributions' domains present their own certificates
        from .dataplanes import webtls

        webtls.install(config.ssl, app)
    server = _Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            sock.close()
            task.result()  # its exception, if it has one
            raise OSError("the HTTPS server stopped while starting")
        await asyncio.sleep(0.005)
    return HttpsServer(server, task, sock.getsockname()[1])
