"""Log/trace correlation: the active span's ids on every log event, and links into Jaeger.

`add_trace_context` is a structlog processor; `logshipping.configure(extra_processors=[...])`
runs it for every event. It reads the span from OpenTelemetry's context (a contextvar), so it is
right per request and per task without any global that the request path mutates.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from opentelemetry import trace
from structlog.typing import EventDict, WrappedLogger

from tracing.current import current_span
from tracing.settings import Settings

TRACE_ID = "trace.id"
SPAN_ID = "span.id"
TRACE_KEPT = "amf1.trace.kept"
"""On the access event: whether the request's trace was exported (`tracing.sampling`)."""


def add_trace_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add `trace.id` (32 hex digits) and `span.id` (16) of the active span, as Jaeger shows them.

    Outside a span the event is left as it is; ids already present are kept.
    """
    if TRACE_ID in event_dict and SPAN_ID in event_dict:  # e.g. from `ServerSpan`
        return event_dict
    # SpanContext indexed (trace_id, span_id, ..., is_valid): its properties are Python calls.
    span_context = current_span().get_span_context()
    if span_context[5]:
        if TRACE_ID not in event_dict:
            event_dict[TRACE_ID] = f"{span_context[0]:032x}"
        if SPAN_ID not in event_dict:
            event_dict[SPAN_ID] = f"{span_context[1]:016x}"
    return event_dict


def current_trace_id() -> str | None:
    """The active trace id in hex, or None outside a span."""
    span_context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(span_context.trace_id) if span_context.is_valid else None


def trace_url(trace_id: str, settings: Settings | None = None) -> str:
    """Link to one trace in the Jaeger UI (`AMF1_JAEGER_UI_URL`, else the query URL)."""
    return f"{(settings or Settings()).ui_base_url}/trace/{trace_id}"


def trace_url_template(settings: Settings | None = None, placeholder: str = "{{value}}") -> str:
    """Link pattern with a placeholder for the trace id (Kibana's URL field format uses
    `{{value}}`)."""
    return trace_url(placeholder, settings)


PLACEHOLDER_MARK = b"not the Jaeger UI you are looking for"
"""In the page the native Jaeger v2 (built without the UI's assets) serves instead of its UI."""


def jaeger_ui_served(ui_base_url: str, timeout_s: float = 3.0) -> bool:
    """Whether a real Jaeger UI answers at `ui_base_url` (not the native build's placeholder,
    not an error); links to traces are worth printing only then."""
    url = f"{ui_base_url.rstrip('/')}/search"
    if not url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as page:  # noqa: S310 - http(s) only
            return page.status == 200 and PLACEHOLDER_MARK not in page.read(65536)
    except (OSError, ValueError):
        return False
