"""Synthetic stage-1-like inputs and their training reference, for the drift tests.

The reference is built here with `numpy.quantile` + `numpy.histogram` (the format of the team
contract), independently of the service's own builder, so the tests also check that the
monitor bins live values the way the reference was binned. It is then validated by the
metadata's own model, as the registry does when a model loads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import TypeAdapter

from service.metadata import Reference

DRIVERS = tuple(f"D{i:02d}" for i in range(20))
CIRCUITS = tuple(f"C{i:02d}" for i in range(24))
# Unequal circuit shares, so the rare categories exercise the chi-square pooling.
_CIRCUIT_P = np.linspace(1.0, 3.0, len(CIRCUITS)) / np.linspace(1.0, 3.0, len(CIRCUITS)).sum()
NUMERIC = ("air_temp_c", "track_temp_c", "humidity_pct", "rain_probability", "practice_best_lap_s")
FEATURES = ("driver", "circuit", *NUMERIC)
REFERENCE = TypeAdapter(dict[str, Reference])


def sample_columns(
    rng: np.random.Generator, n: int, shift: dict[str, float] | None = None
) -> dict[str, np.ndarray[Any, Any]]:
    """`n` draws of every feature; `shift` adds a constant to named numeric features."""
    columns: dict[str, np.ndarray[Any, Any]] = {
        "driver": rng.choice(np.array(DRIVERS, dtype=object), n),
        "circuit": rng.choice(np.array(CIRCUITS, dtype=object), n, p=_CIRCUIT_P),
        "air_temp_c": rng.normal(24.0, 5.0, n),
        "track_temp_c": rng.normal(36.0, 8.0, n),
        # integer-valued: repeated quantile edges and ties on the edges
        "humidity_pct": rng.integers(30, 90, n).astype(np.float64),
        "rain_probability": rng.beta(1.0, 6.0, n),
        "practice_best_lap_s": rng.normal(88.0, 6.0, n),
    }
    for name, delta in (shift or {}).items():
        columns[name] = columns[name] + delta
    return columns


def rows(columns: dict[str, np.ndarray[Any, Any]]) -> list[list[object]]:
    """Model input rows (plain Python values, `FEATURES` order) from columns."""
    return [list(row) for row in zip(*(columns[name].tolist() for name in FEATURES), strict=True)]


def numeric_entry(values: np.ndarray[Any, Any]) -> dict[str, Any]:
    """A numeric reference entry: decile edges and `numpy.histogram` shares."""
    present = values[~np.isnan(values)]
    edges = np.quantile(present, np.linspace(0.0, 1.0, 11))
    counts, _ = np.histogram(present, bins=edges)
    return {
        "type": "numeric",
        "bin_edges": edges.tolist(),
        "proportions": (counts / present.size).tolist(),
        "missing_rate": 1.0 - present.size / values.size,
    }


def categorical_entry(values: np.ndarray[Any, Any]) -> dict[str, Any]:
    """A categorical reference entry: share of each value."""
    names, counts = np.unique(values.astype(str), return_counts=True)
    return {
        "type": "categorical",
        "frequencies": {str(k): float(c) / values.size for k, c in zip(names, counts, strict=True)},
        "missing_rate": 0.0,
    }


def training_reference(seed: int = 7, n: int = 20_000) -> dict[str, Reference]:
    """The metadata `reference` of a model trained on `n` synthetic rows."""
    columns = sample_columns(np.random.default_rng(seed), n)
    return REFERENCE.validate_python(
        {
            name: categorical_entry(column) if column.dtype == object else numeric_entry(column)
            for name, column in columns.items()
        }
    )
