"""`amf1 watch --once` and `amf1 kibana check` refuse a bad configuration with a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from amf1.cli import main


def test_check_accepts_the_shipped_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped rules, saved searches and template load cleanly."""
    assert main(["kibana", "check"]) == 0
    assert "10 rules OK" in capsys.readouterr().out


def test_watch_once_exits_non_zero_on_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule naming a missing saved search stops `watch --once` before any evaluation."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {id: x, title: X, search: missing, window: 1m, "
        "condition: {type: count}, critical: 0}\n",
        encoding="utf-8",
    )
    assert main(["watch", "--once", "--rules", str(rules)]) == 2
    assert "rule 'x': field search: no saved search 'missing'" in capsys.readouterr().err


def test_watch_refuses_an_interval_below_one_second(capsys: pytest.CaptureFixture[str]) -> None:
    """The evaluation interval goes down to 1 s, not below."""
    assert main(["watch", "--once", "--interval", "0.5"]) == 2
    assert "AMF1_WATCH_INTERVAL_S: Input should be greater than or equal to 1" in (
        capsys.readouterr().err
    )


def test_watch_reports_every_bad_setting_without_its_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A webhook typed without https:// and a bad routing key: exit 2, both named, no secret
    (nor the Elasticsearch password) printed, no traceback."""
    monkeypatch.setenv("AMF1_SLACK_ALERTS_WEBHOOK_URL", "hooks.slack.com/services/T/B/SeCrEt1")
    monkeypatch.setenv("AMF1_PAGERDUTY_ROUTING_KEY", "SeCrEt2")
    monkeypatch.setenv("AMF1_ES_PASSWORD", "SeCrEt3-es-password")
    assert main(["watch", "--once"]) == 2
    captured = capsys.readouterr()
    assert "AMF1_SLACK_ALERTS_WEBHOOK_URL: not a URL" in captured.err
    assert "AMF1_PAGERDUTY_ROUTING_KEY: not an Events API v2 integration key" in captured.err
    assert "SeCrEt" not in captured.err + captured.out
    assert "Traceback" not in captured.err
