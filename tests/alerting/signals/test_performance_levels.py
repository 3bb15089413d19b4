"""The level of a `model-performance` event comes from the alert rules, as the alert's does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from structlog.testing import capture_logs

from alerting.rules import load_rules
from alerting.settings import Settings
from alerting.signals.outcomes import Performance, PerformanceConfig
from alerting.signals.performance import PerformanceSignal, level_rules

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
STAGE1, STAGE2 = "stage1-qualifying", "stage2-race-winner"


def logged(signal: PerformanceSignal, performance: Performance) -> dict[str, object]:
    with capture_logs() as events:
        signal._log_performance(performance, NOW)
    (event,) = (e for e in events if e.get("event.action") == "model-performance")
    return event


def signal_with(rules_file: Path) -> PerformanceSignal:
    levels = level_rules(load_rules(rules_file))
    return PerformanceSignal(PerformanceConfig(), index_prefix="amf1-logs-", levels=levels)


@pytest.mark.parametrize(
    ("model", "metric", "value", "level"),
    [
        (STAGE1, "mae", 0.30, "info"),
        (STAGE1, "mae", 0.45, "warning"),
        (STAGE1, "mae", 0.55, "critical"),
        (STAGE2, "brier", 0.040, "info"),
        (STAGE2, "brier", 0.046, "warning"),
        (STAGE2, "brier", 0.050, "critical"),
    ],
)
def test_the_shipped_rules_set_the_level(model: str, metric: str, value: float, level: str) -> None:
    """MAE > 0.40 s warns, > 0.50 s is critical; Brier > 0.045 warns, > 0.0475 is critical."""
    signal = signal_with(Settings().rules_file)
    event = logged(signal, Performance(model, "1", metric, value, 200))  # type: ignore[arg-type]
    assert event["log_level"] == level


def test_a_changed_rule_moves_the_event_and_its_message(tmp_path: Path) -> None:
    """Edit the rule's threshold and the event follows: one place for each level."""
    rules = yaml.safe_load(Settings().rules_file.read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        if rule["id"] == "stage1-degradation":
            rule["warning"], rule["critical"] = 0.20, 0.25
    edited = tmp_path / "rules.yaml"
    edited.write_text(yaml.safe_dump(rules), encoding="utf-8")
    event = logged(signal_with(edited), Performance(STAGE1, "1", "mae", 0.30, 200))
    assert event["log_level"] == "critical"
    assert "(warning > 0.2 s, critical > 0.25 s)" in str(event["event"])


def test_without_its_rule_a_metric_logs_at_info(tmp_path: Path) -> None:
    rules = yaml.safe_load(Settings().rules_file.read_text(encoding="utf-8"))
    rules["rules"] = [r for r in rules["rules"] if r["id"] != "stage2-degradation"]
    edited = tmp_path / "rules.yaml"
    edited.write_text(yaml.safe_dump(rules), encoding="utf-8")
    event = logged(signal_with(edited), Performance(STAGE2, "1", "brier", 0.9, 200))
    assert event["log_level"] == "info"
    assert "warning >" not in str(event["event"])
