"""Spans are exported redacted: the log events' redactor cleans names, attributes, exception
events and status descriptions, with either tracer implementation."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import SecretStr

import logshipping
import tracing
from logshipping.redaction import REDACTED
from logshipping.settings_base import AMF1Settings
from tests.tracing.conftest import configure_memory

WEBHOOK = "https://hooks.slack.com/services/T000/B000/SPANSECRETXYZ"
PASSWORD = "hunter2-span"
BEARER = "eyJhbGciOi.span-bearer-token"
SECRETS = (WEBHOOK, "SPANSECRETXYZ", PASSWORD, BEARER)


class _WebhookSettings(AMF1Settings):
    """A package's settings with one secret (registered for redaction when built)."""

    span_test_webhook_url: SecretStr | None = None


def _dump(span: Any) -> str:
    """Everything an exporter reads from a lean or SDK span, as text."""
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    status = span.status.description
    return orjson.dumps(
        [span.name, dict(span.attributes or {}), events, status], default=str
    ).decode()


@pytest.fixture(params=["lean", "sdk"])
def implementation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_planted_secrets_never_reach_the_exporter(implementation: str) -> None:
    """A registered SecretStr value, `password=...` and a Bearer token, in attributes (strings
    and lists), a secret-named attribute, an exception's message and stack trace and the
    status: all replaced by the marker; ordinary attributes are kept."""
    _WebhookSettings(span_test_webhook_url=WEBHOOK)
    memory = configure_memory(tracing_implementation=implementation)

    def deliver(url: str) -> None:
        raise ConnectionError(f"cannot reach {url} with password={PASSWORD}")

    with (
        pytest.raises(ConnectionError),
        tracing.tracer().start_as_current_span("alert-delivery") as span,
    ):
        span.set_attributes(
            {
                "amf1.alert.target": WEBHOOK,
                "http.request.header.authorization": f"Bearer {BEARER}",
                "amf1.note": f"retry with Authorization: Bearer {BEARER}",
                "amf1.targets": [WEBHOOK, "stdout"],
                "amf1.driver": "VER",
            }
        )
        deliver(WEBHOOK)

    (exported,) = memory.spans()
    text = _dump(exported)
    # Indices, not values: a failure must not print the secrets it found.
    leaked = [index for index, secret in enumerate(SECRETS) if secret in text]
    assert not leaked, f"planted secrets {leaked} (indices into SECRETS) were exported"
    assert exported.attributes["amf1.alert.target"] == REDACTED
    assert exported.attributes["http.request.header.authorization"] == REDACTED
    assert exported.attributes["amf1.note"] == f"retry with Authorization: Bearer {REDACTED}"
    assert list(exported.attributes["amf1.targets"]) == [REDACTED, "stdout"]
    assert exported.attributes["amf1.driver"] == "VER"
    (event,) = exported.events
    assert event.attributes["exception.message"] == (
        f"cannot reach {REDACTED} with password={REDACTED}"
    )
    assert REDACTED in event.attributes["exception.stacktrace"]
    assert exported.status.description is not None
    assert REDACTED in exported.status.description


def test_a_span_name_carrying_a_secret_is_redacted(implementation: str) -> None:
    """A name built from input (e.g. a path holding a token) is exported redacted."""
    memory = configure_memory(tracing_implementation=implementation)
    with tracing.tracer().start_as_current_span(f"GET /hooks?token={PASSWORD}"):
        pass
    (exported,) = memory.spans()
    assert exported.name == f"GET /hooks?token={REDACTED}"


def test_secrets_added_after_start_up_are_redacted(implementation: str) -> None:
    """`logshipping.add_secrets` teaches the spans' redactor too (it is the same one)."""
    memory = configure_memory(tracing_implementation=implementation)
    logshipping.add_secrets(["late-span-secret-value"])
    with tracing.tracer().start_as_current_span("work") as span:
        span.set_attribute("amf1.detail", "got late-span-secret-value from the vault")
    (exported,) = memory.spans()
    assert exported.attributes["amf1.detail"] == f"got {REDACTED} from the vault"


def test_clean_spans_are_exported_as_they_were(implementation: str) -> None:
    """Without anything secret, names, attributes, events and status are untouched."""
    memory = configure_memory(tracing_implementation=implementation)
    attributes = {"amf1.driver": "VER", "amf1.prediction": 81.2, "amf1.features.duration_us": 12}
    with tracing.tracer().start_as_current_span("model-inference", attributes=attributes) as span:
        span.add_event("features built", {"amf1.features.missing": ["grid"]})
    (exported,) = memory.spans()
    assert exported.name == "model-inference"
    assert dict(exported.attributes) == attributes
    (event,) = exported.events
    assert list(event.attributes["amf1.features.missing"]) == ["grid"]
