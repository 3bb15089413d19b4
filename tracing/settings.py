"""Settings of the `tracing` package: where spans go, how many are kept, and how long we wait.

Environment variables carry the `AMF1_` prefix (`AMF1_OTLP_ENDPOINT`, `AMF1_TRACING_ENABLED`...);
an explicit argument to `Settings(...)` beats the environment. The service identity, the
environment and the Jaeger endpoints are shared groups, declared in `logshipping.settings_groups`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import JaegerEndpoints, ServiceIdentity

Protocol = Literal["grpc", "http"]
HttpInstrumentation = Literal["lean", "contrib"]


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
    tracing_sampler_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces kept; a sampled incoming `traceparent` always wins.",
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
        base = self.otlp_http_endpoint.rstrip("/")
        return base if base.endswith("/v1/traces") else f"{base}/v1/traces"
