"""Logging and tracing of one service process, set up once at the process's entry point.

`amf1 serve` calls `configure_process()` before building the app; with several workers, uvicorn
starts each worker through `create_served_app`, so every process sets up its own. The app
factory itself configures nothing, so tests build apps without shipping or exporting anything.
"""

from __future__ import annotations

from fastapi import FastAPI

import logshipping
import tracing
from service.app import create_app
from service.protocol import set_header_timeout
from service.settings import Settings
from tracing.correlation import add_trace_context


def configure_process() -> None:
    """Configure logging (every event inside a request carries its `trace.id`/`span.id`) and
    tracing (OTLP to Jaeger) for this process, from the environment. Never raises for tracing:
    a tracing set-up failure is logged and the process runs untraced."""
    logshipping.configure(extra_processors=[add_trace_context])
    tracing.configure()


def create_served_app() -> FastAPI:
    """uvicorn's app factory for worker processes: this process's logging and tracing, then
    the app from the environment."""
    configure_process()
    settings = Settings()
    set_header_timeout(settings.header_timeout_s)
    return create_app(settings)
