"""The real PostgreSQL behind DBaaS PostgreSQL clusters: each cluster becomes a login role and a database
owned by it on one configured server (`--postgres-url`, IONOS_EMULATOR_POSTGRES_URL).

Many clusters (of any emulator pointed at the server) share it, so every object a cluster gets is
marked with a comment naming the cluster; the mark is how the emulator finds its objects again and the
only thing that allows dropping one. A requested name that something else already holds on the server
gets the cluster's short id appended ("app" -> "app_1a2b3c4d"); the names in use are returned to the
caller, which shows them to the client. Every operation is idempotent, so a retried change converges.

The connecting user must be a superuser (or have CREATEROLE and CREATEDB and be a member of the roles it
creates). Only a password verifier (SCRAM-SHA-256) ever reaches the server or the emulator's store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")

MARK = "ionos-emulator cluster "
CONNECT_TIMEOUT = 5  # seconds; a data-plane change runs inside the emulator's settle step
IDENTIFIER_MAX = 63  # PostgreSQL truncates longer names
SCRAM_ITERATIONS = 4096  # PostgreSQL's own default


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677); accepted verbatim by
    CREATE/ALTER ROLE ... PASSWORD, so the clear password never leaves the request."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"


@dataclass(frozen=True)
class Placement:
    """Where a cluster lives on the server: the names its role and database really have."""

    role: str
    database: str


def member_mark(cluster_id: str, what: str, name: str) -> str:
    """The mark of a cluster's further user or database (the DBaaS v1 API's): the cluster's, then its API name."""
    return f"{MARK}{cluster_id} {what} {name}"


def suffixed(name: str, cluster_id: str) -> str:
    short = cluster_id.replace("-", "")[:8]
    return f"{name[: IDENTIFIER_MAX - len(short) - 1]}_{short}"


class Server:
    """One PostgreSQL server, reached with a fresh autocommit connection per change."""

    def __init__(self, url: str):
        from psycopg.conninfo import conninfo_to_dict

        self.url = url
        info = conninfo_to_dict(url)
        host = str(info.get("host") or "127.0.0.1")
        self.host = "127.0.0.1" if host.startswith("/") else host.split(",")[0]  # a socket dir is local
        self.port = int(str(info.get("port") or 5432).split(",")[0])

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def where(self, cluster_id: str) -> tuple[str, int]:
        """The host and port a cluster's clients connect to: this server's, for every cluster."""
        return self.host, self.port

    def _connect(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)

    # -- a cluster's objects ------------------------------------------------------------------------

    def ensure_cluster(self, cluster_id: str, username: str, verifier: str, database: str) -> Placement:
        """The cluster's login role (with this password) and its initial database owned by the role."""
        from psycopg import errors, sql

        mark = MARK + cluster_id
        with self._connect() as conn:
            role = self._marked_role(conn, mark)
            if role is None:
                role = self._retrying(
                    errors.DuplicateObject,
                    lambda: self._create_role(
                        conn, self._free_name(conn, "pg_roles", "rolname", username, cluster_id), verifier, mark
                    ),
                )
            else:
                conn.execute(
                    sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier))
                )
            db = self._marked_database(conn, mark, role, database, cluster_id)
            if db is None:
                db = self._retrying(
                    errors.DuplicateDatabase,
                    lambda: self._create_database(
                        conn, self._free_name(conn, "pg_database", "datname", database, cluster_id), role
                    ),
                )
            # CREATE DATABASE cannot share a transaction with its comment: a database left unmarked by a crash
            # is recognised by its owner (above) and marked now
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(db), sql.Literal(mark)))
            # other clusters' roles must not reach this database (PUBLIC may connect by default)
            conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(db)))
            return Placement(role, db)

    def server(self, cluster_id: str) -> Server:
        """The server a cluster's own objects are on: this one, for every cluster."""
        return self

    # -- a cluster's further users and databases (the DBaaS v1 API's) -----------------------------------

    def ensure_user(self, cluster_id: str, username: str, verifier: str) -> str:
        """A further login role of the cluster, with this password; returns its name on the server (the
        asked one, or suffixed when something else holds it). It may connect to the cluster's databases."""
        from psycopg import errors, sql

        mark = member_mark(cluster_id, "user", username)
        with self._connect() as conn:
            role = self._role_marked(conn, mark)
            if role is None:
                role = self._retrying(
                    errors.DuplicateObject,
                    lambda: self._create_role(
                        conn, self._free_name(conn, "pg_roles", "rolname", username, cluster_id), verifier, mark, False
                    ),
                )
            else:
                conn.execute(
                    sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier))
                )
            self._share(conn, cluster_id)
            return role

    def drop_user(self, cluster_id: str, username: str) -> str | None:
        """Drops the cluster's further role `username` after ending its sessions: what it owns in the cluster's
        databases goes to the cluster's initial role first. Returns the role's name on the server, if any."""
        from psycopg import sql

        with self._connect() as conn:
            role = self._role_marked(conn, member_mark(cluster_id, "user", username))
            if role is None:
                return None
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
                (role,),
            )
            heir = self._marked_role(conn, MARK + cluster_id) or conn.info.user
            for db in [*self._cluster_databases(conn, cluster_id), conn.info.dbname]:
                with self._connect_to(db) as there:
                    there.execute(
                        sql.SQL("REASSIGN OWNED BY {} TO {}").format(sql.Identifier(role), sql.Identifier(heir))
                    )
                    there.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            return role

    def ensure_database(self, cluster_id: str, name: str, owner: str) -> str:
        """A further database of the cluster owned by the role `owner` (its name on the server); returns the
        database's name on the server. The cluster's roles may connect to it, other clusters' may not."""
        from psycopg import errors, sql

        mark = member_mark(cluster_id, "database", name)
        with self._connect() as conn:
            row = conn.execute(
                "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') = %s", (mark,)
            ).fetchone()
            if row is None:
                row = conn.execute(  # made by a change cut short before its mark
                    "SELECT datname FROM pg_database d WHERE shobj_description(d.oid, 'pg_database') IS NULL "
                    "AND d.datdba = (SELECT oid FROM pg_roles WHERE rolname = %s) AND d.datname = ANY(%s)",
                    (owner, [name, suffixed(name, cluster_id)]),
                ).fetchone()
            db = row[0] if row else None
            if db is None:
                db = self._retrying(
                    errors.DuplicateDatabase,
                    lambda: self._create_database(
                        conn, self._free_name(conn, "pg_database", "datname", name, cluster_id), owner
                    ),
                )
            else:
                conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db), sql.Identifier(owner)))
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(db), sql.Literal(mark)))
            conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(db)))
            self._share(conn, cluster_id)
            return db

    def drop_database(self, cluster_id: str, name: str) -> str | None:
        """Drops the cluster's further database `name`, ending its sessions; returns its name on the server."""
        from psycopg import sql

        with self._connect() as conn:
            row = conn.execute(
                "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') = %s",
                (member_mark(cluster_id, "database", name),),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (row[0],),
            )
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(row[0])) + force)
            return str(row[0])

    @staticmethod
    def _cluster_roles(conn, cluster_id: str) -> list[str]:
        mark = MARK + cluster_id
        return [
            r[0]
            for r in conn.execute(
                "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = %s "
                "OR starts_with(shobj_description(oid, 'pg_authid'), %s) ORDER BY oid",
                (mark, mark + " "),
            )
        ]

    @staticmethod
    def _cluster_databases(conn, cluster_id: str) -> list[str]:
        mark = MARK + cluster_id
        return [
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') = %s "
                "OR starts_with(shobj_description(oid, 'pg_database'), %s) ORDER BY oid",
                (mark, mark + " "),
            )
        ]

    def _share(self, conn, cluster_id: str) -> None:
        """Every role of a cluster may connect to every database of it, as on a server of its own (where
        PUBLIC may); PUBLIC may not, as other clusters' roles are on the same server."""
        from psycopg import sql

        roles = self._cluster_roles(conn, cluster_id)
        for db in self._cluster_databases(conn, cluster_id):
            if roles:
                conn.execute(
                    sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                        sql.Identifier(db), sql.SQL(", ").join(sql.Identifier(r) for r in roles)
                    )
                )

    def _connect_to(self, database: str):
        import psycopg
        from psycopg.conninfo import make_conninfo

        return psycopg.connect(
            make_conninfo(self.url, dbname=database), autocommit=True, connect_timeout=CONNECT_TIMEOUT
        )

    @staticmethod
    def _role_marked(conn, mark: str) -> str | None:
        row = conn.execute("SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = %s", (mark,))
        found = row.fetchone()
        return found[0] if found else None

    def drop_cluster(self, cluster_id: str) -> tuple[list[str], list[str]]:
        """Drops the cluster's databases (its initial one and any its roles created) and its roles, after
        ending their sessions. Returns (databases, roles) dropped."""
        from psycopg import sql

        mark = MARK + cluster_id
        with self._connect() as conn:
            roles = self._cluster_roles(conn, cluster_id)  # its initial role and its further ones
            dbs = [
                r[0]
                for r in conn.execute(
                    "SELECT datname FROM pg_database d WHERE shobj_description(d.oid, 'pg_database') = %s "
                    "OR starts_with(shobj_description(d.oid, 'pg_database'), %s) "
                    "OR d.datdba IN (SELECT oid FROM pg_roles WHERE rolname = ANY(%s))",
                    (mark, mark + " ", roles),
                )
            ]
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE (datname = ANY(%s) OR usename = ANY(%s)) AND pid <> pg_backend_pid()",
                (dbs, roles),
            )
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            for db in dbs:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)) + force)
            for role in roles:
                # grants the role received in the maintenance database would keep it alive
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            return dbs, roles

    # -- creating and naming ------------------------------------------------------------------------

    @staticmethod
    def _retrying(duplicate: type[Exception], make: Callable[[], _T]) -> _T:
        """Another client may take the name between the look-up and the create: look again, once."""
        try:
            return make()
        except duplicate:
            return make()

    @staticmethod
    def _create_role(conn, role: str, verifier: str, mark: str, createdb: bool = True) -> str:
        from psycopg import sql

        create = "CREATE ROLE {} LOGIN CREATEDB PASSWORD {}" if createdb else "CREATE ROLE {} LOGIN PASSWORD {}"
        with conn.transaction():  # the role and its mark appear together or not at all
            conn.execute(sql.SQL(create).format(sql.Identifier(role), sql.Literal(verifier)))
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(sql.Identifier(role), sql.Literal(mark)))
        return role

    @staticmethod
    def _create_database(conn, db: str, owner: str) -> str:
        from psycopg import sql

        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), sql.Identifier(owner)))
        return db

    @staticmethod
    def _marked_role(conn, mark: str) -> str | None:
        row = conn.execute(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = %s ORDER BY oid LIMIT 1", (mark,)
        ).fetchone()
        return row[0] if row else None

    @staticmethod
    def _marked_database(conn, mark: str, role: str, wanted: str, cluster_id: str) -> str | None:
        row = conn.execute(
            "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') = %s ORDER BY oid LIMIT 1",
            (mark,),
        ).fetchone()
        if row:
            return row[0]
        row = conn.execute(
            "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
            "WHERE r.rolname = %s AND d.datname = ANY(%s)",
            (role, [wanted, suffixed(wanted, cluster_id)]),
        ).fetchone()
        return row[0] if row else None

    @staticmethod
    def _free_name(conn, catalog: str, column: str, wanted: str, cluster_id: str) -> str:
        """The requested name, or the cluster's suffixed variant when the server already has the name."""
        for name in (wanted[:IDENTIFIER_MAX], suffixed(wanted, cluster_id)):
            taken = conn.execute(f"SELECT 1 FROM {catalog} WHERE {column} = %s", (name,)).fetchone()
            if not taken:
                return name
        raise RuntimeError(f"both '{wanted}' and '{suffixed(wanted, cluster_id)}' are taken on the server")
