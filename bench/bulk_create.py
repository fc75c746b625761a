"""How the cost of a server POST grows with the servers already in its data center: creates N servers in one
data center in-process (through `Emulator.handle`, the real pipeline, strict mode off, timing instant) and
prints seconds per 1,000 POSTs for each N, over all N and over the last 500 (what one more costs there), for
every source tree given (the first is the baseline). Flat figures across N: a create does not grow with the
servers already there.

    python bench/bulk_create.py [--sizes 500,3000] [--database postgresql://...] [SRC ...]

SRC defaults to this checkout's src/; pass e.g. `/work/main/src src` for before/after in the same run. Each
(tree, N) runs in a fresh process with a fresh data dir (or a fresh PostgreSQL database), one after another.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


LAST = 500


def one(n: int, database: str) -> tuple[float, float]:
    """Seconds to POST n servers into one data center (each request settled by the next one), and seconds of
    the last LAST of them."""
    import orjson

    import run as bench
    from ionos_emulator.app import Emulator, request_scope
    from ionos_emulator.settings import Settings

    with tempfile.TemporaryDirectory(prefix="ionos-bulk-") as data:
        emu = Emulator(Settings(data_dir=data, database=database, timing="instant", strict=False))
        contract = emu.identity.contract(emu.settings.contract_number)
        contract["resourceLimits"].update(coresPerContract=10**6, ramPerContract=10**9)  # room for every server
        with emu.store.tx():
            emu.identity.update_contract(contract)

        def post(path: str, body: bytes) -> dict:
            reply, _ = emu.handle(request_scope("POST", path, bench.AUTH), body)
            assert reply.status == 202, (reply.status, reply.body)
            return reply.body if isinstance(reply.body, dict) else orjson.loads(reply.body)

        dc = post(bench.API + "/datacenters", bench.DC_BODY.encode())["id"]
        body = json.dumps({"properties": bench.SERVER_PROPS}).encode()
        start = last = time.perf_counter()
        for i in range(n):
            if i == n - LAST:
                last = time.perf_counter()
            post(f"{bench.API}/datacenters/{dc}/servers", body)
        end = time.perf_counter()
        emu.store.close()
        return end - start, end - last


def fresh_database(url: str) -> tuple[str, str]:
    import psycopg

    name = f"bulk_{os.getpid()}_{time.time_ns()}"
    with psycopg.connect(url + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return name, f"{url}/{name}"


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url + "/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,3000")
    ap.add_argument("--database", default="", help="a PostgreSQL server URL (no database name); default SQLite")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: run one size with the tree on sys.path
    ap.add_argument("src", nargs="*", default=[os.path.join(os.path.dirname(HERE), "src")])
    a = ap.parse_args()
    if a.one is not None:
        print(*one(a.one, a.database))
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    print(f"store: {'PostgreSQL' if a.database else 'SQLite'}; seconds per 1,000 server POSTs into one data center")
    print(f"{'source tree':40} " + " ".join(f"{f'N={n} all':>12} {f'last {LAST}':>9}" for n in sizes))
    for src in a.src:
        figures = []
        for n in sizes:
            name, url = fresh_database(a.database) if a.database else ("", "")
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", str(n), "--database", url],
                    env={**os.environ, "PYTHONPATH": os.path.abspath(src)},
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            finally:
                if name:
                    drop_database(a.database, name)
            total, last = (float(x) for x in out.strip().splitlines()[-1].split())
            figures.append(f"{total / n * 1000:>11.2f}s {last / min(n, LAST) * 1000:>8.2f}s")
        print(f"{src:40} " + " ".join(figures))


if __name__ == "__main__":
    main()
