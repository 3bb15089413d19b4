"""The product's own spans, and error recording on any span.

A prediction request carries two spans: the server span of the FastAPI instrumentation and one
`model-inference` span around feature building and the model call. Feature building is recorded
as attributes of the inference span (`amf1.features.duration_us`, `amf1.features.missing`), not
as a third span nor as a span event: measured here, an event adds about 40 % of a span's cost,
an attribute about 1 %, and the duration attribute answers the same question ("was it the
features or the model?"). Drift updates run every K requests, so they get a span of their own
(`drift-update`) without weighing on the typical request.

Attribute names are the log events' field names (`amf1.model.name`, `amf1.driver`...), so a
search in Jaeger and in Kibana reads the same.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from contextvars import Token
from types import TracebackType

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from tracing import _config
from tracing.current import attach_span, current_span, detach
from tracing.tracer import SpanStarter, Tracer

INFERENCE_SPAN = "model-inference"
DRIFT_SPAN = "drift-update"

MODEL_NAME = "amf1.model.name"
MODEL_VERSION = "amf1.model.version"
DRIVER = "amf1.driver"
CIRCUIT = "amf1.circuit"
FIELD_SIZE = "amf1.field_size"
FEATURE_MISSING = "amf1.features.missing"
FEATURE_DURATION_US = "amf1.features.duration_us"
_INTERNAL = SpanKind.INTERNAL  # an enum member's look-up is a Python-level descriptor call


class _SpanScope:
    """A span around a block that marks itself failed on an exception, except on client errors;
    with `current`, the span is the active one inside the block.

    A class over `start_owned` and `attach_span` rather than `start_as_current_span`: it is on
    every prediction's path, and the API's version stacks two generator context managers. A
    tracer on the C hot path gets its C twin (its `start_owned.span_scope`, `tracing.native`).
    """

    __slots__ = (
        "_attributes",
        "_client_errors",
        "_current",
        "_name",
        "_span",
        "_token",
        "_tracer",
    )

    _span: Span

    def __init__(  # positional: a keyword takes the type call's slow path
        self,
        tracer: SpanStarter,
        name: str,
        attributes: dict[str, AttributeValue],
        client_errors: tuple[type[BaseException], ...],
        current: bool,
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._attributes = attributes
        self._client_errors = client_errors
        self._current = current
        self._token: Token[Context] | None = None

    def __enter__(self) -> Span:
        span: Span = self._tracer.start_owned(
            self._name, _INTERNAL, self._attributes, current_span()
        )
        self._span = span
        if self._current:
            self._token = attach_span(span)
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is not None and not isinstance(exc, self._client_errors):
                record_error(exc, self._span)
        finally:
            if self._token is not None:
                detach(self._token)
            self._span.end()


_NO_SPAN = nullcontext(trace.INVALID_SPAN)


def _span_scope(
    name: str,
    attributes: dict[str, AttributeValue],
    client_errors: tuple[type[BaseException], ...],
    current: bool,
) -> AbstractContextManager[Span]:
    """A span named `name` around a block, by the configured tracer (none when tracing is off)."""
    state = _config.current()
    if state is None:
        return _NO_SPAN
    tracer = state.tracer
    if type(tracer) is Tracer and tracer.native:
        return tracer.start_owned.span_scope(  # type: ignore[attr-defined, no-any-return]
            name, attributes, client_errors, current, record_error
        )
    return _SpanScope(tracer, name, attributes, client_errors, current)


def inference_span(
    model_name: str,
    model_version: str,
    *,
    driver: str | None = None,
    circuit: str | None = None,
    field_size: int | None = None,
    client_errors: tuple[type[BaseException], ...] = (),
) -> AbstractContextManager[Span]:
    """A child span of the request's around one prediction (feature building and the model call).

    It is not made the active span: nothing inside the block starts spans or logs (errors are
    logged by the handlers after it ends, with the server span's ids), and switching the active
    span costs a context copy, an attach and a detach per prediction.

    An exception leaving the block is recorded on the span (exception event, status ERROR),
    unless it is one of `client_errors`: a request the model cannot answer (unknown driver, a
    4xx) is not a failure of the service, and the alerting counts only failures.
    `field_size` is the number of drivers of a race-winner request.
    """
    attributes: dict[str, AttributeValue] = {MODEL_NAME: model_name, MODEL_VERSION: model_version}
    if driver is not None:
        attributes[DRIVER] = driver
    if circuit is not None:
        attributes[CIRCUIT] = circuit
    if field_size is not None:
        attributes[FIELD_SIZE] = field_size
    return _span_scope(INFERENCE_SPAN, attributes, client_errors, False)


def features_built(span: Span, duration_ns: int, *, missing: int | None = None) -> None:
    """Record on the inference `span` how long feature building took and, when known, how many
    inputs were missing (and imputed)."""
    # No `is_recording()` first: `set_attribute` ignores an ended or non-recording span itself.
    span.set_attribute(FEATURE_DURATION_US, duration_ns // 1000)
    if missing is not None:
        span.set_attribute(FEATURE_MISSING, missing)


def drift_span(
    model_name: str, model_version: str, *, window_size: int
) -> AbstractContextManager[Span]:
    """A current span around one drift and missing-data update of a model's window; an
    exception leaving it is recorded."""
    attributes: dict[str, AttributeValue] = {
        MODEL_NAME: model_name,
        MODEL_VERSION: model_version,
        "amf1.drift.window_size": window_size,
    }
    return _span_scope(DRIFT_SPAN, attributes, (), True)


def record_error(exc: BaseException, span: Span | None = None) -> None:
    """Mark `span` (default: the current span) failed by `exc`: status ERROR and an exception event.

    For errors the code handles itself (a 5xx answer built by an exception handler): nothing
    escapes the span then, so the span would not record it on its own.
    """
    target = span if span is not None else trace.get_current_span()
    if target.is_recording():
        target.record_exception(exc)
        target.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
