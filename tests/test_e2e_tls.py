"""End-to-end: clients that know only the real IONOS host names (https://api.ionos.com/cloudapi/v6,
https://dns.de-fra.ionos.com) work against `serve --tls`, trusting the CA the emulator exports; its DNS
server sends those names to it; `hosts` and `env` prepare a machine and a shell.

The names are resolved to the emulator inside this test process only (a network backend for httpx, a
patched socket.getaddrinfo for the SDK's urllib3), never through the machine's hosts file; port 443 of the
real names goes to the emulator's HTTPS port."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time

import dns.message
import dns.query
import dns.rcode
import httpcore
import httpx
import ionoscloud
import pytest
from click.testing import CliRunner

from ionos_emulator import hostsfile
from ionos_emulator.cli import main
from support import OWNER, Emulator, free_port, udp_and_tcp_port

REAL = ("api.ionos.com", "dns.de-fra.ionos.com")


class Tls:
    def __init__(self, emu: Emulator, https_port: int, dns_port: int, ca: str):
        self.emu, self.https_port, self.dns_port, self.ca = emu, https_port, dns_port, ca


def start(make_emulator, tmp_path) -> Tls:
    https_port, dns_port = free_port(), udp_and_tcp_port()
    emu = make_emulator("tls", args=("--tls", "--https-port", str(https_port), "--dns-port", str(dns_port)))
    # the CA as a client gets it: `ionos-emulator ca --pem`
    pem = cli("ca", "--pem", "--data-dir", str(emu.data_dir))
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    ca = tmp_path / "emulator-ca.pem"
    ca.write_text(pem)
    return Tls(emu, https_port, dns_port, str(ca))


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


class RealHostsBackend(httpcore.SyncBackend):
    """Connects the real IONOS names on port 443 to the emulator; TLS (SNI, the certificate check) and the
    Host header still carry the real name."""

    def __init__(self, https_port: int):
        self.https_port = https_port

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if host.endswith(".ionos.com") and port == 443:
            host, port = "127.0.0.1", self.https_port
        return super().connect_tcp(host, port, timeout, local_address, socket_options)


def real_host_client(tls: Tls, auth=OWNER) -> httpx.Client:
    context = ssl.create_default_context(cafile=tls.ca)
    transport = httpx.HTTPTransport(verify=context)
    # httpx takes no network backend: its connection pool is made again with one
    transport._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=RealHostsBackend(tls.https_port))
    return httpx.Client(transport=transport, auth=auth, timeout=30)


def until(fn, timeout: float = 10):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value or time.time() > deadline:
            return value
        time.sleep(0.05)


def test_hard_coded_real_hosts_over_https_and_the_dns_server(make_emulator, tmp_path):
    tls = start(make_emulator, tmp_path)
    with real_host_client(tls) as c:
        # Cloud API at its real URL: hrefs and Location keep https and the real host
        r = c.post(
            "https://api.ionos.com/cloudapi/v6/datacenters",
            json={"properties": {"name": "over-tls", "location": "de/fra"}},
        )
        assert r.status_code == 202, r.text
        dc = r.json()
        assert dc["href"] == f"https://api.ionos.com/cloudapi/v6/datacenters/{dc['id']}"
        status = c.get(r.headers["Location"])  # followed verbatim, as pollers do
        assert r.headers["Location"].startswith("https://api.ionos.com/cloudapi/v6/requests/")
        assert status.status_code == 200 and status.json()["metadata"]["status"] in ("QUEUED", "RUNNING", "DONE")
        got = until(lambda: c.get(dc["href"]).json()["metadata"]["state"] == "AVAILABLE")
        assert got
        # Cloud DNS at its real host (no path prefix), Bearer as the DNS SDK sends it
        token = c.get("https://api.ionos.com/auth/v1/tokens/generate").json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        zone_name = f"tls-{os.getpid()}.example"
        r = c.post(
            "https://dns.de-fra.ionos.com/zones",
            json={"properties": {"zoneName": zone_name}},
            auth=None,
            headers=bearer,
        )
        assert r.status_code == 202, r.text
        zone = r.json()["id"]
        r = c.post(
            f"https://dns.de-fra.ionos.com/zones/{zone}/records",
            auth=None,
            headers=bearer,
            json={"properties": {"name": "www", "type": "A", "content": "192.0.2.44"}},
        )
        assert r.status_code == 202, r.text
        record = r.json()["id"]
        assert until(
            lambda: (
                c.get(f"https://dns.de-fra.ionos.com/zones/{zone}/records/{record}", auth=None, headers=bearer).json()[
                    "metadata"
                ]["state"]
                == "AVAILABLE"
            )
        )
        # the same emulator over plain HTTP still answers, with http hrefs
        plain = httpx.get(tls.emu.cloud + f"/datacenters/{dc['id']}", auth=OWNER)
        assert plain.json()["href"].startswith(tls.emu.url + "/cloudapi/v6/")

    # the DNS server: the real API names resolve to the emulator, and the zone answers as before
    def ask(name: str, rdtype: str) -> dns.message.Message:
        return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=tls.dns_port, timeout=3)

    for name in REAL + ("mariadb.us-ewr.ionos.com",):
        answer = ask(name, "A")
        assert answer.rcode() == dns.rcode.NOERROR
        assert [rd.address for rrset in answer.answer for rd in rrset] == ["127.0.0.1"], answer
    assert ask("api.ionos.com", "AAAA").answer == []  # NODATA: the emulator listens on IPv4 only
    tcp = dns.query.tcp(dns.message.make_query("api.ionos.com", "A"), "127.0.0.1", port=tls.dns_port, timeout=3)
    assert [rd.address for rrset in tcp.answer for rd in rrset] == ["127.0.0.1"]
    www = until(lambda: [rd.address for rrset in ask(f"www.{zone_name}", "A").answer for rd in rrset])
    assert www == ["192.0.2.44"]
    assert ask("not-an-api.ionos.com", "A").rcode() == dns.rcode.REFUSED  # no zone, not a served name


def test_tls_is_real_without_the_ca_the_handshake_fails(make_emulator, tmp_path):
    tls = start(make_emulator, tmp_path)

    def handshake(context: ssl.SSLContext, name: str) -> dict:
        with socket.create_connection(("127.0.0.1", tls.https_port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=name) as s:
                return s.getpeercert()

    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        handshake(ssl.create_default_context(), "api.ionos.com")  # the system's roots only
    trusted = ssl.create_default_context(cafile=tls.ca)
    cert = handshake(trusted, "api.ionos.com")
    names = {v for k, v in cert["subjectAltName"]}
    assert {
        "api.ionos.com",
        "dns.de-fra.ionos.com",
        "*.ionos.com",
        "*.ionoscloud.com",
        "localhost",
        "127.0.0.1",
        "s3.eu-central-3.ionoscloud.com",
    } <= names
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        handshake(trusted, "api.example.com")  # the CA is trusted, but the certificate does not name it
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"https://127.0.0.1:{tls.https_port}/cloudapi/v6/", auth=OWNER)


def test_the_sdk_with_its_default_host(make_emulator, tmp_path, monkeypatch):
    """The official ionoscloud SDK, host left at its default https://api.ionos.com/cloudapi/v6."""
    tls = start(make_emulator, tmp_path)
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kw):
        if host in REAL and str(port) == "443":
            return real_getaddrinfo("127.0.0.1", tls.https_port, *args, **kw)
        return real_getaddrinfo(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)  # urllib3's create_connection asks it
    cfg = ionoscloud.Configuration(username=OWNER[0], password=OWNER[1])
    assert cfg.host == "https://api.ionos.com/cloudapi/v6"
    cfg.ssl_ca_cert = tls.ca
    with ionoscloud.ApiClient(cfg) as client:
        api = ionoscloud.DataCentersApi(client)
        dc, _, headers = api.datacenters_post_with_http_info(
            datacenter=ionoscloud.DatacenterPost(
                properties=ionoscloud.DatacenterPropertiesPost(name="sdk-default-host", location="de/txl")
            )
        )
        location = headers["Location"]
        assert location.startswith("https://api.ionos.com/cloudapi/v6/requests/"), location
        request_id = re.search(r"/requests/([-a-f0-9]+)/status$", location).group(1)
        client.wait_for_completion(request_id, timeout=30, initial_wait=0.01, max_wait=0.2)
        got = api.datacenters_find_by_id(dc.id)
        assert got.properties.name == "sdk-default-host" and got.metadata.state == "AVAILABLE"
        assert got.href == f"https://api.ionos.com/cloudapi/v6/datacenters/{dc.id}"


def test_env_tls_evaluated_in_bash(make_emulator, tmp_path):
    """`eval "$(ionos-emulator env --tls)"`: every file variable points at a file, and a client that uses
    only the variables (URL, token, CA bundle) reaches the emulator over HTTPS."""
    tls = start(make_emulator, tmp_path)
    emu = tls.emu
    cmd = (
        f"{sys.executable} -m ionos_emulator.cli env --tls --token --port {emu.port} "
        f"--https-port {tls.https_port} --data-dir {emu.data_dir}"
    )
    check = (
        "import os, re, httpx; cloud = re.search(r'(https://[^\\x22]+/cloudapi/v6)', "
        "open(os.environ['IONOS_CONFIG_FILE']).read()).group(1); r = httpx.get(cloud + '/datacenters', "
        "headers={'Authorization': 'Bearer ' + os.environ['IONOS_TOKEN']}, verify=os.environ['SSL_CERT_FILE']);"
        "print('STATUS', r.status_code)"
    )
    script = (
        f'set -e; eval "$({cmd})"; env | grep -E "^(IONOS|SSL|REQUESTS|NODE|CURL|AWS)_" | sort; '
        f'{sys.executable} -c "{check}"'
    )
    out = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("IONOS_")},
    )
    assert out.returncode == 0, out.stderr
    values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    for name in (
        "IONOS_CONFIG_FILE",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "CURL_CA_BUNDLE",
        "AWS_CA_BUNDLE",
    ):
        assert os.path.isfile(values[name]), (name, values.get(name))
    assert "IONOS_API_URL" not in values  # the tools would send every product API to it
    assert "IONOS_USERNAME" not in values and values["IONOS_TOKEN"].count(".") == 2
    assert f"https://127.0.0.1:{tls.https_port}/cloudapi/v6" in open(values["IONOS_CONFIG_FILE"]).read()
    assert open(values["NODE_EXTRA_CA_CERTS"]).read() == open(tls.ca).read()
    assert open(tls.ca).read() in open(values["SSL_CERT_FILE"]).read()  # the bundle: system roots + the CA
    assert "STATUS 200" in out.stdout
    assert "AWS_ENDPOINT_URL_S3" not in values  # the S3 API is not served yet: no made-up values


def test_env_without_tls_and_other_shells(tmp_path):
    data = str(tmp_path / "data")
    bash = cli("env", "--data-dir", data, "--port", "1")  # nothing answers on port 1: a warning, still printed
    assert "export IONOS_USERNAME='admin@ionos-emulator.local'" in bash
    assert "IONOS_API_URL" not in bash and "SSL_CERT_FILE" not in bash
    assert not os.path.exists(os.path.join(data, "tls"))  # no CA unless TLS is asked for
    fish = cli("env", "--shell", "fish", "--tls", "--data-dir", data, "--port", "1")
    assert re.search(r"^set -gx SSL_CERT_FILE '.+ca-bundle.pem'$", fish, re.M)
    ps = cli("env", "--shell", "powershell", "--data-dir", data, "--port", "1")
    assert "$env:IONOS_PASSWORD = 'emulator'" in ps


def test_hosts_lines_apply_and_remove_on_a_file(tmp_path):
    lines = cli("hosts")
    assert lines.splitlines()[0] == hostsfile.BEGIN and lines.splitlines()[-1] == hostsfile.END
    assert "127.0.0.1\tapi.ionos.com\n" in lines and "127.0.0.1\tdns.de-fra.ionos.com\n" in lines
    assert "127.0.0.1\tmariadb.us-ewr.ionos.com\n" in lines and "127.0.0.1\ts3.eu-central-3.ionoscloud.com\n" in lines
    f = tmp_path / "hosts"
    original = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost"  # no final newline
    f.write_text(original)
    assert "added" in cli("hosts", "--apply", "--file", str(f))
    once = f.read_text()
    assert once.startswith(original + "\n" + hostsfile.BEGIN) and once.count("api.ionos.com") == 1
    assert "already has" in cli("hosts", "--apply", "--file", str(f))
    assert f.read_text() == once  # idempotent
    cli("hosts", "--apply", "--file", str(f), "--host", "10.0.0.5")  # replaced, not added
    assert f.read_text().count("api.ionos.com") == 1 and "10.0.0.5\tapi.ionos.com" in f.read_text()
    assert "removed" in cli("hosts", "--remove", "--file", str(f))
    assert f.read_text() == original + "\n"
    assert "no ionos-emulator lines" in cli("hosts", "--remove", "--file", str(f))


def test_tls_with_workers(make_emulator, tmp_path):
    """With --workers every worker serves the HTTPS port too (SO_REUSEPORT), on the one shared store."""
    https_port = free_port()
    emu = make_emulator("workers", args=("--tls", "--https-port", str(https_port), "--workers", "2"))
    ca = tmp_path / "ca.pem"
    ca.write_text(cli("ca", "--pem", "--data-dir", str(emu.data_dir)))
    base = f"https://127.0.0.1:{https_port}/cloudapi/v6"
    ids = set()
    for i in range(6):  # new connections: the kernel spreads them over the workers
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), auth=OWNER) as c:
            r = c.post(base + "/datacenters", json={"properties": {"name": f"w{i}", "location": "de/fra"}})
            assert r.status_code == 202 and r.json()["href"].startswith(base + "/datacenters/"), r.text
            ids.add(r.json()["id"])
    listed = httpx.get(emu.cloud + "/datacenters", auth=OWNER).json()["items"]
    assert ids <= {d["id"] for d in listed}
