"""A local Slack stand-in: an HTTP server that accepts webhook posts and records them.

Used by `amf1 demo` when no real webhook is configured. Each channel gets its own path
(`/critical`, `/alerts`, `/data`), so the record says which channel an alert was routed to.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One webhook post as the sink received it."""

    channel: str
    text: str
    received_at: datetime
    payload: dict[str, Any]

    @property
    def title(self) -> str:
        """The message's headline: the Block Kit header, else the first line of `text`."""
        for block in self.payload.get("blocks", []):
            if block.get("type") == "header":
                return str(block.get("text", {}).get("text", ""))
        return self.text.split("\n", 1)[0]

    @property
    def kind(self) -> str:
        """fired/resolved/escalated/repeat/degraded/recovered/other, from the headline."""
        head = self.title.upper()
        for kind in ("RESOLVED", "ESCALATED", "REPEAT", "FIRED", "DEGRADED", "RECOVERED"):
            if kind in head:
                return kind.lower()
        return "other"


class SlackSink:
    """A threaded HTTP server on 127.0.0.1 that records every POST body as a `SlackMessage`."""

    def __init__(self, on_message: Callable[[SlackMessage], None] | None = None) -> None:
        self.messages: list[SlackMessage] = []
        self._lock = threading.Lock()
        self._on_message = on_message
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length", "0")), _MAX_BODY)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = {"text": raw.decode("utf-8", "replace")}
                sink.record(self.path.strip("/") or "default", payload)
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo prints the messages itself."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port the sink listens on."""
        return int(self._server.server_address[1])

    def url(self, channel: str) -> str:
        """The webhook URL of `channel`."""
        return f"http://127.0.0.1:{self.port}/{channel}"

    def record(self, channel: str, payload: Any) -> None:
        """Keep one message (called by the handler thread)."""
        data = payload if isinstance(payload, dict) else {"text": str(payload)}
        message = SlackMessage(channel, str(data.get("text", "")), datetime.now(UTC), data)
        with self._lock:
            self.messages.append(message)
        if self._on_message is not None:
            self._on_message(message)

    def start(self) -> SlackSink:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
