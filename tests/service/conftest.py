"""Fixtures of the service tests: one small training run per session, apps over copies of it."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.metadata import ModelMetadata
from service.registry import ModelRegistry
from service.settings import Settings
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all

ADMIN_TOKEN = "test-admin-token-7f3a9c"
FEEDBACK_TOKEN = "test-feedback-token-2b8e51"
FEEDBACK_AUTH = {"Authorization": f"Bearer {FEEDBACK_TOKEN}"}
LAST_RACE = dt.date(2026, 6, 30)
SEED = 11


@pytest.fixture(scope="session")
def small_table() -> Any:
    """Three synthetic seasons: enough to learn, quick to train."""
    return validate_dataset(generate(seasons=3, seed=SEED, last_race=LAST_RACE), source="test")


@pytest.fixture(scope="session")
def trained(
    small_table: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[ModelMetadata]]:
    """Both models trained once into a session directory (treat it as read-only)."""
    out = tmp_path_factory.mktemp("models")
    return out, train_all(small_table, out, seed=SEED, source="test")


@pytest.fixture
def models_dir(trained: tuple[Path, list[ModelMetadata]], tmp_path: Path) -> Path:
    """A private copy of the trained models that a test may break."""
    copy = tmp_path / "models"
    # Not the worker state: apps run over the session directory leave theirs there.
    shutil.copytree(trained[0], copy, symlinks=True, ignore=shutil.ignore_patterns(".workers"))
    return copy


def make_client(models_dir: Path, **settings: Any) -> TestClient:
    """A client of a fresh app over `models_dir` (start-up runs inside `with client:`)."""
    defaults = {"models_dir": models_dir, "admin_token": ADMIN_TOKEN}
    config = Settings(**(defaults | {"feedback_token": FEEDBACK_TOKEN} | settings))
    return TestClient(create_app(config), raise_server_exceptions=False)


@pytest.fixture
def client(models_dir: Path) -> Iterator[TestClient]:
    """A started app serving healthy models."""
    with make_client(models_dir) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def loaded_registry(trained: tuple[Path, list[ModelMetadata]]) -> ModelRegistry:
    """A registry loaded from the session models (read-only use)."""
    registry = ModelRegistry(trained[0])
    registry.load_all()
    return registry


def qualifying_body(**overrides: Any) -> dict[str, Any]:
    """A valid qualifying request."""
    body = {
        "driver": "varga",
        "circuit": "monza",
        "air_temp_c": 24.0,
        "track_temp_c": 38.5,
        "humidity_pct": 55.0,
        "rain_probability": 0.05,
        "practice_best_lap_s": 80.4,
    }
    return body | overrides


def race_body(
    drivers: tuple[str, ...] = ("varga", "okafor", "tanaka", "novak", "haddad"),
) -> dict[str, Any]:
    """A valid race-winner request."""
    entries = [
        {"driver": d, "grid_position": i + 1, "qualifying_lap_s": 79.8 + 0.15 * i}
        for i, d in enumerate(drivers)
    ]
    return {"circuit": "monza", "rain_probability": 0.1, "entries": entries}
