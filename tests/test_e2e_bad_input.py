"""Bad input is always a 4xx answer in the API's envelope, changes nothing, and the emulator answers the next
request: integers out of range, JSON nested too deep, bodies over the limit, names too long or with control
characters, an exception inside the server, idle and slow connections (docs/fidelity.md, "Bad input")."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from support import OWNER

DCS = "/cloudapi/v6/datacenters"
ZONES = "/dns/de-fra/zones"
HUGE = "99999999999999999999"


def envelope(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["httpStatus"] == status and body["messages"][0]["message"], body
    return body["messages"][0]["message"]


@pytest.fixture
def client(emulator):
    with httpx.Client(base_url=emulator.url, auth=OWNER, timeout=10) as c:
        yield c


def count(c: httpx.Client) -> int:
    r = c.get(DCS)
    assert r.status_code == 200
    return len(r.json()["items"])


@pytest.mark.parametrize(
    "path, query",
    [(p, q) for p in (DCS, ZONES) for q in (f"offset={HUGE}", "offset=2147483648", f"limit={HUGE}", f"offset=-{HUGE}")]
    + [(DCS, f"depth={HUGE}")],  # Cloud DNS has no depth
)
def test_integers_out_of_range_are_422(client, path, query):
    name = query.split("=")[0]
    assert name in envelope(client.get(f"{path}?{query}"), 422)
    assert client.get(path).status_code == 200


def test_json_nested_too_deep_is_400_before_validation(client):
    before = count(client)
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    body = b'{"properties":{"name":"deep","location":"de/fra","description":' + deep + b"}}"
    assert "64 levels" in envelope(client.post(DCS, content=body, headers={"content-type": "application/json"}), 400)
    assert count(client) == before


@pytest.mark.parametrize(
    "name, says",
    [("a\x00b", "control characters"), ("bell\x07", "control characters"), ("x" * 100_000, "at most 255")],
)
def test_bad_names_are_422_naming_the_attribute(client, name, says):
    before = count(client)
    message = envelope(client.post(DCS, json={"properties": {"name": name, "location": "de/fra"}}), 422)
    assert "properties.name" in message and says in message
    assert count(client) == before


def test_names_with_tabs_and_newlines_in_descriptions_still_pass(client):
    r = client.post(DCS, json={"properties": {"name": "ok", "location": "de/fra", "description": "a\tb\nc"}})
    assert r.status_code == 202, r.text
    assert client.delete(f"{DCS}/{r.json()['id']}").status_code == 202


def _raw(url: str, data: bytes, timeout: float = 10) -> bytes:
    """Sends `data` on a fresh loopback connection, returns what comes back until the server closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_a_body_over_the_limit_is_413_before_it_is_read(emulator, client):
    before = count(client)
    head = (
        f"POST {DCS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {client.headers.get('authorization') or ''}\r\n"
        "Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
    )
    # 50 MB announced, 10 bytes sent: the answer comes at once, and the connection closes
    answer = _raw(emulator.url, head.encode() + b'{"propert', timeout=5)
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 413") and b'"httpStatus": 413' in body, answer[:300]
    assert count(client) == before


def test_an_exception_inside_the_server_is_the_envelope(emulator, client, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(emulator.app, "handle", boom)  # before any response was started
    assert "unexpected error" in envelope(client.get(DCS), 500)
    monkeypatch.undo()
    assert client.get(DCS).status_code == 200


def test_limits_and_timeouts_from_flags(make_emulator):
    emu = make_emulator(args=("--max-body-bytes", "1000", "--header-timeout", "0.5", "--keep-alive-timeout", "0.5"))
    with httpx.Client(base_url=emu.url, auth=OWNER, timeout=10) as c:
        before = count(c)

        def chunks():
            for _ in range(10):
                yield b"x" * 500

        assert "1000 bytes" in envelope(c.post(DCS, content=chunks()), 413)  # chunked: no Content-Length
        assert "1000 bytes" in envelope(c.post(DCS, content=b"x" * 1001), 413)
        assert count(c) == before
    started = time.monotonic()
    assert _raw(emu.url, b"") == b""  # idle from the start: closed
    assert time.monotonic() - started < 5
    host, port = emu.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as s:  # slowloris: a byte every 0.2 s
        closed = False
        for byte in b"GET /cloudapi/v6 HTTP/1.1\r\nHost: x\r\n":
            try:
                s.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
        assert closed and time.monotonic() - started < 5
    with httpx.Client(base_url=emu.url, auth=OWNER, timeout=10) as c:  # keep-alive: closed after 0.5 s idle
        assert c.get(DCS).status_code == 200
        time.sleep(1.5)
        assert c.get(DCS).status_code == 200  # a new connection, transparently
