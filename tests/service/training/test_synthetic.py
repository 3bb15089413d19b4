"""The synthetic championship generator: deterministic, in the training schema, learnable."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from service.training.dataset import COLUMN_NAMES, fingerprint, validate_dataset
from service.training.synthetic import generate

LAST = dt.date(2026, 6, 30)


def test_same_seed_gives_the_same_table() -> None:
    """Generation is deterministic: same seed and arguments, same fingerprint."""
    one = validate_dataset(generate(seasons=1, seed=3, last_race=LAST), source="a")
    two = validate_dataset(generate(seasons=1, seed=3, last_race=LAST), source="b")
    other = validate_dataset(generate(seasons=1, seed=4, last_race=LAST), source="c")
    assert fingerprint(one) == fingerprint(two)
    assert fingerprint(one) != fingerprint(other)


def test_table_follows_the_schema_and_ends_on_the_last_race(small_table: Any) -> None:
    """Every schema column is present, each race has 20 drivers and one winner."""
    assert tuple(small_table.columns) == COLUMN_NAMES
    per_race = small_table.groupby(["season", "round"])
    assert (per_race.size() == 20).all()
    assert (per_race["won"].sum() == 1).all()
    assert small_table["date"].max().date() == dt.date(2026, 6, 30)


def test_practice_pace_predicts_qualifying_pace(small_table: Any) -> None:
    """Practice laps correlate strongly with qualifying laps (the structure is learnable)."""
    both = small_table.dropna(subset=["practice_best_lap_s"])
    corr = np.corrcoef(both["practice_best_lap_s"], both["qualifying_lap_s"])[0, 1]
    assert corr > 0.99
    assert 0 < small_table["practice_best_lap_s"].isna().mean() < 0.1
