"""The prediction path: request -> feature row(s) -> model -> answer. No I/O, no pandas.

Each function returns the encoded features next to the answer, so monitoring (drift, missing
data) can observe exactly what the model saw without re-encoding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from service.errors import UnknownValueError
from service.registry import LoadedModel
from service.schemas import QualifyingRequest, RaceWinnerRequest

_LISTING = {"driver": "/drivers", "circuit": "/circuits"}


@dataclass(frozen=True, slots=True)
class QualifyingPrediction:
    """A predicted lap, the feature row (1, n) behind it and how long building it took."""

    lap_time_s: float
    features: np.ndarray
    features_ns: int = 0


@dataclass(frozen=True, slots=True)
class RaceWinnerPrediction:
    """Win probabilities in entry order (summing to 1), the feature matrix (n, k) and how long
    building it took."""

    drivers: tuple[str, ...]
    probabilities: np.ndarray
    features: np.ndarray
    features_ns: int = 0


def require_known(model: LoadedModel, feature: str, value: str) -> None:
    """Raise `UnknownValueError` (a 422 listing valid values) for a category never trained on."""
    if model.encoder.code(feature, value) is None:
        valid = model.encoder.valid_values(feature)
        raise UnknownValueError(feature, value, valid, _LISTING[feature])


def predict_qualifying(model: LoadedModel, request: QualifyingRequest) -> QualifyingPrediction:
    """Predict one qualifying lap, seconds (see `service.metadata.Target` for the offset)."""
    started_ns = time.perf_counter_ns()
    require_known(model, "driver", request.driver)
    require_known(model, "circuit", request.circuit)
    row = model.encoder.row(
        {
            "driver": request.driver,
            "circuit": request.circuit,
            "air_temp_c": request.air_temp_c,
            "track_temp_c": request.track_temp_c,
            "humidity_pct": request.humidity_pct,
            "rain_probability": request.rain_probability,
            "practice_best_lap_s": request.practice_best_lap_s,
        }
    )
    features_ns = time.perf_counter_ns() - started_ns
    offset_s = request.practice_best_lap_s
    if offset_s is None:
        references = model.metadata.target.circuit_reference_lap_s or {}
        offset_s = references[request.circuit]
    return QualifyingPrediction(offset_s + model.predictor.predict(row), row, features_ns)


def predict_race_winner(model: LoadedModel, request: RaceWinnerRequest) -> RaceWinnerPrediction:
    """Win probability of every entry, normalised so that they sum to 1 over the field.

    The classifier scores each driver independently; dividing by the field's sum turns the
    scores into one distribution over the possible winners.
    """
    started_ns = time.perf_counter_ns()
    require_known(model, "circuit", request.circuit)
    for entry in request.entries:
        require_known(model, "driver", entry.driver)
    fastest_s = min(entry.qualifying_lap_s for entry in request.entries)
    matrix = np.vstack(
        [
            model.encoder.row(
                {
                    "driver": entry.driver,
                    "circuit": request.circuit,
                    "grid_position": entry.grid_position,
                    "qualifying_gap_s": entry.qualifying_lap_s - fastest_s,
                    "rain_probability": request.rain_probability,
                }
            )
            for entry in request.entries
        ]
    )
    features_ns = time.perf_counter_ns() - started_ns
    scores = np.asarray(model.booster.predict(matrix, num_threads=1), dtype=np.float64)
    total = float(scores.sum())
    probabilities = scores / total if total > 0 else np.full(len(scores), 1.0 / len(scores))
    drivers = tuple(entry.driver for entry in request.entries)
    return RaceWinnerPrediction(drivers, probabilities, matrix, features_ns)
