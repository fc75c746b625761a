"""Who may call /_emulator/*, and the checks every admin input passes (docs/fidelity.md, "The admin API").

Open (no credential) with --admin-open, which is the default only on a loopback --host; otherwise an admin
credential: Basic or Bearer of an administrator of the default contract, or `Bearer <--admin-token>`."""

from __future__ import annotations

import hmac
import importlib
import ipaddress
import secrets
from typing import Any

from ..engine.errors import ApiError, forbidden, unauthorized

_parser: Any
try:
    _parser = importlib.import_module("re._parser")
except ImportError:  # Python 3.10
    _parser = importlib.import_module("sre_parse")

MAX_INT32 = 2**31 - 1
MAX_PATTERN = 256
MAX_TEXT = 1024
MAX_EMAIL = 254
MAX_COUNT = 1000
MAX_SECONDS = 3600.0
METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
OPEN_PATHS = ("/_emulator/health",)  # readiness probes poll it without credentials; it names no tenant
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(settings) -> None:
    """Decides --admin-open from --host when not given, and makes the admin token of a protected emulator.
    Both are written back, so that worker processes (which get the settings by environment) agree."""
    if settings.admin_open is None:
        settings.admin_open = is_loopback(settings.host)
    if not settings.admin_open and not settings.admin_token:
        settings.admin_token = secrets.token_urlsafe(24)


def authorise(emu, path: str, authorization: str | None) -> None:
    """Raises 401 without a credential (or a wrong one), 403 for a caller who is no administrator."""
    settings = emu.settings
    if settings.admin_open or path.rstrip("/") in OPEN_PATHS:
        return
    if not authorization:
        raise unauthorized()
    scheme, _, cred = authorization.partition(" ")
    token = settings.admin_token
    if scheme.lower() == "bearer" and token and hmac.compare_digest(cred.strip().encode(), token.encode()):
        return
    caller = emu.identity.authenticate(authorization)  # 401 for a credential that is no one's
    if not (caller.admin and caller.tenant == emu.identity.contract_number):
        raise forbidden("The emulator's admin API needs an administrator of the default contract")


# -- inputs ---------------------------------------------------------------------------------------
def integer(data: dict, key: str, low: int, high: int, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(422, f"'{key}' must be an integer from {low} to {high}")
    return value


def text(data: dict, key: str, limit: int = MAX_TEXT, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ApiError(422, f"'{key}' must be a non-empty string of at most {limit} characters")
    if any(ord(c) < 32 for c in value):
        raise ApiError(422, f"'{key}' must not contain control characters")
    return value


def number(data: dict, key: str, low: float, high: float) -> float | None:
    """An optional number from `low` to `high` (None when absent)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(422, f"'{key}' must be a number from {low:g} to {high:g}")
    return float(value)


def seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
        raise ApiError(422, f"overrides must map resource kinds to seconds (0 to {MAX_SECONDS:g})")
    return float(value)


def safe_pattern(pattern: str) -> None:
    """A failure rule's pattern is searched in every later change's path: refused when it could backtrack
    without end (a repeat inside a repeat, an alternation inside a repeat, a backreference)."""
    try:
        parsed = _parser.parse(pattern)
    except Exception as e:  # re.error, and the parser's own RecursionError/OverflowError on odd input
        raise ApiError(422, f"'path' is not a regular expression: {e}") from None
    _check(parsed, False)


def _check(sub, inside_repeat: bool) -> None:
    for op, av in sub:
        name = str(op)
        if name.startswith("GROUPREF"):
            raise ApiError(422, '\'path\' must not use backreferences (use "mode": "substring" for plain text)')
        repeat = name in _REPEATS and av[1] > 1
        if inside_repeat and (repeat or name == "BRANCH"):
            raise ApiError(
                422, "'path' must not nest repeats or alternations inside a repeat (catastrophic backtracking)"
            )
        for child in _children(av):
            _check(child, inside_repeat or repeat)


def _children(av):
    if isinstance(av, _parser.SubPattern):
        yield av
    elif isinstance(av, (tuple, list)):
        for item in av:
            yield from _children(item)
