"""A private Redis server per In-Memory DB cluster: redis-server in a session of its own (not daemonized)
with a config file in the cluster's dir, bound to 127.0.0.1, its default user off and an administrator user
`emulator` with the fleet's secret; the cluster's user is made on it by dataplanes/redis.py without a key
prefix (the whole server is the cluster's). RDB snapshots go to the cluster's dir, so data survives a
restart."""

from __future__ import annotations

from pathlib import Path

from ..redis import Server
from . import HOST, binary, pid_alive, port_open, start_process, stop_pid, write_private

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
            "daemonize no",
            f"dir {home}",
            f"pidfile {home / 'redis.pid'}",
            f"logfile {home / 'server.log'}",
            "user default off",
            f"user {ADMIN} on >{secret} ~* &* +@all",
        ]
        write_private(home / "redis.conf", "\n".join(lines) + "\n")

    def start(self, home: Path, port: int) -> None:
        # in the foreground of a session of its own rather than daemonized: a daemon that cannot bind its port
        # exits after its parent said it started, and the start waited the whole timeout for nothing
        redis = binary("redis-server") or "redis-server"
        start_process(  # --daemonize no also for a config written before, which said yes
            [redis, str(home / "redis.conf"), "--port", str(port), "--daemonize", "no"],
            # and its pid file written, which Redis does after it listens: a server not yet `running` was taken
            # for a failed start (a second one was started for the cluster) and a stop found no pid to stop
            lambda: port_open(port) and self.running(home),
            home / "server.log",
            TIMEOUT,
            f"Redis listening on {HOST}:{port}",
        )

    def running(self, home: Path) -> bool:
        return pid_alive(home / "redis.pid") is not None

    def stop(self, home: Path) -> None:
        stop_pid(home / "redis.pid", TIMEOUT, "Redis")  # saves the RDB snapshot, then exits

    def client(self, port: int, secret: str) -> Server:
        return Server(f"redis://{ADMIN}:{secret}@{HOST}:{port}", confined=False)


KIND = Redis()
