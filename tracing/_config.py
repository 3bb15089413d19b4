"""All global state of the `tracing` package: the configured provider, its processor and tracer.

`configure()` is called once per process (the service's app factory, the watcher, the CLI);
`shutdown()` flushes within a bounded time. Any failure while setting up logs one event and leaves
the process without tracing: observability never stops the service.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from logshipping.events import Action, emit
from tracing import native
from tracing.drops import EXPORT_PATH_LOGGERS, DropAccountant, DropTotals, RateLimitFilter
from tracing.export import BatchProcessor, SpanExporter
from tracing.otlp import Encoder
from tracing.otlp_export import GrpcExporter, HttpExporter
from tracing.redaction import RedactingExporter
from tracing.sampling import Sampling
from tracing.sdk import SdkPipeline, SdkTracer
from tracing.settings import Settings
from tracing.tracer import Tracer, TracerProvider

INSTRUMENTATION_NAME = "amf1"


@dataclass(slots=True)
class Tracing:
    """What `configure()` built; the package keeps exactly one (or none)."""

    settings: Settings
    resource: Mapping[str, AttributeValue]
    provider: trace.TracerProvider
    processor: BatchProcessor | SdkPipeline
    accountant: DropAccountant
    tracer: Tracer | SdkTracer
    log_filters: list[tuple[logging.Logger, RateLimitFilter]] = field(default_factory=list)


_current: Tracing | None = None
_NOOP_TRACER = trace.NoOpTracer()


def configure(
    settings: Settings | None = None,
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    exporter: SpanExporter | None = None,
    set_global: bool = True,
) -> bool:
    """Set up tracing for this process; returns whether spans are now recorded.

    Args:
        settings: defaults to `Settings()` read from the environment.
        service_name: overrides `settings.service_name`.
        service_version: overrides `settings.service_version`.
        exporter: replaces the OTLP exporter (tests pass an in-memory one).
        set_global: also install the provider as OpenTelemetry's global one (only the first
            provider of a process can be global; tests pass False).

    A second call replaces the first set-up (after shutting it down). Never raises: a failure
    is logged and tracing stays off.
    """
    global _current  # noqa: PLW0603 - the one piece of process state, kept in this module
    shutdown()
    try:
        settings = settings or Settings()
        if not settings.tracing_enabled:
            return False
        name = service_name or settings.service_name
        version = service_version or settings.service_version
        _current = _build(settings, name, version, exporter)
    except Exception as exc:  # noqa: BLE001 - observability must never stop the service
        emit(
            Action.LOG,
            "tracing set-up failed; the process continues without traces",
            {"error.type": type(exc).__name__, "error.message": str(exc)},
            level="error",
        )
        return False
    if set_global and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(_current.provider)
    return True


def _build(
    settings: Settings, service_name: str, service_version: str, exporter: SpanExporter | None
) -> Tracing:
    resource = _resource(settings, service_name, service_version)
    accountant = DropAccountant(settings.tracing_drop_log_interval_s)
    processor: BatchProcessor | SdkPipeline
    if settings.tracing_implementation == "sdk":
        processor = SdkPipeline(settings, resource, exporter)
        provider: trace.TracerProvider = processor.provider
        tracer: Tracer | SdkTracer = SdkTracer(provider.get_tracer(INSTRUMENTATION_NAME))
    else:
        processor = BatchProcessor(
            RedactingExporter(
                exporter if exporter is not None else _otlp_exporter(settings, resource)
            ),
            accountant,
            queue_size=settings.tracing_queue_size,
            batch_size=settings.tracing_batch_size,
            schedule_delay_s=settings.tracing_schedule_delay_ms / 1000,
        )
        lean = TracerProvider(processor, sampling(settings), native=settings.tracing_native)
        if settings.tracing_native and not native.AVAILABLE:
            emit(
                Action.LOG,
                "tracing runs its pure-Python path: tracing/_hotpath.c was not built at install "
                "(no C compiler?); run `uv sync` where one is found",
                level="warning",
            )
        provider, tracer = lean, lean.get_tracer(INSTRUMENTATION_NAME)
    # W3C trace context unless OTEL_PROPAGATORS chose (the API reads it when imported).
    if not os.environ.get("OTEL_PROPAGATORS"):
        propagate.set_global_textmap(TraceContextTextMapPropagator())
    return Tracing(
        settings=settings,
        resource=resource,
        provider=provider,
        processor=processor,
        accountant=accountant,
        tracer=tracer,
        log_filters=_rate_limit_export_logs(settings.tracing_drop_log_interval_s),
    )


def sampling(settings: Settings) -> Sampling:
    """The lean tracer's sampling rules from the settings."""
    threshold = settings.tracing_slow_threshold_s
    return Sampling(
        ratio=settings.tracing_sampler_ratio,
        parent_based=settings.tracing_parent_based,
        keep_failed=settings.tracing_keep_failed,
        slow_threshold_ns=None if threshold is None else round(threshold * 1e9),
    )


def _resource(
    settings: Settings, service_name: str, service_version: str
) -> Mapping[str, AttributeValue]:
    ours: dict[str, AttributeValue] = {
        "service.name": service_name,
        "service.version": service_version,
        "deployment.environment.name": settings.environment,
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),
    }
    # The SDK's Resource merges OTEL_RESOURCE_ATTRIBUTES and the telemetry.sdk.* attributes;
    # there, an attribute beats the defaults of our settings, not a value set through them.
    detected = Resource.create().attributes
    for key, name in (
        ("service.version", "service_version"),
        ("deployment.environment.name", "environment"),
    ):
        if key in detected and name not in settings.model_fields_set:
            del ours[key]
    return Resource.create(ours).attributes


def _otlp_exporter(settings: Settings, resource: Mapping[str, AttributeValue]) -> SpanExporter:
    encoder = Encoder(resource)
    timeout_s, headers = settings.tracing_export_timeout_s, settings.headers
    if settings.otlp_protocol == "http":
        return HttpExporter(settings.traces_http_url, timeout_s, encoder, headers)
    return GrpcExporter(settings.otlp_endpoint, timeout_s, encoder, headers)


def _rate_limit_export_logs(interval_s: float) -> list[tuple[logging.Logger, RateLimitFilter]]:
    installed = []
    for name in EXPORT_PATH_LOGGERS:
        logger = logging.getLogger(name)
        log_filter = RateLimitFilter(interval_s)
        logger.addFilter(log_filter)
        installed.append((logger, log_filter))
    return installed


def shutdown() -> None:
    """Export queued spans within `AMF1_TRACING_SHUTDOWN_TIMEOUT_S`, then stop; idempotent."""
    global _current
    state, _current = _current, None
    if state is None:
        return
    try:
        state.processor.shutdown(state.settings.tracing_shutdown_timeout_s)
    except Exception as exc:  # noqa: BLE001 - shutdown must finish even if the exporter is broken
        emit(
            Action.LOG,
            "tracing shutdown failed; queued spans may be lost",
            {"error.type": type(exc).__name__, "error.message": str(exc)},
            level="warning",
        )
    finally:
        for logger, log_filter in state.log_filters:
            logger.removeFilter(log_filter)


def current() -> Tracing | None:
    """The active set-up, or None when tracing is off."""
    return _current


def tracer() -> trace.Tracer:
    """The tracer for the product's own spans (a no-op tracer when tracing is off)."""
    state = _current
    if state is None:
        return _NOOP_TRACER
    return state.tracer.tracer if isinstance(state.tracer, SdkTracer) else state.tracer


def drop_totals() -> DropTotals:
    """Spans lost since `configure()` (zeros when tracing is off)."""
    state = _current
    return state.accountant.totals if state is not None else DropTotals(0, 0)


def force_flush(timeout_s: float = 5.0) -> bool:
    """Export everything queued now (tests, CLI commands about to exit)."""
    state = _current
    return state.processor.force_flush(timeout_s) if state is not None else True
