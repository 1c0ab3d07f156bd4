"""An OpenAI-compatible chat completions server on 127.0.0.1 whose behaviour each test
scripts: ``FakeEndpoint(script)`` calls ``script(request)`` for every POST and sends back
the ``Reply`` it returns. It records every request (with its arrival time) and the
largest number of requests it was handling at once."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None when the body was not JSON
    arrived: float  # time.monotonic()

    @property
    def text(self) -> str:
        """The user message the judge sent."""
        return self.body["messages"][-1]["content"]


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a dict is sent as JSON, a str as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long (or until the server closes) before answering


def chat_reply(text: str, top: dict[str, float] | None = None) -> Reply:
    """A chat completion whose reply is ``text``; ``top`` maps candidate first tokens to
    probabilities and adds logprobs (the first candidate is the sampled token)."""
    choice: dict[str, Any] = {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": text},
    }
    if top is not None:
        candidates = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in top.items()]
        choice["logprobs"] = {"content": [{**candidates[0], "top_logprobs": candidates}]}
    return Reply(
        body={"id": "fake", "object": "chat.completion", "model": "fake", "choices": [choice]}
    )


class FakeEndpoint:
    def __init__(self, script: Callable[[Request], Reply]) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self.closing = threading.Event()  # releases handlers still waiting out a delay
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        # socketserver's shutdown waits for the serving loop's next poll: keep it short.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            reply = self.script(request)
            if reply.delay_s:
                self.closing.wait(reply.delay_s)
            return reply
        finally:
            with self._lock:
                self._in_flight -= 1


def _handler_class(endpoint: FakeEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = endpoint.handle(Request(self.path, headers, body, time.monotonic()))
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = payload.encode()
            try:
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to answer

        def log_message(self, *args: object) -> None:
            pass

    return Handler
