"""The training reference as drift detection reads it: usability checks and live-value binning.

The format is the metadata's (`service.metadata.NumericReference` / `CategoricalReference`,
validated when the model loads); this module works on those models. Proportions and frequencies
are shares of the *present* values; None and NaN are missing. Binning is the one training uses
(`service.training.reference.bin_index`, i.e. `numpy.histogram`'s): bin i holds
`edges[i] <= v < edges[i+1]`, the last bin also holds its right edge, ties at repeated edges go
to the highest bin with that edge. Live values outside the training range fall into the first
or last bin, as is usual for PSI (the outer edges act as -inf and +inf).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from service.metadata import CategoricalReference, NumericReference, Reference

UNSEEN = "__unseen__"


class ReferenceFormatError(ValueError):
    """A reference entry cannot be scored against (inconsistent bins or shares).

    The message names the feature.
    """


def check_reference(reference: Mapping[str, Reference]) -> None:
    """Refuse a reference that loads but cannot be scored against.

    Raises:
        ReferenceFormatError: the first entry with inconsistent bins, shares or missing rate;
            the message names the feature.
    """
    for feature, ref in reference.items():
        if isinstance(ref, NumericReference):
            _check_numeric(feature, ref)
        else:
            _check_categorical(feature, ref)
        if not 0.0 <= ref.missing_rate <= 1.0:
            raise ReferenceFormatError(
                f"reference {feature!r}: missing_rate {ref.missing_rate} is not in [0, 1]"
            )


def _check_numeric(feature: str, ref: NumericReference) -> None:
    edges, proportions = ref.bin_edges, ref.proportions
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


def _check_categorical(feature: str, ref: CategoricalReference) -> None:
    if not ref.frequencies:
        raise ReferenceFormatError(f"reference {feature!r}: frequencies must be a non-empty object")
    shares = ref.frequencies.values()
    if any(share < 0 for share in shares) or sum(shares) <= 0:
        raise ReferenceFormatError(f"reference {feature!r}: frequencies must be >= 0 and not all 0")


def n_slots(ref: Reference) -> int:
    """Slots a live value can land in: the bins, or the categories plus one for unseen values."""
    if isinstance(ref, NumericReference):
        return len(ref.proportions)
    return len(ref.frequencies) + 1


def encoder(ref: Reference, codes: Sequence[str] | None = None) -> Callable[[Any], int]:
    """Return value -> slot (0..n_slots-1), or -1 for a missing value.

    Args:
        codes: categorical only: when given, values are the model matrix's numeric codes (the
            index of the category in `codes`, as a float) rather than the category names.
    """
    if isinstance(ref, NumericReference):
        return _numeric_encoder(ref)
    return _categorical_encoder(ref, codes)


def _numeric_encoder(ref: NumericReference) -> Callable[[Any], int]:
    # A scalar bisect on a list: on the request path this is several times cheaper than a numpy
    # call for one value. Non-numeric values (a string, an object) count as missing.
    edges = list(ref.bin_edges)
    last = len(ref.proportions) - 1

    def encode(value: Any) -> int:
        # `value != value` is the NaN test without a function call (hot path).
        if value is None or value != value:  # noqa: PLR0124
            return -1
        try:
            index = bisect_right(edges, value) - 1
        except TypeError:
            return -1
        return 0 if index < 0 else (last if index > last else index)

    return encode


def _categorical_encoder(
    ref: CategoricalReference, codes: Sequence[str] | None
) -> Callable[[Any], int]:
    index = {category: i for i, category in enumerate(ref.frequencies)}
    unseen = len(index)
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


def expected(ref: Reference) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Reference share per slot (normalised to sum 1); the unseen category's share is 0."""
    if isinstance(ref, NumericReference):
        return _normalised(ref.proportions)
    return _normalised((*ref.frequencies.values(), 0.0))


def labels(ref: CategoricalReference) -> tuple[str, ...]:
    """Slot names, the unseen slot last."""
    return (*ref.frequencies, UNSEEN)


def _normalised(values: Iterable[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    array = np.asarray(tuple(values), dtype=np.float64)
    total = float(array.sum())
    return array / total if total > 0 else array
