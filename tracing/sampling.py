"""Which traces are exported: decided when the trace's local root span (the server span) ends.

Every request gets recording spans and valid ids (the logs always carry `trace.id`). A trace is
exported when any of these holds, and otherwise its spans are dropped before any encoding:

- the head decision, made when the root starts: a caller's sampled `traceparent` (parent-based),
  or the trace id under `ratio` x 2^64 (the rule of the SDK's `TraceIdRatioBased`, so every
  process agrees on a trace id); such a trace's spans go to the exporter as they end;
- `keep_failed` and any span of the trace ended with status ERROR (a 5xx, an exception);
- `slow_threshold_ns` and the root lasted at least that long.

The head decision is what the spans' W3C sampled flag says (what a downstream call would inherit);
the rules at the end only add traces. The C hot path (`tracing/_hotpath.c`, `keeps`) applies the
same rules from `Sampling`'s fields: a change to `Sampling.keeps` is a change there too (the
sampling tests run on both paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry.trace import StatusCode

from tracing.records import UNSET_STATUS

if TYPE_CHECKING:
    from tracing.records import Span

_ERROR = StatusCode.ERROR


@dataclass(frozen=True, slots=True)
class Sampling:
    """The sampling rules of a tracer.

    Args:
        ratio: share of new traces kept by the head decision, 0..1.
        parent_based: a remote parent's sampled flag decides the head (else the ratio does).
        keep_failed: keep every trace with a span ended in status ERROR.
        slow_threshold_ns: keep every trace whose root lasted at least this long; None: no rule.
    """

    ratio: float = 1.0
    parent_based: bool = True
    keep_failed: bool = False
    slow_threshold_ns: int | None = None

    @property
    def bound(self) -> int:
        """Trace ids whose low 64 bits are below this are kept by the head decision."""
        return round(self.ratio * (1 << 64))

    @property
    def tail(self) -> bool:
        """Whether traces the head decision drops may still be kept at the end (so their spans
        must be recorded)."""
        return self.keep_failed or self.slow_threshold_ns is not None

    def keeps(self, root: Span, pending: Sequence[Span]) -> bool:
        """The decision at the end of `root` (ended) for a trace the head decision dropped;
        `pending` are the trace's other spans that ended before it."""
        threshold = self.slow_threshold_ns
        end_time = root.end_time if root.end_time is not None else root.start_time
        if threshold is not None and end_time - root.start_time >= threshold:
            return True
        if self.keep_failed:
            # A loop, not `any()` over a generator, and the status's code (a property) read only
            # when a status was set: this runs at the end of every request.
            if root.status is not UNSET_STATUS and root.status.status_code is _ERROR:
                return True
            for span in pending:
                if span.status is not UNSET_STATUS and span.status.status_code is _ERROR:
                    return True
        return False


HEAD_ONLY = Sampling()
"""Every trace kept by the head decision at ratio 1 (the raw tracer's default)."""
