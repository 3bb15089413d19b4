"""What a load run observed: outcomes and latencies per request label, and its summary."""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from amf1.loadgen.client import Response

# Response headers that may carry the request's trace id: a plain id, or W3C trace context
# (`00-<trace id>-<span id>-<flags>`), which a `traceresponse` header also uses.
_TRACE_HEADERS = ("x-trace-id", "trace-id", "x-amf1-trace-id", "traceresponse", "traceparent")
_TRACE_ID_HEX_LEN = 32


def trace_id_from_headers(headers: dict[str, str]) -> str | None:
    """The 32-hex-digit trace id a response reports, if any."""
    for name in _TRACE_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        parts = value.split("-")
        candidate = parts[1] if len(parts) == 4 else value
        if len(candidate) == _TRACE_ID_HEX_LEN:
            return candidate.lower()
    return None


def percentile_ms(sorted_ns: list[int], pct: float) -> float | None:
    """Nearest-rank percentile of sorted nanosecond latencies, in ms (None when empty)."""
    if not sorted_ns:
        return None
    rank = max(0, min(len(sorted_ns) - 1, math.ceil(pct / 100 * len(sorted_ns)) - 1))
    return round(sorted_ns[rank] / 1e6, 3)


def latency_summary(latencies_ns: array[int] | list[int]) -> dict[str, float | None]:
    """p50/p95/p99/max of latencies in ms."""
    ordered = sorted(latencies_ns)
    return {
        "p50": percentile_ms(ordered, 50),
        "p95": percentile_ms(ordered, 95),
        "p99": percentile_ms(ordered, 99),
        "max": round(ordered[-1] / 1e6, 3) if ordered else None,
    }


@dataclass
class _LabelStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))


@dataclass
class Recorder:
    """Collects one sample per request; cheap enough for thousands of requests per second."""

    max_trace_ids: int = 5
    labels: dict[str, _LabelStats] = field(default_factory=dict)
    trace_ids: list[str] = field(default_factory=list)
    slowest: tuple[int, str | None] = (0, None)

    def add(self, label: str, outcome: str, latency_ns: int, response: Response | None) -> None:
        """Record one request: `outcome` is the status code or an error name."""
        stats = self.labels.get(label)
        if stats is None:
            stats = self.labels[label] = _LabelStats()
        stats.outcomes[outcome] += 1
        stats.latencies_ns.append(latency_ns)
        if response is None or not response.headers:
            return
        if len(self.trace_ids) < self.max_trace_ids or latency_ns > self.slowest[0]:
            trace_id = trace_id_from_headers(response.headers)
            if trace_id is None:
                return
            if len(self.trace_ids) < self.max_trace_ids:
                self.trace_ids.append(trace_id)
            if latency_ns > self.slowest[0]:
                self.slowest = (latency_ns, trace_id)

    @property
    def count(self) -> int:
        """Requests recorded so far."""
        return sum(len(s.latencies_ns) for s in self.labels.values())

    def summary(self, elapsed_s: float) -> dict[str, Any]:
        """A JSON-ready summary: totals, outcomes and latency percentiles, overall and by label."""
        outcomes: Counter[str] = Counter()
        everything: list[int] = []
        by_label: dict[str, Any] = {}
        for label, stats in sorted(self.labels.items()):
            outcomes.update(stats.outcomes)
            everything.extend(stats.latencies_ns)
            by_label[label] = {
                "requests": len(stats.latencies_ns),
                "outcomes": dict(sorted(stats.outcomes.items())),
                "latency_ms": latency_summary(stats.latencies_ns),
            }
        count = len(everything)
        return {
            "requests": count,
            "elapsed_s": round(elapsed_s, 3),
            "achieved_rps": round(count / elapsed_s, 1) if elapsed_s > 0 else None,
            "outcomes": dict(sorted(outcomes.items())),
            "latency_ms": latency_summary(everything),
            "by_label": by_label,
            "trace_ids": list(self.trace_ids),
            "slowest_trace_id": self.slowest[1],
        }
