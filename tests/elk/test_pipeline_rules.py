"""The pipeline rules, applied by the Python oracle (`elk.pipeline_rules.reference_document`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from elk import pipeline_rules
from logshipping.events import Action

TEMPLATE = Path(__file__).resolve().parents[2] / "elk" / "index" / "amf1-logs.template.json"
RECEIVED = datetime(2026, 11, 27, 12, 0, 0, 250000, tzinfo=UTC)

# Every spelling Logstash's LOGLEVEL grok pattern accepts (from its definition), lower-cased.
LOGLEVEL_SPELLINGS = [
    "alert",
    "trace",
    "debug",
    "notice",
    "info",
    "information",
    "inf",
    "warn",
    "warning",
    "err",
    "error",
    "crit",
    "critical",
    "fatal",
    "severe",
    "emerg",
    "emergency",
]


def _event(**fields: object) -> str:
    base: dict[str, object] = {
        "@timestamp": "2026-11-27T10:00:00.123456Z",
        "log.level": "info",
        "message": "hello",
        "event.id": "0193a1b2-0000-7000-8000-000000000001",
        "event.action": "http-access",
    }
    base.update(fields)
    return orjson.dumps(base).decode()


@pytest.mark.parametrize("spelling", LOGLEVEL_SPELLINGS)
def test_every_loglevel_spelling_normalises_to_one_of_five_levels(spelling: str) -> None:
    """Whatever LOGLEVEL matches ends up as debug/info/warning/error/critical, in any case."""
    assert pipeline_rules.normalise_level(spelling.upper()) in pipeline_rules.LEVELS
    assert pipeline_rules.normalise_level(spelling.capitalize()) in pipeline_rules.LEVELS


def test_synonyms_map_to_the_expected_levels() -> None:
    """WARN is warning; FATAL and CRITICAL are critical; an unknown level is kept lower-cased."""
    assert pipeline_rules.normalise_level("WARN") == "warning"
    assert pipeline_rules.normalise_level("FATAL") == "critical"
    assert pipeline_rules.normalise_level("Critical") == "critical"
    assert pipeline_rules.normalise_level("ERR") == "error"
    assert pipeline_rules.normalise_level("Verbose") == "verbose"


def test_structured_event_keeps_its_fields_and_gets_its_id_and_day() -> None:
    """A JSON event is indexed as sent, in its UTC day's index, under its event.id."""
    indexed = pipeline_rules.reference_document(_event(), RECEIVED)
    assert indexed.index == "amf1-logs-2026.11.27"
    assert indexed.document_id == "0193a1b2-0000-7000-8000-000000000001"
    assert indexed.document["@timestamp"] == "2026-11-27T10:00:00.123456Z"
    assert indexed.document["message"] == "hello"
    assert "tags" not in indexed.document


def test_drift_counts_pass_through_and_stay_unindexed() -> None:
    """A drift-counts event keeps its nested counts as sent; the template stores them unindexed."""
    counts = {"air_temp_c": {"bins": [3, 0, 7], "missing": 1, "expected": [0.3, 0.3, 0.4]}}
    line = _event(**{"event.action": "drift-counts", "amf1.drift.counts": counts})
    assert pipeline_rules.reference_document(line, RECEIVED).document["amf1.drift.counts"] == counts
    template = orjson.loads(TEMPLATE.read_bytes())["template"]["mappings"]["properties"]
    assert template["amf1.drift.counts"] == {"type": "object", "enabled": False}


@pytest.mark.parametrize(
    ("level", "action", "tags"),
    [
        ("ERROR", "model-load-failed", ["error", "model_load_failure"]),
        ("error", "prediction-failed", ["error", "prediction_error"]),
        ("WARN", "drift-detected", ["drift_warning"]),
        ("FATAL", "log", ["error"]),
        ("warning", "request-rejected", None),
    ],
)
def test_levels_and_actions_earn_their_tags(
    level: str, action: str, tags: list[str] | None
) -> None:
    """error/critical levels are tagged `error`; three actions earn their domain tags."""
    document = pipeline_rules.reference_document(
        _event(**{"log.level": level, "event.action": action}), RECEIVED
    ).document
    assert document.get("tags") == tags
    assert document["log.level"] in pipeline_rules.LEVELS


def test_last_millisecond_of_a_utc_day_stays_in_that_day() -> None:
    """An event at 23:59:59.999 UTC lands in that day's index, not the next."""
    line = _event(**{"@timestamp": "2026-11-26T23:59:59.999000Z"})
    assert pipeline_rules.reference_document(line, RECEIVED).index == "amf1-logs-2026.11.26"


def test_index_uses_the_utc_day_of_an_offset_timestamp() -> None:
    """01:30 at +02:00 is 23:30 UTC the day before."""
    line = _event(**{"@timestamp": "2026-11-27T01:30:00+02:00"})
    assert pipeline_rules.reference_document(line, RECEIVED).index == "amf1-logs-2026.11.26"


def test_plain_text_line_of_the_guides_format_is_parsed() -> None:
    """`<ISO time> - LEVEL - text` becomes message, level and @timestamp, not a failure."""
    line = "2026-11-27 08:15:30,500 - WARNING - drift on lap_time"
    indexed = pipeline_rules.reference_document(line, RECEIVED)
    assert indexed.document["message"] == "drift on lap_time"
    assert indexed.document["log.level"] == "warning"
    assert indexed.document["@timestamp"] == "2026-11-27T08:15:30.500000Z"
    assert indexed.document["event.original"] == line
    assert indexed.document_id is None
    assert "tags" not in indexed.document


def test_malformed_line_is_kept_with_the_parse_failure_tag() -> None:
    """A line neither JSON nor plain-format is indexed raw, tagged, stamped on receipt."""
    line = '{"broken": '
    indexed = pipeline_rules.reference_document(line, RECEIVED)
    assert indexed.document["tags"] == [pipeline_rules.PARSE_FAILURE_TAG]
    assert indexed.document["message"] == line
    assert indexed.document["event.original"] == line
    assert indexed.document["@timestamp"] == "2026-11-27T12:00:00.250000Z"
    assert indexed.index == "amf1-logs-2026.11.27"


def test_unreadable_timestamp_is_kept_aside_and_tagged() -> None:
    """A JSON event with a bad @timestamp is not rejected: stamped on receipt, original kept."""
    indexed = pipeline_rules.reference_document(_event(**{"@timestamp": "yesterday"}), RECEIVED)
    assert indexed.document["_@timestamp"] == "yesterday"
    assert indexed.document["tags"] == [pipeline_rules.TIMESTAMP_FAILURE_TAG]
    assert indexed.document["@timestamp"] == "2026-11-27T12:00:00.250000Z"


def test_domain_tags_cover_catalogue_actions_only() -> None:
    """Each tagged action exists in the event catalogue (a renamed action would break alerts)."""
    assert set(pipeline_rules.ACTION_TAGS) <= {action.value for action in Action}
