"""Issue 9, rule 9: a server's remote console URL (`GET .../servers/{id}/remoteconsole`, through the
unmodified `ionoscloud` SDK) is absolute and loadable: the emulator serves the page it points at, showing the
server, on its HTTP port, or over HTTPS on its HTTPS port with --tls (as the real URL is https)."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx
import ionoscloud

from conftest import sdk_client
from support import OWNER, Emulator, wait
from test_e2e_tls import start


def server_console(emu: Emulator, name: str) -> tuple[str, str]:
    """A data center with a server; the server's id and its remote console URL."""
    with sdk_client(emu) as client:
        dcs, servers = ionoscloud.DataCentersApi(client), ionoscloud.ServersApi(client)
        dc, _, h = dcs.datacenters_post_with_http_info(
            ionoscloud.Datacenter(properties=ionoscloud.DatacenterProperties(name="console", location="de/fra"))
        )
        wait(client, h)
        server, _, h = servers.datacenters_servers_post_with_http_info(
            dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name=name, cores=1, ram=1024))
        )
        wait(client, h)
        return server.id, servers.datacenters_servers_remote_console_get(dc.id, server.id).url


def test_remote_console_url_serves_a_page_of_the_server(emulator):
    sid, url = server_console(emulator, "web-console")
    parts = urlsplit(url)
    assert parts.scheme == "http" and f"{parts.scheme}://{parts.netloc}" == emulator.url  # absolute, the port used
    page = httpx.get(url)  # no credentials: the token in the URL is what opens it, as in the real cloud
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "web-console" in page.text and sid in page.text and "RUNNING" in page.text
    # a token never issued opens nothing
    bad = httpx.get(url.rsplit("/", 1)[0] + "/not-a-token")
    assert bad.status_code == 404 and "text/html" in bad.headers["content-type"]


def test_remote_console_is_https_with_tls(make_emulator, tmp_path):
    tls = start(make_emulator, tmp_path)
    sid, url = server_console(tls.emu, "tls-console")
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.port == tls.https_port and parts.hostname == "127.0.0.1"
    with httpx.Client(verify=ssl.create_default_context(cafile=tls.ca), auth=OWNER) as https:
        page = https.get(url)
    assert page.status_code == 200 and "tls-console" in page.text and sid in page.text
