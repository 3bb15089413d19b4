"""The training data schema: reading CSV and Parquet, refusing what does not fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.training.dataset import DatasetError, fingerprint, read_dataset


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
