"""The workers' `drift-counts` events, read back: parsed, windowed and added up.

Every service worker bins its own rows against the training reference and, every evaluation,
logs one `drift-counts` event per model with the counts of the rows added since its previous
report (`service.monitoring.drift`). Counts are deltas, so the events of all workers and
replicas simply add up: the sum over a window is what one process that had seen all the traffic
would hold. The event carries the reference's expected shares (and the bin edges or category
names), so the watcher needs no model files.

    amf1.model.name, amf1.model.version
    amf1.drift.rows      rows added since the previous report
    amf1.drift.counts    {feature: {"bins": [n, ...], "missing": n, "expected": [share, ...],
                                    "edges": [x, ...] (numeric) | "categories": [name, ...]}}

This module is the one place that reads that shape; it only works on event documents, so it is
tested without Elasticsearch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alerting.signals.drift_stats import FloatArray

ROWS_FIELD = "amf1.drift.rows"
COUNTS_FIELD = "amf1.drift.counts"
MODEL_NAME_FIELD = "amf1.model.name"
MODEL_VERSION_FIELD = "amf1.model.version"


class CountsFormatError(ValueError):
    """A `drift-counts` event does not have the documented shape (the message says where)."""


@dataclass(frozen=True, slots=True)
class FeatureCounts:
    """One feature's live counts per reference slot, its missing count and its reference."""

    bins: FloatArray
    missing: int
    expected: FloatArray
    edges: FloatArray | None = None
    categories: tuple[str, ...] | None = None

    def __add__(self, other: FeatureCounts) -> FeatureCounts:
        if other.bins.shape != self.bins.shape:
            raise CountsFormatError(
                f"{other.bins.size} bins where the window holds {self.bins.size}"
            )
        return FeatureCounts(
            self.bins + other.bins,
            self.missing + other.missing,
            self.expected,
            self.edges,
            self.categories,
        )


@dataclass(frozen=True, slots=True)
class CountsReport:
    """One worker's `drift-counts` event, parsed."""

    model_name: str
    model_version: str
    rows: int
    features: Mapping[str, FeatureCounts]


@dataclass(slots=True)
class MergedCounts:
    """The counts of several reports added up (one model version, or one model for missing)."""

    rows: int = 0
    features: dict[str, FeatureCounts] = field(default_factory=dict)
    reports: int = 0


def _floats(value: Any, where: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise CountsFormatError(f"{where}: expected a non-empty list of numbers")
    return array


def _feature(name: str, entry: Any) -> FeatureCounts:
    if not isinstance(entry, Mapping):
        raise CountsFormatError(f"{COUNTS_FIELD}.{name}: expected an object")
    try:
        bins = _floats(entry["bins"], f"{COUNTS_FIELD}.{name}.bins")
        expected = _floats(entry["expected"], f"{COUNTS_FIELD}.{name}.expected")
        missing = int(entry["missing"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CountsFormatError(f"{COUNTS_FIELD}.{name}: {exc}") from exc
    if bins.size != expected.size:
        raise CountsFormatError(f"{COUNTS_FIELD}.{name}: bins and expected differ in length")
    edges = _floats(entry["edges"], f"{COUNTS_FIELD}.{name}.edges") if "edges" in entry else None
    if edges is not None and edges.size != bins.size + 1:
        raise CountsFormatError(f"{COUNTS_FIELD}.{name}: need one more edge than bins")
    categories = tuple(str(c) for c in entry["categories"]) if "categories" in entry else None
    if categories is not None and len(categories) != bins.size:
        raise CountsFormatError(f"{COUNTS_FIELD}.{name}: one category name per bin")
    return FeatureCounts(bins, missing, expected, edges, categories)


def parse_report(source: Mapping[str, Any]) -> CountsReport:
    """Read one `drift-counts` document (its `_source`, flat dotted field names).

    Raises:
        CountsFormatError: a field is missing or malformed; the message names it.
    """
    counts = source.get(COUNTS_FIELD)
    if not isinstance(counts, Mapping):
        raise CountsFormatError(f"{COUNTS_FIELD}: expected an object")
    try:
        rows = int(source[ROWS_FIELD])
        name, version = str(source[MODEL_NAME_FIELD]), str(source[MODEL_VERSION_FIELD])
    except (KeyError, TypeError, ValueError) as exc:
        raise CountsFormatError(f"missing or malformed field: {exc}") from exc
    features = {str(feature): _feature(str(feature), entry) for feature, entry in counts.items()}
    return CountsReport(name, version, rows, features)


def window(newest_first: Iterable[CountsReport], size: int) -> list[CountsReport]:
    """The newest reports that together hold `size` rows (the last one may overshoot)."""
    taken: list[CountsReport] = []
    rows = 0
    for report in newest_first:
        if rows >= size:
            break
        taken.append(report)
        rows += report.rows
    return taken


def merge(reports: Iterable[CountsReport], ignore: frozenset[str] = frozenset()) -> MergedCounts:
    """Add up the counts of `reports`, feature by feature, leaving out `ignore`.

    Reports of one model version share their reference, so their bins line up; a feature whose
    bins do not (a malformed report) raises.

    Raises:
        CountsFormatError: a feature's bins differ in length between reports.
    """
    merged = MergedCounts()
    for report in reports:
        merged.rows += report.rows
        merged.reports += 1
        for name, counts in report.features.items():
            if name in ignore:
                continue
            current = merged.features.get(name)
            merged.features[name] = counts if current is None else current + counts
    return merged


@dataclass(frozen=True, slots=True)
class MissingCounts:
    """Missing input values over some reports: per feature, and out of how many values."""

    rows: int
    values: int
    by_feature: Mapping[str, int]

    @property
    def rate(self) -> float:
        """Missing values / all values (0.0 when there were none)."""
        return sum(self.by_feature.values()) / self.values if self.values else 0.0


def missing(reports: Iterable[CountsReport], ignore: frozenset[str] = frozenset()) -> MissingCounts:
    """Missing values of `reports` (of any versions of a model: no bins are added up)."""
    rows = values = 0
    by_feature: dict[str, int] = {}
    for report in reports:
        kept = [name for name in report.features if name not in ignore]
        rows += report.rows
        values += report.rows * len(kept)
        for name in kept:
            by_feature[name] = by_feature.get(name, 0) + report.features[name].missing
    return MissingCounts(rows, values, by_feature)
