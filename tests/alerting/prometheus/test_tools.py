"""Prometheus's own tools accept the files: `promtool check config` / `check rules` / `test
rules` (every alert fires at its level after its `for`, not below, and resolves), and
`amtool check-config` / `config routes test` (every route reaches its receivers)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.alerting.prometheus.tools import PROMETHEUS_DIR, binary

RULES = PROMETHEUS_DIR / "rules" / "amf1.rules.yml"


def _run(argv: list[str | Path], cwd: Path = PROMETHEUS_DIR) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )
    assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_promtool_checks_the_prometheus_config(tmp_path: Path) -> None:
    """prometheus.yml (with the rules file it names) and its compose variant are valid."""
    promtool = binary("promtool")
    _run([promtool, "check", "config", PROMETHEUS_DIR / "prometheus.yml"])
    # The compose variant names the same rules file relative to itself.
    shutil.copy(PROMETHEUS_DIR / "prometheus.compose.yml", tmp_path / "prometheus.yml")
    shutil.copytree(PROMETHEUS_DIR / "rules", tmp_path / "rules")
    _run([promtool, "check", "config", tmp_path / "prometheus.yml"])


def test_promtool_checks_the_rules() -> None:
    """The rendered alert rules parse and their expressions are valid PromQL."""
    output = _run([binary("promtool"), "check", "rules", RULES])
    assert "SUCCESS" in output


def test_promtool_unit_tests_pass() -> None:
    """prometheus/tests/*.yml: each alert at, below and above its level, and its resolution."""
    tests = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
    assert tests
    _run([binary("promtool"), "test", "rules", *tests])


def test_every_alert_has_a_unit_test() -> None:
    """No alert of the rules file goes untested by promtool."""
    alerts = {r["alert"] for r in yaml.safe_load(RULES.read_text())["groups"][0]["rules"]}
    tested: set[str] = set()
    for path in (PROMETHEUS_DIR / "tests").glob("*.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    tested.add(check["alertname"])
    assert alerts <= tested, alerts - tested


def test_amtool_checks_the_alertmanager_config() -> None:
    """alertmanager.yml is valid for the Alertmanager the stack runs."""
    _run([binary("amtool"), "check-config", PROMETHEUS_DIR / "alertmanager.yml"])


# (labels of an alert, the receivers it must reach), as the guide routes them.
ROUTES = [
    ({"severity": "warning", "category": "general"}, "slack-alerts"),
    ({"severity": "warning", "category": "data"}, "slack-data"),
    ({"severity": "critical", "category": "general"}, "critical"),
    ({"severity": "critical", "category": "data"}, "critical"),
]


def _route_test(labels: dict[str, str], receivers: str) -> None:
    argv: list[str | Path] = [binary("amtool"), "config", "routes", "test"]
    argv += [f"--config.file={PROMETHEUS_DIR / 'alertmanager.yml'}"]
    argv += [f"--verify.receivers={receivers}", *(f"{k}={v}" for k, v in labels.items())]
    _run(argv)


@pytest.mark.parametrize(("labels", "receivers"), ROUTES)
def test_amtool_routes_each_kind_of_alert(labels: dict[str, str], receivers: str) -> None:
    """Critical -> #amf1-critical + PagerDuty + email; a data warning -> #amf1-data; other
    warnings -> #amf1-alerts (as the watcher routes)."""
    _route_test(labels | {"alertname": "AMF1Test"}, receivers)


def test_amtool_routes_every_rendered_alert() -> None:
    """Each alert of the rules file, with its own labels, reaches the receivers of its kind."""
    expected = {tuple(sorted(labels.items())): receivers for labels, receivers in ROUTES}
    for rule in yaml.safe_load(RULES.read_text())["groups"][0]["rules"]:
        labels = {k: v for k, v in rule["labels"].items() if k in {"severity", "category"}}
        _route_test(
            rule["labels"] | {"alertname": rule["alert"]}, expected[tuple(sorted(labels.items()))]
        )
