"""The metadata file written next to each model (`models/<name>/metadata.json`).

Training writes it, the registry validates it on load, drift detection reads `reference`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.txt"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureInfo(_Frozen):
    """One model input, in matrix column order; `categories` gives codes (index = code)."""

    name: str
    type: Literal["numeric", "categorical"]
    categories: list[str] | None = None


class NumericReference(_Frozen):
    """Training distribution of a number: 11 quantile edges, the share of values in each bin."""

    type: Literal["numeric"] = "numeric"
    bin_edges: list[float]
    proportions: list[float]
    missing_rate: float


class CategoricalReference(_Frozen):
    """Training distribution of a category: share of each value among the non-missing ones."""

    type: Literal["categorical"] = "categorical"
    frequencies: dict[str, float]
    missing_rate: float


Reference = Annotated[NumericReference | CategoricalReference, Field(discriminator="type")]


class TrainingData(_Frozen):
    """Where the model's data came from and how fresh it is (the stale-data signal's source)."""

    source: str
    fingerprint: str = Field(description="sha256 of the table in schema order")
    rows: int
    races: int
    oldest_date: dt.date
    newest_date: dt.date
    train_races: int
    heldout_races: int


class Target(_Frozen):
    """What the model predicts and how its raw output becomes the answer.

    Stage 1 learns the qualifying lap minus an offset (the driver's practice lap when given,
    else the circuit's reference lap), because trees approximate "about the practice lap" far
    better as a small residual than as an absolute time. Stage 2's raw win scores are divided
    by their sum over the race field.
    """

    name: str
    unit: str
    offset: Literal["practice_or_circuit_reference", "none"] = "none"
    circuit_reference_lap_s: dict[str, float] | None = None
    normalisation: Literal["per_race_sum", "none"] = "none"


class ModelMetadata(_Frozen):
    """Everything the service needs to trust and explain a model file."""

    name: str
    version: str
    trained_at: dt.datetime
    lightgbm_version: str
    seed: int
    model_sha256: str
    features: list[FeatureInfo]
    target: Target
    training_data: TrainingData
    metrics: dict[str, float]
    params: dict[str, float | int | str | bool]
    reference: dict[str, Reference]
