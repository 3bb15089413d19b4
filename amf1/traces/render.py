"""Text views of traces: the list of `amf1 traces` and the waterfall of `amf1 trace ID`."""

from __future__ import annotations

from datetime import UTC, datetime

from amf1.traces.jaeger import SpanRecord, TraceRecord
from amf1.traces.logs import LogRecord

BAR_WIDTH = 30
COLUMNS = ("time (UTC)", "trace id", "duration", "status", "route", "model", "driver/circuit")


def _time(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _ms(us: int) -> str:
    return f"{us / 1000:.2f} ms"


def _status(trace: TraceRecord) -> str:
    code = trace.attribute("http.response.status_code")
    mark = "ERROR" if trace.error else "ok"
    return f"{code} {mark}" if code is not None else mark


def summary_row(trace: TraceRecord) -> tuple[str, ...]:
    """One row of the list: time, id, duration, status, route, model, driver/circuit."""
    root = trace.root
    driver, circuit = trace.attribute("amf1.driver"), trace.attribute("amf1.circuit")
    where = "/".join(str(v) for v in (driver, circuit) if v is not None)
    return (
        _time(root.start_us),
        trace.trace_id,
        _ms(root.duration_us),
        _status(trace),
        str(trace.attribute("http.route") or root.name),
        str(trace.attribute("amf1.model.name") or ""),
        where,
    )


def table(traces: list[TraceRecord]) -> str:
    """The traces as an aligned text table (a header and one line per trace)."""
    rows = [COLUMNS, *(summary_row(t) for t in traces)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _depths(trace: TraceRecord) -> dict[str, int]:
    parents = {s.span_id: s.parent_id for s in trace.spans}
    depths: dict[str, int] = {}
    for span in trace.spans:
        depth, parent = 0, span.parent_id
        while parent in parents and depth < len(parents):
            depth, parent = depth + 1, parents[parent]
        depths[span.span_id] = depth
    return depths


def _bar(span: SpanRecord, origin_us: int, total_us: int) -> str:
    scale = BAR_WIDTH / max(total_us, 1)
    start = min(BAR_WIDTH - 1, int((span.start_us - origin_us) * scale))
    width = max(1, round(span.duration_us * scale))
    return "[" + (" " * start + "#" * width).ljust(BAR_WIDTH)[:BAR_WIDTH] + "]"


def waterfall(trace: TraceRecord, logs: list[LogRecord]) -> str:
    """The spans as a waterfall (offset, duration, bar, name, attributes) with the log events
    placed among them in time order."""
    root = trace.root
    origin = min(s.start_us for s in trace.spans)
    total = max(s.start_us + s.duration_us for s in trace.spans) - origin
    depths = _depths(trace)
    lines = [
        f"trace {trace.trace_id}  {root.name}  {_ms(total)}  {_status(trace)}  "
        f"service {root.service}  started {_time(origin)} UTC",
        "",
    ]
    entries: list[tuple[int, int, list[str]]] = []
    for order, span in enumerate(trace.spans):
        indent = "  " * depths[span.span_id]
        head = (
            f"{(span.start_us - origin) / 1000:>9.3f} ms  {_ms(span.duration_us):>10}  "
            f"{_bar(span, origin, total)}  {indent}{span.name}" + ("  ERROR" if span.error else "")
        )
        pad = " " * 13 + " " * 12 + " " * (BAR_WIDTH + 4) + indent + "  "
        details = [f"{pad}{key}={value}" for key, value in sorted(span.attributes.items())]
        entries.append((span.start_us, order, [head, *details]))
    for order, event in enumerate(logs, start=len(entries)):
        offset = (event.timestamp_us - origin) / 1000
        line = (
            f"{offset:>9.3f} ms  {'log':>10}  {'':<{BAR_WIDTH + 2}}  "
            f"{event.level.upper():<7} {event.action}: {event.message}"
        )
        entries.append((event.timestamp_us, order, [line]))
    for _, _, block in sorted(entries, key=lambda e: (e[0], e[1])):
        lines.extend(block)
    if not logs:
        lines += ["", "(no log events with this trace.id in Elasticsearch)"]
    return "\n".join(lines)
