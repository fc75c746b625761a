"""A private MariaDB server per cluster: mariadb-install-db into `<home>/data`, then mariadbd in a session of
its own, bound to 127.0.0.1 (its Unix socket in the cluster's dir), with an init file that makes the
administrator `emulator`@127.0.0.1 with the fleet's secret on every start. The cluster's user and database
are made on it by dataplanes/mariadb.py, under the names asked for. A restore copies no rows in this mode:
the source cluster's tables are on another server."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from ..mariadb import Server
from . import HOST, binary, pid_alive, port_open, start_process, stop_pid, write_private

ADMIN = "emulator"
TIMEOUT = 60  # seconds to create, start or stop
SOCKET_MAX = 100  # a Unix socket path must fit in sun_path (108 bytes)


class MariaDB:
    name = "mariadb"
    label = "MariaDB"

    def missing(self) -> str | None:
        for name in ("mariadb-install-db", "mariadbd"):
            if binary(name, "/usr/sbin") is None:
                return f"local MariaDB data planes need {name}, which is not on PATH"
        return None

    @staticmethod
    def _as_user() -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    @staticmethod
    def _socket(home: Path) -> Path:
        path = home / "m.sock"
        if len(str(path)) <= SOCKET_MAX:
            return path
        return Path(tempfile.gettempdir()) / f"ionos-mariadb-{hashlib.sha256(str(home).encode()).hexdigest()[:12]}.sock"

    def create(self, home: Path, port: int, secret: str) -> None:
        done = subprocess.run(
            [
                binary("mariadb-install-db", "/usr/sbin") or "mariadb-install-db",
                "--no-defaults",
                f"--datadir={home / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *self._as_user(),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {(done.stderr or done.stdout).strip()[-300:]}")
        write_private(
            home / "init.sql",
            f"CREATE USER IF NOT EXISTS '{ADMIN}'@'{HOST}' IDENTIFIED BY '{secret}';\n"
            f"GRANT ALL ON *.* TO '{ADMIN}'@'{HOST}' WITH GRANT OPTION;\n",
        )

    def start(self, home: Path, port: int) -> None:
        start_process(
            [
                binary("mariadbd", "/usr/sbin") or "mariadbd",
                "--no-defaults",
                f"--datadir={home / 'data'}",
                f"--port={port}",
                f"--bind-address={HOST}",
                f"--socket={self._socket(home)}",
                f"--pid-file={home / 'mariadb.pid'}",
                f"--log-error={home / 'server.log'}",
                f"--init-file={home / 'init.sql'}",
                "--skip-name-resolve",
                *self._as_user(),
            ],
            lambda: port_open(port),
            home / "server.log",
            TIMEOUT,
            f"MariaDB listening on {HOST}:{port}",
        )

    def running(self, home: Path) -> bool:
        return pid_alive(home / "mariadb.pid") is not None

    def stop(self, home: Path) -> None:
        stop_pid(home / "mariadb.pid", TIMEOUT, "MariaDB")

    def client(self, port: int, secret: str) -> Server:
        return Server(f"mysql://{ADMIN}:{secret}@{HOST}:{port}")


KIND = MariaDB()
