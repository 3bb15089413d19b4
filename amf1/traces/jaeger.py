"""Jaeger's query API (`/api/traces`, which the native Jaeger v2 and the Docker image both
answer), parsed into plain span records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx


class JaegerError(Exception):
    """Jaeger did not answer, or answered something that is not its query API."""


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One span as the tools show it (times in microseconds since the epoch)."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_us: int
    duration_us: int
    attributes: dict[str, Any]
    error: bool
    service: str


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """A trace's spans, in start order; `root` is the span without a parent here."""

    trace_id: str
    spans: list[SpanRecord] = field(default_factory=list)

    @property
    def root(self) -> SpanRecord:
        """The earliest span without a parent in the trace (else the earliest span)."""
        roots = [s for s in self.spans if s.parent_id is None]
        return (roots or self.spans)[0]

    @property
    def error(self) -> bool:
        """Whether any span failed."""
        return any(s.error for s in self.spans)

    def attribute(self, key: str) -> Any:
        """The first value of `key` among the spans (root first)."""
        for span in [self.root, *self.spans]:
            if key in span.attributes:
                return span.attributes[key]
        return None


def parse_trace(data: dict[str, Any]) -> TraceRecord:
    """One trace of the `/api/traces` JSON."""
    processes = data.get("processes") or {}
    spans = []
    for raw in data.get("spans") or []:
        tags = {tag["key"]: tag.get("value") for tag in raw.get("tags") or []}
        parents = [
            r["spanID"] for r in raw.get("references") or [] if r.get("refType") == "CHILD_OF"
        ]
        error = tags.pop("error", False) is True or tags.get("otel.status_code") == "ERROR"
        process = processes.get(raw.get("processID"), {})
        spans.append(
            SpanRecord(
                trace_id=raw["traceID"],
                span_id=raw["spanID"],
                parent_id=parents[0] if parents else None,
                name=raw["operationName"],
                start_us=int(raw["startTime"]),
                duration_us=int(raw["duration"]),
                attributes={k: v for k, v in tags.items() if not k.startswith("otel.scope")},
                error=error,
                service=process.get("serviceName", ""),
            )
        )
    spans.sort(key=lambda s: (s.start_us, s.parent_id is not None))
    return TraceRecord(data["traceID"], spans)


class JaegerClient:
    """The query API at `base_url`, each call bounded by `timeout_s`."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._base = base_url.rstrip("/")
        self._timeout_s = timeout_s

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = httpx.get(f"{self._base}{path}", params=params, timeout=self._timeout_s)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise JaegerError(f"Jaeger query API at {self._base}{path}: {exc}") from exc

    def find(
        self,
        service: str,
        *,
        operation: str | None = None,
        min_duration_ms: float | None = None,
        start: datetime,
        end: datetime,
        limit: int = 20,
    ) -> list[TraceRecord]:
        """Traces of `service` that started between `start` and `end`, newest first."""
        params = {
            "service": service,
            "start": str(int(start.timestamp() * 1e6)),
            "end": str(int(end.timestamp() * 1e6)),
            "limit": str(limit),
        }
        if operation:
            params["operation"] = operation
        if min_duration_ms:
            params["minDuration"] = f"{int(min_duration_ms * 1000)}us"
        body = self._get("/api/traces", params)
        traces = [parse_trace(t) for t in body.get("data") or [] if t.get("spans")]
        return sorted(traces, key=lambda t: t.root.start_us, reverse=True)

    def get(self, trace_id: str) -> TraceRecord | None:
        """One trace by its 32 hex digits; None when Jaeger does not have it."""
        try:
            body = self._get(f"/api/traces/{trace_id.lower()}")
        except JaegerError as exc:
            if "404" in str(exc):
                return None
            raise
        data = body.get("data") or []
        return parse_trace(data[0]) if data and data[0].get("spans") else None

    def services(self) -> list[str]:
        """Service names Jaeger knows."""
        return list(self._get("/api/services").get("data") or [])
