"""Email over SMTP with STARTTLS and authentication (the standard library's `smtplib`).

One message per alert, to every address of `AMF1_EMAIL_TO`, with a plain-text part and an HTML
part (event text HTML-escaped, so it can neither format nor link) that both carry the runbook
link. The server's certificate is verified (system store, or `AMF1_SMTP_CA_CERT`). Errors keep
only the exception type and SMTP code: a server reply may echo what it was sent.
"""

from __future__ import annotations

import html
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from pydantic import SecretStr

from alerting.content import AlertMessage
from alerting.notifiers.base import Notifier, SendResult

_BACKOFF_S = 0.5
_TRANSIENT_CODES = range(400, 500)  # SMTP 4xx replies: try again later


def subject(message: AlertMessage) -> str:
    """One line (header injection is impossible: line breaks become spaces)."""
    return " ".join(f"[amf1] {message.headline}".split())


def plain_text(message: AlertMessage) -> str:
    lines = [message.summary, ""]
    lines += [f"{fact.label}: {fact.value}" for fact in message.facts]
    if message.example:
        lines += ["", "Example event:"]
        lines += [f"  {fact.label}: {fact.value}" for fact in message.example]
    lines.append("")
    lines += [f"{link.label}: {link.url}" for link in message.links]
    if message.trace_command:
        lines.append(f"Trace: {message.trace_command}")
    if not any(link.label == "Runbook" for link in message.links):
        lines.append(f"Runbook: {message.runbook}")
    lines += ["", f"rule {message.rule}"]
    return "\n".join(lines) + "\n"


def html_text(message: AlertMessage) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><th align='left'>{e(f.label)}</th><td>{e(f.value)}</td></tr>" for f in message.facts
    )
    example = "".join(f"<li>{e(f.label)}: {e(f.value)}</li>" for f in message.example)
    links = [f'<a href="{e(link.url)}">{e(link.label)}</a>' for link in message.links]
    if not any(link.label == "Runbook" for link in message.links):
        links.append(f"Runbook: <code>{e(message.runbook)}</code>")
    parts = [
        f"<h2>{e(message.headline)}</h2>",
        f"<p>{e(message.summary)}</p>",
        f"<table>{rows}</table>" if rows else "",
        f"<p>Example event:</p><ul>{example}</ul>" if example else "",
        f"<p>{' · '.join(links)}</p>",
        f"<p><small>rule {e(message.rule)}</small></p>",
    ]
    return "<html><body>" + "".join(parts) + "</body></html>"


def compose(message: AlertMessage, sender: str, recipients: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject(message)
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="amf1.watcher")
    mail.set_content(plain_text(message))
    mail.add_alternative(html_text(message), subtype="html")
    return mail


class EmailNotifier(Notifier):
    """Sends alerts by SMTP: STARTTLS (verified), then AUTH when a user is configured."""

    channel = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        username: str | None,
        password: SecretStr | None,
        starttls: bool,
        ca_cert: Path | None,
        timeout_s: float,
        max_retries: int,
    ) -> None:
        self._host, self._port = host, port
        self._sender, self._recipients = sender, recipients
        self._username, self._password = username, password
        self._starttls = starttls
        self._ca_cert = ca_cert
        self._timeout_s = timeout_s
        self._max_retries = max_retries

    @staticmethod
    def longest(timeout_s: float, max_retries: int) -> float:
        """Connect, EHLO, STARTTLS, AUTH, DATA each using the whole timeout, on every attempt."""
        return (max_retries + 1) * (5 * timeout_s + 2)

    @property
    def longest_send_s(self) -> float:
        return self.longest(self._timeout_s, self._max_retries)

    def send(self, message: AlertMessage) -> SendResult:
        mail = compose(message, self._sender, self._recipients)
        result = SendResult(ok=False, error="not sent")
        for attempt in range(self._max_retries + 1):
            result = self._send_once(mail)
            permanent = result.status is not None and result.status not in _TRANSIENT_CODES
            if result.ok or permanent or attempt == self._max_retries:
                return result
            time.sleep(_BACKOFF_S * 2**attempt)
        return result

    def _send_once(self, mail: EmailMessage) -> SendResult:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                if self._starttls:
                    context = ssl.create_default_context(
                        cafile=str(self._ca_cert) if self._ca_cert else None
                    )
                    smtp.starttls(context=context)
                if self._username and self._password is not None:
                    smtp.login(self._username, self._password.get_secret_value())
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            return SendResult(
                ok=False, status=exc.smtp_code, error=f"{type(exc).__name__} {exc.smtp_code}"
            )
        except smtplib.SMTPException as exc:
            return SendResult(ok=False, error=f"SMTP error: {type(exc).__name__}")
        except OSError as exc:
            return SendResult(ok=False, error=f"connection failed: {type(exc).__name__}")
        return SendResult(ok=True, status=250)
