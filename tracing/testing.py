"""Test helpers: an exporter that keeps spans in memory (for `tracing.configure(exporter=...)`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from tracing.records import Span


class MemoryExporter:
    """Keeps every exported span, in export order; thread-safe. After `shutdown()`, exports
    return False (as a closed network exporter does) and the kept spans stay readable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[Span] = []
        self._stopped = False

    def export(self, spans: Sequence[Span]) -> bool:
        """Keep `spans`; False once shut down."""
        with self._lock:
            if self._stopped:
                return False
            self._spans.extend(spans)
            return True

    def shutdown(self) -> None:
        """Refuse later exports."""
        with self._lock:
            self._stopped = True

    def spans(self) -> list[Span]:
        """A copy of the spans exported so far."""
        with self._lock:
            return list(self._spans)

    def clear(self) -> None:
        """Forget the spans exported so far."""
        with self._lock:
            self._spans.clear()
