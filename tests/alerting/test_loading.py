"""The rules are cross-checked with the saved searches and the mapping when they are loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

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


def _searches_with_query(tmp_path: Path, search_id: str, kql: str) -> Path:
    """A copy of the shipped saved objects where `search_id` runs `kql`."""
    out = tmp_path / "saved_objects"
    out.mkdir()
    for source in SETTINGS.saved_objects_dir.glob("*.ndjson"):
        lines = []
        for line in source.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            if obj["id"] == search_id:
                meta = obj["attributes"]["kibanaSavedObjectMeta"]
                source_json = json.loads(meta["searchSourceJSON"])
                source_json["query"] = {"query": kql, "language": "kuery"}
                meta["searchSourceJSON"] = json.dumps(source_json)
            lines.append(json.dumps(obj))
        (out / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_unknown_query_field_loads_with_a_warning_naming_rule_and_field(tmp_path: Path) -> None:
    """A saved search naming a field the mapping lacks runs as Kibana runs it, with a warning."""
    saved = _searches_with_query(
        tmp_path, "amf1-search-model-load-failed", "event.action: model-load-failed or no.such: x"
    )
    types = load_template_file(SETTINGS.index_template_file)
    with capture_logs() as logs:
        compiled = load_compiled_rules(SETTINGS.rules_file, saved, types, "amf1-logs-")
    [rule] = [c for c in compiled if c.rule.id == "model-load-failure"]
    assert {"match": {"no.such": "x"}} in rule.query["bool"]["should"]
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert warning["amf1.alert.rule"] == "model-load-failure"
    assert warning["amf1.kibana.search"] == "amf1-search-model-load-failed"
    assert warning["amf1.kibana.field"] == "no.such"
    assert rule.unknown_fields == ("no.such",)  # the watcher's configuration alert names it


def test_time_zone_reaches_the_compiled_queries() -> None:
    """AMF1_KQL_TIME_ZONE is the time zone of the saved searches' query_string and date ranges."""
    types = load_template_file(SETTINGS.index_template_file)
    compiled = load_compiled_rules(
        SETTINGS.rules_file, SETTINGS.saved_objects_dir, types, "amf1-logs-", time_zone="+02:00"
    )
    [errors] = [c for c in compiled if c.rule.id == "prediction-errors"]
    assert errors.numerator_query is not None
    assert '"time_zone": "+02:00"' in json.dumps(errors.numerator_query)
