"""Tracing settings: defaults, environment, explicit arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from tracing.settings import LATENCY_ALERT_S, Settings


def test_defaults_keep_failed_slow_and_a_tenth_over_http_to_local_jaeger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without environment, spans go over OTLP/HTTP to 127.0.0.1:4318; failed traces, traces
    slower than the latency alert's level and 10 % of the others are kept."""
    for name in ("AMF1_OTLP_HTTP_ENDPOINT", "AMF1_TRACING_SAMPLER_RATIO", "AMF1_OTLP_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.tracing_enabled
    assert settings.otlp_protocol == "http"
    assert settings.traces_http_url == "http://127.0.0.1:4318/v1/traces"
    assert settings.tracing_sampler_ratio == 0.1
    assert settings.tracing_keep_failed
    assert settings.tracing_slow_threshold_s == 0.2


def test_slow_threshold_is_the_latency_alerts_level() -> None:
    """The default slow threshold is the `high-latency` rule's warning level."""
    rules = yaml.safe_load(Path("alerting/rules.yaml").read_text(encoding="utf-8"))
    (latency,) = [rule for rule in rules["rules"] if rule["id"] == "high-latency"]
    assert latency["warning"] == LATENCY_ALERT_S


def test_slow_rule_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """`AMF1_TRACING_SLOW_THRESHOLD_S=none` (or empty, `null`) leaves no slow rule."""
    for word in ("none", "", "null"):
        monkeypatch.setenv("AMF1_TRACING_SLOW_THRESHOLD_S", word)
        assert Settings().tracing_slow_threshold_s is None


def test_environment_configures_and_explicit_argument_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_* variables set the values; an argument to Settings() beats them."""
    monkeypatch.setenv("AMF1_TRACING_SAMPLER_RATIO", "0.25")
    monkeypatch.setenv("AMF1_OTLP_PROTOCOL", "grpc")
    assert Settings().tracing_sampler_ratio == 0.25
    assert Settings().otlp_protocol == "grpc"
    assert Settings(tracing_sampler_ratio=0.5).tracing_sampler_ratio == 0.5


def test_ratio_outside_zero_one_is_refused() -> None:
    """A sampler ratio above 1 is a configuration error, not silently clamped."""
    with pytest.raises(ValidationError, match="tracing_sampler_ratio"):
        Settings(tracing_sampler_ratio=1.5)


def test_batch_larger_than_queue_is_refused() -> None:
    """The error names both settings so the operator knows what to fix."""
    with pytest.raises(ValidationError, match="AMF1_TRACING_BATCH_SIZE"):
        Settings(tracing_queue_size=10, tracing_batch_size=20)


def test_http_endpoint_gets_the_traces_path_once() -> None:
    """The OTLP/HTTP base URL becomes .../v1/traces, also when already given in full."""
    assert (
        Settings(otlp_http_endpoint="http://h:4318/").traces_http_url == "http://h:4318/v1/traces"
    )
    full = "http://h:4318/v1/traces"
    assert Settings(otlp_http_endpoint=full).traces_http_url == full


def test_jaeger_ui_defaults_to_query_url() -> None:
    """Links use AMF1_JAEGER_UI_URL when set, else the query URL."""
    assert Settings(jaeger_query_url="http://q:16686/").ui_base_url == "http://q:16686"
    ui = Settings(jaeger_query_url="http://q:16686", jaeger_ui_url="https://jaeger.example")
    assert ui.ui_base_url == "https://jaeger.example"
