"""Input-drift and missing-data counting for one model version, in one worker.

The request path calls `DriftCounter.update(row)`: it bins each feature value against the
training reference (a bisect per numeric feature, a dict lookup per categorical one) and adds
one to that bin's count, or to the feature's missing count: O(features) work, no window and no
statistics. Every `evaluate_every_requests` rows, or after `evaluate_interval_s` with new rows,
the monitoring hub's background task calls `report()`: one `drift-counts` event with the counts
of the rows added since the previous report, which then start again from zero.

The counts are deltas, so the reports of every worker and replica add up. The watcher sums them
over the drift window and scores drift and the missing-data rate for the whole service
(`alerting.signals.drift`): one service, one answer, one alert.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from logshipping.events import Action, emit
from service.metadata import NumericReference, Reference
from service.monitoring import reference


class DriftConfig(BaseModel):
    """How often a worker reports its drift counts (the one place of these defaults; the
    service settings read them from `AMF1_DRIFT_EVALUATE_*`; scoring is the watcher's)."""

    model_config = ConfigDict(frozen=True)

    evaluate_every_requests: int = Field(
        100, ge=1, description="Report the drift counts after this many new requests."
    )
    evaluate_interval_s: float = Field(
        60.0, gt=0, description="...or after this long with new requests, seconds."
    )


def _reference_part(ref: Reference) -> dict[str, Any]:
    """What the watcher needs of a feature's reference: expected shares and bin labels."""
    part: dict[str, Any] = {"expected": reference.expected(ref).tolist()}
    if isinstance(ref, NumericReference):
        part["edges"] = list(ref.bin_edges)
    else:
        part["categories"] = list(reference.labels(ref))
    return part


class DriftCounter:
    """Per-feature bin counts of one loaded model version's input rows, reported as deltas."""

    def __init__(
        self,
        model_name: str,
        model_version: str,
        references: Mapping[str, Reference],
        config: DriftConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        columns: Sequence[str] | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Count `references`' features of `model_name`.

        Args:
            references: feature name -> its training reference (the metadata's `reference`,
                checked by `reference.check_reference`), in the order features are reported.
            columns: feature names of the rows `update` receives, in order (default: the
                references' order); columns without a reference are ignored.
            categories: per categorical feature, its categories in code order: that feature's
                row values are then the model matrix's numeric codes, not names.

        Raises:
            ValueError: a referenced feature is not among `columns`.
        """
        self.model_name = model_name
        self.model_version = model_version
        self.config = config or DriftConfig()
        self._clock = clock
        self._names = tuple(references)
        order = list(columns) if columns is not None else list(self._names)
        missing = [name for name in self._names if name not in order]
        if missing:
            raise ValueError(f"features {missing} are not columns of the rows")
        codes = categories or {}
        self._readers = tuple(
            (reference.encoder(ref, codes.get(name)), order.index(name))
            for name, ref in references.items()
        )
        self._slots = tuple(reference.n_slots(ref) for ref in references.values())
        self._references = {name: _reference_part(ref) for name, ref in references.items()}
        # One count per slot plus a trailing missing count, so the code -1 indexes it directly.
        self._counts = self._zeros()
        self._rows = 0
        self._lock = threading.Lock()
        self._last_report = clock()

    def _zeros(self) -> list[list[int]]:
        return [[0] * (slots + 1) for slots in self._slots]

    @property
    def features(self) -> tuple[str, ...]:
        """Counted feature names, in reference order."""
        return self._names

    def __len__(self) -> int:
        """Rows counted since the last report."""
        return self._rows

    def update(self, row: Sequence[object]) -> None:
        """Count one model input row (values in `columns` order; None/NaN = missing)."""
        codes = [encode(row[i]) for encode, i in self._readers]
        with self._lock:
            for counts, code in zip(self._counts, codes, strict=True):
                counts[code] += 1
            self._rows += 1

    def due(self, now: float | None = None) -> bool:
        """True when `evaluate_every_requests` rows arrived or new rows wait past the interval."""
        at = self._clock() if now is None else now
        pending = self._rows
        if pending >= self.config.evaluate_every_requests:
            return True
        return pending > 0 and at - self._last_report >= self.config.evaluate_interval_s

    def report(self, now: float | None = None) -> int:
        """Log the counts since the last report as one `drift-counts` event and start again.

        Returns the rows reported (0: nothing was pending, no event).
        """
        at = self._clock() if now is None else now
        with self._lock:
            counts, rows = self._counts, self._rows
            self._counts, self._rows = self._zeros(), 0
            self._last_report = at
        if rows == 0:
            return 0
        emit(
            Action.DRIFT_COUNTS,
            f"Drift counts of {self.model_name} {self.model_version}: {rows} rows since the "
            "previous report",
            {
                "amf1.model.name": self.model_name,
                "amf1.model.version": self.model_version,
                "amf1.drift.rows": rows,
                "amf1.drift.counts": {
                    name: {"bins": slots[:-1], "missing": slots[-1], **self._references[name]}
                    for name, slots in zip(self._names, counts, strict=True)
                },
            },
        )
        return rows
