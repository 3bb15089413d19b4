"""The application factory. It only assembles: settings, registry, store, middleware, routes.

Start-up and shut-down work goes in `lifespan` (tracing and monitoring hook in there). Logging and
tracing are configured per process at its entry point (`service.observability`), not here, so
tests build apps that export nothing.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

import tracing
from logshipping.events import Action, emit
from service import handlers, openapi
from service.feedback import PredictionStore
from service.limits import ConcurrencyLimitMiddleware
from service.metrics.sync import ProcessSync
from service.middleware import AccessLogMiddleware, BodyLimitMiddleware
from service.model_status import ModelStatusReporter
from service.monitoring.hub import MonitoringHub
from service.monitoring.wiring import sync_models
from service.registry import ModelRegistry
from service.routes import feedback, metrics, ops, predict
from service.settings import Settings
from service.state import Services, services_of
from service.workers.sync import WorkerSync

SERVICE_NAME = "amf1-prediction-service"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the models (unless already loaded) on start-up, keep this worker on the service's
    reload generation (`service.workers`); log start and stop."""
    state = services_of(app)
    emit(
        Action.SERVICE_STARTED,
        f"{SERVICE_NAME} starting",
        {"amf1.models_dir": str(state.settings.models_dir)},
    )
    await run_in_threadpool(state.workers.load_initial)

    status_reporter = ModelStatusReporter(state.settings.model_status_interval_s)

    def refresh_monitoring() -> None:
        statuses = state.registry.statuses()
        sync_models(state.monitoring, statuses)
        status_reporter.report_if_due(statuses)

    refresh_monitoring()  # reports data freshness at start
    # The start-up heap (~170k objects: pandas, LightGBM, FastAPI, the models) lives as long as
    # the process. Freezing it keeps the collector's full passes from walking it: measured here
    # at ~120 ms each, and the spans waiting in the export queue make such passes come every few
    # thousand requests. Objects freed later by reference counting are unaffected.
    gc.freeze()
    async with (
        state.monitoring.running(refresh=refresh_monitoring),
        state.workers.running(),
        app.state.metrics_sync.running(),
    ):
        yield
    emit(Action.SERVICE_STOPPED, f"{SERVICE_NAME} stopped")
    tracing.shutdown()


def create_app(
    settings: Settings | None = None,
    *,
    registry: ModelRegistry | None = None,
    predictions: PredictionStore | None = None,
    monitoring: MonitoringHub | None = None,
) -> FastAPI:
    """Build the service app.

    Args:
        settings: defaults to `Settings()` (environment variables).
        registry: a ready registry (tests pass a pre-loaded one); else one over
            `settings.models_dir`, loaded at start-up.
        predictions: the store that matches feedback to predictions.
        monitoring: drift / performance / freshness monitoring (default: from `settings`).
    """
    settings = settings or Settings()
    app = FastAPI(
        title="AMF1 prediction API",
        version="0.1.0",
        description="Qualifying lap time and race-winner predictions from two LightGBM models.",
        lifespan=lifespan,
        # Tracing is the OpenTelemetry FastAPI instrumentation's job (`tracing.instrument_app`);
        # FastAPI's own telemetry would otherwise switch itself on with the global provider and
        # check for it on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    registry = registry or ModelRegistry(settings.models_dir)
    app.state.services = Services(
        settings=settings,
        registry=registry,
        workers=WorkerSync(
            registry,
            registry.models_dir,
            poll_s=settings.reload_poll_s,
            wait_s=settings.reload_wait_s,
        ),
        # `is None`, not `or`: an empty store is falsy (it has a length) but was still given.
        predictions=predictions
        if predictions is not None
        else PredictionStore(settings.prediction_store_size, settings.prediction_ttl_s),
        monitoring=monitoring if monitoring is not None else MonitoringHub(settings.monitoring),
    )
    app.state.metrics_sync = ProcessSync(registry.statuses)
    handlers.install(app)
    openapi.install(app)
    app.include_router(predict.router)
    app.include_router(feedback.router)
    app.include_router(ops.router)
    app.include_router(metrics.router)
    # Added last = outermost: the access log sees the 413/408 answers of the body limit and the
    # 503 of the concurrency limit too (which counts slow body uploads as in progress). With
    # tracing on it also makes the server span and adds X-Trace-Id to every answer.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s
    )
    app.add_middleware(ConcurrencyLimitMiddleware, max_in_flight=settings.max_concurrent_requests)
    tracer = tracing.server_span_tracer()
    app.add_middleware(AccessLogMiddleware, tracer=tracer)
    if tracer is None:
        # The OpenTelemetry FastAPI instrumentation when configured instead (a no-op when
        # tracing is off).
        tracing.instrument_app(app)
    return app
