"""Local data planes (`--dataplanes local`, IONOS_EMULATOR_DATAPLANES=local): one real server process per
DBaaS cluster, in `<data dir>/dataplanes/<kind>/<cluster id>/`, listening on 127.0.0.1 on a port of its own.

A `Fleet` has the interface of the shared-server planes (`ensure_cluster`, `drop_cluster`, `where`,
`address`): `ensure_cluster` starts the cluster's private server (creating it on first use, with a random
administrator secret kept in the cluster's dir, mode 0600) and then makes the cluster's user on it with the
shared-server code pointed at that server; as the server holds no one else's names, the cluster gets exactly
the names it asked for. `drop_cluster` stops the server and removes its dir. The kind modules (postgres.py,
redis.py, mariadb.py) say how one server is created, started and stopped.

Cost: creating a server (PostgreSQL's initdb ~0.6 s, start ~0.2 s; MariaDB's
mariadb-install-db ~1.6 s, start ~0.3 s; Redis ~50 ms) runs inside the lifecycle
effect, when the cluster's change completes, on the thread that settles requests. Servers outlive nothing:
the emulator stops them all when it stops and starts again those whose dirs are left (the clusters that are
not deleted) when it starts, off the event loop. A per-cluster file lock keeps the worker processes of
`--workers` from starting one server twice.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("ionos_emulator.dataplanes")

HOST = "127.0.0.1"  # the only address a local server listens on
MODES = ("shared", "local")


class Kind(Protocol):
    """How one server of a kind is created, started and stopped, and reached with the shared-server code."""

    name: str  # the dir under dataplanes/ and the word in messages ("PostgreSQL")
    label: str

    def missing(self) -> str | None: ...  # why the kind cannot run here (a binary not found), or None

    def create(self, home: Path, port: int, secret: str) -> None: ...

    def start(self, home: Path, port: int) -> None: ...

    def running(self, home: Path) -> bool: ...

    def stop(self, home: Path) -> None: ...

    def client(self, port: int, secret: str) -> Any: ...  # a shared-server plane Server for this server


PORT_ATTEMPTS = 5


PORTS_BELOW = 10_000  # the private servers' ports lie between this and the system's ephemeral ports


def ephemeral_start() -> int:
    """Where the range starts that the system gives outgoing connections their own ports from (Linux's
    default where it cannot be read)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port no socket holds now, below the ephemeral range: a port from that range (bind to port 0) can be
    given to any outgoing connection in the time between its choice and the server's start (a data plane's
    creation takes seconds), and the server then cannot bind it (seen in CI: MariaDB exited, the cluster FAILED)."""
    low = ephemeral_start()
    for _ in range(100 if low > PORTS_BELOW + 100 else 0):
        port = random.randrange(PORTS_BELOW, low)
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    with socket.socket() as s:  # all tried were taken: any the system gives
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_open(port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {seconds:g} s")
        time.sleep(0.02)


_STARTED: dict[int, subprocess.Popen] = {}  # the servers this process started (start_process), by pid


def start_process(argv: list[str], ready: Callable[[], bool], log: Path, seconds: float, what: str) -> None:
    """Starts a server in a session of its own (a Ctrl-C reaches the emulator only; it outlives the emulator)
    and waits until `ready()`. A server that exits first fails the start at once, not after the whole wait,
    and the error ends with its log, which says why (a port taken, a data dir refused). What it prints before
    it opens that log (Redis: a bad config file) is appended to the same file."""
    with open(log, "ab") as early:
        server = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=early,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _STARTED[server.pid] = server  # kept: process_alive asks it (and it reaps the server once it exits)

    def up() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"{Path(argv[0]).name} exited with {server.returncode}")
        return ready()

    try:
        wait_until(up, seconds, what)
    except RuntimeError as e:
        if server.poll() is None:  # never ready: not left behind holding its port and data dir
            server.kill()
            server.wait()
        _STARTED.pop(server.pid, None)
        raise RuntimeError(f"{e} (its log ends: {log_tail(log)})") from None


def log_tail(log: Path, chars: int = 400) -> str:
    try:
        return log.read_text(errors="replace")[-chars:].strip() or "(empty)"
    except OSError:
        return "(no log)"


def pid_alive(pidfile: Path) -> int | None:
    """The pid the file names while that process lives (a child of ours that ended is reaped here)."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if process_alive(pid) else None


def process_alive(pid: int) -> bool:
    started = _STARTED.get(pid)
    if started is not None:
        if started.poll() is None:
            return True
        _STARTED.pop(pid, None)
        return False
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child: a daemon, or started by another worker
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie has exited (its files and ports are closed) and waits for its parent to reap it
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc here: alive as far as can be told


def stop_pid(pidfile: Path, seconds: float, what: str) -> None:
    """SIGTERM (a clean shutdown: the server saves its data) and waits until the process is gone."""
    pid = pid_alive(pidfile)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        # the process, not its pid file: Redis removes the file before it closes its port, and a server
        # started next on that port found it taken
        wait_until(lambda: not process_alive(pid), seconds, f"{what} (pid {pid}) stopping")


def write_private(path: Path, text: str) -> None:
    """A file only the emulator's user may read (secrets, configs that hold them)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def binary(name: str, *dirs: str) -> str | None:
    """A server binary on PATH or in one of the usual places its packages put it."""
    found = shutil.which(name)
    if found:
        return found
    for d in dirs:
        for candidate in sorted(Path("/").glob(d.lstrip("/")), reverse=True):
            if (candidate / name).is_file():
                return str(candidate / name)
    return None


class Fleet:
    """The private servers of one kind under one data dir, one per cluster."""

    def __init__(self, kind: Kind, data_dir: str):
        self.kind = kind
        self.root = Path(data_dir).resolve() / "dataplanes" / kind.name

    @property
    def address(self) -> str:
        return f"{HOST} (the cluster's own, under {self.root})"

    def home(self, cluster_id: str) -> Path:
        return self.root / cluster_id

    def where(self, cluster_id: str) -> tuple[str, int]:
        return HOST, int((self.home(cluster_id) / "port").read_text())

    @contextmanager
    def _locked(self, home: Path):
        home.parent.mkdir(parents=True, exist_ok=True)
        with open(home.parent / f".{home.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def up(self, cluster_id: str) -> tuple[int, str]:
        """Starts the cluster's server (creating it first if it has none); returns (port, secret)."""
        why = self.kind.missing()
        if why:
            raise RuntimeError(why)
        home = self.home(cluster_id)
        with self._locked(home):
            if not (home / "secret").exists():
                shutil.rmtree(home, ignore_errors=True)  # a creation cut short
                home.mkdir(parents=True)
                port, secret = free_port(), secrets.token_urlsafe(24)
                self.kind.create(home, port, secret)
                (home / "port").write_text(str(port))
                write_private(home / "secret", secret)
            port, secret = self.where(cluster_id)[1], (home / "secret").read_text()
            if not self.kind.running(home):
                port = self._start(home, port)
                log.info("%s server of cluster %s started on %s:%d", self.kind.label, cluster_id, HOST, port)
        return port, secret

    def _start(self, home: Path, port: int) -> int:
        """Starts the server on its port, or on a new one while something else listens there (the port was
        free when it was chosen, but another process may have bound it since, or before a restart): the port
        it listens on. Without this, the start would wait for the port to open and find the other listener."""
        for _ in range(PORT_ATTEMPTS):
            if not port_open(port):
                self.kind.start(home, port)
                if self.kind.running(home):
                    return port
            port = free_port()
            (home / "port").write_text(str(port))
        raise RuntimeError(f"{self.kind.label}: no port of its own after {PORT_ATTEMPTS} tries")

    def server(self, cluster_id: str):
        """The shared-server plane's Server, pointed at the cluster's (running) server."""
        return self.kind.client(*self.up(cluster_id))

    def ensure_cluster(self, cluster_id: str, *args, **kw):
        return self.server(cluster_id).ensure_cluster(cluster_id, *args, **kw)

    def drop_cluster(self, cluster_id: str) -> list[str]:
        home = self.home(cluster_id)
        with self._locked(home):
            if home.exists():
                self.kind.stop(home)
                shutil.rmtree(home, ignore_errors=True)
        (home.parent / f".{home.name}.lock").unlink(missing_ok=True)
        log.info("%s server of cluster %s stopped and removed", self.kind.label, cluster_id)
        return [cluster_id]

    def clusters(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "secret").exists()) if self.root.is_dir() else []

    def start_all(self) -> None:
        """At the emulator's start: the servers of the clusters that were not deleted."""
        for cid in self.clusters():
            try:
                self.up(cid)
            except Exception as e:
                log.warning("%s server of cluster %s did not start again: %s", self.kind.label, cid, e)

    def drop_all(self) -> None:
        """After a reset of the store: no cluster is left, so neither is any server."""
        for cid in self.clusters():
            self.drop_cluster(cid)

    def stop_all(self) -> None:
        for cid in self.clusters():
            try:
                with self._locked(self.home(cid)):
                    self.kind.stop(self.home(cid))
            except Exception as e:
                log.warning("%s server of cluster %s did not stop: %s", self.kind.label, cid, e)


_fleets: dict[tuple[str, str], Fleet] = {}


def fleet(kind: Kind, settings) -> Fleet | None:
    """The kind's fleet when the settings ask for local data planes, else None (the shared-server mode)."""
    if getattr(settings, "dataplanes", "shared") != "local":
        return None
    k = (kind.name, str(Path(settings.data_dir).resolve()))
    if k not in _fleets:
        _fleets[k] = Fleet(kind, settings.data_dir)
    return _fleets[k]


def fleets(settings) -> list[Fleet]:
    """Every kind's fleet in local mode (for starting and stopping them with the emulator)."""
    if getattr(settings, "dataplanes", "shared") != "local":
        return []
    from . import mariadb, postgres, redis

    kinds = (postgres.KIND, redis.KIND, mariadb.KIND)
    return [f for f in (fleet(k, settings) for k in kinds) if f is not None]
