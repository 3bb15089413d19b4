"""Service settings come from AMF1_* variables; explicit arguments win."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_MODELS_DIR and AMF1_MAX_BODY_BYTES configure the service."""
    monkeypatch.setenv("AMF1_MODELS_DIR", "/srv/models")
    monkeypatch.setenv("AMF1_MAX_BODY_BYTES", "4096")
    settings = Settings()
    assert settings.models_dir == Path("/srv/models")
    assert settings.max_body_bytes == 4096


def test_explicit_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An argument given in code overrides the variable."""
    monkeypatch.setenv("AMF1_PORT", "9999")
    assert Settings(port=8123).port == 8123
