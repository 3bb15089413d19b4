"""Online input-drift and missing-data detection for one model.

The request path calls `DriftMonitor.update(row)`: it bins each feature value (a bisect per
numeric feature, a dict lookup per categorical one), appends the row to a window bounded in size
and age, and moves the per-bin counts of the added and the evicted rows. That is O(features)
work (O(log bins) per feature) and no statistics. `check()` runs off the request path (the
monitoring hub's background task) every `evaluate_every_requests` rows or `evaluate_interval_s`
seconds: it scores each feature with PSI against the training reference and reports the
missing-data rate, emitting catalogue events with a per-feature cooldown.

A feature drifts when its PSI exceeds `psi_threshold` (the shift is large enough to matter) AND
the chi-square goodness-of-fit p-value is below `significance` (the shift is not window noise).
The p-value is only computed for features over the PSI threshold, so a quiet evaluation costs
one PSI per feature.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from logshipping.events import Action, Level, emit
from service.metadata import NumericReference, Reference
from service.monitoring import reference, stats

_MISSING_KEY = "__missing__"


class DriftConfig(BaseModel):
    """Window, cadence and thresholds of the drift detector (the one place of their defaults;
    the service settings read them from `AMF1_DRIFT_*` and `AMF1_MISSING_*`)."""

    model_config = ConfigDict(frozen=True)

    window_size: int = Field(1000, ge=10, description="Requests kept in the drift window.")
    window_max_age_s: float = Field(
        3600.0, gt=0, description="Requests older than this leave the drift window, seconds."
    )
    min_samples: int = Field(
        200, ge=10, description="Present values a feature needs before it is scored."
    )
    evaluate_every_requests: int = Field(
        100, ge=1, description="Score the window after this many new requests."
    )
    evaluate_interval_s: float = Field(
        60.0, gt=0, description="...or after this long with new requests, seconds."
    )
    psi_threshold: float = Field(0.2, gt=0, description="PSI above which a feature drifts.")
    significance: float = Field(
        0.001, gt=0, lt=1, description="Chi-square p-value below which the shift is not noise."
    )
    psi_epsilon: float = Field(
        stats.PSI_EPSILON, gt=0, description="Floor of a bin's share in the PSI sum."
    )
    cooldown_s: float = Field(
        600.0,
        ge=0,
        description="Least time between two drift events of one feature, seconds; keep it "
        "under the watcher's drift window (15 min) by more than an evaluation interval.",
    )
    missing_rate_threshold: float = Field(
        0.05, ge=0, le=1, description="Missing-value share above which missing-data-rate warns."
    )
    missing_report_interval_s: float = Field(
        60.0, gt=0, description="Interval of the missing-data-rate series, seconds."
    )
    # Features whose live mix legitimately differs from training (e.g. `circuit` when traffic
    # comes one race weekend at a time) would drift forever; they can be left out.
    ignore_features: frozenset[str] = Field(
        frozenset(), description='Features never scored (JSON list, e.g. ["circuit"]).'
    )


@dataclass(frozen=True, slots=True)
class FeatureScore:
    """One feature's drift score in one evaluation; `score` is None below `min_samples`.

    `p_value` is only computed when the score is over the PSI threshold (else None).
    """

    feature: str
    score: float | None
    present: int
    missing: int
    p_value: float | None = None


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The outcome of one evaluation of the window."""

    window_size: int
    missing_rate: float
    scores: tuple[FeatureScore, ...]

    def drifted(self, threshold: float, significance: float) -> tuple[FeatureScore, ...]:
        """Features whose PSI exceeds `threshold` with a p-value below `significance`."""
        return tuple(
            s
            for s in self.scores
            if s.score is not None
            and s.score > threshold
            and s.p_value is not None
            and s.p_value < significance
        )


# A window entry: monotonic time, bin code per feature (-1 = missing), the input row.
_Row = tuple[float, tuple[int, ...], Sequence[object]]


class DriftMonitor:
    """Sliding-window drift and missing-data detector for one loaded model version."""

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
        """Watch `references`' features of `model_name`.

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
        self._references = tuple(references.values())
        self._names = tuple(references)
        order = list(columns) if columns is not None else list(self._names)
        missing = [name for name in self._names if name not in order]
        if missing:
            raise ValueError(f"features {missing} are not columns of the rows")
        self._positions = tuple(order.index(name) for name in self._names)
        codes = categories or {}
        encoders = [reference.encoder(ref, codes.get(name)) for name, ref in references.items()]
        self._readers = tuple(zip(encoders, self._positions, strict=True))
        # One count per slot plus a trailing missing count, so the code -1 indexes it directly.
        self._counts = [[0] * (reference.n_slots(ref) + 1) for ref in self._references]
        self._window: deque[_Row] = deque()
        self._lock = threading.Lock()
        self._since_evaluation = 0
        self._last_evaluation = clock()
        self._last_emitted: dict[str, float] = {}
        self._missing_above = False

    @property
    def features(self) -> tuple[str, ...]:
        """Monitored feature names, in reference order."""
        return self._names

    def __len__(self) -> int:
        return len(self._window)

    def update(self, row: Sequence[object], now: float | None = None) -> None:
        """Add one model input row (values in `columns` order; None/NaN = missing)."""
        at = self._clock() if now is None else now
        codes = tuple([encode(row[i]) for encode, i in self._readers])
        cutoff = at - self.config.window_max_age_s
        with self._lock:
            for counts, code in zip(self._counts, codes, strict=True):
                counts[code] += 1
            window = self._window
            # The row is kept (not copied) for the summary of a drifted numeric feature.
            window.append((at, codes, row))
            self._since_evaluation += 1
            while len(window) > self.config.window_size or window[0][0] < cutoff:
                self._evict()

    def _evict(self) -> None:
        _, codes, _ = self._window.popleft()
        for counts, code in zip(self._counts, codes, strict=True):
            counts[code] -= 1

    def due(self, now: float | None = None) -> bool:
        """True when `evaluate_every_requests` rows arrived or new rows wait past the interval."""
        at = self._clock() if now is None else now
        pending = self._since_evaluation
        if pending >= self.config.evaluate_every_requests:
            return True
        return pending > 0 and at - self._last_evaluation >= self.config.evaluate_interval_s

    def evaluate(self, now: float | None = None) -> DriftReport:
        """Score every feature against its reference; no events (see `check`)."""
        at = self._clock() if now is None else now
        cutoff = at - self.config.window_max_age_s
        with self._lock:
            while self._window and self._window[0][0] < cutoff:
                self._evict()
            snapshot = [list(counts) for counts in self._counts]
            size = len(self._window)
            self._since_evaluation = 0
            self._last_evaluation = at
        scores = tuple(
            self._score(name, ref, np.asarray(counts, dtype=np.float64))
            for name, ref, counts in zip(self._names, self._references, snapshot, strict=True)
        )
        cells = size * len(scores)
        missing = sum(score.missing for score in scores)
        return DriftReport(size, missing / cells if cells else 0.0, scores)

    def _score(self, name: str, ref: Reference, counts: stats.FloatArray) -> FeatureScore:
        present = counts[:-1]
        n_present = int(present.sum())
        if n_present < self.config.min_samples:
            return FeatureScore(name, None, n_present, int(counts[-1]))
        expected = reference.expected(ref)
        score = stats.psi(expected, present, self.config.psi_epsilon)
        p_value = None
        if score > self.config.psi_threshold:
            p_value = stats.chi_square_p_value(expected, present)
        return FeatureScore(name, score, n_present, int(counts[-1]), p_value)

    def check(self, now: float | None = None) -> DriftReport:
        """Evaluate and emit `drift-detected` / `missing-data-rate` events (with cooldowns)."""
        at = self._clock() if now is None else now
        report = self.evaluate(at)
        for score in report.drifted(self.config.psi_threshold, self.config.significance):
            if self._cooled_down(score.feature, at):
                self._emit_drift(score, report.window_size)
        self._report_missing(report, at)
        return report

    def _cooled_down(self, key: str, now: float) -> bool:
        last = self._last_emitted.get(key)
        if last is not None and now - last < self.config.cooldown_s:
            return False
        self._last_emitted[key] = now
        return True

    def _model_fields(self) -> dict[str, object]:
        return {"amf1.model.name": self.model_name, "amf1.model.version": self.model_version}

    def _emit_drift(self, score: FeatureScore, window_size: int) -> None:
        assert score.score is not None  # only drifted (scored, tested) features get here
        assert score.p_value is not None
        summary = self.summary(score.feature)
        threshold = self.config.psi_threshold
        emit(
            Action.DRIFT_DETECTED,
            f"Input drift on {score.feature!r} for {self.model_name}: PSI {score.score:.3f} > "
            f"{threshold} over the last {window_size} requests; {summary}",
            {
                **self._model_fields(),
                "amf1.drift.feature": score.feature,
                "amf1.drift.score": round(score.score, 6),
                "amf1.drift.threshold": threshold,
                "amf1.drift.method": "psi",
                "amf1.drift.p_value": score.p_value,
                "amf1.drift.window_size": window_size,
                "amf1.drift.summary": summary,
            },
        )

    def _report_missing(self, report: DriftReport, now: float) -> None:
        """One event per report interval (a series for dashboards), at warning level above the
        threshold, and at once when the rate crosses the threshold.

        Nothing below `min_samples` requests: the watcher alerts on the value itself, and the
        rate of a handful of requests is noise (one missing value in 3 requests is 5 %).
        """
        if report.window_size < self.config.min_samples:
            return
        threshold = self.config.missing_rate_threshold
        above = report.missing_rate > threshold
        crossed = above and not self._missing_above
        self._missing_above = above
        last = self._last_emitted.get(_MISSING_KEY)
        if not crossed and last is not None and now - last < self.config.missing_report_interval_s:
            return
        self._last_emitted[_MISSING_KEY] = now
        level: Level = "warning" if above else "info"
        worst = max(report.scores, key=lambda s: s.missing, default=None)
        worst_part = (
            f"; most missing: {worst.feature!r} {worst.missing / report.window_size:.1%}"
            if worst is not None and worst.missing
            else ""
        )
        emit(
            Action.MISSING_DATA_RATE,
            f"Missing input values for {self.model_name}: {report.missing_rate:.2%} of values in "
            f"the last {report.window_size} requests (threshold {threshold:.0%}){worst_part}",
            {
                **self._model_fields(),
                "amf1.data.missing_rate": round(report.missing_rate, 6),
                "amf1.drift.window_size": report.window_size,
            },
            level=level,
        )

    def summary(self, feature: str) -> str:
        """Reference versus current window, in a few words, for one feature."""
        index = self._names.index(feature)
        ref = self._references[index]
        if isinstance(ref, NumericReference):
            with self._lock:
                column = self._positions[index]
                raw = [row[2][column] for row in self._window if row[1][index] >= 0]
            return stats.numeric_summary(ref, np.asarray(raw, dtype=np.float64))
        with self._lock:
            counts = np.asarray(self._counts[index][:-1], dtype=np.float64)
        return stats.categorical_summary(ref, counts)
