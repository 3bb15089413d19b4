"""The watcher's settings: env and secret files, redaction, and refusals of unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alerting.settings import Settings


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


def test_shared_webhook_is_the_fallback_of_both_channels() -> None:
    """AMF1_SLACK_WEBHOOK_URL serves a channel without its own webhook."""
    settings = Settings(slack_webhook_url="https://a", slack_alerts_webhook_url="https://b")
    assert settings.webhook_for("critical").get_secret_value() == "https://a"
    assert settings.webhook_for("alerts").get_secret_value() == "https://b"


def test_placeholder_secret_refused_outside_development() -> None:
    """`changeme` is fine on a laptop and refused in production."""
    assert Settings(es_password="changeme")
    with pytest.raises(ValidationError, match="AMF1_ES_PASSWORD is a placeholder"):
        Settings(es_password="changeme", environment="production")


def test_claim_must_outlast_the_longest_slack_send() -> None:
    """A delivery claim shorter than slack-sdk's worst-case retries is refused."""
    with pytest.raises(ValidationError, match="claim_ttl_s"):
        Settings(claim_ttl_s=60, slack_max_retry_after_s=30)


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
    """AMF1_MAE_WARNING_S and AMF1_PERFORMANCE_* set the performance signal; arguments win."""
    monkeypatch.setenv("AMF1_MAE_WARNING_S", "0.35")
    monkeypatch.setenv("AMF1_PERFORMANCE_WINDOW", "50")
    performance = Settings(performance_grace_s=10.0).performance
    assert (performance.mae_warning_s, performance.window, performance.grace_s) == (0.35, 50, 10.0)
    assert (performance.mae_critical_s, performance.brier_warning) == (0.50, 0.045)
