"""The synthetic championship generator and the training data schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.training.dataset import (
    COLUMN_NAMES,
    DatasetError,
    fingerprint,
    read_dataset,
    validate_dataset,
)
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


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_read_back_identically(
    small_table: Any, tmp_path: Path, suffix: str
) -> None:
    """A table written as CSV or Parquet reads back with the same fingerprint."""
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        small_table.to_csv(path, index=False)
    else:
        small_table.to_parquet(path, index=False)
    assert fingerprint(read_dataset(path)) == fingerprint(small_table)


def test_missing_column_is_named(small_table: Any, tmp_path: Path) -> None:
    """A table without a required column is refused with the column's name."""
    path = tmp_path / "data.csv"
    small_table.drop(columns=["track_temp_c"]).to_csv(path, index=False)
    with pytest.raises(DatasetError, match="track_temp_c"):
        read_dataset(path)


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    """Only .csv and .parquet are accepted."""
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(DatasetError, match=r"\.csv or \.parquet"):
        read_dataset(path)
