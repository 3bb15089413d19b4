"""Request bodies for the service's prediction and feedback endpoints (`service/schemas.py`).

Normal traffic must look like the training data, or the drift detector would rightly complain
about the load generator itself. So bodies are rows of the synthetic championship the models were
trained on (`service.training.synthetic` with the seasons and seed the service's `/models` reports;
`amf1 train`'s defaults otherwise), restricted to the drivers and circuits the running service
knows. Weather is per race weekend, so the reference distributions have only a couple of hundred
distinct weather values: rows from another seed differ from them by a PSI near the drift
threshold, rows from the training table do not. A test checks every body built here against the
service's request models.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from amf1.loadgen.client import Request

QUALIFYING_PATH: Final = "/predict/qualifying"
RACE_WINNER_PATH: Final = "/predict/race-winner"
FEEDBACK_PATH: Final = "/feedback"
# `amf1 train`'s defaults, used when the service does not say what it was trained on.
TRAINING_SEASONS: Final = 8
TRAINING_SEED: Final = 7
PAYLOAD_SEED: Final = 2026  # the request order's seed, not the data's
_SYNTHETIC_SOURCE = re.compile(r"synthetic\(seasons=(\d+), seed=(\d+)\)")
_QUALIFYING_FIELDS: Final = (
    "driver",
    "circuit",
    "air_temp_c",
    "track_temp_c",
    "humidity_pct",
    "rain_probability",
    "practice_best_lap_s",
)
# Upper bounds of the request schema, so a shifted (drifted) value is still a valid request.
_BOUNDS: Final = {
    "air_temp_c": (-20.0, 60.0),
    "track_temp_c": (-10.0, 80.0),
    "humidity_pct": (0.0, 100.0),
    "rain_probability": (0.0, 1.0),
    "practice_best_lap_s": (20.5, 300.0),
}


@dataclass(frozen=True, slots=True)
class Race:
    """One race weekend's field, as the race-winner endpoint takes it."""

    circuit: str
    rain_probability: float
    entries: tuple[dict[str, Any], ...]


@dataclass
class PayloadFactory:
    """Valid request bodies drawn from realistic weekends (optionally shifted: drift)."""

    sessions: Sequence[dict[str, Any]]
    races: Sequence[Race]
    seed: int = PAYLOAD_SEED
    shift: dict[str, float] = field(default_factory=dict)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.sessions or not self.races:
            raise ValueError("a payload factory needs at least one session and one race")
        self._rng = random.Random(self.seed)  # noqa: S311 - load shaping, not cryptography

    @classmethod
    def synthetic(
        cls,
        drivers: Iterable[str] | None = None,
        circuits: Iterable[str] | None = None,
        *,
        seasons: int = TRAINING_SEASONS,
        seed: int = TRAINING_SEED,
    ) -> PayloadFactory:
        """Bodies from the synthetic table `amf1 train` would use, limited to the given values."""
        from service.training.synthetic import generate  # noqa: PLC0415 - pandas, only when needed

        frame = generate(seasons=seasons, seed=seed)
        if drivers is not None:
            frame = frame[frame["driver"].isin(set(drivers))]
        if circuits is not None:
            frame = frame[frame["circuit"].isin(set(circuits))]
        rows = [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
        sessions = [
            {name: row[name] for name in _QUALIFYING_FIELDS}
            for row in rows
            if not math.isnan(row["practice_best_lap_s"])
        ]
        return cls(sessions, _races(rows))

    def qualifying(self) -> dict[str, Any]:
        """A body for POST /predict/qualifying (shifted features moved, within schema bounds)."""
        body = dict(self._rng.choice(self.sessions))
        for name, delta in self.shift.items():
            low, high = _BOUNDS[name]
            body[name] = round(min(high, max(low, float(body[name]) + delta)), 3)
        return body

    def race_winner(self) -> dict[str, Any]:
        """A body for POST /predict/race-winner: one real-looking grid."""
        race = self._rng.choice(self.races)
        rain = min(1.0, race.rain_probability + self.shift.get("rain_probability", 0.0))
        return {
            "circuit": race.circuit,
            "rain_probability": round(rain, 3),
            "entries": list(race.entries),
        }


def training_source(source: str | None) -> tuple[int, int]:
    """(seasons, seed) from a model's `training_data.source` such as `synthetic(seasons=8, seed=7)`.

    Anything else (real data, an older model) gives `amf1 train`'s defaults.
    """
    match = _SYNTHETIC_SOURCE.fullmatch(source or "")
    if match is None:
        return TRAINING_SEASONS, TRAINING_SEED
    return int(match.group(1)), int(match.group(2))


def _races(rows: list[dict[str, Any]]) -> list[Race]:
    by_race: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in rows:
        by_race.setdefault((row["season"], row["round"]), []).append(row)
    races = []
    for field_rows in by_race.values():
        if len(field_rows) < 2:
            continue
        entries = tuple(
            {
                "driver": row["driver"],
                "grid_position": int(row["grid_position"]),
                "qualifying_lap_s": round(float(row["qualifying_lap_s"]), 3),
            }
            for row in sorted(field_rows, key=lambda r: int(r["grid_position"]))
        )
        first = field_rows[0]
        races.append(Race(first["circuit"], round(float(first["rain_probability"]), 3), entries))
    return races


def post_json(
    path: str, body: Any, label: str, headers: tuple[tuple[str, str], ...] = ()
) -> Request:
    """A POST request with a JSON body."""
    return Request("POST", path, orjson.dumps(body), headers=headers, label=label)


def qualifying_feedback(prediction_id: str, actual_lap_time_s: float) -> dict[str, Any]:
    """A body for POST /feedback reporting the actual lap time of a qualifying prediction."""
    return {"prediction_id": prediction_id, "actual_lap_time_s": round(actual_lap_time_s, 3)}


def race_feedback(prediction_id: str, winner: str) -> dict[str, Any]:
    """A body for POST /feedback reporting the actual winner of a race prediction."""
    return {"prediction_id": prediction_id, "actual_winner": winner}
