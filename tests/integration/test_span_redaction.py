"""Secrets planted in spans are not in the real Jaeger: what its query API returns for the trace
holds the redaction marker and no secret, with either tracer implementation."""

from __future__ import annotations

import uuid

import httpx
import pytest

import tracing
from alerting.settings import Settings as AlertingSettings
from logshipping.redaction import REDACTED
from tests.integration.tracing_support import wait_for
from tests.stack_fixtures import StackEndpoints

pytestmark = pytest.mark.integration

WEBHOOK = "https://hooks.slack.com/services/T000/B000/JAEGERSECRETXYZ"
PASSWORD = "hunter2-in-jaeger"
BEARER = "eyJhbGciOi.jaeger-bearer-token"
SECRETS = (WEBHOOK, "JAEGERSECRETXYZ", PASSWORD, BEARER)


def _trace_json(query_url: str, trace_id: str) -> str | None:
    """The body Jaeger's API answers for one trace (`/api/v3/traces/{id}`), or None before it
    is stored."""
    response = httpx.get(f"{query_url}/api/v3/traces/{trace_id}", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.text if "spanId" in response.text else None


@pytest.mark.parametrize(
    ("implementation", "protocol"), [("lean", "grpc"), ("sdk", "http")], ids=["lean", "sdk"]
)
def test_secrets_planted_in_a_span_are_not_in_jaeger(
    stack: StackEndpoints, implementation: str, protocol: str
) -> None:
    """A Slack webhook set through the watcher's settings (SecretStr), `password=...` and a
    Bearer token in attributes, an exception message and the status: Jaeger has the trace,
    with the marker where they were and none of them anywhere in its answer."""
    AlertingSettings(slack_webhook_url=WEBHOOK)  # registers the secret, as at start-up
    settings = tracing.Settings(
        service_name=f"amf1-redaction-itest-{uuid.uuid4().hex[:8]}",
        otlp_endpoint=stack.otlp_grpc_endpoint,
        otlp_http_endpoint=stack.otlp_http_endpoint,
        otlp_protocol=protocol,
        tracing_implementation=implementation,
        tracing_sampler_ratio=1.0,
    )
    assert tracing.configure(settings, set_global=False)
    try:
        with (
            pytest.raises(ConnectionError),
            tracing.tracer().start_as_current_span("alert-delivery") as span,
        ):
            span.set_attributes(
                {
                    "amf1.alert.target": WEBHOOK,
                    "amf1.alert.request": f"POST {WEBHOOK} Authorization: Bearer {BEARER}",
                    "amf1.alert.targets": [WEBHOOK, "email"],
                }
            )
            raise ConnectionError(f"cannot reach {WEBHOOK} with password={PASSWORD}")
        trace_id = f"{span.get_span_context().trace_id:032x}"
        assert tracing.force_flush(10.0)
    finally:
        tracing.shutdown()

    body = wait_for(
        lambda: _trace_json(stack.jaeger_query_url, trace_id), "the trace in Jaeger", 30.0
    )
    # Indices, not values: a failure must not print the secrets it found.
    leaked = [index for index, secret in enumerate(SECRETS) if secret in body]
    assert not leaked, f"planted secrets {leaked} (indices into SECRETS) reached Jaeger"
    assert REDACTED in body
    assert "exception.message" in body
    assert "alert-delivery" in body
