"""A real local HTTP server standing in for Slack's incoming webhooks.

It records every request it accepted, and can fail on demand: answer 429 with `Retry-After`,
answer 500, stop listening altogether (connection refused) and come back on the same port, or
be slow: accept a message (record it, as Slack posts it) and answer only after a delay.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    body: dict[str, Any]


@dataclass
class _Script:
    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    holds: list[tuple[str, float]] = field(default_factory=list)  # (text contains, delay s)


class SlackServer:
    """Start with `start()`; `url(channel)` is the webhook of a channel."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts = 0
        self._script = _Script()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def url(self, channel: str) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/{channel}/secret-{channel}"

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._script.failures.extend([(status, headers)] * times)

    def hold(self, containing: str, delay_s: float) -> None:
        """The next message whose text contains `containing` is recorded (accepted) at once and
        answered only `delay_s` later: a sender killed meanwhile never learns it went out."""
        with self._lock:
            self._script.holds.append((containing, delay_s))

    def _take_hold(self, text: str) -> float:
        for held in self._script.holds:
            if held[0] in text:
                self._script.holds.remove(held)
                return held[1]
        return 0.0

    def texts(self, channel: str | None = None) -> list[str]:
        with self._lock:
            return [
                str(r.body.get("text", ""))
                for r in self.received
                if channel is None or f"/{channel}/" in r.path
            ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                delay_s = 0.0
                with outer._lock:
                    outer.attempts += 1
                    failure = outer._script.failures.popleft() if outer._script.failures else None
                    if failure is None:
                        body = json.loads(raw)
                        outer.received.append(Received(self.path, body))
                        delay_s = outer._take_hold(str(body.get("text", "")))
                if delay_s:
                    time.sleep(delay_s)
                status, headers = failure or (200, {})
                answer = b"ok" if status == 200 else b"rate_limited" if status == 429 else b"error"
                with contextlib.suppress(OSError):  # a held sender may be gone (killed)
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> None:
        """Listen (on the previous port after a `stop()`, so webhook URLs stay valid)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: webhook calls now get "connection refused"."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture(name="slack")
def slack_fixture() -> Iterator[SlackServer]:
    """A running Slack webhook stand-in, stopped after the test (import it to use it)."""
    server = SlackServer()
    server.start()
    yield server
    server.stop()
