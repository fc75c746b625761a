"""End-to-end: `--dataplanes local`, one real server process per DBaaS cluster, through the unmodified product
SDKs. Two clusters asking for the same user name each get it on a server of their own (127.0.0.1, a port
each, shown as dnsName and in statusMessage), what one cluster writes the other does not see, a deleted
cluster's server is gone (port closed, dir removed), and the servers stop and start again with the emulator.
Skipped when the server binaries are not on the machine."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

import ionoscloud_dbaas_inmemorydb as imdb
import ionoscloud_dbaas_postgres as pg
import pytest

from ionos_emulator.dataplanes.local.postgres import KIND as POSTGRES
from ionos_emulator.dataplanes.local.redis import KIND as REDIS
from support import bearer, datacenter_with_lan
from test_e2e_inmemorydb import PASSWORD as REDIS_PASSWORD
from test_e2e_inmemorydb import create as create_redis
from test_e2e_postgresql import PASSWORD as PG_PASSWORD
from test_e2e_postgresql import new_cluster, pg_client

SERVED = re.compile(r"served by the \w+ server at (127\.0\.0\.1):(\d+)")
TIMEOUT = 60  # creating a PostgreSQL server is initdb (about a second, more on a busy machine)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def served(metadata) -> tuple[str, int]:
    m = SERVED.search(metadata.status_message or "")
    assert m, metadata.status_message
    assert metadata.dns_name == m.group(1) == "127.0.0.1"
    return m.group(1), int(m.group(2))


def settled(clusters, cluster_id):
    """The cluster once it is AVAILABLE or FAILED (its server is made when its creation completes)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        got = clusters.clusters_find_by_id(cluster_id)
        if got.metadata.state in ("AVAILABLE", "FAILED") or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def wait_until(check, seconds=TIMEOUT):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _kill_leftovers(root: Path) -> None:
    """Whatever server a failed test left: PostgreSQL's postmaster.pid and Redis's pidfile name it."""
    for pidfile in [*root.rglob("postmaster.pid"), *root.rglob("redis.pid")]:
        try:
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


@pytest.fixture
def local_planes(make_emulator):
    """An emulator with --dataplanes local whose data dir the `postgres` user can reach (pytest's tmp dirs are
    private to root); its servers are stopped and the dir removed afterwards, whatever happened."""
    root = Path(tempfile.mkdtemp(prefix="ionos-planes-"))
    root.chmod(0o711)
    emus = []

    def make(name="planes"):
        emu = make_emulator(name, root=root, args=("--dataplanes", "local", "--timing", "instant"))
        emus.append(emu)
        return emu, bearer(emu)

    yield make, root
    for emu in emus:
        emu.stop()
    _kill_leftovers(root)
    shutil.rmtree(root, ignore_errors=True)


def test_postgresql_clusters_are_separate_servers(local_planes):
    why = POSTGRES.missing()
    if why:
        pytest.skip(why)
    import psycopg

    make, root = local_planes
    emu, token = make()
    home = root / "planes" / "dataplanes" / "postgres"
    with pg_client(emu, token) as c:
        clusters = pg.ClustersApi(c)
        a = new_cluster(c, emu, username="appuser", database="appdb")[0]
        b = new_cluster(c, emu, username="appuser", database="appdb", address="192.168.7.20/24")[0]
        got_a, got_b = settled(clusters, a.id), settled(clusters, b.id)
        assert (got_a.metadata.state, got_b.metadata.state) == ("AVAILABLE", "AVAILABLE"), got_a.metadata
        (host, port_a), (_, port_b) = served(got_a.metadata), served(got_b.metadata)
        assert port_a != port_b
        # the same names on both, as asked: each is its own server
        for got in (got_a, got_b):
            assert got.properties.credentials.username == "appuser"
            assert 'database "appdb", login role "appuser"' in got.metadata.status_message

        def connect(port, password=PG_PASSWORD):
            return psycopg.connect(
                host=host, port=port, user="appuser", password=password, dbname="appdb", connect_timeout=5
            )

        with connect(port_a) as conn:
            conn.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)")
            conn.execute("INSERT INTO orders VALUES (1, 'book')")
            conn.commit()
            assert conn.execute("SELECT current_user, item FROM orders").fetchone() == ("appuser", "book")
        with connect(port_b) as conn:
            assert conn.execute("SELECT to_regclass('public.orders')").fetchone() == (None,)
        with pytest.raises(psycopg.OperationalError):
            connect(port_b, "Wrong-123!").close()
        # deleting a cluster stops its server and removes its dir; the other one is untouched
        assert (home / a.id / "data").is_dir()
        clusters.clusters_delete(a.id)
        wait_until(lambda: not port_open(port_a) and not (home / a.id).exists())
        assert port_open(port_b)
        # the servers stop with the emulator and start again with it, keeping their data and port
        with connect(port_b) as conn:
            conn.execute("CREATE TABLE kept (v text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
            conn.commit()
        emu.stop()
        assert not port_open(port_b)
        emu.start()
        wait_until(lambda: port_open(port_b), TIMEOUT)
        with connect(port_b) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == ("still here",)
        with pg_client(emu, token) as c2:
            pg.ClustersApi(c2).clusters_delete(b.id)
        wait_until(lambda: not port_open(port_b) and not (home / b.id).exists())


def test_inmemorydb_clusters_are_separate_servers(local_planes):
    why = REDIS.missing()
    if why:
        pytest.skip(why)
    import redis

    make, root = local_planes
    emu, token = make("planes-redis")
    home = root / "planes-redis" / "dataplanes" / "redis"
    with imdb.ApiClient(imdb.Configuration(host=emu.url + "/inmemorydb/de-fra/v2", token=token)) as c:
        clusters = imdb.ClustersApi(c)
        dc, lan = datacenter_with_lan(emu, "de/fra")
        a = create_redis(c, dc, lan, username="web").data
        b = create_redis(c, dc, lan, username="web", address="192.168.30.20/24").data
        got_a, got_b = settled(clusters, a.id), settled(clusters, b.id)
        assert (got_a.metadata.state, got_b.metadata.state) == ("AVAILABLE", "AVAILABLE"), got_a.metadata
        (host, port_a), (_, port_b) = served(got_a.metadata), served(got_b.metadata)
        assert port_a != port_b
        assert got_a.properties.credentials.username == got_b.properties.credentials.username == "web"

        def connect(port, password=REDIS_PASSWORD):
            return redis.Redis(host=host, port=port, username="web", password=password, socket_timeout=5)

        with connect(port_a) as r:
            assert r.set("cart", "3 books") and r.get("cart") == b"3 books"  # the whole server is the cluster's
        with connect(port_b) as r:
            assert r.get("cart") is None and r.dbsize() == 0
        with pytest.raises(redis.AuthenticationError), connect(port_b, "wrong") as r:
            r.ping()
        with pytest.raises(redis.AuthenticationError), redis.Redis(host=host, port=port_b) as r:
            r.set("x", 1)  # no default user
        clusters.clusters_delete(a.id)
        wait_until(lambda: not port_open(port_a) and not (home / a.id).exists())
        clusters.clusters_delete(b.id)
        wait_until(lambda: not port_open(port_b) and not (home / b.id).exists())
