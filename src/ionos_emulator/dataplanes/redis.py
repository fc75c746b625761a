"""The real Redis behind In-Memory DB clusters: each cluster becomes an ACL user on one configured server
(`--redis-url`, IONOS_EMULATOR_REDIS_URL, e.g. redis://127.0.0.1:6379) that may only touch the keys and
Pub/Sub channels under its own prefix, `<username>:` (the API has no attribute for a prefix, so it is the
username the client already knows). The user's commands follow the product's rule: every category except
@dangerous, of which INFO, KEYS and SORT stay allowed. Deleting the cluster deletes the user and its keys.

Many clusters (of any emulator pointed at the server) share it, and the server may hold users and keys of
its own. So the emulator records which cluster owns which username in the hash `ionos-emulator:owners`
(no cluster's user can reach it: usernames have no '-'); only a recorded name is ever changed or dropped. A
requested username that the server already has as a user or a key prefix, or that another cluster owns, gets
the cluster's short id appended ("app" -> "app_1a2b3c4d"); the caller shows the name in use to the client.
Every operation is idempotent, so a retried change converges.

The connecting user needs ACL, SCAN, UNLINK and COPY on every key (the default user does). Passwords reach
the server as the SHA-256 hex the API receives; the clear password is never seen.
"""

from __future__ import annotations

import os

ENV = "IONOS_EMULATOR_REDIS_URL"
OWNERS = "ionos-emulator:owners"  # hash: username -> cluster id
CONNECT_TIMEOUT = 5  # seconds; a data-plane change runs inside the emulator's settle step
USERNAME_MAX = 16  # the API's limit; the names it shows must keep it
COMMANDS = ("+@all", "-@dangerous", "+info", "+keys", "+sort")
BATCH = 500


def server_url(settings=None) -> str:
    """The configured server, from the settings (--redis-url) or the environment."""
    return (getattr(settings, "redis_url", "") or os.environ.get(ENV, "")).strip()


def suffixed(name: str, cluster_id: str) -> str:
    short = cluster_id.replace("-", "")[:8]
    return f"{name[: USERNAME_MAX - len(short) - 1]}_{short}"


def prefix(username: str) -> str:
    """The keys and channels a cluster's user may touch start with this."""
    return f"{username}:"


class Server:
    """One Redis server, reached with a fresh connection per change."""

    def __init__(self, url: str, confined: bool = True):
        """`confined`: the server is shared, each cluster's user keeps to its prefix; else the server is one
        cluster's own (dataplanes/local/redis.py): its user has every key, under the name it asked for."""
        self.url = url
        self.confined = confined

    def where(self, cluster_id: str) -> tuple[str, int]:
        """The host and port a cluster's clients connect to: this server's, for every cluster."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 6379

    def _connect(self):
        import redis

        if not self.url.startswith(("redis://", "rediss://", "unix://")):  # reported on the cluster it fails
            raise ValueError(f"the Redis URL must start with redis://, rediss:// or unix://, got '{self.url}'")
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # no retries with back-off: the change runs inside the settle step, and a failure is reported on it
        return redis.Redis.from_url(
            self.url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=60, retry=Retry(NoBackoff(), 0)
        )

    # -- a cluster's objects ------------------------------------------------------------------------

    def ensure_cluster(self, cluster_id: str, username: str, password_sha256: str, copy_from: str | None = None) -> str:
        """The cluster's ACL user with this password hash, confined to its prefix; returns its name. With
        `copy_from` (another cluster's id) the keys of that cluster that this one lacks are copied over."""
        with self._connect() as r:
            name = self._claim(r, username, cluster_id) if self.confined else username[:USERNAME_MAX]
            keys = prefix(name) + "*" if self.confined else "*"
            r.execute_command(
                "ACL", "SETUSER", name, "reset", "on", "#" + password_sha256, "~" + keys, "&" + keys, *COMMANDS
            )
            source = self._owned(r, copy_from) if copy_from and self.confined else None
            if source and source != name:
                old, new = prefix(source).encode(), prefix(name).encode()
                for key in r.scan_iter(match=old + b"*", count=BATCH):
                    r.copy(key, new + key[len(old) :])  # keeps keys the new cluster already has
            return name

    def drop_cluster(self, cluster_id: str) -> list[str]:
        """Deletes the users the cluster owns and every key under their prefixes; returns the users."""
        dropped = []
        with self._connect() as r:
            for name, owner in r.hgetall(OWNERS).items():
                if owner.decode() != cluster_id:
                    continue
                name = name.decode()
                r.execute_command("ACL", "DELUSER", name)
                batch = []
                for key in r.scan_iter(match=prefix(name).encode() + b"*", count=BATCH):
                    batch.append(key)
                    if len(batch) >= BATCH:
                        r.unlink(*batch)
                        batch = []
                if batch:
                    r.unlink(*batch)
                r.hdel(OWNERS, name)
                dropped.append(name)
        return dropped

    # -- ownership ----------------------------------------------------------------------------------

    @staticmethod
    def _owned(r, cluster_id: str) -> str | None:
        for name, owner in r.hgetall(OWNERS).items():
            if owner.decode() == cluster_id:
                return name.decode()
        return None

    def _claim(self, r, wanted: str, cluster_id: str) -> str:
        """The name the cluster already owns, else the requested one or its suffixed variant, whichever is
        neither a user nor a key prefix on the server; HSETNX settles a race between two emulators."""
        owned = self._owned(r, cluster_id)
        if owned:
            return owned
        for name in (wanted[:USERNAME_MAX], suffixed(wanted, cluster_id)):
            if r.execute_command("ACL", "GETUSER", name) is not None:
                continue
            if next(iter(r.scan_iter(match=prefix(name).encode() + b"*", count=BATCH)), None) is not None:
                continue
            if r.hsetnx(OWNERS, name, cluster_id):
                return name
        raise RuntimeError(f"both '{wanted}' and '{suffixed(wanted, cluster_id)}' are taken on the server")
