"""The current span: OpenTelemetry's context, read and set in one call each.

The API keeps the current `Context` in a ContextVar behind two Python calls (`get_current()` ->
its runtime's `get_current()`), and setting it takes four; the request path reads it three times
and sets it once per request. With the default runtime (the only one OpenTelemetry ships) these
helpers use its ContextVar directly (`CURRENT`); another runtime (`OTEL_PYTHON_CONTEXT`) goes
through the API. `caller_span` reads a caller's W3C trace context from ASGI headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar, Token

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context, get_current
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.propagators.textmap import Getter

SPAN_KEY = next(iter(trace.set_span_in_context(trace.INVALID_SPAN, Context())))
"""The key under which the API keeps the current span in a `Context`, taken from the API itself
(its constant is private)."""

_runtime = otel_context._RUNTIME_CONTEXT
CURRENT: ContextVar[Context] | None = (
    _runtime._current_context if isinstance(_runtime, ContextVarsRuntimeContext) else None
)
"""The default runtime's ContextVar of the current `Context` (None under another runtime)."""

# Types seen to be spans: `isinstance` against the API's abstract class is a Python-level call,
# a set look-up is not (a handful of types ever: the lean spans, the API's, the SDK's).
_SPAN_TYPES: set[type] = set()
_TRACEPARENT = b"traceparent"
_TRACESTATE = b"tracestate"


def current_span(context: Context | None = None) -> trace.Span:
    """`trace.get_current_span(context)` in one call instead of four (it runs for every span and
    every log event)."""
    if context is None:
        context = CURRENT.get() if CURRENT is not None else get_current()
    span = context.get(SPAN_KEY)
    if type(span) in _SPAN_TYPES:
        return span  # type: ignore[return-value]
    if isinstance(span, trace.Span):
        _SPAN_TYPES.add(type(span))
        return span
    return trace.INVALID_SPAN


def attach_span(span: trace.Span) -> Token[Context]:
    """`context.attach(trace.set_span_in_context(span))`: make `span` current; returns the token
    for `detach`."""
    if CURRENT is None:
        return otel_context.attach(trace.set_span_in_context(span))
    current = CURRENT.get()
    # A request's task usually starts with the empty context: no copy of it then.
    return CURRENT.set(
        Context({**current, SPAN_KEY: span}) if current else Context({SPAN_KEY: span})
    )


def detach(token: Token[Context]) -> None:
    """`context.detach(token)`: restore the context from before `attach_span`."""
    if CURRENT is None:
        otel_context.detach(token)
        return
    try:
        CURRENT.reset(token)
    except ValueError:  # a token of another context: the API's detach logs the failure
        otel_context.detach(token)


class _HeaderGetter(Getter[dict[str, str]]):
    def get(self, carrier: dict[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if value is not None else None

    def keys(self, carrier: dict[str, str]) -> list[str]:
        return list(carrier)


_GETTER = _HeaderGetter()


def caller_span(headers: Iterable[tuple[bytes, bytes]]) -> trace.Span:
    """The caller's span from the W3C trace context headers of an ASGI request (through the
    configured propagator); `INVALID_SPAN` when there is none."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name in (_TRACEPARENT, _TRACESTATE)
    }
    return current_span(propagate.extract(carrier, getter=_GETTER))
