"""The two models' features: names, types, and their encoding into LightGBM's numeric matrix.

Training encodes whole tables with `encode_frame`; serving builds one row at a time with
`Encoder` (plain dicts and numpy, no pandas). Both map a categorical value to its index in the
category list saved in the model metadata, so a value means the same code in both places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

FeatureKind = Literal["numeric", "categorical"]

STAGE1_NAME: Final = "stage1-qualifying"
STAGE2_NAME: Final = "stage2-race-winner"
MODEL_NAMES: Final = (STAGE1_NAME, STAGE2_NAME)


@dataclass(frozen=True, slots=True)
class Feature:
    """A model input column: its name (with its unit) and whether it is a number or a category."""

    name: str
    kind: FeatureKind


STAGE1_FEATURES: Final[tuple[Feature, ...]] = (
    Feature("driver", "categorical"),
    Feature("circuit", "categorical"),
    Feature("air_temp_c", "numeric"),
    Feature("track_temp_c", "numeric"),
    Feature("humidity_pct", "numeric"),
    Feature("rain_probability", "numeric"),
    Feature("practice_best_lap_s", "numeric"),
)

STAGE2_FEATURES: Final[tuple[Feature, ...]] = (
    Feature("driver", "categorical"),
    Feature("circuit", "categorical"),
    Feature("grid_position", "numeric"),
    Feature("qualifying_gap_s", "numeric"),
    Feature("rain_probability", "numeric"),
)

FEATURES: Final[Mapping[str, tuple[Feature, ...]]] = {
    STAGE1_NAME: STAGE1_FEATURES,
    STAGE2_NAME: STAGE2_FEATURES,
}


def categorical_indices(features: Sequence[Feature]) -> list[int]:
    """Column positions LightGBM must treat as categories."""
    return [i for i, feature in enumerate(features) if feature.kind == "categorical"]


def with_race_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the per-race derived columns: `qualifying_gap_s`, behind the race's fastest lap."""
    fastest = frame.groupby(["season", "round"])["qualifying_lap_s"].transform("min")
    return frame.assign(qualifying_gap_s=frame["qualifying_lap_s"] - fastest)


def categories_of(frame: pd.DataFrame, features: Sequence[Feature]) -> dict[str, list[str]]:
    """Sorted distinct values of each categorical feature: the code of a value is its index."""
    return {
        feature.name: sorted(frame[feature.name].astype(str).unique().tolist())
        for feature in features
        if feature.kind == "categorical"
    }


def encode_frame(
    frame: pd.DataFrame, features: Sequence[Feature], categories: Mapping[str, Sequence[str]]
) -> np.ndarray:
    """The float64 feature matrix of `frame`; missing numbers stay NaN, unknown categories NaN."""
    columns = []
    for feature in features:
        values = frame[feature.name]
        if feature.kind == "categorical":
            codes = {value: float(i) for i, value in enumerate(categories[feature.name])}
            columns.append(values.astype(str).map(codes).astype("float64").to_numpy())
        else:
            columns.append(values.astype("float64").to_numpy())
    return np.column_stack(columns)


class Encoder:
    """Builds feature rows for one model from request values; the hot path's only encoder."""

    __slots__ = ("_codes", "_plan", "features")

    def __init__(self, features: Sequence[Feature], categories: Mapping[str, Sequence[str]]):
        self.features = tuple(features)
        self._codes = {
            name: {value: float(i) for i, value in enumerate(values)}
            for name, values in categories.items()
        }
        # Per column: its name and, for a category, its code table (None for a number).
        self._plan = tuple(
            (f.name, self._codes[f.name] if f.kind == "categorical" else None)
            for f in self.features
        )

    def valid_values(self, feature: str) -> list[str]:
        """The categories the model was trained on, in code order."""
        return list(self._codes[feature])

    def code(self, feature: str, value: str) -> float | None:
        """The numeric code of a categorical value, or None when the model never saw it."""
        return self._codes[feature].get(value)

    def row(self, values: Mapping[str, float | str | None]) -> np.ndarray:
        """One (1, n_features) float64 row; categorical values must be known (see `code`).

        A missing number (None) becomes NaN, which LightGBM treats as missing.
        """
        cells = [
            codes[str(values[name])] if codes is not None else values[name]
            for name, codes in self._plan
        ]
        return np.array([cells], dtype=np.float64)
