"""A minimal asyncio HTTP/1.1 client with keep-alive, for load generation.

General-purpose clients (httpx, aiohttp) spend more CPU per request than a small uvicorn service
does, and on a 2-core machine the load generator shares the CPU with the server. This client
writes pre-encoded requests on a persistent connection and parses only what a load generator
needs: the status, the headers and a `Content-Length` or chunked body.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_MAX_HEADER_BYTES = 64 * 1024


class LoadgenError(Exception):
    """Base class of this package's errors."""


class ProtocolError(LoadgenError):
    """The server's answer was not a well-formed HTTP/1.1 response."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go: scheme must be http (a load generator for loopback or a lab URL)."""

    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Target:
        """Parse `http://host:port`; raises `LoadgenError` for anything else."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise LoadgenError(f"expected an http://host:port URL, got {url!r}")
        return cls(parts.hostname, parts.port or 80)

    @property
    def url(self) -> str:
        """The base URL, `http://host:port`."""
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request; `label` names it in the summary (e.g. `predict-qualifying`)."""

    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    label: str = ""
    content_type: str = "application/json"

    def encode(self, host: str) -> bytes:
        """The bytes on the wire."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        if self.body or self.method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Type: {self.content_type}")
            lines.append(f"Content-Length: {len(self.body)}")
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(slots=True)
class Response:
    """A parsed response; header names are lower-case."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Connection:
    """One keep-alive connection; reconnects lazily after the server closes it."""

    def __init__(self, target: Target, timeout_s: float = 10.0) -> None:
        self._target = target
        self._timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._host_header = f"{target.host}:{target.port}"

    async def send(self, request: Request) -> Response:
        """Send `request` and read its response within the timeout.

        Raises:
            TimeoutError: no complete response within `timeout_s`.
            OSError: the connection failed (the next call reconnects).
            ProtocolError: the response was malformed.
        """
        try:
            return await asyncio.wait_for(self._exchange(request), self._timeout_s)
        except BaseException:
            # A half-read response would poison the next exchange on this connection.
            await self.close()
            raise

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open the connection now, unless it is open (`send` opens it when needed)."""
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(
                self._target.host, self._target.port
            )
        return self._reader, self._writer

    async def _exchange(self, request: Request) -> Response:
        reader, writer = await self.connect()
        writer.write(request.encode(self._host_header))
        await writer.drain()
        response = await _read_response(reader)
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response

    async def close(self) -> None:
        """Close the socket (idempotent)."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            # The peer may already have gone away; there is nothing left to release then.
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_response(reader: asyncio.StreamReader) -> Response:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise ConnectionResetError("server closed the connection") from exc
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("response header too large") from exc
    if len(head) > _MAX_HEADER_BYTES:
        raise ProtocolError("response header too large")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {status_line!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
    return Response(int(parts[1]), headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers (rare) end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
