"""Periodic `model-status` reports: whether each model is loaded right now.

The model-not-loaded alert fires when a model's reports of the last minute all say "not loaded"
or when it sent none, so every model is reported every `interval_s` (default 15 s), loaded or
not, at warning level while it is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from logshipping.events import Action, emit
from service.registry import ModelStatus


class ModelStatusReporter:
    """Emits one `model-status` event per model whenever `interval_s` has passed."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def report_if_due(self, statuses: Mapping[str, ModelStatus]) -> bool:
        """Report every model's status if the interval has passed; returns whether it did."""
        now = self._clock()
        if self._last is not None and now - self._last < self._interval_s:
            return False
        self._last = now
        for status in statuses.values():
            report_status(status)
        return True


def report_status(status: ModelStatus) -> None:
    """Emit one `model-status` event for `status`."""
    fields: dict[str, Any] = {
        "amf1.model.name": status.name,
        "amf1.model.loaded": status.model is not None,
    }
    if status.model is not None:
        fields["amf1.model.version"] = status.model.version
        emit(Action.MODEL_STATUS, f"{status.name} {status.model.version} is loaded", fields)
        return
    if status.error is not None:
        fields["error.type"] = type(status.error).__name__
        fields["error.message"] = status.error.detail
    emit(Action.MODEL_STATUS, f"{status.name} is not loaded", fields, level="warning")
