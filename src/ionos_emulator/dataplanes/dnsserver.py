"""The DNS server's network side: UDP and TCP on one port, queries answered on the server's own threads
(reading the store), never on the event loop, except an answer the packet cache holds; UDP queries beyond
MAX_INFLIGHT waiting at once are dropped, as a loaded server drops them. What the answers are is
dataplanes/dns.py (`Authority`).

Wiring: `server = await start_dns_server(emu, host, port)` on the emulator's event loop; `server.close()`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .dns import Authority

log = logging.getLogger("ionos_emulator.dns")

TCP_IDLE_SECONDS = 30
THREADS = 4  # threads answering queries
MAX_INFLIGHT = 512  # UDP queries waiting for a thread; more are dropped
PACKETS_CACHED = 16_384  # answers kept by the packet cache (a few hundred bytes each)


class PacketCache:
    """Answers given before, by the query's bytes after its ID, served again on the event loop while the store
    has not moved (a packet cache, as authoritative servers keep one): valid for the store version read before
    the answer was made (`Store.peek_version`, no I/O; none on PostgreSQL), bounded by entries."""

    def __init__(self, store, size: int = PACKETS_CACHED):
        self.store, self.size = store, size
        self.version: int | None = None
        self.answers: OrderedDict[tuple[bool, bytes], bytes] = OrderedDict()
        self.hits = 0

    def get(self, wire: bytes, tcp: bool) -> tuple[bytes | None, int | None]:
        """The answer for this query (with its ID), or None and the version to `put` the answer under."""
        version = self.store.peek_version()
        if version is None or len(wire) < 12:
            return None, None
        if version != self.version:  # the store moved: nothing remembered may be right any more
            self.answers.clear()
            self.version = version
            return None, version
        cached = self.answers.get((tcp, wire[2:]))
        if cached is None:
            return None, version
        self.answers.move_to_end((tcp, wire[2:]))
        self.hits += 1
        return wire[:2] + cached[2:], None

    def put(self, wire: bytes, tcp: bool, version: int | None, answer: bytes) -> None:
        if version is None or version != self.version:
            return
        self.answers[(tcp, wire[2:])] = answer
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer):
        self.server, self.pool, self.cache = server, server.pool, server.cache
        self.transport: asyncio.DatagramTransport | None = None
        self.inflight = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a datagram endpoint's protocol is given a datagram transport (asyncio's or uvloop's: not always a
        # subclass of asyncio.DatagramTransport, so no isinstance check)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        cached, version = self.cache.get(data, False)
        if cached is not None:
            if self.transport is not None:
                self.transport.sendto(cached, addr)
            return
        if self.inflight >= MAX_INFLIGHT:
            return  # a flood: dropped, as a loaded server drops queries (the client retries)
        self.inflight += 1
        answered = asyncio.get_running_loop().run_in_executor(self.pool, self.server.respond, data, False, addr[0])
        answered.add_done_callback(lambda f: self._send(f, data, version, addr))

    def _send(self, answered: asyncio.Future, query: bytes, version: int | None, addr: tuple[str, int]) -> None:
        self.inflight -= 1
        if answered.cancelled() or answered.exception() is not None or self.transport is None:
            return
        wires, cacheable = answered.result()
        if cacheable:
            self.cache.put(query, False, version, wires[0])
        for wire in wires:
            self.transport.sendto(wire, addr)


class DnsServer:
    """The running server: `port` is the bound port (useful when started on port 0), `close()` stops it."""

    def __init__(self, emu, host: str, reuse_port: bool = False):
        self.emu, self.host, self.port, self.reuse_port = emu, host, 0, reuse_port
        self._authority: Authority | None = None
        self._lock = threading.Lock()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="dns")
        self.cache = PacketCache(emu.store)

    @property
    def authority(self) -> Authority:
        """What answers the queries (dataplanes/dns.py), made by the first one: dnspython, which it needs,
        costs about 7 MB and 40 ms of a start-up."""
        if self._authority is None:
            with self._lock:
                if self._authority is None:
                    from .dns import Authority

                    self._authority = Authority(self.emu)
        return self._authority

    def respond(self, wire: bytes, tcp: bool, source: str = "") -> tuple[list[bytes], bool]:
        return self.authority.respond(wire, tcp, source)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        source = (writer.get_extra_info("peername") or ("",))[0]
        try:
            while True:
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_SECONDS), "big")
                data = await asyncio.wait_for(reader.readexactly(size), TCP_IDLE_SECONDS)
                cached, version = self.cache.get(data, True)
                if cached is not None:
                    wires = [cached]
                else:
                    loop = asyncio.get_running_loop()
                    wires, cacheable = await loop.run_in_executor(self.pool, self.respond, data, True, source)
                    if cacheable:
                        self.cache.put(data, True, version, wires[0])
                for wire in wires:
                    writer.write(len(wire).to_bytes(2, "big") + wire)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self, port: int) -> DnsServer:
        loop = asyncio.get_running_loop()
        reuse = self.reuse_port and hasattr(socket, "SO_REUSEPORT")
        for _ in range(20):  # port 0: UDP picks a free port, TCP must get the same one
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, port), reuse_port=reuse
            )
            self.port = self._udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port, reuse_port=reuse)
                return self
            except OSError:
                self._udp.close()
                if port:
                    raise
        raise OSError("no port free for both UDP and TCP")

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        self.pool.shutdown(wait=False)

    async def wait_closed(self) -> None:
        if self._tcp is not None:
            await self._tcp.wait_closed()


async def start_dns_server(emu, host: str = "127.0.0.1", port: int = 8053, reuse_port: bool = False) -> DnsServer:
    """Starts the DNS server on the running event loop; port 0 picks a free port (see `.port`).

    reuse_port: several worker processes serve one port (the kernel spreads the queries; they all read the
    same store). Only for workers of one emulator: unrelated emulators would silently share the port."""
    server = await DnsServer(emu, host, reuse_port).start(port)
    log.info("DNS server on %s port %d (UDP and TCP)", host, server.port)
    return server
