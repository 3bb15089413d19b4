"""The log events of one trace, from Elasticsearch (the official client, through
`elk.client.make_client`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions

MAX_EVENTS = 500


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log event, as the waterfall shows it."""

    timestamp_us: int
    level: str
    action: str
    message: str
    span_id: str | None


def field(source: dict[str, Any], dotted: str) -> Any:
    """A field of an event, stored flat (`"log.level"`) or nested (`{"log": {"level"}}`)."""
    if dotted in source:
        return source[dotted]
    value: Any = source
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def to_record(source: dict[str, Any]) -> LogRecord:
    """The fields the waterfall shows, from an event's `_source`."""
    stamp = datetime.fromisoformat(str(field(source, "@timestamp")).replace("Z", "+00:00"))
    return LogRecord(
        timestamp_us=int(stamp.timestamp() * 1e6),
        level=str(field(source, "log.level") or ""),
        action=str(field(source, "event.action") or ""),
        message=str(field(source, "message") or ""),
        span_id=field(source, "span.id"),
    )


def trace_logs(client: Elasticsearch, index_pattern: str, trace_id: str) -> list[LogRecord]:
    """Every event (at most 500) carrying `trace.id`, in time order; [] when the index is
    missing. Raises `elasticsearch` transport errors when the cluster does not answer."""
    try:
        response = client.search(
            index=index_pattern,
            query={"term": {"trace.id": trace_id.lower()}},
            sort=[{"@timestamp": {"order": "asc"}}],
            size=MAX_EVENTS,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
    except es_exceptions.NotFoundError:
        return []
    return [to_record(hit["_source"]) for hit in response["hits"]["hits"]]
