"""The log pipeline's rules, written once.

Both pipeline engines do the same job: Logstash (`elk/logstash/pipeline/amf1.conf`, for users
with Docker) and the OpenTelemetry Collector (`elk/collector/config.yaml`, natively). Both files are
rendered from the constants below (`elk.render_logstash`, `elk.render_collector`) and a unit test
checks that the committed files equal the rendering, so the engines cannot drift apart.

`reference_document` applies the same rules in Python; tests use it as the oracle of what
Elasticsearch should hold for a given line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from logshipping.events import Action

# Normalised levels: the five of `logshipping.events.Level`.
LEVELS: Final = ("debug", "info", "warning", "error", "critical")

# Lower-cased level spellings (everything Logstash's LOGLEVEL grok pattern matches, plus Python's
# and syslog's names) -> normalised level. A spelling not listed here is kept, lower-cased.
LEVEL_SYNONYMS: Final[Mapping[str, str]] = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "err": "error",
    "error": "error",
    "severe": "error",
    "crit": "critical",
    "critical": "critical",
    "fatal": "critical",
    "alert": "critical",
    "emerg": "critical",
    "emergency": "critical",
}

# Structured events carry their level here (ECS); plain-text lines get it from the grok capture.
LEVEL_FIELD: Final = "log.level"

# Normalised levels that earn the `error` tag.
ERROR_LEVELS: Final = frozenset({"error", "critical"})
ERROR_TAG: Final = "error"

# `event.action` values that earn a domain tag; the watcher and saved searches filter on the tags.
ACTION_TAGS: Final[Mapping[str, str]] = {
    Action.MODEL_LOAD_FAILED.value: "model_load_failure",
    Action.PREDICTION_FAILED.value: "prediction_error",
    Action.DRIFT_DETECTED.value: "drift_warning",
}

# A line that is neither a JSON object nor a plain-text line of the guide's format is still indexed,
# with this tag (Logstash's own name for it), the raw line in `message` and `event.original`, and
# `@timestamp` = the time the pipeline received it.
PARSE_FAILURE_TAG: Final = "_jsonparsefailure"
ORIGINAL_FIELD: Final = "event.original"
# An event whose `@timestamp` cannot be read keeps it here, is tagged, and is stamped with the time
# the pipeline received it (Logstash's own names again), rather than being rejected by the index.
TIMESTAMP_FAILURE_TAG: Final = "_timestampparsefailure"
TIMESTAMP_ORIGINAL_FIELD: Final = "_@timestamp"

# Plain-text lines, as in the monitoring guide: `2026-11-27 10:00:00,123 - ERROR - text`.
PLAIN_TEXT_GROK: Final = "%{TIMESTAMP_ISO8601:timestamp} - %{LOGLEVEL:level} - %{GREEDYDATA:msg}"
# The same shape as a regular expression (RE2 and Python agree on it) for the collector, which has
# no grok. `tests/elk/test_pipeline_rules.py` checks it against the grok pattern's own examples.
PLAIN_TEXT_REGEX: Final = (
    r"^(?P<timestamp>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?) - (?P<level>[A-Za-z]+) - (?P<msg>.*)$"
)
# A plain-text timestamp without a zone is UTC (the service logs in UTC).
PLAIN_TEXT_TIMEZONE: Final = "UTC"

# Index per UTC day of `@timestamp`; the `_id` is `event.id`, so a re-delivered event overwrites
# itself. Lines without `event.id` (plain text, malformed) get an id from Elasticsearch.
INDEX_PREFIX: Final = "amf1-logs-"
INDEX_DATE_STRFTIME: Final = "%Y.%m.%d"
INDEX_DATE_JODA: Final = "YYYY.MM.dd"
INDEX_PATTERN: Final = INDEX_PREFIX + "*"
DOCUMENT_ID_FIELD: Final = "event.id"
TAGS_FIELD: Final = "tags"
TIMESTAMP_FIELD: Final = "@timestamp"
MESSAGE_FIELD: Final = "message"

_PLAIN = re.compile(PLAIN_TEXT_REGEX)


def normalise_level(raw: str) -> str:
    """Return the normalised level of a level spelling (unknown spellings: lower-cased)."""
    lowered = raw.strip().lower()
    return LEVEL_SYNONYMS.get(lowered, lowered)


def index_for(timestamp: datetime) -> str:
    """Return the daily index of an event stamped `timestamp` (aware), by its UTC day."""
    return INDEX_PREFIX + timestamp.astimezone(UTC).strftime(INDEX_DATE_STRFTIME)


@dataclass(frozen=True, slots=True)
class Indexed:
    """Where a line lands and what the document holds, per the rules."""

    index: str
    document_id: str | None
    document: dict[str, Any]


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace(",", ".").replace(" ", "T"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _tags(document: Mapping[str, Any]) -> list[str]:
    tags = list(document.get(TAGS_FIELD) or [])
    if document.get(LEVEL_FIELD) in ERROR_LEVELS:
        tags.append(ERROR_TAG)
    action_tag = ACTION_TAGS.get(str(document.get("event.action", "")))
    if action_tag:
        tags.append(action_tag)
    return tags


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _structured(document: dict[str, Any], received_at: datetime) -> datetime:
    """Read `@timestamp` of a JSON event; an unreadable one is set aside and tagged."""
    stamp = document.get(TIMESTAMP_FIELD)
    if stamp is None:
        document[TIMESTAMP_FIELD] = _iso(received_at)
        return received_at
    try:
        return _parse_time(str(stamp))
    except ValueError:
        document[TIMESTAMP_ORIGINAL_FIELD] = stamp
        document[TAGS_FIELD] = [*document.get(TAGS_FIELD, []), TIMESTAMP_FAILURE_TAG]
        document[TIMESTAMP_FIELD] = _iso(received_at)
        return received_at


def reference_document(line: str, received_at: datetime) -> Indexed:
    """Apply the rules to one received line, in Python (the oracle the engines are tested against).

    Args:
        line: one line as sent to the pipeline, without the newline.
        received_at: when the pipeline received it (aware); stamps malformed lines.
    """
    document: dict[str, Any]
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        document = parsed
        moment = _structured(document, received_at)
    elif match := _PLAIN.match(line):
        moment = _parse_time(match["timestamp"])
        document = {
            MESSAGE_FIELD: match["msg"],
            LEVEL_FIELD: match["level"],
            ORIGINAL_FIELD: line,
            TIMESTAMP_FIELD: _iso(moment),
        }
    else:
        moment = received_at
        document = {
            MESSAGE_FIELD: line,
            ORIGINAL_FIELD: line,
            TAGS_FIELD: [PARSE_FAILURE_TAG],
            TIMESTAMP_FIELD: _iso(moment),
        }
    if isinstance(document.get(LEVEL_FIELD), str):
        document[LEVEL_FIELD] = normalise_level(document[LEVEL_FIELD])
    tags = _tags(document)
    if tags:
        document[TAGS_FIELD] = tags
    doc_id = document.get(DOCUMENT_ID_FIELD)
    return Indexed(index_for(moment), str(doc_id) if doc_id else None, document)
