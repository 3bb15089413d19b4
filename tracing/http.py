"""FastAPI instrumentation: one server span per request and the trace id on every response.

Two implementations, chosen by `AMF1_TRACING_HTTP_INSTRUMENTATION`:

- `lean` (default): `tracing.asgi.ServerSpanMiddleware` around the whole Starlette stack.
- `contrib`: opentelemetry-instrumentation-fastapi without its per-message `receive`/`send`
  spans (they answer no question and each costs as much as a real span); the trace id is
  written by a response propagator that its ASGI middleware calls on the response start.

Both wrap Starlette's error middleware, so 500 answers get a span and the header too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.propagators import (
    ResponsePropagator,
    set_global_response_propagator,
)
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.propagators import textmap

from logshipping.events import Action, emit
from tracing import _config
from tracing.asgi import TRACE_ID_HEADER, ServerSpanMiddleware
from tracing.tracer import SpanStarter

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["TRACE_ID_HEADER", "TraceIdHeaderPropagator", "instrument_app", "server_span_tracer"]


class TraceIdHeaderPropagator(ResponsePropagator):
    """Writes the 32-hex-digit trace id of the server span into the response headers."""

    def inject(
        self,
        carrier: Any,
        context: Context | None = None,
        setter: textmap.Setter[Any] = textmap.default_setter,
    ) -> None:
        """Add the header to an ASGI `http.response.start` message (other messages untouched)."""
        if isinstance(carrier, dict) and carrier.get("type") != "http.response.start":
            return
        span_context = trace.get_current_span(context).get_span_context()
        if span_context.is_valid:
            setter.set(carrier, TRACE_ID_HEADER, trace.format_trace_id(span_context.trace_id))


def server_span_tracer() -> SpanStarter | None:
    """For an app whose own access-log middleware makes the server spans (`tracing.asgi.
    ServerSpan`, one middleware layer less than `instrument_app`): the tracer, when tracing is
    configured with the lean instrumentation; None otherwise (off, or `contrib`, which
    `instrument_app` installs)."""
    state = _config.current()
    if state is None or state.settings.tracing_http_instrumentation != "lean":
        return None
    return state.tracer


def instrument_app(app: FastAPI) -> bool:
    """Trace `app`'s requests with the provider of `tracing.configure()`.

    Call it after `configure()` and before the app serves (Starlette builds its middleware stack
    on the first ASGI message, the lifespan start included). Returns whether the app is now
    instrumented; without tracing configured it does nothing. Never raises.
    """
    state = _config.current()
    if state is None:
        return False
    try:
        if state.settings.tracing_http_instrumentation == "lean":
            _wrap_stack(app, ServerSpanMiddleware, state.tracer)
        else:
            _instrument_contrib(app, state)
    except Exception as exc:  # noqa: BLE001 - observability must never stop the service
        emit(
            Action.LOG,
            "FastAPI tracing instrumentation failed; requests are served untraced",
            {"error.type": type(exc).__name__, "error.message": str(exc)},
            level="error",
        )
        return False
    return True


def _wrap_stack(app: FastAPI, middleware: type[ServerSpanMiddleware], tracer: SpanStarter) -> None:
    # Around the stack Starlette builds (ServerErrorMiddleware included), like the contrib
    # instrumentation does: its 500 answers then get a span and the header as well.
    build = app.build_middleware_stack

    def build_traced_stack() -> Any:
        return middleware(build(), tracer)

    app.build_middleware_stack = build_traced_stack  # type: ignore[method-assign]


def _instrument_contrib(app: FastAPI, state: _config.Tracing) -> None:
    # Imported here: the instrumentation imports FastAPI and Starlette internals.
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: PLC0415

    set_global_response_propagator(TraceIdHeaderPropagator())  # type: ignore[no-untyped-call]
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=state.provider,
        # No metrics pipeline exists in this product; a no-op provider keeps the
        # instrumentation's histograms off the request path.
        meter_provider=NoOpMeterProvider(),
        exclude_spans=["receive", "send"],
    )
