"""The DNS server's network side: UDP and TCP on one port, queries answered on the server's own threads
(reading the store), never on the event loop; UDP queries beyond MAX_INFLIGHT waiting at once are dropped,
as a loaded server drops them. What the answers are is dataplanes/dns.py (`Authority`).

Wiring: `server = await start_dns_server(emu, host, port)` on the emulator's event loop; `server.close()`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .dns import Authority

log = logging.getLogger("ionos_emulator.dns")

TCP_IDLE_SECONDS = 30
THREADS = 4  # threads answering queries
MAX_INFLIGHT = 512  # UDP queries waiting for a thread; more are dropped


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer):
        self.server, self.pool = server, server.pool
        self.transport: asyncio.DatagramTransport | None = None
        self.inflight = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a datagram endpoint's protocol is given a datagram transport (asyncio's or uvloop's: not always a
        # subclass of asyncio.DatagramTransport, so no isinstance check)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.inflight >= MAX_INFLIGHT:
            return  # a flood: dropped, as a loaded server drops queries (the client retries)
        self.inflight += 1
        answered = asyncio.get_running_loop().run_in_executor(self.pool, self.server.respond, data, False, addr[0])
        answered.add_done_callback(lambda f: self._send(f, addr))

    def _send(self, answered: asyncio.Future, addr: tuple[str, int]) -> None:
        self.inflight -= 1
        if answered.cancelled() or answered.exception() is not None or self.transport is None:
            return
        for wire in answered.result():
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

    def respond(self, wire: bytes, tcp: bool, source: str = "") -> list[bytes]:
        return self.authority.respond(wire, tcp, source)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        source = (writer.get_extra_info("peername") or ("",))[0]
        try:
            while True:
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_SECONDS), "big")
                data = await asyncio.wait_for(reader.readexactly(size), TCP_IDLE_SECONDS)
                loop = asyncio.get_running_loop()
                for wire in await loop.run_in_executor(self.pool, self.respond, data, True, source):
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
