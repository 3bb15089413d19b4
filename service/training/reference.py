"""Per-feature reference distributions of the training data, saved for drift detection."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from service.features import Feature
from service.metadata import CategoricalReference, NumericReference, Reference

_BINS = 10


def numeric_reference(values: np.ndarray) -> NumericReference:
    """11 quantile edges (0 %, 10 %, ..., 100 %) and the share of non-missing values per bin.

    A value falls in bin i when edges[i] <= value < edges[i + 1] (the last bin is closed);
    ties at repeated edges go to the highest bin with that edge, as `bin_index` does.
    """
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    present = values[~missing]
    missing_rate = float(missing.mean()) if len(values) else 0.0
    if len(present) == 0:
        return NumericReference(
            bin_edges=[0.0] * (_BINS + 1), proportions=[0.0] * _BINS, missing_rate=missing_rate
        )
    edges = np.quantile(present, np.linspace(0.0, 1.0, _BINS + 1))
    counts = np.bincount(bin_index(edges, present), minlength=_BINS)
    return NumericReference(
        bin_edges=[round(float(edge), 6) for edge in edges],
        proportions=[round(float(count), 6) for count in counts / len(present)],
        missing_rate=round(missing_rate, 6),
    )


def bin_index(edges: np.ndarray | Sequence[float], values: np.ndarray) -> np.ndarray:
    """Bin of each value given 11 edges; values outside the edges go to the end bins."""
    inner = np.asarray(edges, dtype=np.float64)[1:-1]
    return np.clip(np.searchsorted(inner, values, side="right"), 0, len(inner))


def categorical_reference(values: Sequence[object]) -> CategoricalReference:
    """Share of each value among the present ones, and the share of missing values."""
    present = [str(value) for value in values if not _is_missing(value)]
    total = len(values)
    names, counts = np.unique(np.array(present, dtype=object), return_counts=True)
    return CategoricalReference(
        frequencies={
            str(name): round(float(count) / len(present), 6)
            for name, count in zip(names, counts, strict=True)
        },
        missing_rate=round(1.0 - len(present) / total, 6) if total else 0.0,
    )


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def references(
    raw_columns: dict[str, np.ndarray | list[object]], features: Sequence[Feature]
) -> dict[str, Reference]:
    """Reference of each feature from its raw (unencoded) training values."""
    out: dict[str, Reference] = {}
    for feature in features:
        column = raw_columns[feature.name]
        if feature.kind == "categorical":
            out[feature.name] = categorical_reference(list(column))
        else:
            out[feature.name] = numeric_reference(np.asarray(column, dtype=np.float64))
    return out
