"""A real local HTTPS server answering as PagerDuty's Events API v2 (`POST /v2/enqueue`).

HTTPS with a certificate generated for the test (PagerDuty's client accepts only https:// base
URLs); the client trusts it through `AMF1_PAGERDUTY_CA_CERT`.

202 with `{"status": "success", "dedup_key": ...}` for a well-formed event; 400 `invalid event`
for a malformed one (no routing key of 32 characters, unknown action, no summary on a trigger);
and, on demand, 429 with `Retry-After`, 500, or a delay (a slow channel). Records every event it
accepted.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.alerting.certs import server_context

ROUTING_KEY = "R0123456789abcdef0123456789ABCDE"


def _problems(event: dict[str, Any]) -> list[str]:
    problems = []
    if len(str(event.get("routing_key", ""))) != 32:
        problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("'event_action' is invalid")
    if action != "trigger" and not event.get("dedup_key"):
        problems.append("'dedup_key' is missing")
    if action == "trigger":
        payload = event.get("payload") or {}
        problems.extend(
            f"'payload.{key}' is missing or blank"
            for key in ("summary", "source", "severity")
            if not payload.get(key)
        )
        if len(str(payload.get("summary", ""))) > 1024:
            problems.append("'payload.summary' is longer than 1024")
    return problems


class PagerDutyServer:
    """Start with `start()`; `url` is the Events API base URL."""

    def __init__(self, directory: Path) -> None:
        self._context, self.cert_file = server_context(directory)
        self.events: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.time() of each accepted event
        self.attempts = 0
        self.delay_s = 0.0
        self._failures: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures.extend([(status, headers)] * times)

    def answer_normally(self) -> None:
        """Forget the failures still scripted."""
        with self._lock:
            self._failures.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(outer.delay_s)
                with outer._lock:
                    outer.attempts += 1
                    failure = outer._failures.popleft() if outer._failures else None
                if self.path != "/v2/enqueue":
                    self._answer(404, {"status": "not found"})
                    return
                if failure is not None:
                    status, headers = failure
                    self._answer(
                        status, {"status": "throttled" if status == 429 else "error"}, headers
                    )
                    return
                try:
                    event = json.loads(raw)
                except ValueError:
                    self._answer(400, {"status": "invalid event", "errors": ["not JSON"]})
                    return
                problems = _problems(event)
                if problems:
                    self._answer(
                        400,
                        {
                            "status": "invalid event",
                            "message": "Event object is invalid",
                            "errors": problems,
                        },
                    )
                    return
                with outer._lock:
                    outer.events.append(event)
                    outer.arrivals.append(time.time())
                key = event.get("dedup_key") or f"generated-{len(outer.events)}"
                self._answer(
                    202, {"status": "success", "message": "Event processed", "dedup_key": key}
                )

            def _answer(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.socket = self._context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture(name="pagerduty")
def pagerduty_fixture(tmp_path: Path) -> Iterator[PagerDutyServer]:
    """A running Events API v2 stand-in, stopped after the test."""
    server = PagerDutyServer(tmp_path)
    server.start()
    yield server
    server.stop()
