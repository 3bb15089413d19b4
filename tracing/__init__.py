"""OpenTelemetry for the AMF1 processes: set-up, FastAPI instrumentation, spans, log correlation.

Usage, at a process's entry point and in its app factory:

    tracing.configure()          # once per process; never raises (a failure logs, no tracing)
    tracing.instrument_app(app)  # in the app factory (a no-op without configure), or
    tracing.server_span_tracer() # for an app whose own middleware makes the server spans
    ...
    tracing.shutdown()           # bounded flush (the app's lifespan exit)
"""

from tracing._config import configure, current, drop_totals, force_flush, shutdown, tracer
from tracing.http import TRACE_ID_HEADER, instrument_app, server_span_tracer
from tracing.settings import Settings

__all__ = [
    "TRACE_ID_HEADER",
    "Settings",
    "configure",
    "current",
    "drop_totals",
    "force_flush",
    "instrument_app",
    "server_span_tracer",
    "shutdown",
    "tracer",
]
