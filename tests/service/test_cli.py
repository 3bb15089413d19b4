"""`amf1 train` from a data file and from the generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amf1.cli import main
from service.metadata import METADATA_FILE
from service.model_store import model_directory


def test_train_from_csv_writes_both_models(
    small_table: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`amf1 train --data table.csv --out DIR` trains both models and prints their metrics."""
    data = tmp_path / "table.csv"
    small_table.to_csv(data, index=False)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "models")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["model"] for line in lines] == ["stage1-qualifying", "stage2-race-winner"]
    assert "mae_s" in lines[0]
    assert "brier" in lines[1]
    for name in ("stage1-qualifying", "stage2-race-winner"):
        assert (model_directory(tmp_path / "models", name) / METADATA_FILE).exists()


def test_train_with_bad_data_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A table missing columns fails with exit code 2 and says which columns."""
    data = tmp_path / "table.csv"
    data.write_text("season,round\n2024,1\n")
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "models")]) == 2
    assert "missing columns" in capsys.readouterr().err
