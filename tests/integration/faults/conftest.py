"""Fixtures of the fault suite: models for the real service, shared by every scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from elk import installer
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models trained on a small synthetic table (what `amf1 serve` loads)."""
    out = tmp_path_factory.mktemp("fault-models")
    table = validate_dataset(generate(seasons=3, seed=5), source="test")
    train_all(table, out, seed=5, source="test")
    return out


@pytest.fixture(scope="session")
def index_template(es: Elasticsearch) -> None:
    """The amf1-logs template is in place before the service's events create today's index."""
    installer.install(es)
