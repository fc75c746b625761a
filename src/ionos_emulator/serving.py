"""How uvicorn serves the app, once for `serve`, the HTTPS server and the tests' in-process emulator: the
options and the HTTP protocol, which closes connections that are idle or send their headers too slowly.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but only once a response was sent:
a client that connects and sends nothing, or sends its headers a byte at a time (slowloris), holds the
connection for ever. `GuardedHttpProtocol` gives every request's headers `--header-timeout` seconds, counted
from the connection (or from the previous response) until the headers are complete; the body is bounded by
`--max-body-bytes` (app.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Settings

HEADER_TIMEOUT = Settings.header_timeout  # an app without settings (none here) gets the default


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout, read from the served app's settings (the app, not
    an option: with --workers uvicorn hands its options to each worker process, and the app is built there)."""

    _header_timer: asyncio.TimerHandle | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.app
        while not hasattr(app, "settings") and hasattr(app, "app"):  # through uvicorn's own middleware
            app = app.app
        settings = getattr(app, "settings", None)
        self.header_timeout = settings.header_timeout if isinstance(settings, Settings) else HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # a pipelined request's headers are in already
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers, whenever it starts

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout_handler)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout_handler(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run / uvicorn.Config keywords for the HTTP port (host, port and the app are the caller's)."""
    return dict(
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        http=GuardedHttpProtocol,
        loop="auto",
        lifespan="on",
        access_log=False,
        proxy_headers=False,  # X-Forwarded-* is the gateway's (--trust-proxy-headers)
        timeout_keep_alive=settings.keep_alive_timeout,
    )
