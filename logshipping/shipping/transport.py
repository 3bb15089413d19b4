"""TCP JSON-lines transport: python-logstash-async's `TcpTransport`, one write per batch.

The library connects, sends event by event, waits for the socket to drain and closes, for every
batch. This subclass keeps one connection and sends a batch with one `sendall`. Because a kept
connection can be half-closed by a receiver that went away (the next write "succeeds" into a dead
socket), it checks for the peer's FIN before each batch and waits (bounded) until the receiver's
kernel acknowledged every byte; only then may the caller delete the batch. `send` waits after
every batch; `write` does not, and `wait_acknowledged` later confirms everything written so far
(the acknowledgement of a small write comes only after the receiver's delayed-ACK timer, a few
milliseconds of polling that would otherwise cost more CPU than the write).

With `tls` the connection is the library's TLS socket (its `ssl_enable`, `ca_certs`, `certfile`,
`keyfile`, `ssl_verify` options). The acknowledgement works unchanged (the kernel's send queue
holds the encrypted bytes); the FIN check reads through the TLS layer instead of peeking, which
TLS sockets refuse. In TLS 1.3 the client's handshake ends before the server has checked the
client's certificate, so a new connection first waits (bounded) for the server's verdict: its
first record is a session ticket when it accepted the certificate, an alert when it refused it.
Without that wait the first batch on a refused connection would be acknowledged by the kernel
and deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import select
import socket
import ssl
import struct
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logstash_async.transport import TcpTransport


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """TLS towards the receiver.

    Attributes:
        ca_file: CA certificate(s) (PEM) that signed the receiver's certificate; None: the
            system's trust store.
        cert_file: this client's certificate (PEM), for receivers that require one.
        key_file: the private key of `cert_file` (read by the TLS library only).
        verify: verify the receiver's certificate against `ca_file`.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify: bool = True


def _path(value: Path | None) -> str | None:
    return str(value) if value is not None else None


class BatchTcpTransport(TcpTransport):  # type: ignore[misc]
    """Persistent TCP connection; `send` raises OSError (retryable) when a batch did not arrive."""

    _keep_connection = True
    _sock: Any

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        tls: TlsOptions | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(
            host,
            port,
            ssl_enable=tls is not None,
            ssl_verify=tls is not None and tls.verify,
            ssl_verify_flags=None,
            keyfile=_path(tls.key_file) if tls else None,
            certfile=_path(tls.cert_file) if tls else None,
            ca_certs=_path(tls.ca_file) if tls else None,
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
        new = self._sock is None
        try:
            super()._create_socket()
            if new:
                self._await_tls_verdict()
        except OSError:
            self._drop()
            raise

    def _await_tls_verdict(self) -> None:
        """On a new TLS 1.3 connection, wait up to the timeout for the server's first record:
        raises ssl.SSLError when it is an alert (certificate refused), OSError when the server
        closed. A server that sends nothing leaves the check to the next write's FIN check."""
        sock = self._socket()
        if not isinstance(sock, ssl.SSLSocket) or sock.version() != "TLSv1.3":
            return
        readable, _, _ = select.select([sock], [], [], self._ack_timeout)
        if readable and self._read_through_tls(sock):
            raise ConnectionResetError("the log receiver closed the TLS connection")

    def _socket(self) -> socket.socket:
        sock: socket.socket = self._sock
        return sock

    def _peer_closed(self) -> bool:
        # A JSON-lines receiver never writes: readable means FIN (b"") or an error; over TLS
        # also a session ticket or an alert.
        sock = self._socket()
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if isinstance(sock, ssl.SSLSocket):
                return (bool(readable) or sock.pending() > 0) and self._read_through_tls(sock)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _read_through_tls(self, sock: ssl.SSLSocket) -> bool:
        """Reads what the server sent, without blocking: True when it closed (end of stream).

        TLS sockets cannot peek; reading processes the handshake messages (session tickets) and
        discards data (there is none from a JSON-lines receiver). Raises ssl.SSLError on an
        alert.
        """
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        finally:
            sock.settimeout(self._timeout)
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
