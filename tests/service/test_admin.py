"""The reload endpoint needs the admin token; placeholder tokens are refused outside dev."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.settings import Settings
from tests.service.conftest import ADMIN_TOKEN, make_client


def test_reload_without_token_is_401(client: TestClient) -> None:
    """No Authorization header: 401 that says which header to send."""
    response = client.post("/admin/models/reload")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["error"]["message"]


def test_reload_with_wrong_token_is_401(client: TestClient) -> None:
    """A wrong token is refused."""
    response = client.post("/admin/models/reload", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_reload_with_token_reloads(client: TestClient) -> None:
    """The right token reloads both models and returns their status."""
    response = client.post(
        "/admin/models/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 200
    assert [m["loaded"] for m in response.json()["models"]] == [True, True]


def test_reload_is_disabled_without_configured_token(models_dir: Path) -> None:
    """Without AMF1_ADMIN_TOKEN the endpoint is disabled (403), not open."""
    with make_client(models_dir, admin_token=None) as client:
        response = client.post("/admin/models/reload", headers={"Authorization": "Bearer x"})
    assert response.status_code == 403


@pytest.mark.parametrize("token", ["", "changeme", "secret"])
def test_placeholder_token_refused_in_production(token: str) -> None:
    """Settings refuse an empty or placeholder admin token outside development."""
    with pytest.raises(ValidationError, match="AMF1_ADMIN_TOKEN"):
        Settings(environment="production", admin_token=token)


def test_placeholder_token_allowed_in_development() -> None:
    """Development keeps working with a throwaway token."""
    assert Settings(environment="development", admin_token="changeme").admin_token is not None


def test_token_never_appears_in_settings_repr() -> None:
    """The admin token is a secret: not in repr or str."""
    settings = Settings(admin_token=ADMIN_TOKEN)
    assert ADMIN_TOKEN not in repr(settings)
    assert ADMIN_TOKEN not in str(settings)
