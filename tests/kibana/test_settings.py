"""Kibana's settings: secrets from files, and placeholder secrets refused outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kibana.settings import Settings


def test_api_key_read_from_file_and_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`AMF1_KIBANA_API_KEY_FILE` fills the key, and the key never shows in a repr."""
    secret = tmp_path / "key"
    secret.write_text("c2VjcmV0a2V5\n", encoding="utf-8")
    monkeypatch.setenv("AMF1_KIBANA_API_KEY_FILE", str(secret))
    settings = Settings()
    assert settings.kibana_api_key is not None
    assert settings.kibana_api_key.get_secret_value() == "c2VjcmV0a2V5"
    assert "c2VjcmV0a2V5" not in repr(settings)


def test_placeholder_password_refused_outside_development() -> None:
    """`changeme` as the Kibana password is fine on a laptop and refused in production."""
    assert Settings(kibana_password="changeme")
    with pytest.raises(ValidationError, match="AMF1_KIBANA_PASSWORD is a placeholder"):
        Settings(kibana_password="changeme", environment="production")
