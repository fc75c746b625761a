"""Loopback HTTP servers the API Gateway and CDN data planes forward to in the tests: each answers every
request with JSON naming itself and echoing what it got, and counts its hits."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")


class Upstream:
    def __init__(self, name: str, cache_control: str | None = None, delay: float = 0.0):
        self.name = name
        self.delay = delay  # seconds each answer takes
        self.cache_control = cache_control
        self.hits = 0
        self.seen: list[dict] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = {
                    "upstream": owner.name,
                    "method": self.command,
                    "path": self.path,
                    "host": self.headers.get("Host"),
                    "forwardedFor": self.headers.get("X-Forwarded-For"),
                    "body": body.decode("utf-8", "replace"),
                }
                with owner._lock:
                    owner.hits += 1
                    owner.seen.append(record)
                time.sleep(owner.delay)
                if self.path.startswith("/chunked"):  # a body in chunks, no Content-Length
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for part in (b"one,", b"two,", b"three"):
                        self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                payload = json.dumps(record).encode()
                self.send_response(201 if self.command == "POST" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if owner.cache_control:
                    self.send_header("Cache-Control", owner.cache_control)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

        for method in METHODS:
            setattr(Handler, f"do_{method}", Handler.answer)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
