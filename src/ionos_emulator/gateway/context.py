"""What a handler receives (Ctx, with the Services it may use) and returns (Reply); how an API is declared
(ApiModule)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson

from ..engine.errors import CLOUD as CLOUD_ERRORS
from ..engine.errors import ApiError, ErrorStyle, internal_error

if TYPE_CHECKING:
    from ..engine.lifecycle import Effect, Lifecycle
    from ..identity import Identity, Principal
    from ..settings import Settings
    from ..spec import Operation
    from ..store import Counts, Store


log = logging.getLogger("ionos_emulator")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a JSON-able object, raw bytes/str, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    # set by the pipeline on an answer the response cache holds: what it takes to serve it again (gateway/front.py)
    reuse: Any = None


Handler = Callable[["Ctx"], Reply]


@dataclass
class ApiModule:
    """One API: where it is served, its compiled spec, and the handlers its module provides by operationId."""

    name: str
    prefix: str  # path prefix on the emulator, e.g. "/cloudapi/v6", "/dns/de-fra"
    spec_name: str
    handlers: dict[str, Callable[[Ctx], Reply]] = field(default_factory=dict)
    location: str = ""  # "de/fra" for regional product APIs, "" for global ones
    # real host name -> the path prefix requests carry on it; such a request is served here with that
    # prefix replaced by ours (e.g. {"dns.de-fra.ionos.com": ""}, {"api.ionos.com": "/databases/mongodb"})
    hosts: dict[str, str] = field(default_factory=dict)
    basic_auth: bool = True  # products whose SDKs send Bearer only still accept Basic here
    product: str = ""  # product name in the IONOS config file (dns, psql, mariadb, ...)
    # path parameters whose values clients send with an unencoded '/' (the Cloud API's locationId "fra/2")
    slash_params: frozenset[str] = frozenset()
    privilege: str | None = None  # group flag a non-administrator needs for every operation
    errors: ErrorStyle = CLOUD_ERRORS  # how its errors are spelled
    # a PUT keeps what it leaves out (the Cloud API): its `properties` need not hold the required ones
    put_keeps_omitted: bool = False
    # its own lifecycle effects (data planes): name -> factory(settings) -> effect (engine/lifecycle.py)
    effects: dict[str, Callable[[Settings], Effect]] = field(default_factory=dict)
    # the prefix every path of its spec begins with (Certificate Manager v1: "/certificatemanager"), which is
    # part of `prefix`: its operations are routed below the prefix without it
    path_base: str = ""
    # its GET answers are a function of the store alone (no clock, no data plane): the response cache may
    # serve them again while the store is unchanged (gateway/cache.py)
    cached_reads: bool = False
    # what its rows add to their contract's counters, kept by the store with every write (store.base.Counts):
    # kind -> function(properties) -> {counter: amount}
    counts: Counts = field(default_factory=dict)

    def handler(self, op_id: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.handlers[op_id] = fn
            return fn

        return deco

    def copy(self) -> ApiModule:
        """A mount of its own for one app: its handlers can be replaced (in a test) without touching others."""
        return replace(self, handlers=dict(self.handlers), hosts=dict(self.hosts), effects=dict(self.effects))


@dataclass
class Services:
    """What handlers may use besides the request: the store, who is who, the lifecycle, the settings."""

    store: Store
    identity: Identity
    lifecycle: Lifecycle
    settings: Settings


@dataclass
class Ctx(Services):
    """One request as a handler sees it: the services it may use, the request, and who is calling."""

    api: ApiModule
    op: Operation
    method: str
    path: str  # path below the API prefix, e.g. "/datacenters/x"
    params: dict[str, str]
    query: Any  # starlette QueryParams (multi-valued)
    headers: Any
    body: Any
    raw_body: bytes
    base_url: str  # scheme://host[:port] as the client addressed us
    caller: Principal | None = None  # set by authentication; None only on public operations
    now: float = 0.0
    client_prefix: str | None = None  # the API's prefix as the client addressed it on a real host ("" on
    #                                   dns.de-fra.ionos.com); None: our own prefix (api.prefix)
    client: str = ""  # the peer's address

    @property
    def principal(self) -> Principal:
        """Who is calling; handlers of operations that need authentication can rely on it."""
        if self.caller is None:
            raise ApiError(401, "Unauthorized", "315")
        return self.caller

    @property
    def tenant(self) -> int:
        return self.principal.tenant

    @property
    def api_base(self) -> str:
        return self.base_url + (self.api.prefix if self.client_prefix is None else self.client_prefix)

    def href(self, path: str) -> str:
        return f"{self.api_base}/{path}" if path else f"{self.api_base}/"

    def q(self, name: str, default: str | None = None) -> str | None:
        """A query parameter; the hyphenated spelling ionosctl uses (order-by) also counts."""
        v = self.query.get(name)
        if v is None and any(c.isupper() for c in name):
            hyph = "".join("-" + c.lower() if c.isupper() else c for c in name)
            v = self.query.get(hyph)
        return default if v is None else v

    def q_int(self, name: str, default: int) -> int:
        v = self.q(name)
        try:
            value = int(v) if v not in (None, "") else default
        except ValueError:
            return default
        if not -(2**63) <= value < 2**63:  # no store or JSON integer holds it
            raise ApiError(422, f"query parameter '{name}' is out of range for a 64-bit integer")
        return value

    @property
    def depth(self) -> int:
        return max(0, min(10, self.q_int("depth", 0)))


Encoded = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, header bytes, body bytes: what is sent


def encode_reply(reply: Reply, pretty: bool = True) -> Encoded:
    """The status, headers and body bytes of a reply."""
    if reply.body is None:
        payload = b""
    elif isinstance(reply.body, (bytes, bytearray)):
        payload = bytes(reply.body)
    elif isinstance(reply.body, str) and reply.content_type != "application/json":
        payload = reply.body.encode()
    else:
        try:
            payload = orjson.dumps(reply.body, option=orjson.OPT_INDENT_2 if pretty else 0)
        except TypeError:  # a value JSON cannot carry (an integer beyond 64 bits): a bug, answered as one
            log.error("response body not serialisable\n%s", traceback.format_exc())
            reply = Reply(500, internal_error().body())
            payload = orjson.dumps(reply.body)
    hdrs = [(b"content-length", str(len(payload)).encode())]
    if payload or reply.status >= 400:
        hdrs.append((b"content-type", reply.content_type.encode()))
    hdrs += [(k.lower().encode(), str(v).encode()) for k, v in reply.headers.items()]
    return reply.status, hdrs, payload
