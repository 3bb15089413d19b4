"""Training: metrics within sane bounds, metadata complete, files verifiable, deterministic."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from service.features import STAGE1_NAME, STAGE2_NAME
from service.metadata import METADATA_FILE, MODEL_FILE, ModelMetadata
from service.model_store import model_directory
from service.training.train import train_all


def _by_name(trained: tuple[Path, list[ModelMetadata]]) -> dict[str, ModelMetadata]:
    return {metadata.name: metadata for metadata in trained[1]}


def test_stage1_held_out_error_is_small(trained: tuple[Path, list[ModelMetadata]]) -> None:
    """The qualifying model's held-out MAE is well under a second on a small training set."""
    metrics = _by_name(trained)[STAGE1_NAME].metrics
    assert 0.0 < metrics["mae_s"] < 0.6
    assert metrics["rmse_s"] >= metrics["mae_s"]


def test_stage2_beats_the_uniform_guess(trained: tuple[Path, list[ModelMetadata]]) -> None:
    """The race-winner model's held-out Brier score is below guessing 1/field for everyone."""
    metrics = _by_name(trained)[STAGE2_NAME].metrics
    assert 0.0 < metrics["brier"] < metrics["brier_uniform_baseline"]


def test_files_match_their_metadata(trained: tuple[Path, list[ModelMetadata]]) -> None:
    """Each model file's sha256 and the version's suffix match the metadata file."""
    for name, metadata in _by_name(trained).items():
        directory = model_directory(trained[0], name)
        digest = hashlib.sha256((directory / MODEL_FILE).read_bytes()).hexdigest()
        on_disk = ModelMetadata.model_validate_json((directory / METADATA_FILE).read_bytes())
        assert on_disk == metadata
        assert digest == metadata.model_sha256
        assert re.fullmatch(rf"\d{{8}}\.\d{{6}}-{digest[:8]}", metadata.version)


def test_metadata_has_reference_distributions(trained: tuple[Path, list[ModelMetadata]]) -> None:
    """Every feature has a reference: 11 edges and 10 proportions, or category frequencies."""
    for metadata in trained[1]:
        assert set(metadata.reference) == {feature.name for feature in metadata.features}
        for reference in metadata.reference.values():
            if reference.type == "numeric":
                assert len(reference.bin_edges) == 11
                assert len(reference.proportions) == 10
                assert reference.bin_edges == sorted(reference.bin_edges)
                assert sum(reference.proportions) == pytest.approx(1.0, abs=1e-4)
            else:
                assert sum(reference.frequencies.values()) == pytest.approx(1.0, abs=1e-4)
        practice = metadata.reference.get("practice_best_lap_s")
        if practice is not None:
            assert 0.0 < practice.missing_rate < 0.1


def test_metadata_records_data_freshness(trained: tuple[Path, list[ModelMetadata]]) -> None:
    """The metadata names the training data's fingerprint and its newest race date."""
    data = trained[1][0].training_data
    assert len(data.fingerprint) == 64
    assert str(data.newest_date) == "2026-06-30"
    assert data.train_races + data.heldout_races == data.races


def test_training_is_deterministic(small_table: object, tmp_path: Path) -> None:
    """Training the same data with the same seed writes byte-identical model files."""
    first = train_all(small_table, tmp_path / "a", seed=11, source="t")  # type: ignore[arg-type]
    second = train_all(small_table, tmp_path / "b", seed=11, source="t")  # type: ignore[arg-type]
    assert [m.model_sha256 for m in first] == [m.model_sha256 for m in second]
    assert [m.metrics for m in first] == [m.metrics for m in second]
