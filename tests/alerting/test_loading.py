"""The rules are cross-checked with the saved searches and the mapping when they are loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.errors import ConfigurationError
from alerting.loading import load_compiled_rules
from alerting.settings import Settings
from kibana.mapping import load_template_file

SETTINGS = Settings()


def test_shipped_rules_compile_against_shipped_searches_and_template() -> None:
    """Every shipped rule resolves its saved searches and fields: `amf1 watch` starts."""
    types = load_template_file(SETTINGS.index_template_file)
    compiled = load_compiled_rules(
        SETTINGS.rules_file, SETTINGS.saved_objects_dir, types, "amf1-logs-"
    )
    assert {c.rule.id for c in compiled} == {
        "model-load-failure",
        "model-not-loaded",
        "prediction-errors",
        "drift-warning",
        "stage1-degradation",
        "stage2-degradation",
        "high-latency",
        "missing-data",
        "stale-data",
        "silence",
    }


def test_unknown_saved_search_and_field_are_refused(tmp_path: Path) -> None:
    """A rule naming a missing saved search, or a field not in the mapping, fails to load."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - {id: a, title: T, search: nope, window: 1m, condition: {type: count}, critical: 0}\n"
        "  - id: b\n    title: T\n    search: amf1-search-predictions\n    window: 1m\n"
        "    condition: {type: metric, field: no.such, agg: max}\n    critical: 0\n",
        encoding="utf-8",
    )
    types = load_template_file(SETTINGS.index_template_file)
    with pytest.raises(ConfigurationError) as err:
        load_compiled_rules(path, SETTINGS.saved_objects_dir, types, "amf1-logs-")
    assert "rule 'a': field search: no saved search 'nope'" in str(err.value)
    assert "rule 'b': field condition.field: 'no.such'" in str(err.value)
