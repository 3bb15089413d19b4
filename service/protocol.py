"""uvicorn's HTTP protocols with a request-header deadline: 408 to a client that starts a request
(or opens a connection) and does not finish its headers within `AMF1_HEADER_TIMEOUT_S`.

uvicorn has no such deadline: its keep-alive timer runs only between requests, so a connection
that sends part of its headers stays open for ever, and a handful of them hold a worker's
connections. The deadline is armed when a connection opens and when the first byte of each
request arrives, and disarmed when the headers are complete, in the loop's `service.deadlines`
(it fires up to a quarter second late); the body has its own deadline in `BodyLimitMiddleware`.
`amf1 serve` uses the httptools one (uvicorn's `auto` choice); the h11 one is there for
deployments that choose h11.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from logshipping.events import Action, emit
from service.deadlines import Deadlines, for_loop

_STATUS_LINE = b"HTTP/1.1 408 Request Timeout\r\n"


class _HeaderDeadline:
    """The deadline, mixed into a uvicorn protocol class (which provides `loop`, `transport`,
    `client`). Armed and disarmed in the loop's `service.deadlines` (no timer per request)."""

    # Set per process from AMF1_HEADER_TIMEOUT_S by `set_header_timeout` before serving.
    header_timeout_s: ClassVar[float] = 10.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    client: tuple[str, int] | None
    _deadlines: Deadlines

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Arm the deadline: a connection that never sends a byte is closed too."""
        super().connection_made(transport)  # type: ignore[misc]
        self._deadlines = for_loop(self.loop)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Disarm the deadline."""
        self._disarm_header_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_header_deadline(self) -> None:
        self._deadlines.arm(self, self.header_timeout_s, self._header_deadline_passed)

    def _disarm_header_deadline(self) -> None:
        self._deadlines.disarm(self)

    def _header_deadline_passed(self) -> None:
        if self.transport.is_closing():
            return
        timeout_s = self.header_timeout_s
        message = f"request headers not received within {timeout_s:g} s"
        body = orjson.dumps({"error": {"type": "request_timeout", "message": message}})
        head = (
            b"content-type: application/json\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        # No request is in progress (its headers are incomplete): a raw answer is safe here.
        self.transport.write(_STATUS_LINE + head + body)
        self.transport.close()
        fields: dict[str, Any] = {
            "http.request.method": "unknown",
            "url.path": "unknown",
            "http.response.status_code": 408,
            "event.duration": int(timeout_s * 1e9),
            "error.type": "request_timeout",
            "error.message": message,
        }
        if self.client:
            fields["client.address"] = self.client[0]
        emit(Action.REQUEST_REJECTED, f"408: {message}", fields)


class DeadlineH11Protocol(_HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline."""

    def data_received(self, data: bytes) -> None:
        """Arm at a request's first bytes, disarm once h11 has its complete headers."""
        if self.conn.their_state is h11.IDLE:
            self._arm_header_deadline()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_header_deadline()


class DeadlineHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol with the header deadline."""

    def on_message_begin(self) -> None:
        """A request's first byte: arm."""
        self._arm_header_deadline()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """Headers complete: disarm."""
        self._disarm_header_deadline()
        super().on_headers_complete()


def set_header_timeout(seconds: float) -> None:
    """The header deadline of every connection this process serves from now on."""
    _HeaderDeadline.header_timeout_s = seconds


def http_protocol() -> type[Any]:
    """The protocol class `amf1 serve` gives uvicorn: httptools, uvicorn's own `auto` choice
    (`uvicorn[standard]` installs it)."""
    return DeadlineHttpToolsProtocol
