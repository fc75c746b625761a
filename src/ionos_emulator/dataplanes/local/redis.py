"""A private Redis server per In-Memory DB cluster: redis-server daemonized with a config file in the
cluster's dir, bound to 127.0.0.1, its default user off and an administrator user `emulator` with the
fleet's secret; the cluster's user is made on it by dataplanes/redis.py without a key prefix (the whole
server is the cluster's). RDB snapshots go to the cluster's dir, so data survives a restart."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..redis import Server
from . import HOST, binary, pid_alive, port_open, stop_pid, wait_until, write_private

ADMIN = "emulator"
TIMEOUT = 20  # seconds to start or stop


class Redis:
    name = "redis"
    label = "Redis"

    def missing(self) -> str | None:
        return None if binary("redis-server") else "local In-Memory DB data planes need redis-server, not on PATH"

    def create(self, home: Path, port: int, secret: str) -> None:
        lines = [
            f"bind {HOST}",
            "protected-mode yes",
            f"port {port}",
            "daemonize yes",
            f"dir {home}",
            f"pidfile {home / 'redis.pid'}",
            f"logfile {home / 'server.log'}",
            "user default off",
            f"user {ADMIN} on >{secret} ~* &* +@all",
        ]
        write_private(home / "redis.conf", "\n".join(lines) + "\n")

    def start(self, home: Path, port: int) -> None:
        done = subprocess.run(
            [binary("redis-server") or "redis-server", str(home / "redis.conf"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"redis-server failed: {(done.stderr or done.stdout).strip()[-300:]}")
        # and its pid file written, which Redis does after it listens: a server not yet `running` was taken
        # for a failed start (a second one was started for the cluster) and a stop found no pid to stop
        wait_until(lambda: port_open(port) and self.running(home), TIMEOUT, f"Redis listening on {HOST}:{port}")

    def running(self, home: Path) -> bool:
        return pid_alive(home / "redis.pid") is not None

    def stop(self, home: Path) -> None:
        stop_pid(home / "redis.pid", TIMEOUT, "Redis")  # saves the RDB snapshot, then exits

    def client(self, port: int, secret: str) -> Server:
        return Server(f"redis://{ADMIN}:{secret}@{HOST}:{port}", confined=False)


KIND = Redis()
