"""What a start-up does not do: load the product APIs' specs, import cryptography, dnspython, jsonschema or the
S3 data plane (docs/ARCHITECTURE.md, "Lazy loading"). Checked in a fresh interpreter, since this one has
imported them all; the DNS server's first query then makes its answering side."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import asyncio, socket, sys, tempfile

    from ionos_emulator import spec
    from ionos_emulator.app import Emulator
    from ionos_emulator.dataplanes.dnsserver import start_dns_server
    from ionos_emulator.settings import Settings

    HEAVY = ("cryptography", "dns", "jsonschema", "fastjsonschema")
    HEAVY += ("ionos_emulator.dataplanes.dns", "ionos_emulator.s3.service")

    async def main():
        emu = Emulator(Settings.from_env(data_dir=tempfile.mkdtemp(), dns_port=0, strict=True))
        sent = [{"type": "lifespan.startup"}]
        got = []

        async def receive():
            return sent.pop() if sent else await asyncio.Event().wait()

        async def send(msg):
            got.append(msg["type"])

        life = asyncio.ensure_future(emu(({"type": "lifespan"}), receive, send))
        while not got:
            await asyncio.sleep(0.01)
        server = await start_dns_server(emu, "127.0.0.1", 0)
        print("started", got[0])
        print("specs", sorted(s.api for s in spec.loaded()))
        print("heavy", [m for m in HEAVY if m in sys.modules])
        # one A query for api.ionos.com (id 0x1234, RD): answered with the emulator's address
        query = bytes.fromhex("1234010000010000000000000361706905696f6e6f7303636f6d0000010001")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        await loop.sock_sendall(sock, query)
        answer = await asyncio.wait_for(loop.sock_recv(sock, 512), 10)
        print("answer", answer[:2].hex(), answer[-4:] == socket.inet_aton("127.0.0.1"))
        print("after", [m for m in HEAVY if m in sys.modules])
        server.close()
        life.cancel()

    asyncio.run(main())
    """
)


def test_a_start_loads_what_it_serves_first_only():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["started"] == "lifespan.startup.complete"
    # the Cloud API's spec binds its handlers at import; Billing reads its meter ids from its own
    assert lines["specs"] == "['billing', 'cloud']"
    assert lines["heavy"] == "[]"
    assert lines["answer"] == "1234 True"
    assert "'dns'" in lines["after"] and "'ionos_emulator.dataplanes.dns'" in lines["after"]
