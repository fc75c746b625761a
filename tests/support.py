"""Test support: emulators on a free loopback port, in strict mode (every response checked against the
compiled spec), and the small helpers the end-to-end tests share.

`Emulator` is one `ionos-emulator serve` process (tests that restart, kill or configure their own);
`InProcessEmulator` is the same app under uvicorn in a thread of the test process, on a real socket (the
shared emulator of the run: no process to start, same interface)."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OWNER = ("admin@ionos-emulator.local", "emulator")
COVERAGE_FILE = ROOT / "build" / "coverage.json"
# When set (e.g. postgresql://postgres@127.0.0.1:5432), every emulator of the run keeps its state in a fresh
# PostgreSQL database on that server instead of SQLite: the same suite then checks the shared-state backend.
TEST_DATABASE = os.environ.get("IONOS_EMULATOR_TEST_DATABASE", "").rstrip("/")

# coverage gathered from every emulator process the run started: "api:operationId" -> set of test ids
COVERAGE: dict[str, set[str]] = {}
IMPLEMENTED: dict[str, bool] = {}
VIOLATIONS: list[dict] = []

_HTTP: httpx.Client | None = None


def http_client() -> httpx.Client:
    """The one HTTP client of the support helpers (kept-alive connections instead of one per call)."""
    global _HTTP
    if _HTTP is None:
        _HTTP = httpx.Client(timeout=10)
    return _HTTP


def close_http_client() -> None:
    global _HTTP
    if _HTTP is not None:
        _HTTP.close()
        _HTTP = None


def free_port() -> int:
    """A free TCP port below the ephemeral range, so the suite's own client connections (which take
    ephemeral ports) cannot grab it between this check and the emulator's bind."""
    import random

    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_and_tcp_port() -> int:
    """A port free for UDP and TCP alike, below the ephemeral range the suite's own connections take ports
    from (a port picked with bind(0) for UDP can be in use by a TCP connection)."""
    import random

    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            try:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both UDP and TCP")


class Emulator:
    """One `ionos-emulator serve` process."""

    def __init__(self, data_dir: Path, *, port: int | None = None, args: tuple[str, ...] = (), env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.args = args
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.cloud = self.url + "/cloudapi/v6"
        self.auth = self.url + "/auth/v1"
        self.startup_seconds = 0.0
        self.log = self.data_dir.with_suffix(".log")
        # a test that names its own database (a private PostgreSQL server) keeps it: the run's would come after
        # its --database on the command line and win
        self.database = _fresh_database() if TEST_DATABASE and "--database" not in args else ""

    def start(self) -> Emulator:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        cmd = [
            sys.executable,
            "-m",
            "ionos_emulator.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--strict",
            *self.args,
        ]
        if self.database:
            cmd += ["--database", self.database]
        if "--dns-port" not in self.args:  # many emulators run at once: only a test that asks gets a DNS server
            cmd += ["--dns-port", "0"]
        started = time.perf_counter()
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT, env=env)
        # generous: with PYTHONDONTWRITEBYTECODE (set on these machines) every start compiles the sources, and
        # a loaded machine takes seconds for that per worker
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if http_client().get(self.url + "/_emulator/health", timeout=0.5).status_code == 200:
                    self.startup_seconds = time.perf_counter() - started
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError("emulator did not become healthy")

    @property
    def running(self) -> bool:
        return self.proc is not None

    def admin(self, method: str, path: str, **kw) -> httpx.Response:
        """An /_emulator call, as the owner unless told otherwise (a protected emulator needs a credential)."""
        kw.setdefault("auth", OWNER)
        return http_client().request(method, self.url + "/_emulator/" + path, **kw)

    def label(self, test_id: str) -> None:
        self.admin("POST", "coverage", json={"test": test_id})

    def collect(self) -> None:
        """Pull coverage and spec violations out of the process before it goes away."""
        try:
            cov = self.admin("GET", "coverage").json()
            IMPLEMENTED.update(cov["implemented"])
            for op, tests in cov["exercised"].items():
                COVERAGE.setdefault(op, set()).update(tests)
            VIOLATIONS.extend(self.admin("GET", "violations").json())
        except httpx.HTTPError:
            pass

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.collect()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (durability tests)."""
        if self.proc:
            self.collect()
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def http(self, user: str = OWNER[0], password: str = OWNER[1]) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(user, password), timeout=30)


class InProcessEmulator(Emulator):
    """The emulator app (`create_app(Settings(...))`, as `serve` builds it) under uvicorn in a thread of the test
    process, on a real loopback socket, so the SDKs talk HTTP to it as to the process. Its lifespan (warming,
    the ticker, gc.freeze) runs in that thread's event loop; stop() shuts uvicorn down gracefully, which runs
    the lifespan's shutdown (ticker cancelled, store closed). One process-wide environment: no `env`, no
    `--workers`; settings come from the environment like `serve`'s, overridden by keyword arguments."""

    def __init__(self, data_dir: Path, *, port: int | None = None, **settings):
        super().__init__(data_dir, port=port)
        self.settings = settings
        self.server = None
        self.thread: threading.Thread | None = None
        self.app = None
        self.started_once = False

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self) -> InProcessEmulator:
        from ionos_emulator.app import create_app
        from ionos_emulator.settings import Settings
        from ionos_emulator.testing import ThreadedServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        sock = self._bind()
        overrides = dict(
            host="127.0.0.1",
            port=self.port,
            data_dir=str(self.data_dir),
            strict=True,
            dns_port=0,
            database=self.database or None,
        )  # as the subprocess gets --dns-port 0
        overrides.update(self.settings)
        settings = Settings.from_env(**overrides)
        try:
            self.app = create_app(settings)
            self.server = ThreadedServer(self.app, settings, sock)
        except BaseException:
            sock.close()
            raise
        self.thread = self.server.thread
        try:
            self.server.start()
        except RuntimeError:
            self.thread = self.server = self.app = None
            raise
        self.started_once = True
        self.startup_seconds = time.perf_counter() - started
        return self

    def _bind(self) -> socket.socket:
        """The listening socket, bound here so a port taken meanwhile is a retry with another, not a dead thread."""
        from ionos_emulator.testing import listen

        for attempt in range(20):
            try:
                return listen(self.port)
            except OSError:
                if self.started_once or attempt == 19:  # a restart keeps the URL its clients know
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self.cloud, self.auth = self.url + "/cloudapi/v6", self.url + "/auth/v1"
        raise AssertionError("unreachable")

    def _join(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.thread = None
        self.server = None
        self.app = None

    def stop(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.collect()
        self._join()

    def kill(self) -> None:
        raise NotImplementedError("an in-process emulator cannot be SIGKILLed: use make_emulator")


def _fresh_database() -> str:
    import uuid

    import psycopg

    name = f"emu_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{TEST_DATABASE}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{TEST_DATABASE}/{name}"


def drop_test_databases() -> None:
    """The run's databases are dropped at its end, and those of runs whose process is gone (a crashed run's
    leftovers); a run still going on beside this one keeps its own (the name carries the runner's pid)."""
    if not TEST_DATABASE:
        return
    import psycopg

    with psycopg.connect(f"{TEST_DATABASE}/postgres", autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'emu_test_%'")]
        for name in names:
            pid = name.split("_")[2]
            if not pid.isdigit() or int(pid) == os.getpid() or not _alive(int(pid)):
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_coverage() -> None:
    COVERAGE_FILE.parent.mkdir(parents=True, exist_ok=True)
    COVERAGE_FILE.write_text(
        json.dumps(
            {"implemented": IMPLEMENTED, "exercised": {k: sorted(v) for k, v in sorted(COVERAGE.items())}}, indent=1
        )
    )


# -- SDK helpers --------------------------------------------------------------------------------------

REQUEST_ID = re.compile(r"/requests/([-a-f0-9]+)/status$")


def request_id(headers) -> str:
    """The request id from a Location header, with the regex Ansible and the SDK users apply."""
    loc = headers["Location"]
    assert loc.startswith("http://127.0.0.1:"), loc  # absolute and routable back to the emulator
    m = REQUEST_ID.search(loc)
    assert m, loc
    return m.group(1)


def wait(client, headers, timeout: float = 30) -> None:
    client.wait_for_completion(request_id(headers), timeout=timeout, initial_wait=0.01, max_wait=0.2)


def jwt_parts(token: str) -> tuple[dict, dict]:
    h, p, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(pad(h))), json.loads(base64.urlsafe_b64decode(pad(p)))


# -- product API helpers ------------------------------------------------------------------------------


def bearer(emu: Emulator, cred: tuple[str, str] = OWNER) -> str:
    """A token from the Auth API, as the product SDKs (Bearer only) need."""
    return http_client().get(emu.auth + "/tokens/generate", auth=cred).json()["token"]


def datacenter_with_lan(
    emu: Emulator, location: str = "de/fra", public: bool = False, auth: tuple[str, str] = OWNER
) -> tuple[str, str]:
    """A data center and a LAN in it (Cloud API), for a managed cluster's connection to point at."""
    h = http_client()
    r = h.post(emu.cloud + "/datacenters", auth=auth, json={"properties": {"name": "db-net", "location": location}})
    assert r.status_code == 202, r.text
    dc = r.json()["id"]
    r = h.post(f"{emu.cloud}/datacenters/{dc}/lans", auth=auth, json={"properties": {"name": "db", "public": public}})
    assert r.status_code == 202, r.text
    return dc, r.json()["id"]


def new_user(emu: Emulator, prefix: str = "user") -> tuple[str, tuple[str, str]]:
    """A new non-administrator of the owner's contract, through the Cloud API SDK: (its id, its credentials)."""
    import ionoscloud

    email, password = f"{prefix}-{os.urandom(4).hex()}@example.com", "Passw0rd!"
    with _cloud_client(emu) as cloud:
        props = ionoscloud.UserPropertiesPost(
            firstname=prefix, lastname="User", email=email, password=password, administrator=False
        )
        user, _, h = ionoscloud.UserManagementApi(cloud).um_users_post_with_http_info(
            ionoscloud.UserPost(properties=props)
        )
        wait(cloud, h)
    return user.id, (email, password)


def grant(emu: Emulator, user_id: str, **privileges: bool) -> None:
    """Puts the user in a new group with `privileges` (GroupProperties keywords: access_and_manage_cdn=True)."""
    import ionoscloud

    with _cloud_client(emu) as cloud:
        um = ionoscloud.UserManagementApi(cloud)
        props = ionoscloud.GroupProperties(name=f"g-{os.urandom(3).hex()}", **privileges)
        group, _, h = um.um_groups_post_with_http_info(ionoscloud.Group(properties=props))
        wait(cloud, h)
        wait(cloud, um.um_groups_users_post_with_http_info(group.id, ionoscloud.UserGroupPost(id=user_id))[2])


def _cloud_client(emu: Emulator):
    import ionoscloud

    return ionoscloud.ApiClient(ionoscloud.Configuration(host=emu.cloud, username=OWNER[0], password=OWNER[1]))


def uploaded_certificate(emu: Emulator, domain: str) -> str:
    """A self-signed certificate for `domain` with its key, uploaded to Certificate Manager (the current API):
    its id, for the products whose resources name one (API Gateway, CDN); `UPLOADED[id]` is its PEM."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    body = {
        "properties": {"name": domain, "certificate": cert_pem, "certificateChain": cert_pem, "privateKey": key_pem}
    }
    r = http_client().post(
        emu.url + "/certmanager/de-fra/certificates", json=body, headers={"Authorization": f"Bearer {bearer(emu)}"}
    )
    assert r.status_code in (200, 201, 202), r.text
    UPLOADED[r.json()["id"]] = cert_pem
    return str(r.json()["id"])


UPLOADED: dict[str, str] = {}  # certificate id -> its PEM, as uploaded_certificate made it


def refused(call, *args, **kw) -> tuple[int, str]:
    """The status and first message of an official SDK's call that the emulator refuses (its ApiException), after
    checking the error envelope: httpStatus is the status, errorCode a string."""
    try:
        call(*args, **kw)
    except Exception as e:
        if not (hasattr(e, "status") and hasattr(e, "body")):
            raise
        body = json.loads(e.body)
        assert body["httpStatus"] == e.status and isinstance(body["messages"][0]["errorCode"], str)
        return e.status, body["messages"][0]["message"]
    raise AssertionError(f"{getattr(call, '__name__', call)} was not refused")


def new_member(
    emu: Emulator, prefix: str = "user", *, group: bool = False, **privileges: bool
) -> tuple[str, str, str, str | None]:
    """A user who is no administrator (email, password, user id) and, asked for or given privileges, a group of
    theirs holding them (its id; else None)."""
    email, password = f"{prefix}-{os.urandom(4).hex()}@example.com", "Passw0rd!"
    h = http_client()
    person = {"firstname": "T", "lastname": "U", "email": email, "password": password, "administrator": False}
    r = h.post(emu.cloud + "/um/users", auth=OWNER, json={"properties": person})
    assert r.status_code == 202, r.text
    user = r.json()["id"]
    if not (group or privileges):
        return email, password, user, None
    name = f"{prefix}-{os.urandom(3).hex()}"
    gid = h.post(emu.cloud + "/um/groups", auth=OWNER, json={"properties": {"name": name, **privileges}}).json()["id"]
    assert h.post(f"{emu.cloud}/um/groups/{gid}/users", auth=OWNER, json={"id": user}).status_code == 202
    return email, password, user, gid
