"""Forwarding one HTTP request to an upstream, for the web data planes (API Gateway, CDN): asyncio streams and
the httptools response parser (both runtime dependencies already), one connection per request
(`Connection: close`), timeouts on connecting and on every read, the body streamed back as it arrives.

Where an upstream may be: `--proxy-upstreams` (loopback by default, else private, or any) is checked on every
address the name resolves to, after `--upstream-map` (name=[scheme://]host:port) has pointed a name elsewhere,
so a gateway or distribution in the emulator never reaches a host on the Internet unless the user allows it.
A refused, unreachable or broken upstream is an `UpstreamError`: a 502, or a 504 when it timed out, as a
gateway answers; never a 500."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httptools

from ..settings import Settings

CONNECT_TIMEOUT = 5.0  # seconds
READ_TIMEOUT = 30.0  # seconds between two reads of the upstream's answer
CHUNK = 65536
# headers of one hop only (RFC 9110 7.6.1), never passed on
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
}
DEFAULT_PORTS = {"http": 80, "https": 443}
VIA = "1.1 ionos-emulator"  # each hop through a data plane adds it: a request that went round too often stops
MAX_HOPS = 5


def looping(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request has already passed the emulator's data planes MAX_HOPS times (an upstream that is
    the emulator itself, pointed at the same name)."""
    via = b",".join(v for k, v in headers if k.lower() == b"via").decode("latin-1")
    return via.count("ionos-emulator") >= MAX_HOPS


class UpstreamError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str  # http or https
    host: str  # a name or an address, as configured
    port: int

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS.get(self.scheme) == self.port else f"{host}:{self.port}"


@dataclass
class Answer:
    """An upstream's response: status and headers read, the body still coming (`body`, read once)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: AsyncIterator[bytes]
    length: int | None = None  # Content-Length, when the upstream sent one

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)


@functools.lru_cache(maxsize=8)
def parse_map(spec: str) -> dict[str, Target]:
    """--upstream-map: "name=[scheme://]host:port,..." -> {name: target} (the scheme: the request's if none)."""
    out: dict[str, Target] = {}
    for entry in spec.split(","):
        if not entry.strip():
            continue
        name, sep, target = entry.partition("=")
        if not sep:
            raise ValueError(f"upstream map entry '{entry}' is not name=host:port")
        scheme, _, rest = target.strip().rpartition("://")
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"upstream map entry '{entry}' has no host:port")
        out[name.strip().lower()] = Target(scheme or "", host.strip("[]"), int(port))
    return out


def mapped(settings: Settings, target: Target) -> Target:
    """The target after --upstream-map (a name alone, or name:port)."""
    table = parse_map(settings.upstream_map)
    found = table.get(f"{target.host.lower()}:{target.port}") or table.get(target.host.lower())
    if found is None:
        return target
    return Target(found.scheme or target.scheme, found.host, found.port)


def allowed(settings: Settings, address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if settings.proxy_upstreams == "any":
        return True
    if ip.is_loopback:
        return True
    return settings.proxy_upstreams == "private" and (ip.is_private or ip.is_link_local) and not ip.is_unspecified


async def resolve(settings: Settings, target: Target) -> list[str]:
    """The addresses to connect to, every one of them allowed by --proxy-upstreams."""
    if target.host.lower() == "localhost" or target.host.lower().endswith(".localhost"):
        addresses = ["127.0.0.1"]  # RFC 6761: localhost names are the loopback address
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (socket.gaierror, UnicodeError) as e:
            raise UpstreamError(502, f"upstream host '{target.host}' does not resolve: {e}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    refused = [a for a in addresses if not allowed(settings, a)]
    if refused or not addresses:
        raise UpstreamError(
            502,
            f"upstream {target.host} ({', '.join(addresses)}) is not a {settings.proxy_upstreams} address; "
            "the emulator forwards there only with --proxy-upstreams any (or --upstream-map)",
        )
    return addresses


def request_headers(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    method: str,
    host: str,
    client: str,
    proto: str,
    original_host: str,
    length: int,
) -> list[tuple[bytes, bytes]]:
    """What goes upstream: the client's headers without those of one hop, its Host replaced, X-Forwarded-*.
    The body has been read whole, so no `Expect: 100-continue` goes on; a Content-Length only with a body, or
    for a method that expects one."""
    out = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP | {b"host", b"content-length", b"expect"}]
    forwarded = next((v.decode("latin-1") for k, v in headers if k.lower() == b"x-forwarded-for"), "")
    via = next((v.decode("latin-1") for k, v in headers if k.lower() == b"via"), "")
    out = [(k, v) for k, v in out if not k.lower().startswith(b"x-forwarded-") and k.lower() != b"via"]
    out += [
        (b"host", host.encode("idna") if not host.isascii() else host.encode()),
        (b"x-forwarded-for", (f"{forwarded}, {client}" if forwarded else client).encode()),
        (b"x-forwarded-proto", proto.encode()),
        (b"x-forwarded-host", original_host.encode("latin-1")),
        (b"via", (f"{via}, {VIA}" if via else VIA).encode("latin-1")),
        (b"connection", b"close"),
    ]
    if length or method in ("POST", "PUT", "PATCH"):
        out.append((b"content-length", str(length).encode()))
    return out


@dataclass
class _Parsed:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    headers_done: bool = False
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(bytes(body))

    def on_message_complete(self) -> None:
        self.complete = True


async def send(
    settings: Settings,
    target: Target,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Answer:
    """Sends the request (headers as `request_headers` made them) and reads the upstream's status and headers;
    the body follows through `Answer.body`, which closes the connection once read (or dropped)."""
    connect_timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    read_timeout = READ_TIMEOUT if read_timeout is None else read_timeout
    target = mapped(settings, target)
    if target.scheme not in DEFAULT_PORTS:
        raise UpstreamError(502, f"the emulator forwards http and https only, not {target.scheme}")
    addresses = await resolve(settings, target)
    context = ssl.create_default_context() if target.scheme == "https" else None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                addresses[0], target.port, ssl=context, server_hostname=target.host if context else None
            ),
            connect_timeout,
        )
    except asyncio.TimeoutError:
        raise UpstreamError(504, f"connecting to upstream {target.authority} timed out") from None
    except (OSError, ssl.SSLError) as e:
        raise UpstreamError(502, f"upstream {target.authority} refused the connection: {e}") from None
    parsed = _Parsed()
    parser = httptools.HttpResponseParser(parsed)
    try:
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
        writer.write(head + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body)
        await asyncio.wait_for(writer.drain(), read_timeout)
        while not parsed.headers_done:
            data = await asyncio.wait_for(reader.read(CHUNK), read_timeout)
            if not data:
                raise UpstreamError(502, f"upstream {target.authority} closed the connection without an answer")
            parser.feed_data(data)
    except asyncio.TimeoutError:
        writer.close()
        raise UpstreamError(504, f"upstream {target.authority} did not answer in {read_timeout:g} s") from None
    except (OSError, ssl.SSLError, httptools.HttpParserError) as e:
        writer.close()
        raise UpstreamError(502, f"upstream {target.authority} sent no valid HTTP answer: {e}") from None
    except BaseException:
        writer.close()
        raise
    status = parser.get_status_code()
    no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
    length_header = next((v for k, v in parsed.headers if k == b"content-length"), None)
    length = int(length_header) if length_header and length_header.strip().isdigit() else None

    async def stream() -> AsyncIterator[bytes]:
        try:
            while True:
                while parsed.chunks:
                    yield parsed.chunks.pop(0)
                if parsed.complete or no_body:
                    return
                try:
                    data = await asyncio.wait_for(reader.read(CHUNK), read_timeout)
                except (asyncio.TimeoutError, OSError, ssl.SSLError):
                    return  # cut off: what arrived has been passed on, the client sees a short body
                if not data:
                    return
                try:
                    parser.feed_data(data)
                except httptools.HttpParserError:
                    return
        finally:
            writer.close()

    return Answer(status, parsed.headers, stream(), None if no_body else length)


OWN_HEADERS = {b"date", b"server"}  # the emulator's server sets its own, as nginx hides the upstream's


def response_headers(answer: Answer, extra: Iterable[tuple[bytes, bytes]] = ()) -> list[tuple[bytes, bytes]]:
    """What goes back to the client: the upstream's headers without those of one hop (the framing is ours) and
    without Date and Server (the emulator's own go out)."""
    return [(k, v) for k, v in answer.headers if k not in HOP_BY_HOP | OWN_HEADERS] + list(extra)
