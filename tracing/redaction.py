"""Spans pass through the log events' redactor before they are encoded for export.

What can carry a secret in a span: attribute values (strings, and the strings of list values;
any value under a secret-looking key), event attributes (`exception.message`,
`exception.stacktrace`), link attributes, the status description (an exception's text) and the
name (a server span is named from the request). Each goes through `logshipping`'s `Redactor`,
the one that cleans log events: known secret values (every `SecretStr` setting, the secret-named
`AMF1_*` variables, `logshipping.add_secrets`), values under secret-looking keys, and credentials
written into text (`password=...`, `Bearer ...`, a URL's `user:password@`).

Only exported spans pay: the wrappers run in the export worker, after the tail sampler decided
(a dropped trace never reaches them). A span with nothing suspect costs one set comparison of
its attribute keys and one of its strings against those found clean before (a bounded cache; a
new string is scanned once for the known values and a few keywords); only a suspect span is
rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event as SdkEvent
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter as SdkSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import Link, Status

from logshipping.config import redactor as logs_redactor
from logshipping.redaction import REDACTED, Redactor
from tracing.export import SpanExporter
from tracing.records import Event, Span


def needs_redaction(
    redactor: Redactor,
    name: str,
    description: str | None,
    attribute_maps: Iterable[Mapping[str, Any] | None],
) -> bool:
    """Whether a span with these parts holds anything the redactor would change."""
    texts = [name, description] if description else [name]
    for attributes in attribute_maps:
        if not attributes:
            continue
        if redactor.has_secret_key(attributes):
            return True
        for value in attributes.values():  # one loop: cheaper here than two comprehensions
            cls = value.__class__
            if cls is str:
                texts.append(value)
            elif cls is list or cls is tuple:
                texts += [item for item in value if item.__class__ is str]
    return redactor.any_may_hold_secret(texts)


def redact_attributes(redactor: Redactor, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `attributes` with secret-looking keys' values and secrets in strings replaced."""
    return {
        key: REDACTED if redactor.is_secret_key(key) else _value(redactor, value)
        for key, value in attributes.items()
    }


def _value(redactor: Redactor, value: Any) -> Any:
    if isinstance(value, str):
        return redactor.redact_text(value)
    if isinstance(value, list | tuple):
        return tuple(redactor.redact_text(v) if isinstance(v, str) else v for v in value)
    return value


def _status(redactor: Redactor, status: Status) -> Status:
    if not status.description:
        return status
    return Status(status.status_code, redactor.redact_text(status.description))


def _links(redactor: Redactor, links: Sequence[Link]) -> tuple[Link, ...]:
    return tuple(
        Link(link.context, redact_attributes(redactor, link.attributes or {})) for link in links
    )


def redact_span(redactor: Redactor, span: Span) -> None:
    """Redact an ended lean span in place (nothing writes to an ended span any more)."""
    maps: Iterable[Mapping[str, Any] | None] = (span.attributes,)
    if span.events or span.links:
        maps = (span.attributes, *[e.attributes for e in span.events])
        maps = (*maps, *[link.attributes for link in span.links])
    if not needs_redaction(redactor, span.name, span.status.description, maps):
        return
    span.name = redactor.redact_text(span.name)
    span.attributes = redact_attributes(redactor, span.attributes)
    span.events = tuple(
        Event(e.name, e.timestamp, redact_attributes(redactor, e.attributes)) for e in span.events
    )
    span.links = _links(redactor, span.links)
    span.status = _status(redactor, span.status)


class RedactingExporter:
    """The lean pipeline's exporter behind redaction: each batch is redacted, then exported.

    `redactor` is asked once per batch (default: the log events' redactor, whichever
    `logshipping.configure` installed last). A redaction error fails the batch (counted as
    lost by the batch processor): a span is never sent unredacted.
    """

    def __init__(
        self, exporter: SpanExporter, redactor: Callable[[], Redactor] = logs_redactor
    ) -> None:
        self._exporter = exporter
        self._redactor = redactor

    def export(self, spans: Sequence[Span]) -> bool:
        """Redact `spans` in place, then export them."""
        redactor = self._redactor()
        for span in spans:
            redact_span(redactor, span)
        return self._exporter.export(spans)

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()


def redacted_readable_span(redactor: Redactor, span: ReadableSpan) -> ReadableSpan:
    """`span` itself when clean, else a redacted copy (an SDK span is read-only)."""
    maps = (span.attributes, *[e.attributes for e in span.events])
    maps = (*maps, *[link.attributes for link in span.links])
    if not needs_redaction(redactor, span.name, span.status.description, maps):
        return span
    return ReadableSpan(
        name=redactor.redact_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=redact_attributes(redactor, span.attributes or {}),
        events=[
            SdkEvent(e.name, redact_attributes(redactor, e.attributes or {}), e.timestamp)
            for e in span.events
        ],
        links=_links(redactor, span.links),
        kind=span.kind,
        status=_status(redactor, span.status),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingSdkExporter(SdkSpanExporter):
    """The SDK pipeline's exporter behind redaction (see `RedactingExporter`)."""

    def __init__(
        self, exporter: SdkSpanExporter, redactor: Callable[[], Redactor] = logs_redactor
    ) -> None:
        self._exporter = exporter
        self._redactor = redactor

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export redacted copies of the spans that need one, the others as they are."""
        redactor = self._redactor()
        return self._exporter.export([redacted_readable_span(redactor, s) for s in spans])

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)
