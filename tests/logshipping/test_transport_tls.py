"""`BatchTcpTransport` over TLS with client certificates, against a real TLS receiver (the
`ssl` module's server side) and a CA generated here: acknowledged batches arrived, a receiver
that closed is noticed through the TLS layer, a refused certificate is an error, not a
delivery."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from logshipping.settings import Settings
from logshipping.shipping.transport import BatchTcpTransport, TlsOptions
from tests.tls_pki import Authority


class TlsLineReceiver:
    """Accepts TLS connections on 127.0.0.1 (client certificate required) and keeps each line."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.lines: list[bytes] = []
        self.connections: list[ssl.SSLSocket] = []
        self._context = context
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port: int = self._server.getsockname()[1]
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                raw, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            conn = self._context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.connections.append(conn)
        pending = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(1 << 16):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                self.lines.extend(complete)
        conn.close()

    def close_connections(self) -> None:
        """Ends every accepted connection, as a receiver restarting would: a shutdown of the TCP
        socket (the client sees the FIN; the serving thread's read ends and closes its socket).
        Not `close()` from here: a descriptor freed under the thread reading it can be reused
        by the client's next connection, which that thread's TLS state then reads and answers
        (the handshake failed with "unexpected message" or "bad record mac", 25 runs in 300)."""
        for conn in self.connections:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)

    def stop(self) -> None:
        self._running = False
        self._server.close()
        self.close_connections()
        self._thread.join(timeout=5)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, TlsOptions]:
    """Client options: a certificate of the receiver's CA, none, and one of another CA."""
    ours = Authority.create(tmp_path, "ours")
    other = Authority.create(tmp_path, "other")
    server, client, stranger = ours.server(), ours.client("shipper"), other.client("shipper")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ours.cert_file)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(server.cert, server.key)
    return {
        "server": context,  # type: ignore[dict-item]
        "good": TlsOptions(ca_file=ours.cert_file, cert_file=client.cert, key_file=client.key),
        "no-certificate": TlsOptions(ca_file=ours.cert_file),
        "other-ca": TlsOptions(
            ca_file=ours.cert_file, cert_file=stranger.cert, key_file=stranger.key
        ),
    }


@pytest.fixture
def receiver(pki: dict[str, object]) -> Iterator[TlsLineReceiver]:
    """A running TLS receiver requiring a client certificate of `ours`."""
    server = pki["server"]
    assert isinstance(server, ssl.SSLContext)
    running = TlsLineReceiver(server)
    yield running
    running.stop()


def _wait_lines(receiver: TlsLineReceiver, count: int) -> list[bytes]:
    """The receiver's lines once it has `count` (or after 5 s: the assertion shows what came)."""
    deadline = time.monotonic() + 5
    while len(receiver.lines) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return receiver.lines


def test_acknowledged_batches_arrived(
    receiver: TlsLineReceiver, pki: dict[str, TlsOptions]
) -> None:
    """With a client certificate of the receiver's CA, each acknowledged batch is there."""
    transport = BatchTcpTransport("127.0.0.1", receiver.port, timeout=5, tls=pki["good"])
    try:
        transport.send([b'{"n": 1}\n', b'{"n": 2}\n'])
        transport.send([b'{"n": 3}\n'])
    finally:
        transport.close()
    assert _wait_lines(receiver, 3) == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']


def test_a_receiver_that_closed_is_noticed_and_nothing_is_lost(
    receiver: TlsLineReceiver, pki: dict[str, TlsOptions]
) -> None:
    """The receiver closes the kept TLS connection: the next batch goes on a new one."""
    transport = BatchTcpTransport("127.0.0.1", receiver.port, timeout=5, tls=pki["good"])
    try:
        transport.send([b'{"n": 1}\n'])
        assert _wait_lines(receiver, 1) == [b'{"n": 1}']
        receiver.close_connections()
        transport.send([b'{"n": 2}\n'])
    finally:
        transport.close()
    assert _wait_lines(receiver, 2) == [b'{"n": 1}', b'{"n": 2}']
    assert len(receiver.connections) == 2


@pytest.mark.parametrize("client", ["no-certificate", "other-ca"])
def test_a_refused_client_certificate_is_an_error_not_a_delivery(
    receiver: TlsLineReceiver, pki: dict[str, TlsOptions], client: str
) -> None:
    """No client certificate, or one of another CA: `send` raises (the caller keeps the batch)
    and the receiver has no line."""
    transport = BatchTcpTransport("127.0.0.1", receiver.port, timeout=5, tls=pki[client])
    try:
        with pytest.raises(OSError):
            transport.send([b'{"n": 1}\n'])
    finally:
        transport.close()
    assert receiver.lines == []


def test_settings_give_the_shipper_its_tls_options(tmp_path: Path) -> None:
    """AMF1_LOG_TLS_* become the transport's options; TLS off means plain TCP."""
    paths = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    settings = Settings(
        log_tls_enabled=True,
        log_tls_ca_file=paths["ca"],
        log_tls_cert_file=paths["cert"],
        log_tls_key_file=paths["key"],
    )
    assert settings.tls == TlsOptions(paths["ca"], paths["cert"], paths["key"], verify=True)
    assert Settings(log_tls_enabled=False, log_tls_ca_file=paths["ca"]).tls is None


def test_settings_refuse_half_a_client_certificate_and_unverified_tls_in_production(
    tmp_path: Path,
) -> None:
    """A certificate without its key (or the reverse) is refused; so is verify off in
    production."""
    with pytest.raises(ValueError, match="AMF1_LOG_TLS_CERT_FILE and AMF1_LOG_TLS_KEY_FILE"):
        Settings(log_tls_enabled=True, log_tls_cert_file=tmp_path / "cert.pem")
    with pytest.raises(ValueError, match="AMF1_LOG_TLS_VERIFY=false"):
        Settings(environment="production", log_tls_enabled=True, log_tls_verify=False)
