"""How the stack's long steps report progress: a callable that takes one line of text.

The CLI passes one that prints to stderr; tests and library callers may pass `quiet`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Reporter = Callable[[str], None]


def quiet(_line: str) -> None:
    """A reporter that drops everything."""


class Throttled:
    """Forwards at most one line per `interval_s` (plus the final one) to a reporter."""

    def __init__(self, report: Reporter, interval_s: float = 5.0) -> None:
        self._report = report
        self._interval_s = interval_s
        self._last = 0.0

    def __call__(self, line: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last >= self._interval_s:
            self._last = now
            self._report(line)
