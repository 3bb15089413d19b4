"""The training data's tabular schema, and reading it from CSV or Parquet.

One row per driver per race weekend. Real data in this shape can replace the synthetic set
unchanged: `amf1 train --data PATH`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    import pandas as pd

ColumnKind = Literal["int", "float", "str", "date"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the schema; `nullable` columns may be empty (missing)."""

    name: str
    kind: ColumnKind
    meaning: str
    nullable: bool = False


COLUMNS: Final[tuple[Column, ...]] = (
    Column("season", "int", "championship year"),
    Column("round", "int", "round number within the season (one race weekend)"),
    Column("date", "date", "race date, ISO 8601 (YYYY-MM-DD)"),
    Column("circuit", "str", "circuit identifier"),
    Column("driver", "str", "driver identifier"),
    Column("team", "str", "team identifier"),
    Column("air_temp_c", "float", "air temperature during qualifying, Celsius"),
    Column("track_temp_c", "float", "track surface temperature during qualifying, Celsius"),
    Column("humidity_pct", "float", "relative humidity during qualifying, percent 0-100"),
    Column("rain_probability", "float", "forecast probability of rain for the session, 0-1"),
    Column("practice_best_lap_s", "float", "driver's best practice lap, seconds", nullable=True),
    Column("qualifying_lap_s", "float", "driver's best qualifying lap, seconds (stage-1 target)"),
    Column("grid_position", "int", "starting position, 1 = pole"),
    Column("finish_position", "int", "classified finish, empty when retired", nullable=True),
    Column("won", "int", "1 if the driver won the race, else 0 (stage-2 target)"),
)

COLUMN_NAMES: Final[tuple[str, ...]] = tuple(column.name for column in COLUMNS)


class DatasetError(ValueError):
    """The training data file cannot be used; the message names the file and what to fix."""


def read_dataset(path: Path) -> pd.DataFrame:
    """Read and validate a training table from `.csv` or `.parquet`.

    Raises:
        DatasetError: unknown extension, unreadable file, missing columns, empty required values,
            or a race without exactly one winner.
    """
    import pandas as pd  # noqa: PLC0415 - training-only dependency, kept off the import path

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        else:
            raise DatasetError(f"{path}: use a .csv or .parquet file, not {suffix!r}")
    except (OSError, ValueError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    return validate_dataset(frame, source=str(path))


def validate_dataset(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Return `frame` restricted to the schema's columns with their types; raise `DatasetError`."""
    missing = [name for name in COLUMN_NAMES if name not in frame.columns]
    if missing:
        raise DatasetError(f"{source}: missing columns {missing}; expected {list(COLUMN_NAMES)}")
    frame = frame.loc[:, list(COLUMN_NAMES)].copy()
    for column in COLUMNS:
        if not column.nullable and frame[column.name].isna().any():
            raise DatasetError(f"{source}: column {column.name!r} has empty values")
        frame[column.name] = _convert(frame, column, source)
    if (frame["qualifying_lap_s"] <= 0).any():
        raise DatasetError(f"{source}: qualifying_lap_s must be > 0 seconds")
    winners = frame.groupby(["season", "round"])["won"].sum()
    if not (winners == 1).all():
        bad = winners[winners != 1].index.tolist()[:5]
        raise DatasetError(f"{source}: every race needs exactly one winner; not so for {bad}")
    return frame.sort_values(["date", "season", "round", "grid_position"]).reset_index(drop=True)


def _convert(frame: pd.DataFrame, column: Column, source: str) -> pd.Series:
    import pandas as pd  # noqa: PLC0415 - see read_dataset

    values = frame[column.name]
    try:
        if column.kind == "str":
            return values.astype(str)
        if column.kind == "date":
            return pd.to_datetime(values, utc=True).dt.tz_localize(None).dt.normalize()
        numbers = pd.to_numeric(values)
        if column.kind == "int":
            return numbers.astype("Int64" if column.nullable else "int64")
        return numbers.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{source}: column {column.name!r} is not {column.kind}: {exc}") from exc


def fingerprint(frame: pd.DataFrame) -> str:
    """A sha256 of the table's content in schema order, independent of file format."""
    digest = hashlib.sha256()
    digest.update(",".join(COLUMN_NAMES).encode())
    csv = frame.loc[:, list(COLUMN_NAMES)].to_csv(index=False, float_format="%.6f")
    digest.update(csv.encode())
    return digest.hexdigest()
