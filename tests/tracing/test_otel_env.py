"""OpenTelemetry's standard OTEL_* variables: honoured as the specification says, below AMF1_*."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

import tracing
from tracing import _config
from tracing.settings import Settings
from tracing.testing import MemoryExporter


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import os  # noqa: PLC0415

    for name in list(os.environ):
        if name.startswith(("OTEL_", "AMF1_TRACING", "AMF1_OTLP", "AMF1_SERVICE")):
            monkeypatch.delenv(name)
    yield
    tracing.shutdown()


def test_endpoint_protocol_headers_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The general endpoint gets `/v1/traces`; the traces one is used as is and wins; headers
    are URL-decoded; timeouts are milliseconds, the exporter's beating the BSP's."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example:4318")
    assert Settings().traces_http_url == "https://otel.example:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://otel.example/custom")
    assert Settings().traces_http_url == "https://otel.example/custom"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%3Dcret,x-tenant=amf1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=traces")
    assert Settings().headers == {"api-key": "traces"}
    monkeypatch.setenv("OTEL_BSP_EXPORT_TIMEOUT", "7000")
    assert Settings().tracing_export_timeout_s == 7.0
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
    assert Settings().tracing_export_timeout_s == 2.5
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
    assert Settings().headers == {"api-key": "s=cret", "x-tenant": "amf1"}


def test_grpc_protocol_takes_the_endpoint_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """`grpc` selects the gRPC exporter and its endpoint; `http/json` is refused by name."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    settings = Settings()
    assert settings.otlp_protocol == "grpc"
    assert settings.otlp_endpoint == "http://collector:4317"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
    with pytest.raises(ValidationError, match="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        Settings()


@pytest.mark.parametrize(
    ("sampler", "argument", "ratio", "parent_based", "tail"),
    [
        ("always_on", None, 1.0, False, True),
        ("always_off", None, 0.0, False, False),
        ("traceidratio", "0.25", 0.25, False, True),
        ("parentbased_always_on", None, 1.0, True, True),
        ("parentbased_always_off", None, 0.0, True, False),
        ("parentbased_traceidratio", "0.05", 0.05, True, True),
        ("parentbased_traceidratio", "2", 1.0, True, True),
        ("jaeger_remote", None, 0.1, True, True),
    ],
)
def test_sampler_and_argument(
    monkeypatch: pytest.MonkeyPatch,
    sampler: str,
    argument: str | None,
    ratio: float,
    parent_based: bool,
    tail: bool,
) -> None:
    """Each standard sampler maps onto ratio and parent rule; `*always_off` also ends the
    failed/slow rules; an unknown sampler or a bad argument falls back (a warning)."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
    if argument is not None:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", argument)
    rules = _config.sampling(Settings())
    assert (rules.ratio, rules.parent_based, rules.tail) == (ratio, parent_based, tail)


def test_amf1_variables_beat_otel_and_arguments_beat_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where both name a value, `AMF1_*` wins; an explicit argument beats both."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-otel")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "256")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    settings = Settings()
    assert settings.service_name == "from-otel"
    assert (settings.tracing_queue_size, settings.tracing_batch_size) == (4096, 256)
    assert settings.tracing_schedule_delay_ms == 250
    assert settings.tracing_sampler_ratio == 1.0
    monkeypatch.setenv("AMF1_TRACING_SAMPLER_RATIO", "0.3")
    monkeypatch.setenv("AMF1_SERVICE_NAME", "from-amf1")
    assert Settings().tracing_sampler_ratio == 0.3
    assert Settings().service_name == "from-amf1"
    assert Settings(service_name="argument").service_name == "argument"


def test_service_name_from_resource_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`service.name` in OTEL_RESOURCE_ATTRIBUTES names the service when OTEL_SERVICE_NAME does
    not; other resource attributes reach the spans' resource."""
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr,k8s.pod.name=p-1")
    assert tracing.configure(exporter=MemoryExporter(), set_global=False)
    state = tracing.current()
    assert state is not None
    assert state.resource["service.name"] == "attr"
    assert state.resource["k8s.pod.name"] == "p-1"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "named")
    assert Settings().service_name == "named"


def test_sdk_disabled_turns_tracing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_SDK_DISABLED=true: no tracing (AMF1_TRACING_ENABLED=true would still win)."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "TRUE")
    assert not tracing.configure(set_global=False)
    monkeypatch.setenv("AMF1_TRACING_ENABLED", "true")
    assert Settings().tracing_enabled


def test_traces_exporter_none_keeps_ids_and_exports_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OTEL_TRACES_EXPORTER=none: spans and ids (for the logs), nothing exported."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert not _config.sampling(Settings()).tail
    assert Settings().tracing_sampler_ratio == 0.0
