"""OpenTelemetry for the AMF1 processes: set-up, FastAPI instrumentation, spans, log correlation.

import tracing
tracing.configure()                 # once per process, at its entry point; never raises
tracing.instrument_app(app)         # in the app factory (no-op without configure)
...
tracing.shutdown()                  # bounded flush
"""

from tracing._config import configure, current, drop_totals, force_flush, shutdown, tracer
from tracing.http import TRACE_ID_HEADER, instrument_app
from tracing.settings import Settings

__all__ = [
    "TRACE_ID_HEADER",
    "Settings",
    "configure",
    "current",
    "drop_totals",
    "force_flush",
    "instrument_app",
    "shutdown",
    "tracer",
]
