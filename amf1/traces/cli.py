"""`amf1 traces` (find traces) and `amf1 trace ID` (one trace with its log events)."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `1d` (that long ago) or an ISO 8601 time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: use 30m, 2h, 1d or an ISO time") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 traces` and `amf1 trace`."""
    finder = subparsers.add_parser(
        "traces",
        help="list traces from Jaeger (slow or failed predictions)",
        description="Traces from Jaeger's query API (AMF1_JAEGER_QUERY_URL), newest first: "
        "time, trace id, duration, status, route, model, driver/circuit.",
    )
    finder.add_argument("--service", help="service name (default: AMF1_SERVICE_NAME)")
    finder.add_argument("--operation", help="span name, e.g. 'POST /predict/qualifying'")
    finder.add_argument("--min-duration-ms", type=float, help="only traces at least this long")
    finder.add_argument("--errors", action="store_true", help="only traces with a failed span")
    finder.add_argument("--since", type=parse_when, default="1h", help="30m, 2h, 1d or ISO (1h)")
    finder.add_argument("--until", type=parse_when, help="30m, 2h, 1d or ISO (now)")
    finder.add_argument("--limit", type=int, default=20, help="traces shown (20)")
    finder.set_defaults(func=_find)
    one = subparsers.add_parser(
        "trace",
        help="one trace: span waterfall with its log events",
        description="The spans of one trace from Jaeger, with each span's attributes and, in "
        "time order among them, the log events from Elasticsearch carrying that trace.id.",
    )
    one.add_argument("trace_id", help="32 hex digits (X-Trace-Id, or trace.id of a log event)")
    one.add_argument("--no-logs", action="store_true", help="spans only (no Elasticsearch)")
    one.set_defaults(func=_show)


def _settings() -> Any:
    from amf1.settings import Settings  # noqa: PLC0415 - keeps `amf1 --help` fast

    return Settings()


def _find(args: argparse.Namespace) -> int:
    from amf1.traces.jaeger import JaegerClient, JaegerError  # noqa: PLC0415
    from amf1.traces.render import table  # noqa: PLC0415

    settings = _settings()
    client = JaegerClient(settings.jaeger_query_url, settings.http_timeout_s)
    service = args.service or _service_name()
    # Jaeger cannot filter on a span's status: fetch more, keep the failed ones.
    fetch = args.limit * 10 if args.errors else args.limit
    try:
        traces = client.find(
            service,
            operation=args.operation,
            min_duration_ms=args.min_duration_ms,
            start=args.since,
            end=args.until or datetime.now(UTC),
            limit=min(fetch, 1000),
        )
    except JaegerError as exc:
        print(f"amf1 traces: {exc}")
        return 2
    if args.errors:
        traces = [t for t in traces if t.error]
    traces = traces[: args.limit]
    if not traces:
        print(f"no traces of {service!r} match (Jaeger at {settings.jaeger_query_url})")
        return 0
    print(table(traces))
    print(f"\n{len(traces)} traces; one in detail: amf1 trace <trace id>")
    return 0


def _service_name() -> str:
    from tracing.settings import Settings  # noqa: PLC0415 - AMF1_SERVICE_NAME or OTEL_SERVICE_NAME

    return str(Settings().service_name)


def _show(args: argparse.Namespace) -> int:
    from amf1.traces.jaeger import JaegerClient, JaegerError  # noqa: PLC0415
    from amf1.traces.render import waterfall  # noqa: PLC0415

    settings = _settings()
    trace_id = args.trace_id.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{32}", trace_id):
        print(f"amf1 trace: {args.trace_id!r} is not a trace id (32 hex digits)")
        return 2
    client = JaegerClient(settings.jaeger_query_url, settings.http_timeout_s)
    try:
        trace = client.get(trace_id)
    except JaegerError as exc:
        print(f"amf1 trace: {exc}")
        return 2
    if trace is None:
        print(
            f"trace {trace_id} is not in Jaeger ({settings.jaeger_query_url}): not kept by "
            "sampling (the access event's amf1.trace.kept says), or older than its retention"
        )
        return 1
    print(waterfall(trace, [] if args.no_logs else _logs(settings, trace_id)))
    return 0


def _logs(settings: Any, trace_id: str) -> list[Any]:
    from elasticsearch import ApiError, TransportError  # noqa: PLC0415

    from amf1.traces.logs import trace_logs  # noqa: PLC0415
    from elk.client import make_client  # noqa: PLC0415 - elasticsearch is a heavy import
    from elk.security.credentials import StackUser  # noqa: PLC0415

    try:
        with make_client(user=StackUser.ANALYST, max_retries=0) as es:
            return trace_logs(es, f"{settings.index_prefix}*", trace_id)
    except (ApiError, TransportError) as exc:
        print(f"(log events unavailable: Elasticsearch: {exc})")
        return []
