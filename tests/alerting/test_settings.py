"""The watcher's settings: env and secret files, redaction, and refusals of unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alerting.settings import Settings
from logshipping.settings_base import describe_errors


def test_explicit_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Settings(x=...)` wins over `AMF1_X`."""
    monkeypatch.setenv("AMF1_WATCH_INTERVAL_S", "5")
    assert Settings().watch_interval_s == 5
    assert Settings(watch_interval_s=2).watch_interval_s == 2


def test_secret_read_from_file_and_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A webhook given as a file is read, used for its channel, and never shown in a repr."""
    secret = tmp_path / "hook"
    secret.write_text("https://hooks.example/T/B/abc123\n", encoding="utf-8")
    monkeypatch.setenv("AMF1_SLACK_CRITICAL_WEBHOOK_URL_FILE", str(secret))
    settings = Settings()
    hook = settings.webhook_for("critical")
    assert hook is not None
    assert hook.get_secret_value() == "https://hooks.example/T/B/abc123"
    assert "abc123" not in repr(settings)


def test_shared_webhook_is_the_fallback_of_every_channel() -> None:
    """AMF1_SLACK_WEBHOOK_URL serves a channel without its own webhook."""
    settings = Settings(slack_webhook_url="https://a", slack_alerts_webhook_url="https://b")
    assert settings.webhook_for("critical").get_secret_value() == "https://a"
    assert settings.webhook_for("data").get_secret_value() == "https://a"
    assert settings.webhook_for("alerts").get_secret_value() == "https://b"


def test_placeholder_secret_refused_outside_development() -> None:
    """`changeme` is fine on a laptop and refused in production."""
    assert Settings(es_password="changeme")
    with pytest.raises(ValidationError, match="AMF1_ES_PASSWORD is a placeholder"):
        Settings(es_password="changeme", environment="production")


def test_claim_must_outlast_the_longest_send() -> None:
    """A delivery claim shorter than a channel's worst-case send is refused."""
    with pytest.raises(ValidationError, match="AMF1_CLAIM_TTL_S: must exceed the longest slack"):
        Settings(claim_ttl_s=60, slack_max_retry_after_s=30, slack_webhook_url="https://a")


def test_claim_is_bounded_only_by_the_channels_in_use() -> None:
    """Only Slack configured, with short sends: a short claim is fine (PagerDuty's and email's
    longer worst cases do not count until they are configured)."""
    fast_slack = {"slack_webhook_url": "https://a", "slack_timeout_s": 2, "slack_max_retries": 0}
    assert Settings(claim_ttl_s=10, slack_max_retry_after_s=1, **fast_slack)
    with pytest.raises(ValidationError, match="must exceed the longest pagerduty") as refused:
        Settings(
            claim_ttl_s=10,
            slack_max_retry_after_s=1,
            pagerduty_routing_key="a" * 32,
            **fast_slack,
        )
    assert "longest slack" not in str(refused.value)


def test_drift_scoring_comes_from_its_flat_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_DRIFT_* / AMF1_MISSING_* set the watcher's drift scoring; an argument wins."""
    monkeypatch.setenv("AMF1_DRIFT_PSI_THRESHOLD", "0.3")
    monkeypatch.setenv("AMF1_DRIFT_IGNORE_FEATURES", '["circuit"]')
    monkeypatch.setenv("AMF1_MISSING_RATE_THRESHOLD", "0.1")
    scoring = Settings(drift_window_size=2000).drift
    assert scoring.psi_threshold == 0.3
    assert scoring.ignore_features == frozenset({"circuit"})
    assert scoring.missing_rate_threshold == 0.1
    assert scoring.window_size == 2000
    assert Settings().drift.significance == 0.001


def test_performance_variables_reach_the_signal_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_PERFORMANCE_* set the performance signal; arguments win."""
    monkeypatch.setenv("AMF1_PERFORMANCE_WINDOW", "50")
    monkeypatch.setenv("AMF1_PERFORMANCE_GRACE_S", "99")
    performance = Settings(performance_grace_s=10.0).performance
    assert (performance.window, performance.grace_s, performance.min_outcomes) == (50, 10.0, 10)


SECRETS = {
    "slack_webhook_url": "hooks.slack.com/services/T0/B0/SeCrEt-shared",  # no https://: a typo
    "slack_data_webhook_url": "http://hooks.slack.com/services/T0/B0/SeCrEt-data",
    "pagerduty_routing_key": "SeCrEt-key-too-short",
    "smtp_password": "SeCrEt-smtp-password",
    "es_password": "SeCrEt-es-password",
}


def test_every_channel_problem_is_reported_at_once_naming_variables_only() -> None:
    """Bad webhook URLs, a bad routing key and incomplete SMTP settings: one error, all listed,
    each naming its variable and none quoting a value."""
    with pytest.raises(ValidationError) as caught:
        Settings(**SECRETS)
    text = describe_errors(caught.value)
    assert text.splitlines() == [
        "AMF1_SLACK_WEBHOOK_URL: not a URL; a Slack incoming webhook "
        "(https://hooks.slack.com/…) starts with https://",
        "AMF1_SLACK_DATA_WEBHOOK_URL: http:// is only allowed to a loopback address; use https://",
        "AMF1_PAGERDUTY_ROUTING_KEY: not an Events API v2 integration key (32 letters and digits)",
        "AMF1_SMTP_HOST: required to send email alerts",
        "AMF1_EMAIL_FROM: required to send email alerts",
        "AMF1_EMAIL_TO: required to send email alerts",
        "AMF1_SMTP_USERNAME and AMF1_SMTP_PASSWORD: set both (AUTH) or neither",
    ]
    assert "SeCrEt" not in text


def test_pydantics_own_text_would_quote_the_secrets() -> None:
    """Why `describe_errors` exists: `str(ValidationError)` shows the inputs."""
    with pytest.raises(ValidationError) as caught:
        Settings(**SECRETS)
    assert "SeCrEt" in str(caught.value)


def test_a_complete_channel_configuration_is_accepted(tmp_path: Path) -> None:
    """Three webhooks, PagerDuty and SMTP with STARTTLS and AUTH: no problem."""
    ca = tmp_path / "ca.pem"
    ca.write_text("x", encoding="utf-8")
    settings = Settings(
        slack_critical_webhook_url="https://hooks.slack.com/services/T/B/c",
        slack_alerts_webhook_url="https://hooks.slack.com/services/T/B/a",
        slack_data_webhook_url="https://hooks.slack.com/services/T/B/d",
        pagerduty_routing_key="R0123456789abcdef0123456789ABCDE",
        smtp_host="smtp.example",
        smtp_username="watcher",
        smtp_password="pw-not-a-placeholder",
        smtp_ca_cert=ca,
        email_from="watcher@amf1.example",
        email_to="oncall@amf1.example, sre@amf1.example",
    )
    assert settings.recipients() == ["oncall@amf1.example", "sre@amf1.example"]
    assert settings.webhook_for("data").get_secret_value().endswith("/d")


def test_smtp_password_without_starttls_is_refused() -> None:
    """Credentials never cross the network in clear (loopback excepted)."""
    with pytest.raises(ValidationError, match="AMF1_SMTP_STARTTLS: must be on"):
        Settings(
            smtp_host="smtp.example",
            smtp_starttls=False,
            smtp_username="u",
            smtp_password="pw-x",
            email_from="a@b.example",
            email_to="c@d.example",
        )


def test_pagerduty_url_must_be_https() -> None:
    """PagerDuty's client takes https:// only; the setting says so at load."""
    with pytest.raises(ValidationError, match="AMF1_PAGERDUTY_URL: must use https://"):
        Settings(
            pagerduty_routing_key="R0123456789abcdef0123456789ABCDE",
            pagerduty_url="http://127.0.0.1:1",
        )
