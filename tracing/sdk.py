"""The official pipeline behind the same API (`AMF1_TRACING_IMPLEMENTATION=sdk`).

opentelemetry-sdk's `TracerProvider` with its `BatchSpanProcessor` and OTLP exporter
(`opentelemetry-exporter-otlp-proto-http` or `-grpc`), configured from the same settings as the
lean tracer: the same spans, attributes, resource, endpoint, headers, batching and timeouts, and
the same redaction before export (`tracing.redaction`). Its
sampler decides at the start of a trace only (`ParentBased(TraceIdRatioBased(ratio))`): the
rules that keep failed and slow traces need the decision at the end, which the SDK's sampler
interface cannot make. The way back to the official SDK, and the baseline of the overhead
benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export import SpanExporter as SdkSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from tracing.export import SpanExporter
from tracing.redaction import RedactingSdkExporter
from tracing.settings import Settings


class SdkTracer:
    """An SDK tracer with the lean tracer's `start_owned`, for the product's own spans."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def start_owned(
        self, name: str, kind: SpanKind, attributes: dict[str, AttributeValue], parent: trace.Span
    ) -> trace.Span:
        """`start_span` under `parent` (`INVALID_SPAN`: a new trace); the SDK copies
        `attributes`, so later ones go through `set_attribute`."""
        context = trace.set_span_in_context(parent, Context())
        return self.tracer.start_span(name, context, kind, attributes)


class _Adapted(SdkSpanExporter):
    """One of our exporters (e.g. the tests' `MemoryExporter`) as an SDK exporter."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        delivered = self._exporter.export(spans)  # type: ignore[arg-type]
        return SpanExportResult.SUCCESS if delivered else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._exporter.shutdown()


class SdkPipeline:
    """The SDK provider and its processor, with the lean pipeline's flush and shutdown."""

    def __init__(
        self,
        settings: Settings,
        resource: Mapping[str, AttributeValue],
        exporter: SpanExporter | None,
    ) -> None:
        ratio = TraceIdRatioBased(settings.tracing_sampler_ratio)
        sampler: Sampler = ParentBased(ratio) if settings.tracing_parent_based else ratio
        self.provider = SdkTracerProvider(resource=Resource(dict(resource)), sampler=sampler)
        self.provider.add_span_processor(
            BatchSpanProcessor(
                RedactingSdkExporter(
                    _Adapted(exporter) if exporter is not None else _otlp_exporter(settings)
                ),
                max_queue_size=settings.tracing_queue_size,
                schedule_delay_millis=settings.tracing_schedule_delay_ms,
                max_export_batch_size=settings.tracing_batch_size,
                export_timeout_millis=settings.tracing_export_timeout_s * 1000,
            )
        )

    def force_flush(self, timeout_s: float) -> bool:
        """Export everything queued now."""
        return self.provider.force_flush(int(timeout_s * 1000))

    def shutdown(self, timeout_s: float) -> None:
        """Flush within `timeout_s`, then stop."""
        self.provider.force_flush(int(timeout_s * 1000))
        self.provider.shutdown()


def _otlp_exporter(settings: Settings) -> SdkSpanExporter:
    # Imported here: only processes that run the SDK pipeline load its exporters.
    options: dict[str, Any] = {
        "headers": settings.headers or None,
        "timeout": settings.tracing_export_timeout_s,
    }
    if settings.otlp_protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter(endpoint=settings.traces_http_url, **options)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter as GrpcSpanExporter,
    )

    endpoint = settings.otlp_endpoint
    return GrpcSpanExporter(endpoint=endpoint, insecure=not endpoint.startswith("https"), **options)
