"""The native stack itself: each service answers and does its one job.

Elasticsearch stores and returns a document, Jaeger accepts an OTLP span and lists it through
its v3 query API, a JSON line sent to the collector becomes a document in today's index, and
`stack_control` can take Elasticsearch away and bring it back with its data.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
import uuid_utils
from elasticsearch import Elasticsearch, NotFoundError
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from elk.stack import probes
from tests.stack_fixtures import ServiceSwitch, StackEndpoints

pytestmark = pytest.mark.integration

_WAIT_S = 90.0
T = TypeVar("T")


def _eventually(probe: Callable[[], T | None], what: str, timeout_s: float = _WAIT_S) -> T:
    """Poll `probe` until it returns something other than None (bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.5)


@pytest.fixture
def scratch_index(es: Elasticsearch) -> Iterator[str]:
    """A throw-away index, deleted after the test."""
    name = f"amf1-stack-test-{uuid.uuid4().hex[:12]}"
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


def test_elasticsearch_is_healthy_and_stores_documents(
    es: Elasticsearch, scratch_index: str
) -> None:
    """Cluster health is yellow or green, and a written document reads back and is searchable."""
    assert es.cluster.health()["status"] in {"yellow", "green"}
    es.index(index=scratch_index, id="doc-1", document={"message": "hello"}, refresh="wait_for")
    assert es.get(index=scratch_index, id="doc-1")["_source"] == {"message": "hello"}
    hits = es.search(index=scratch_index, query={"match": {"message": "hello"}})["hits"]
    assert hits["total"]["value"] == 1


def _trace_query(stack: StackEndpoints, service: str, start: datetime) -> dict[str, Any] | None:
    params = {
        "query.service_name": service,
        "query.start_time_min": start.isoformat().replace("+00:00", "Z"),
        "query.start_time_max": (start + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        # Jaeger's memory store answers 500 without an explicit search depth.
        "query.num_traces": "20",
    }
    response = httpx.get(f"{stack.jaeger_query_url}/api/v3/traces?{urlencode(params)}", timeout=5)
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body if body.get("result", {}).get("resourceSpans") else None


def test_jaeger_accepts_an_otlp_span_and_finds_it_by_service(stack: StackEndpoints) -> None:
    """A span exported over OTLP/gRPC is listed by /api/v3/services and /api/v3/traces."""
    service = f"amf1-stack-test-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC) - timedelta(minutes=1)
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=stack.otlp_grpc_endpoint, insecure=True, timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("tests").start_as_current_span("stack-check") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()

    def listed() -> bool | None:
        services = probes.http_get_json(f"{stack.jaeger_query_url}/api/v3/services") or {}
        return True if service in services.get("services", []) else None

    _eventually(listed, f"service {service} listed by Jaeger")
    body = _eventually(lambda: _trace_query(stack, service, start), "trace found by service")
    spans = [
        span
        for resource_spans in body["result"]["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]
    assert [span["name"] for span in spans] == ["stack-check"]
    assert spans[0]["traceId"] == trace_id


def _send_line(stack: StackEndpoints, event: dict[str, Any]) -> None:
    with socket.create_connection((stack.log_tcp_host, stack.log_tcp_port), timeout=5) as sock:
        sock.sendall(json.dumps(event).encode() + b"\n")


def test_a_json_line_sent_to_the_collector_is_searchable_in_todays_index(
    stack: StackEndpoints, es: Elasticsearch
) -> None:
    """One JSON line over TCP becomes the document `event.id` in amf1-logs-<today, UTC>."""
    now = datetime.now(UTC)
    event_id = str(uuid_utils.uuid7())
    event = {
        "@timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "log.level": "info",
        "message": "stack integration check",
        "event.id": event_id,
        "event.action": "http-access",
        "event.dataset": "amf1.service",
        "service.name": "amf1-stack-test",
    }
    _send_line(stack, event)
    index = f"amf1-logs-{now:%Y.%m.%d}"

    def indexed() -> dict[str, Any] | None:
        try:
            source: dict[str, Any] = es.get(index=index, id=event_id)["_source"]
        except NotFoundError:
            return None
        return source

    source = _eventually(indexed, f"document {event_id} in {index}")
    assert source["message"] == "stack integration check"
    assert source["event.id"] == event_id


def test_stack_control_stops_and_restarts_elasticsearch_with_its_data(
    stack: StackEndpoints, es: Elasticsearch, stack_control: ServiceSwitch, scratch_index: str
) -> None:
    """Stopped, Elasticsearch stops answering; started again, it is healthy with its data."""
    es.index(index=scratch_index, id="kept", document={"v": 1}, refresh="wait_for")
    stack_control.stop("elasticsearch")
    assert not probes.elasticsearch_healthy(stack.es_url, stack.es_admin_auth, stack.es_ca_cert)
    stack_control.start("elasticsearch")
    assert probes.elasticsearch_healthy(stack.es_url, stack.es_admin_auth, stack.es_ca_cert)
    assert es.get(index=scratch_index, id="kept")["_source"] == {"v": 1}
