"""The rules file is validated on load, with errors naming the file, the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.errors import ConfigurationError
from alerting.rules import load_rules
from alerting.settings import Settings

SETTINGS = Settings()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_runbook_exists_for_every_rule() -> None:
    """Every rule links to a runbook page that exists in the repository."""
    root = Path(__file__).resolve().parents[2]
    for rule in load_rules(SETTINGS.rules_file):
        assert (root / rule.runbook_path).is_file(), rule.runbook_path


def test_error_names_file_rule_and_field(tmp_path: Path) -> None:
    """A bad value is reported with the file, the rule id and the field path."""
    path = _write(
        tmp_path,
        "rules:\n  - id: r1\n    title: T\n    search: s\n    window: 5 minutes\n"
        "    condition: {type: count}\n    critical: 0\n",
    )
    with pytest.raises(ConfigurationError) as err:
        load_rules(path)
    assert f"{path}: rule 'r1': field window:" in str(err.value)


def test_unknown_condition_field_is_refused(tmp_path: Path) -> None:
    """A typo inside the condition is an error naming that nested field."""
    path = _write(
        tmp_path,
        "rules:\n  - id: r2\n    title: T\n    search: s\n    window: 5m\n"
        "    condition: {type: ratio, numerator: x, min_sampel: 3}\n    critical: 0\n",
    )
    with pytest.raises(ConfigurationError, match=r"rule 'r2': field condition\.ratio\.min_sampel"):
        load_rules(path)


def test_rule_without_threshold_is_refused(tmp_path: Path) -> None:
    """A rule must say at which value it warns or pages."""
    path = _write(
        tmp_path,
        "rules:\n  - id: r3\n    title: T\n    search: s\n    window: 1m\n"
        "    condition: {type: count}\n",
    )
    with pytest.raises(ConfigurationError, match="r3"):
        load_rules(path)


def test_durations_accept_units(tmp_path: Path) -> None:
    """Windows read as 90, 30s, 5m, 1h."""
    path = _write(
        tmp_path,
        "rules:\n"
        "  - {id: a, title: T, search: s, window: 5m, condition: {type: count}, critical: 0}\n"
        "  - {id: b, title: T, search: s, window: 90, condition: {type: count}, critical: 0}\n",
    )
    assert [r.window for r in load_rules(path)] == [300.0, 90.0]
