"""TCP JSON-lines transport: python-logstash-async's `TcpTransport`, one write per batch.

The library connects, sends event by event, waits for the socket to drain and closes, for every
batch. This subclass keeps one connection and sends a batch with one `sendall`. Because a kept
connection can be half-closed by a receiver that went away (the next write "succeeds" into a dead
socket), it checks for the peer's FIN before each batch and waits (bounded) until the receiver's
kernel acknowledged every byte; only then may the caller delete the batch. `send` waits after
every batch; `write` does not, and `wait_acknowledged` later confirms everything written so far
(the acknowledgement of a small write comes only after the receiver's delayed-ACK timer, a few
milliseconds of polling that would otherwise cost more CPU than the write).
"""

from __future__ import annotations

import contextlib
import fcntl
import select
import socket
import struct
import termios
import time
from collections.abc import Sequence
from typing import Any

from logstash_async.transport import TcpTransport


class BatchTcpTransport(TcpTransport):  # type: ignore[misc]
    """Persistent TCP connection; `send` raises OSError (retryable) when a batch did not arrive."""

    _keep_connection = True
    _sock: Any

    def __init__(self, host: str, port: int, *, timeout: float, **kwargs: object) -> None:
        super().__init__(
            host,
            port,
            ssl_enable=False,
            ssl_verify=False,
            ssl_verify_flags=None,
            keyfile=None,
            certfile=None,
            ca_certs=None,
            timeout=timeout,
        )
        self._ack_timeout = timeout
        self._written = False  # bytes written since the last successful `wait_acknowledged`

    def send(self, events: Sequence[bytes], use_logging: bool = False) -> None:
        """Writes the newline-terminated lines as one batch and waits for the TCP ack."""
        self.write(events)
        self.wait_acknowledged()

    def write(self, events: Sequence[bytes]) -> None:
        """Writes the lines as one batch without waiting for the ack.

        A connection the receiver closed is replaced, unless it carried unacknowledged writes:
        then ConnectionResetError says they may be lost, and the caller sends them again from
        where `wait_acknowledged` last succeeded.
        """
        if self._sock is not None and self._peer_closed():
            self._drop()
            if self._written:
                self._written = False
                raise ConnectionResetError("the log receiver closed the connection")
        self._create_socket()
        try:
            self._socket().sendall(b"".join(events))
        except OSError:
            self._drop()
            raise
        self._written = True

    def wait_acknowledged(self) -> None:
        """Returns once the receiver's kernel acknowledged every byte written on this connection;
        raises OSError (TimeoutError after the timeout) if that cannot be known."""
        if not self._written:
            return
        self._written = False
        if self._sock is None:
            raise ConnectionResetError("the connection of unacknowledged writes was closed")
        try:
            self._wait_acknowledged()
            # A reset empties the send queue too: an emptied queue counts only on a live peer.
            if self._peer_closed():
                raise ConnectionResetError("the log receiver closed the connection")
        except OSError:
            self._drop()
            raise

    def _create_socket(self) -> None:
        # The library keeps a socket whose connect failed when _keep_connection is set.
        try:
            super()._create_socket()
        except OSError:
            self._drop()
            raise

    def _socket(self) -> socket.socket:
        sock: socket.socket = self._sock
        return sock

    def _peer_closed(self) -> bool:
        # A JSON-lines receiver never writes: readable means FIN (b"") or an error.
        sock = self._socket()
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _unacknowledged_bytes(self) -> int:
        raw = fcntl.ioctl(self._socket().fileno(), termios.TIOCOUTQ, struct.pack("I", 0))
        return int(struct.unpack("I", raw)[0])

    def _wait_acknowledged(self) -> None:
        deadline = time.monotonic() + self._ack_timeout
        delay = 0.0005
        while self._unacknowledged_bytes():
            if time.monotonic() > deadline:
                raise TimeoutError("receiver did not acknowledge the batch in time")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)

    def _drop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Closes the connection without the library's wait of up to 30 s for the buffer."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
        self._drop()
