"""A private PostgreSQL server per cluster: initdb (superuser `postgres`, SCRAM passwords only, the
administrator secret from the fleet) into `<home>/data`, then `pg_ctl start` listening on 127.0.0.1 only
and on no Unix socket. PostgreSQL refuses to run as root: when the emulator is root, every command runs as
the `postgres` user (`runuser -u postgres --`), which owns the cluster's dir and must be able to reach it
(the data dir's parents must be traversable by that user)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from ..postgres import Server
from . import HOST, binary

PG_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
OS_USER = "postgres"  # who runs the server when the emulator is root
TIMEOUT = 60  # seconds for one pg_ctl or initdb


class Postgres:
    name = "postgres"
    label = "PostgreSQL"

    @staticmethod
    def _bin(name: str) -> str | None:
        return binary(name, *PG_DIRS)

    def missing(self) -> str | None:
        for name in ("initdb", "pg_ctl"):
            if self._bin(name) is None:
                return f"local PostgreSQL data planes need {name}, which is not on PATH"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "local PostgreSQL data planes as root need runuser (to run the server as 'postgres')"
        return None

    def _run(self, home: Path, *cmd: str) -> subprocess.CompletedProcess:
        as_user = ["runuser", "-u", OS_USER, "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=TIMEOUT, cwd=home)
        return done

    def _check(self, done: subprocess.CompletedProcess, what: str) -> None:
        if done.returncode != 0:
            text = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(f"{what} failed: {text[-1] if text else done.returncode}")

    def create(self, home: Path, port: int, secret: str) -> None:
        pwfile = home / "pwfile"
        pwfile.write_text(secret)
        if os.geteuid() == 0:
            user = pwd.getpwnam(OS_USER)
            for p in (home, pwfile):
                os.chown(p, user.pw_uid, user.pw_gid)
            self._check(self._run(home, "test", "-w", str(home)), f"giving {home} to the '{OS_USER}' user")
        initdb = self._bin("initdb") or "initdb"
        try:
            self._check(
                self._run(
                    home,
                    initdb,
                    "-D",
                    str(home / "data"),
                    "-U",
                    "postgres",
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ),
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self, home: Path, port: int) -> None:
        options = f"-p {port} -c listen_addresses={HOST} -c unix_socket_directories=''"
        pg_ctl = self._bin("pg_ctl") or "pg_ctl"
        done = self._run(
            home, pg_ctl, "start", "-D", str(home / "data"), "-w", "-s", "-l", str(home / "server.log"), "-o", options
        )
        self._check(done, f"starting PostgreSQL on {HOST}:{port} (log: {home / 'server.log'})")

    def running(self, home: Path) -> bool:
        return self._run(home, self._bin("pg_ctl") or "pg_ctl", "status", "-D", str(home / "data")).returncode == 0

    def stop(self, home: Path) -> None:
        if (home / "data").is_dir() and self.running(home):
            pg_ctl = self._bin("pg_ctl") or "pg_ctl"
            self._check(
                self._run(home, pg_ctl, "stop", "-D", str(home / "data"), "-w", "-s", "-m", "fast"), "pg_ctl stop"
            )

    def client(self, port: int, secret: str) -> Server:
        return Server(f"postgresql://postgres:{secret}@{HOST}:{port}/postgres")


KIND = Postgres()
