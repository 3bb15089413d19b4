"""OpenTelemetry for the AMF1 processes: set-up, FastAPI instrumentation, spans, log correlation.

import tracing
tracing.configure(service_version=__version__)   # once per process; never raises
tracing.instrument_app(app)                       # before the app serves
...
tracing.shutdown()                                # bounded flush
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
