"""The lean tracer's span record (`Span`), its events and scope, and where ended spans go.

`tracing.tracer` starts these spans and decides their sampling; `tracing.export` queues the ended
ones and `tracing.otlp` encodes them. A `Span` is the OpenTelemetry API's span interface over a
slotted record: every method is a few attribute writes, and `end()` hands the span on.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes, AttributeValue

if TYPE_CHECKING:
    from tracing.sampling import Sampling

EMPTY_TRACE_STATE = TraceState()
"""The trace state of every root span (the encoder skips it by identity)."""
UNSET_STATUS = Status(StatusCode.UNSET)
"""The status of a span until it is set."""
MAX_ATTRIBUTES = 128
"""Attributes kept per span, event and link (the SDK's default limit); later ones are dropped."""


class SpanSink(Protocol):
    """Where ended spans go (the batch processor of `tracing.export`)."""

    def on_end(self, span: Span) -> None:
        """Take one ended, sampled span; must not block."""


@dataclass(frozen=True, slots=True)
class Scope:
    """The instrumentation scope of a tracer: who created the spans."""

    name: str
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A timestamped annotation on a span (`exception` events carry the error)."""

    name: str
    timestamp: int
    attributes: Mapping[str, AttributeValue]


def copy_attributes(attributes: Attributes) -> dict[str, AttributeValue]:
    """The API's attributes as a span's own dict: None values dropped, at most `MAX_ATTRIBUTES`."""
    if not attributes:
        return {}
    kept = dict(attributes)
    if None in kept.values():  # the API allows None and means "no value"
        kept = {k: v for k, v in kept.items() if v is not None}
    if len(kept) > MAX_ATTRIBUTES:
        kept = dict(list(kept.items())[:MAX_ATTRIBUTES])
    return kept


class Span(trace.Span):
    """One recording span; after `end()` a read-only record for the exporter.

    Public fields are what the OTLP encoder and tests read: `name`, `context`, `parent`, `kind`,
    `start_time`/`end_time` (ns since the epoch), `attributes` (the span's own dict),
    `events`, `links`, `status`, `scope`. Not locked: a span is written by the code that started
    it (the SDK takes a lock per write for spans shared across threads, which the product never
    does).

    Two implementations hold the fields and the methods every request calls (`end`,
    `set_attribute`, `is_recording`, `get_span_context`): `PySpan` in Python, and
    `tracing.native.NativeSpan` in C where that is built; the rest of the API is here, shared.
    Only a tracer's `start_owned` makes spans, and it sets every field itself. `_root` is the
    trace's local root (None: this span is it). A root the head sampler kept sends every span of
    its trace to the sink as it ends; any other root collects its trace's ended spans in
    `_pending` until its own end decides (`tracing.sampling`).
    """

    __slots__ = ()
    name: str
    context: SpanContext
    parent: SpanContext | None
    kind: SpanKind
    attributes: dict[str, AttributeValue]
    # Most spans get no event: the shared empty tuple until the first one (each object a span
    # keeps alive until export counts towards the next garbage-collector pass).
    events: Sequence[Event]
    links: tuple[Link, ...]
    start_time: int
    end_time: int | None
    status: Status
    scope: Scope
    kept: bool
    """Whether the trace is exported: final once the local root has ended."""
    _sink: SpanSink
    _root: Span | None
    _pending: list[Span] | None
    _sampling: Sampling
    _record_exception: bool
    _set_status_on_exception: bool

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Set several attributes."""
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None:
        """Add an event (now, unless `timestamp` in ns since the epoch is given)."""
        if self.end_time is None:
            when = timestamp if timestamp is not None else time.time_ns()
            self.events = (*self.events, Event(name, when, copy_attributes(attributes)))

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        """Link another span (valid contexts only)."""
        if self.end_time is None and context.is_valid:
            self.links = (*self.links, Link(context, copy_attributes(attributes)))

    def update_name(self, name: str) -> None:
        """Rename the span (e.g. after the route is known)."""
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """Set the status, with OpenTelemetry's rules: OK is final, UNSET never overrides."""
        if self.end_time is not None or self.status.status_code is StatusCode.OK:
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if status.status_code is not StatusCode.UNSET:
            self.status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """Add an `exception` event with type, message and stack trace (semantic conventions)."""
        event_attributes: dict[str, AttributeValue] = {
            "exception.type": type(exception).__name__,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            event_attributes.update(attributes)
        self.add_event("exception", event_attributes, timestamp)

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        """`with tracer.start_span(...)`: record an escaping exception (if asked), then end."""
        if exc is not None and self.end_time is None:
            if self._record_exception:
                self.record_exception(exc, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        self.end()

    def __repr__(self) -> str:
        return f"Span({self.name!r}, trace_id={self.context.trace_id:032x})"


class PySpan(Span):
    """`Span`'s fields and hot methods in Python (`tracing.native.NativeSpan` is the C one).

    There is no `__init__`: `Tracer.start_owned` sets every field (a call through the type cost
    a third of a span's making).
    """

    __slots__ = (
        "_pending",
        "_record_exception",
        "_root",
        "_sampling",
        "_set_status_on_exception",
        "_sink",
        "attributes",
        "context",
        "end_time",
        "events",
        "kept",
        "kind",
        "links",
        "name",
        "parent",
        "scope",
        "start_time",
        "status",
    )

    def get_span_context(self) -> SpanContext:
        """The ids of this span."""
        return self.context

    def is_recording(self) -> bool:
        """True until the span ends."""
        return self.end_time is None

    def end(self, end_time: int | None = None) -> None:
        """End the span; a kept trace's spans go to the exporter, a dropped one's nowhere. The
        local root's end decides for its trace; a second call does nothing."""
        if self.end_time is not None:
            return
        self.end_time = end_time if end_time is not None else time.time_ns()
        root = self._root or self
        pending = root._pending
        if pending is None:  # the trace is decided: kept by the head sampler or at the root's end
            if root.kept:
                self._sink.on_end(self)
        elif root is not self:
            pending.append(self)
        else:
            self._pending = None
            if self._sampling.keeps(self, pending):
                self.kept = True
                on_end = self._sink.on_end
                for span in pending:
                    on_end(span)
                on_end(self)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one attribute (ignored after the end, for None, or beyond the limit)."""
        if self.end_time is not None or value is None:
            return
        attributes = self.attributes
        if key in attributes or len(attributes) < MAX_ATTRIBUTES:
            attributes[key] = value
