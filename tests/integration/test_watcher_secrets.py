"""No secret appears anywhere: output, logs, alert messages, through every failure path.

Known secrets are planted in every secret setting (the three Slack webhooks and the shared one,
the PagerDuty routing key, the SMTP password, which is also wrong: AUTH fails throughout), and
the watcher is driven through a bad URL (refused at load), refused connections, 4xx and 5xx,
a rate limit, an SMTP authentication failure and a malformed state document.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from structlog.testing import capture_logs

from alerting.state_store import alert_id
from amf1.cli import main
from elk.installer import install
from tests.alerting.pagerduty_server import PagerDutyServer, pagerduty_fixture
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.alerting.smtp_server import USER, SmtpServer, smtp_fixture
from tests.integration.watcher_support import cleanup, event, harness, incident_day, plant

pytestmark = pytest.mark.integration
__all__ = ["pagerduty_fixture", "slack_fixture", "smtp_fixture"]

ROUTING_KEY = "PdSeCrEtK3y0123456789abcdefABCDE"  # 32 letters and digits, as PagerDuty wants
SMTP_PASSWORD = "SmtpSeCrEt-wrong-password"
RULE, MODEL = "model-load-failure", "stage2-race-winner"


def _secrets(slack: SlackServer) -> list[str]:
    # The stand-in's webhook paths end in secret-<channel>: the part a webhook's secret is.
    return [ROUTING_KEY, SMTP_PASSWORD, *(f"secret-{c}" for c in ("critical", "alerts", "data"))]


def test_no_secret_in_output_logs_or_messages_on_any_failure_path(
    es: Elasticsearch,
    stack: Any,
    slack: SlackServer,
    pagerduty: PagerDutyServer,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every path that reports a failure is driven; the secrets are in none of what it left."""
    caplog.set_level(logging.DEBUG)
    install(es)
    day = incident_day() + timedelta(hours=6)
    fields = {"amf1__model__name": MODEL, "error__type": "FileNotFoundError"}
    plant(es, [event(day + timedelta(seconds=30), "model-load-failed", **fields)])
    h = harness(
        stack.es_url,
        slack,
        day,
        RULE,
        slack_webhook_url=slack.url("data"),
        pagerduty_routing_key=ROUTING_KEY,
        pagerduty_url=pagerduty.url,
        pagerduty_ca_cert=pagerduty.cert_file,
        pagerduty_timeout_s=2,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_username=USER,
        smtp_password=SMTP_PASSWORD,
        smtp_ca_cert=smtp.cert_file,
        email_from="watcher@amf1.example",
        email_to="oncall@amf1.example",
    )
    # A malformed state document for the alert (set aside when first read).
    es.indices.create(index=h.settings.state_index)
    es.index(
        index=h.settings.state_index,
        id=alert_id(RULE, MODEL),
        document={"kind": "alert", "rule": RULE, "pending": "not a list"},
    )
    problems: dict[str, str] = {}
    try:
        with capture_logs() as events:
            # A bad URL (and the shared webhook's secret) at load: refused, named, not quoted.
            monkeypatch.setenv("AMF1_SLACK_ALERTS_WEBHOOK_URL", "hooks.slack.com/x/secret-alerts")
            monkeypatch.setenv("AMF1_PAGERDUTY_ROUTING_KEY", ROUTING_KEY[:20])
            assert main(["watch", "--once"]) == 2
            monkeypatch.delenv("AMF1_SLACK_ALERTS_WEBHOOK_URL")
            monkeypatch.delenv("AMF1_PAGERDUTY_ROUTING_KEY")
            watcher = h.new_watcher()
            slack.fail_next(500, times=2)  # Slack 5xx, retried
            pagerduty.fail_next(400)  # PagerDuty refuses the event
            h.run(40)
            pagerduty.fail_next(429, retry_after=1)  # then rate-limits it
            h.run(60)
            slack.stop()  # Slack refused
            pagerduty.stop()  # PagerDuty refused
            h.run(200)
            problems.update(watcher.health.rule_problems)
            watcher.finish(30)
    finally:
        cleanup(es, h)
        es.indices.delete(index=f"{h.settings.state_index}-quarantine", ignore_unavailable=True)
    captured = capsys.readouterr()
    assert "AMF1_SLACK_ALERTS_WEBHOOK_URL: not a URL" in captured.err
    failed = {
        e["amf1.alert.channel"] for e in events if e["event.action"] == "alert-delivery-failed"
    }
    assert failed == {"slack-critical", "pagerduty", "email"}
    assert smtp.auth_attempts > 0 and smtp.received == []
    assert "channel email" in json.dumps(problems) or any("channel email" in str(e) for e in events)
    haystacks = {
        "stdout": captured.out,
        "stderr": captured.err,
        "structlog events": json.dumps(events, default=str),
        "stdlib logs": caplog.text,
        "Slack messages": json.dumps([r.body for r in slack.received]),
        "PagerDuty events (without the key field)": json.dumps(
            [{k: v for k, v in e.items() if k != "routing_key"} for e in pagerduty.events]
        ),
        "mails": "".join(m.message.as_string() for m in smtp.received),
        "health problems": json.dumps(problems),
    }
    assert slack.received, "the failure paths ran with Slack answering at first"
    for where, text in haystacks.items():
        for secret in _secrets(slack):
            assert secret not in text, f"{secret!r} found in {where}"
