"""Email over SMTP: STARTTLS (verified) and AUTH, text and HTML parts, event text escaped."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from alerting.notifiers.email import EmailNotifier, html_text, subject
from tests.alerting.certs import self_signed
from tests.alerting.samples import HOSTILE, hostile, message
from tests.alerting.smtp_server import PASSWORD, USER, SmtpServer


def _notifier(
    smtp: SmtpServer, password: str = PASSWORD, ca_cert: Path | None = None
) -> EmailNotifier:
    return EmailNotifier(
        host="127.0.0.1",
        port=smtp.port,
        sender="watcher@amf1.example",
        recipients=["oncall@amf1.example", "sre@amf1.example"],
        username=USER,
        password=SecretStr(password),
        starttls=True,
        ca_cert=ca_cert or smtp.cert_file,
        timeout_s=5,
        max_retries=1,
    )


def test_sends_over_starttls_with_auth_both_parts_and_the_runbook(smtp: SmtpServer) -> None:
    """One mail to every recipient; plain text and HTML both carry the runbook link."""
    assert _notifier(smtp).send(message()).ok
    [mail] = smtp.received
    assert mail.recipients == ["oncall@amf1.example", "sre@amf1.example"]
    assert (
        mail.message["Subject"] == "[amf1] FIRED CRITICAL: Model load failure [stage2-race-winner]"
    )
    text, html = mail.part("plain"), mail.part("html")
    assert "Runbook: https://runbooks.example/rb/model-load-failure.md" in text
    assert '<a href="https://runbooks.example/rb/model-load-failure.md">Runbook</a>' in html
    assert "Count: 1" in text


def test_event_text_is_html_escaped(smtp: SmtpServer) -> None:
    """`<script>`, `&` and a Slack-style link arrive as text in the HTML part."""
    assert _notifier(smtp).send(hostile()).ok
    html = smtp.received[0].part("html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp;" in html
    assert HOSTILE in smtp.received[0].part("plain")


def test_subject_is_one_line_whatever_the_group() -> None:
    """A group with line breaks cannot inject a mail header."""
    assert "\n" not in subject(message(group="a\r\nBcc: x@evil.example"))


def test_html_escapes_links_labels_and_urls() -> None:
    """Even the links (whose trace id came from an event) are escaped attributes."""
    html = html_text(hostile())
    assert "<!channel>" not in html


def test_wrong_password_is_an_auth_failure_not_retried(smtp: SmtpServer) -> None:
    """535: a failure naming the SMTP code; the password is nowhere in it."""
    result = _notifier(smtp, password="wrong-Pa55word-x").send(message())
    assert not result.ok
    assert result.status == 535
    assert smtp.auth_attempts == 2  # one session: smtplib tries PLAIN, then LOGIN
    assert "Pa55word" not in (result.error or "")


def test_an_unverifiable_certificate_is_refused(smtp: SmtpServer, tmp_path: Path) -> None:
    """STARTTLS verifies the server: another CA's certificate fails the send."""
    (tmp_path / "other").mkdir()
    other_ca, _ = self_signed(tmp_path / "other")
    result = _notifier(smtp, ca_cert=other_ca).send(message())
    assert not result.ok
    assert smtp.received == []


def test_server_down_is_a_result(smtp: SmtpServer) -> None:
    """Connection refused: a failure, nothing raised."""
    notifier = _notifier(smtp)
    smtp.stop()
    result = notifier.send(message())
    assert not result.ok
    assert (result.error or "").startswith("connection failed")
