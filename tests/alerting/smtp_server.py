"""A real local SMTP server (aiosmtpd) requiring STARTTLS and AUTH, with a self-signed certificate.

The certificate is generated per server (`tests.alerting.certs`); the client verifies it through
`AMF1_SMTP_CA_CERT` (the certificate itself). Received mails are parsed.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.alerting.certs import server_context

USER = "watcher"
PASSWORD = "smtp-Pa55word-for-tests"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    at: float = field(default_factory=time.time)

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None
        return str(body.get_content())


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, smtp: SMTP, session: Session, envelope: Envelope
    ) -> str:
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        with self._server.lock:
            self._server.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
            )
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with STARTTLS required and AUTH (LOGIN/PLAIN) required."""

    def __init__(self, directory: Path) -> None:
        context, self.cert_file = server_context(directory)
        self.received: list[Received] = []
        self.auth_attempts = 0
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=self._authenticate,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        with self.lock:
            self.auth_attempts += 1
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    def start(self) -> None:
        self._controller.start()
        self._running = True

    def stop(self) -> None:
        """Stop listening (for good: an aiosmtpd controller does not start twice)."""
        if getattr(self, "_running", False):
            self._controller.stop()
            self._running = False


@pytest.fixture(name="smtp")
def smtp_fixture(tmp_path: Path) -> Iterator[SmtpServer]:
    """A running SMTP server with STARTTLS and AUTH, stopped after the test."""
    server = SmtpServer(tmp_path)
    server.start()
    yield server
    server.stop()
