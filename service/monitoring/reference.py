"""Training-time reference distributions: building them, parsing them, and binning live values.

The reference format (model metadata, `"reference": {feature: ...}`) is the team contract:

- numeric: `{"type": "numeric", "bin_edges": [11 quantile edges], "proportions": [10],
  "missing_rate": x}`;
- categorical: `{"type": "categorical", "frequencies": {"value": p, ...}, "missing_rate": x}`.

Proportions and frequencies are shares of the *present* values; None and NaN are missing.
Binning is the one training uses (`service.training.reference.bin_index`, i.e.
`numpy.histogram`'s): bin i holds `edges[i] <= v < edges[i+1]`, the last bin also holds its right
edge, ties at repeated edges go to the highest bin with that edge. Live values outside the
training range fall into the first or last bin, as is usual for PSI (the outer edges act as -inf
and +inf).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

N_QUANTILE_BINS = 10
UNSEEN = "__unseen__"


class ReferenceFormatError(ValueError):
    """A reference entry in the model metadata is malformed; the message names the feature."""


@dataclass(frozen=True, slots=True)
class NumericReference:
    """Quantile bins of a numeric feature in the training data."""

    feature: str
    bin_edges: tuple[float, ...]
    proportions: tuple[float, ...]
    missing_rate: float

    @property
    def n_slots(self) -> int:
        """Bins a live value can land in."""
        return len(self.proportions)

    def encoder(self) -> Callable[[Any], int]:
        """Return value -> bin index (0..n_slots-1), or -1 for a missing or non-numeric value.

        A scalar bisect on a list: on the request path this is several times cheaper than a
        numpy call for one value.
        """
        edges = list(self.bin_edges)
        last = self.n_slots - 1

        def encode(value: Any) -> int:
            # `value != value` is the NaN test without a function call (hot path).
            if value is None or value != value:  # noqa: PLR0124
                return -1
            try:
                index = bisect_right(edges, value) - 1
            except TypeError:  # not a number: a string, an object
                return -1
            return 0 if index < 0 else (last if index > last else index)

        return encode

    def expected(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Reference share per bin (normalised to sum 1)."""
        return _normalised(self.proportions)

    def quantiles(self) -> dict[str, float]:
        """p10 / p50 / p90 of the training data, read off the decile edges."""
        edges = self.bin_edges
        if len(edges) != N_QUANTILE_BINS + 1:
            return {}
        return {"p10": edges[1], "p50": edges[5], "p90": edges[9]}


@dataclass(frozen=True, slots=True)
class CategoricalReference:
    """Category frequencies of a categorical feature in the training data."""

    feature: str
    categories: tuple[str, ...]
    frequencies: tuple[float, ...]
    missing_rate: float

    @property
    def n_slots(self) -> int:
        """The known categories plus one slot for values never seen in training."""
        return len(self.categories) + 1

    def encoder(self, codes: Sequence[str] | None = None) -> Callable[[Any], int]:
        """Return value -> category slot, the unseen slot for new values, -1 when missing.

        Args:
            codes: when given, values are the model matrix's numeric codes (the index of the
                category in `codes`, as a float) rather than the category names.
        """
        index = {category: i for i, category in enumerate(self.categories)}
        unseen = len(self.categories)
        if codes is None:

            def encode(value: Any) -> int:
                if value is None or value != value:  # noqa: PLR0124 - NaN
                    return -1
                return index.get(str(value), unseen)

            return encode
        # Float keys: a code read from the float64 matrix is looked up without conversion.
        slot_of_code = {float(i): index.get(str(name), unseen) for i, name in enumerate(codes)}

        def encode_code(value: Any) -> int:
            if value is None or value != value:  # noqa: PLR0124 - NaN
                return -1
            return slot_of_code.get(value, unseen)

        return encode_code

    def expected(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Reference share per slot; the unseen slot's share is 0."""
        return _normalised((*self.frequencies, 0.0))

    def labels(self) -> tuple[str, ...]:
        """Slot names, the unseen slot last."""
        return (*self.categories, UNSEEN)


FeatureReference = NumericReference | CategoricalReference


def _normalised(values: Iterable[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    array = np.asarray(tuple(values), dtype=np.float64)
    total = float(array.sum())
    return array / total if total > 0 else array


def _rate(feature: str, raw: Mapping[str, Any]) -> float:
    rate = float(raw.get("missing_rate", 0.0))
    if not 0.0 <= rate <= 1.0:
        raise ReferenceFormatError(f"reference {feature!r}: missing_rate {rate} is not in [0, 1]")
    return rate


def _parse_numeric(feature: str, raw: Mapping[str, Any]) -> NumericReference:
    edges = tuple(float(edge) for edge in raw.get("bin_edges", ()))
    proportions = tuple(float(share) for share in raw.get("proportions", ()))
    if len(edges) < 2 or len(proportions) != len(edges) - 1:
        raise ReferenceFormatError(
            f"reference {feature!r}: need n+1 bin_edges for n proportions, "
            f"got {len(edges)} and {len(proportions)}"
        )
    if any(b < a for a, b in pairwise(edges)) or not all(math.isfinite(edge) for edge in edges):
        raise ReferenceFormatError(
            f"reference {feature!r}: bin_edges must be finite and non-decreasing"
        )
    if any(share < 0 for share in proportions) or sum(proportions) <= 0:
        raise ReferenceFormatError(f"reference {feature!r}: proportions must be >= 0 and not all 0")
    return NumericReference(feature, edges, proportions, _rate(feature, raw))


def _parse_categorical(feature: str, raw: Mapping[str, Any]) -> CategoricalReference:
    frequencies = raw.get("frequencies")
    if not isinstance(frequencies, Mapping) or not frequencies:
        raise ReferenceFormatError(f"reference {feature!r}: frequencies must be a non-empty object")
    shares = tuple(float(share) for share in frequencies.values())
    if any(share < 0 for share in shares) or sum(shares) <= 0:
        raise ReferenceFormatError(f"reference {feature!r}: frequencies must be >= 0 and not all 0")
    categories = tuple(str(category) for category in frequencies)
    return CategoricalReference(feature, categories, shares, _rate(feature, raw))


def parse_reference(reference: Mapping[str, Any]) -> tuple[FeatureReference, ...]:
    """Parse the metadata's `reference` object, in its key order.

    Raises:
        ReferenceFormatError: an entry has an unknown type or inconsistent bins; names the feature.
    """
    parsed: list[FeatureReference] = []
    for feature, raw in reference.items():
        if not isinstance(raw, Mapping):
            raise ReferenceFormatError(f"reference {feature!r}: expected an object")
        kind = raw.get("type")
        if kind == "numeric":
            parsed.append(_parse_numeric(feature, raw))
        elif kind == "categorical":
            parsed.append(_parse_categorical(feature, raw))
        else:
            raise ReferenceFormatError(f"reference {feature!r}: unknown type {kind!r}")
    return tuple(parsed)
