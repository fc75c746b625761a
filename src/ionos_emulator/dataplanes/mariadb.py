"""The real MariaDB behind DBaaS MariaDB clusters: each cluster becomes a user and a database on one
configured server (`--mariadb-url`, IONOS_EMULATOR_MARIADB_URL, e.g. mysql://root@127.0.0.1:3306), the user
holding every privilege on that database and nothing else.

Many clusters (of any emulator pointed at the server) share it, and the server may hold users and databases
of its own. So the emulator records which cluster owns which name in a table of its own database
(`ionos_emulator.owners`); only a recorded name is ever changed or dropped. A requested name that the server
already has, or another cluster owns, gets the cluster's short id appended ("app" -> "app_1a2b3c4d"); the
caller shows the names in use to the client. Every operation is idempotent, so a retried change converges.

The connecting user needs CREATE USER and GRANT OPTION with ALL PRIVILEGES (root does). Only the
mysql_native_password hash of a password ever reaches the server or the emulator's store.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

ENV = "IONOS_EMULATOR_MARIADB_URL"
BOOKS = "ionos_emulator"  # the emulator's own database on the server
CONNECT_TIMEOUT = 5  # seconds; a data-plane change runs inside the emulator's settle step
USERNAME_MAX = 16  # the API's limit; the names it shows must keep it
DATABASE_MAX = 63


def server_url(settings=None) -> str:
    """The configured server, from the settings (--mariadb-url) or the environment."""
    return (getattr(settings, "mariadb_url", "") or os.environ.get(ENV, "")).strip()


def native_hash(password: str) -> str:
    """What mysql_native_password stores: '*' and the upper-case hex of SHA1(SHA1(password)).
    CREATE/ALTER USER ... IDENTIFIED BY PASSWORD takes it, so the clear password stays in the request."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


@dataclass(frozen=True)
class Placement:
    """The names a cluster's user and database really have on the server."""

    username: str
    database: str


def suffixed(name: str, cluster_id: str, limit: int) -> str:
    short = cluster_id.replace("-", "")[:8]
    return f"{name[: limit - len(short) - 1]}_{short}"


def quoted(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


class Server:
    """One MariaDB server, reached with a fresh autocommit connection per change."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.url_error = (
            ""
            if parts.scheme in ("mysql", "mariadb")
            else f"the MariaDB URL must start with mysql:// or mariadb://, got '{url}'"
        )
        self.host = parts.hostname or "127.0.0.1"
        try:
            self.port = parts.port or 3306
        except ValueError:
            self.port, self.url_error = 3306, f"the MariaDB URL has no valid port: '{url}'"
        self.user = unquote(parts.username or "root")
        self.password = unquote(parts.password or "")

    def where(self, cluster_id: str) -> tuple[str, int]:
        """The host and port a cluster's clients connect to: this server's, for every cluster."""
        return self.host, self.port

    def _connect(self):
        import pymysql

        if self.url_error:  # reported on the cluster it fails, rather than breaking every request
            raise ValueError(self.url_error)
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=60,
            write_timeout=60,
            charset="utf8mb4",
        )

    # -- a cluster's objects ------------------------------------------------------------------------

    def ensure_cluster(
        self, cluster_id: str, username: str, password_hash: str, database: str, copy_from: str | None = None
    ) -> Placement:
        """The cluster's user (with this password) and database, and the user's grant on it. With
        `copy_from` (another cluster's id) a new database gets that cluster's tables and rows."""
        with self._connect() as conn, conn.cursor() as cur:
            self._books(cur)
            user = self._claim(
                cur, "user", username, cluster_id, USERNAME_MAX, "SELECT 1 FROM mysql.user WHERE User = %s"
            )
            db = self._claim(
                cur,
                "database",
                database,
                cluster_id,
                DATABASE_MAX,
                "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            )
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quoted(db)}")
            cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY PASSWORD %s", (user, password_hash))
            cur.execute("ALTER USER %s@'%%' IDENTIFIED BY PASSWORD %s", (user, password_hash))
            cur.execute(f"GRANT ALL PRIVILEGES ON {quoted(db)}.* TO %s@'%%'", (user,))
            if copy_from:
                self._copy_tables(cur, self._owned(cur, "database", copy_from), db)
            return Placement(user, db)

    def drop_cluster(self, cluster_id: str) -> list[str]:
        """Drops the user and database the cluster owns; returns what was dropped."""
        dropped = []
        with self._connect() as conn, conn.cursor() as cur:
            self._books(cur)
            cur.execute(f"SELECT kind, name FROM {BOOKS}.owners WHERE cluster = %s", (cluster_id,))
            for kind, name in cur.fetchall():
                if kind == "user":
                    cur.execute("DROP USER IF EXISTS %s@'%%'", (name,))
                else:
                    cur.execute(f"DROP DATABASE IF EXISTS {quoted(name)}")
                dropped.append(f"{kind} {name}")
            cur.execute(f"DELETE FROM {BOOKS}.owners WHERE cluster = %s", (cluster_id,))
        return dropped

    # -- ownership ----------------------------------------------------------------------------------

    @staticmethod
    def _books(cur) -> None:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {BOOKS}")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {BOOKS}.owners ("
            "kind VARCHAR(16) NOT NULL, name VARCHAR(80) COLLATE utf8mb4_bin NOT NULL, "
            "cluster CHAR(36) NOT NULL, PRIMARY KEY (kind, name), KEY (cluster)) "
            "DEFAULT CHARSET = utf8mb4"
        )

    @staticmethod
    def _owned(cur, kind: str, cluster_id: str) -> str | None:
        cur.execute(f"SELECT name FROM {BOOKS}.owners WHERE kind = %s AND cluster = %s", (kind, cluster_id))
        row = cur.fetchone()
        return row[0] if row else None

    def _claim(self, cur, kind: str, wanted: str, cluster_id: str, limit: int, exists_sql: str) -> str:
        """The name the cluster already owns, else the requested one or its suffixed variant, whichever
        nothing on the server holds; the primary key settles a race between two emulators."""
        import pymysql

        owned = self._owned(cur, kind, cluster_id)
        if owned:
            return owned
        for name in (wanted[:limit], suffixed(wanted, cluster_id, limit)):
            cur.execute(exists_sql, (name,))
            if cur.fetchone():
                continue
            try:
                cur.execute(
                    f"INSERT INTO {BOOKS}.owners (kind, name, cluster) VALUES (%s, %s, %s)", (kind, name, cluster_id)
                )
                return name
            except pymysql.err.IntegrityError:
                continue
        raise RuntimeError(f"both '{wanted}' and '{suffixed(wanted, cluster_id, limit)}' are taken on the server")

    @staticmethod
    def _copy_tables(cur, source: str | None, target: str) -> None:
        """Tables (structure and rows) of `source` that `target` does not have yet."""
        if not source or source == target:
            return
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
            (source,),
        )
        tables = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (target,))
        present = {r[0] for r in cur.fetchall()}
        for table in tables:
            if table in present:
                continue
            src, dst = f"{quoted(source)}.{quoted(table)}", f"{quoted(target)}.{quoted(table)}"
            cur.execute(f"CREATE TABLE {dst} LIKE {src}")
            cur.execute(f"INSERT INTO {dst} SELECT * FROM {src}")
