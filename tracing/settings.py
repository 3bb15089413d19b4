"""Settings of the `tracing` package: where spans go, how many are kept, and how long we wait.

Environment variables carry the `AMF1_` prefix (`AMF1_OTLP_ENDPOINT`, `AMF1_TRACING_ENABLED`...);
OpenTelemetry's standard `OTEL_*` variables fill the fields no `AMF1_*` variable sets
(`tracing.otel_env`): an explicit argument to `Settings(...)` beats `AMF1_*`, which beats
`OTEL_*`. The service identity, the environment and the Jaeger endpoints are shared groups,
declared in `logshipping.settings_groups`.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import JaegerEndpoints, ServiceIdentity
from tracing import otel_env

Protocol = Literal["grpc", "http"]
HttpInstrumentation = Literal["lean", "contrib"]
Implementation = Literal["lean", "sdk"]
LATENCY_ALERT_S = 0.2
"""The high-latency alert's warning level (alerting/rules.yaml, `high-latency`): traces slower
than this are always kept by default (a test keeps the two equal)."""


class Settings(AMF1Settings, ServiceIdentity, JaegerEndpoints):
    """OpenTelemetry set-up: exporter, sampling, batching and the Jaeger links."""

    tracing_enabled: bool = Field(
        default=True, description="Create and export spans; false -> no tracing at all."
    )
    otlp_protocol: Protocol = Field(
        default="http",
        description="OTLP transport to Jaeger: `http` (4318, protobuf; OpenTelemetry's default, "
        "and measured ~10 % of requests/s cheaper for the service than grpcio) or `grpc` (4317).",
    )
    otlp_http_endpoint: str = Field(
        default="http://127.0.0.1:4318",
        description="OTLP/HTTP receiver base URL (used when http; `/v1/traces` is appended).",
    )
    tracing_http_instrumentation: HttpInstrumentation = Field(
        default="lean",
        description="Server spans by `lean` (tracing.asgi, ~6x fewer calls per request) or "
        "`contrib` (opentelemetry-instrumentation-fastapi, richer HTTP attributes).",
    )
    tracing_implementation: Implementation = Field(
        default="lean",
        description="`lean` (tracing.tracer: spans as slotted records, our OTLP encoder and "
        "exporters, tail sampling) or `sdk` (opentelemetry-sdk's TracerProvider, "
        "BatchSpanProcessor and OTLP exporter; head sampling only: the ratio and the parent).",
    )
    tracing_native: bool = Field(
        default=True,
        description="Run the lean tracer's per-request work in C (tracing/_hotpath.c, built by "
        "`uv sync` where a C compiler is found; about half the CPU the pure-Python path costs a "
        "request); false, or where it was not built: the same behaviour in pure Python.",
    )
    otlp_traces_url: str | None = Field(
        default=None,
        description="Full OTLP/HTTP traces URL, used as is (beats `AMF1_OTLP_HTTP_ENDPOINT`).",
    )
    otlp_headers: SecretStr | None = Field(
        default=None,
        description="Headers of every OTLP request, `key=value,key2=value2` with URL-encoded "
        "values (the format of `OTEL_EXPORTER_OTLP_HEADERS`), e.g. an API key.",
    )
    tracing_sampler_ratio: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Share of traces kept whatever their outcome (by trace id, as the SDK's "
        "`TraceIdRatioBased`); 1.0 exports every trace. Failed and slow ones are kept anyway.",
    )
    tracing_parent_based: bool = Field(
        default=True,
        description="A caller's `traceparent` decides (sampled: kept) instead of the ratio.",
    )
    tracing_keep_failed: bool = Field(
        default=True,
        description="Keep every trace with a failed span (a 5xx, an exception), whatever the "
        "ratio; decided when the request ends.",
    )
    tracing_slow_threshold_s: float | None = Field(
        default=LATENCY_ALERT_S,
        ge=0.0,
        description="Keep every trace whose server span lasted at least this long, whatever the "
        "ratio (default: the high-latency alert's level); unset (`null`): no such rule.",
    )
    tracing_queue_size: int = Field(
        default=2048, gt=0, description="Spans buffered for export; beyond it spans are dropped."
    )
    tracing_batch_size: int = Field(
        default=512, gt=0, description="Spans per export request (at most the queue size)."
    )
    tracing_schedule_delay_ms: int = Field(
        default=1000, gt=0, description="Longest wait before a partial batch is exported."
    )
    tracing_export_timeout_s: float = Field(
        default=5.0, gt=0, description="Bound on one export call, retries included, in seconds."
    )
    tracing_shutdown_timeout_s: float = Field(
        default=3.0, gt=0, description="Bound on the final flush at shutdown, in seconds."
    )
    tracing_drop_log_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="At most one dropped-spans report (and one exporter error line) per interval.",
    )

    @field_validator("tracing_slow_threshold_s", mode="before")
    @classmethod
    def _none_words(cls, value: Any) -> Any:
        """`AMF1_TRACING_SLOW_THRESHOLD_S=` (empty), `none` or `null`: no slow rule."""
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null"}:
            return None
        return value

    @model_validator(mode="before")
    @classmethod
    def _otel_variables(cls, data: Any) -> Any:
        """Fill the fields no argument and no `AMF1_*` variable set from `OTEL_*`."""
        if not isinstance(data, dict):
            return data
        return {**otel_env.values(os.environ, data), **data}

    @model_validator(mode="after")
    def _batch_fits_queue(self) -> Settings:
        if self.tracing_batch_size > self.tracing_queue_size:
            raise ValueError(
                f"AMF1_TRACING_BATCH_SIZE ({self.tracing_batch_size}) must not exceed "
                f"AMF1_TRACING_QUEUE_SIZE ({self.tracing_queue_size})"
            )
        return self

    @property
    def traces_http_url(self) -> str:
        """Full OTLP/HTTP traces URL."""
        if self.otlp_traces_url:
            return self.otlp_traces_url
        base = self.otlp_http_endpoint.rstrip("/")
        return base if base.endswith("/v1/traces") else f"{base}/v1/traces"

    @property
    def headers(self) -> dict[str, str]:
        """The OTLP request headers (lower-case names)."""
        if self.otlp_headers is None:
            return {}
        return otel_env.parse_headers(self.otlp_headers.get_secret_value())
