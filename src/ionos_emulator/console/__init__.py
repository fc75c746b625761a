"""The web console's files (plain HTML, CSS and JavaScript: nothing is built at install time), served at `/`
and `/_emulator/console` (the page) and `/_emulator/ui/<file>` (its assets), without credentials: the page
signs in with the emulator's credentials in the browser and calls the APIs and /_emulator with them."""

from __future__ import annotations

from functools import cache
from importlib import resources

from ..gateway.context import Reply

PAGE_PATHS = ("/", "/_emulator/console", "/_emulator/console/")
ASSETS = "/_emulator/ui/"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


@cache
def _file(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def reply(path: str) -> Reply | None:
    """The console's answer for `path`, or None when the path is not the console's."""
    if path in PAGE_PATHS:
        name = "index.html"
    elif path.startswith(ASSETS) and path[len(ASSETS) :] in ("console.css", "console.js"):
        name = path[len(ASSETS) :]
    else:
        return None
    kind = TYPES[name[name.rindex(".") :]]
    return Reply(200, _file(name), {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}, kind)
