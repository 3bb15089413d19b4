"""Helpers of the tracing integration tests: a real `amf1 serve` process and Jaeger's query API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0
_T = TypeVar("_T")


@dataclass
class Served:
    """A running `amf1 serve` process: its URL and the file its stdout (JSON lines) goes to."""

    url: str
    service_name: str
    stdout: Path
    process: subprocess.Popen[bytes]

    def events(self) -> list[dict[str, Any]]:
        """The JSON log events the process wrote to stdout so far."""
        events = []
        for line in self.stdout.read_bytes().splitlines():
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
        return events


@contextmanager
def serve(directory: Path, models_dir: Path, env: dict[str, str]) -> Iterator[Served]:
    """Run `amf1 serve` (the production entry point: logging, tracing, app) until the block ends."""
    port = free_port()
    stdout = directory / f"serve-{port}.jsonl"
    full_env = {**os.environ, **env}
    args = [sys.executable, "-m", "amf1.cli", "serve", "--port", str(port)]
    args += ["--models-dir", str(models_dir)]
    with stdout.open("wb") as sink:
        process = subprocess.Popen(
            args, env=full_env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", env["AMF1_SERVICE_NAME"], stdout, process)
    try:
        _wait_health(served)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_health(served: Served) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            tail = served.stdout.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"amf1 serve exited with {served.process.returncode}: {tail}")
        try:
            if httpx.get(f"{served.url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"amf1 serve did not answer /health within {WAIT_S:.0f} s")


def wait_for(probe: Callable[[], _T | None], what: str, timeout_s: float = WAIT_S) -> _T:
    """Call `probe` until it returns something (bounded in time)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: nothing after {timeout_s:.0f} s")
        time.sleep(0.5)


def rfc3339(moment: datetime) -> str:
    """Jaeger's time parameter format (RFC 3339, UTC)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Span:
    """The fields of a Jaeger API v3 (OTLP JSON) span that the tests look at."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    status_code: int
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    resource: dict[str, Any]


def _attributes(raw: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in raw:
        value = item.get("value", {})
        values[item["key"]] = next(iter(value.values()), None) if value else None
    return values


def find_spans(
    query_url: str,
    service: str,
    started: datetime,
    operation: str | None = None,
    duration_min_ms: int | None = None,
) -> list[Span]:
    """Spans of the traces Jaeger finds for the query (`/api/v3/traces`); [] when none."""
    params = {
        "query.service_name": service,
        "query.start_time_min": rfc3339(started - timedelta(seconds=5)),
        "query.start_time_max": rfc3339(datetime.now(UTC) + timedelta(seconds=5)),
        "query.num_traces": "100",
    }
    if operation is not None:
        params["query.operation_name"] = operation
    if duration_min_ms is not None:
        params["query.duration_min"] = f"{duration_min_ms}ms"
    response = httpx.get(f"{query_url}/api/v3/traces", params=params, timeout=10)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    spans: list[Span] = []
    for resource_spans in response.json()["result"].get("resourceSpans", []):
        resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
        for scope_spans in resource_spans.get("scopeSpans", []):
            spans.extend(_span(raw, resource) for raw in scope_spans.get("spans", []))
    return spans


def _span(raw: dict[str, Any], resource: dict[str, Any]) -> Span:
    return Span(
        trace_id=raw["traceId"],
        span_id=raw["spanId"],
        parent_span_id=raw.get("parentSpanId", ""),
        name=raw["name"],
        kind=int(raw.get("kind", 0)),
        status_code=int(raw.get("status", {}).get("code", 0)),
        attributes=_attributes(raw.get("attributes", [])),
        events=[
            {"name": e.get("name"), **_attributes(e.get("attributes", []))}
            for e in raw.get("events", [])
        ],
        resource=resource,
    )


def spans_of_trace(spans: list[Span], trace_id: str) -> dict[str, Span] | None:
    """The named spans of one trace, or None while it is not (completely) there."""
    found = {span.name: span for span in spans if span.trace_id == trace_id}
    return found or None
