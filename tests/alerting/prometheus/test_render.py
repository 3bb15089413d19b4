"""The Prometheus alert rules are rendered from the watcher's rules file (the threshold table)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerting.errors import ConfigurationError
from alerting.prometheus import render
from alerting.rules import load_rules


def _rules(text: str) -> list[dict[str, object]]:
    rules: list[dict[str, object]] = yaml.safe_load(text)["groups"][0]["rules"]
    return rules


def test_the_committed_rules_file_is_the_rendered_one() -> None:
    """prometheus/rules/amf1.rules.yml is exactly what `amf1 prometheus render` writes."""
    assert render.OUTPUT_FILE.read_text(encoding="utf-8") == render.render(), (
        "out of date: run `amf1 prometheus render`"
    )


def test_every_level_of_the_table_is_a_prometheus_rule_with_that_threshold() -> None:
    """For each alert tied to a watcher rule: one Prometheus rule per level, the expression
    compares with that level, and no other level appears."""
    table = {rule.id: rule for rule in load_rules(render.RULES_FILE)}
    rendered = _rules(render.render())
    spec = render.load_alerts(render.ALERTS_FILE)
    for alert in spec.alerts:
        if alert.rule is None:
            continue
        rule = table[alert.rule]
        mine = [r for r in rendered if r["alert"] == alert.alert]
        levels = {"warning": rule.warning, "critical": rule.critical}
        expected = {severity for severity, level in levels.items() if level is not None}
        assert {r["labels"]["severity"] for r in mine} == expected  # type: ignore[index]
        for prom_rule in mine:
            severity = prom_rule["labels"]["severity"]  # type: ignore[index]
            op = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[rule.op]
            assert f" {op} {levels[severity]:g}" in str(prom_rule["expr"]), prom_rule


def test_a_changed_level_changes_the_prometheus_rule(tmp_path: Path) -> None:
    """Edit the stage-1 MAE warning in the watcher's rules: the rendered rule follows."""
    rules = tmp_path / "rules.yaml"
    text = render.RULES_FILE.read_text(encoding="utf-8")
    rules.write_text(text.replace("warning: 0.40", "warning: 0.42"), encoding="utf-8")
    rendered = _rules(render.render(rules_file=rules))
    exprs = [str(r["expr"]) for r in rendered if r["alert"] == "AMF1Stage1Degradation"]
    assert 'amf1_model_mae{model="stage1-qualifying"} > 0.42' in exprs


def test_windows_and_sample_floors_come_from_the_table() -> None:
    """Range selectors use the watcher rule's window; the floors its `min_sample`."""
    rendered = {r["alert"]: r for r in _rules(render.render())}
    assert "[5m]" in str(rendered["AMF1PredictionErrors"]["expr"])
    assert ">= 20" in str(rendered["AMF1PredictionErrors"]["expr"])
    assert "histogram_quantile(0.95," in str(rendered["AMF1HighLatency"]["expr"])
    assert "[3m]" in str(rendered["AMF1HighLatency"]["expr"])
    assert rendered["AMF1ModelNotLoaded"]["for"] == "1m"


def test_an_alert_naming_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    """The error names the alerts file, the alert and the missing rule."""
    alerts = tmp_path / "alerts.yaml"
    text = render.ALERTS_FILE.read_text(encoding="utf-8")
    alerts.write_text(text.replace("rule: missing-data", "rule: missing-dta"), encoding="utf-8")
    with pytest.raises(
        ConfigurationError, match=r"alert AMF1MissingData: field rule: no rule 'missing-dta'"
    ):
        render.render(alerts_file=alerts)


@pytest.mark.parametrize(("seconds", "text"), [(60, "1m"), (90, "90s"), (300, "5m"), (3600, "1h")])
def test_durations_in_prometheus_form(seconds: float, text: str) -> None:
    """Whole hours and minutes in their unit, the rest in seconds."""
    assert render.duration(seconds) == text


def test_routing_category_comes_from_the_table() -> None:
    """An alert tied to a watcher rule carries that rule's `category` (data warnings route to
    #amf1-data in both); alerts.yaml may not set one for it."""
    table = {rule.id: rule for rule in load_rules(render.RULES_FILE)}
    for prom_rule in _rules(render.render()):
        labels = prom_rule["labels"]
        if "rule" in labels:  # type: ignore[operator]
            assert labels["category"] == table[labels["rule"]].category  # type: ignore[index]
    assert table["missing-data"].category == "data"
