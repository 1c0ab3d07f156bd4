"""Misbehaving OpenAI-compatible endpoints on 127.0.0.1, each an http.server in a thread:
one that never answers, one that sends a huge reply (without or with its length), one that
trickles its reply a byte at a time, one that answers every request with HTTP 500. Each
counts its requests and the bytes it managed to send."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = b"x" * 65536


class BadEndpoint:
    def __init__(self, behaviour: str, huge_bytes: int = 200 * 2**20) -> None:
        self.behaviour = behaviour
        self.huge_bytes = huge_bytes
        self.requests = 0
        self.bytes_sent = 0
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> BadEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def count(self, sent: int = 0, request: bool = False) -> None:
        with self._lock:
            self.bytes_sent += sent
            self.requests += request


def _handler(endpoint: BadEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            endpoint.count(request=True)
            try:
                getattr(self, f"_{endpoint.behaviour}")()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should

        def _hang(self) -> None:
            endpoint.closing.wait(60)

        def _server_error(self) -> None:
            body = b'{"error": {"message": "overloaded"}}'
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _huge(self, declared: bool = False) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if declared:
                self.send_header("Content-Length", str(endpoint.huge_bytes))
            else:
                self.send_header("Connection", "close")  # the body ends when the socket does
            self.end_headers()
            sent = 0
            while sent < endpoint.huge_bytes and not endpoint.closing.is_set():
                self.wfile.write(CHUNK)
                sent += len(CHUNK)
                endpoint.count(len(CHUNK))
            self.close_connection = True

        def _huge_declared(self) -> None:
            self._huge(declared=True)

        def _trickle(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            while not endpoint.closing.is_set():
                self.wfile.write(b" ")
                self.wfile.flush()
                endpoint.count(1)
                time.sleep(0.05)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
