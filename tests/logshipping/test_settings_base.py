"""The settings base: secrets found by their type (file, placeholder, redaction), origins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

import logshipping
from logshipping import Action, Settings, emit
from logshipping.redaction import REDACTED
from logshipping.settings_base import AMF1Settings, variables
from logshipping.settings_groups import ServiceAdmin
from tests.logshipping.conftest import Captured

ROUTING_KEY = "pd-routing-0123456789abcdef"


class _NewPackageSettings(AMF1Settings, ServiceAdmin):
    """A package that adds a secret whose name the key rule does not call secret."""

    pagerduty_routing_key: SecretStr | None = None
    pagerduty_url: str = "https://events.pagerduty.com"


def test_a_new_secret_field_is_redacted_from_every_event(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """A SecretStr field added in a subclass is redacted, built before or after configure."""
    _NewPackageSettings(pagerduty_routing_key=ROUTING_KEY)
    logshipping.configure(settings_for(), stream=stdout)
    _NewPackageSettings(admin_token="admin-token-built-later")
    emit(Action.SERVICE_STARTED, f"routing with {ROUTING_KEY}", {"amf1.note": ROUTING_KEY})
    emit(Action.SERVICE_STARTED, "reload with admin-token-built-later")
    first, second = stdout.events()
    assert first["message"] == f"routing with {REDACTED}"
    assert first["amf1.note"] == REDACTED
    assert second["message"] == f"reload with {REDACTED}"


def test_any_secret_field_is_read_from_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """AMF1_<NAME>_FILE gives a SecretStr field its stripped content; the variable itself wins."""
    secret = tmp_path / "routing-key"
    secret.write_text(f"{ROUTING_KEY}\n", encoding="utf-8")
    monkeypatch.setenv("AMF1_PAGERDUTY_ROUTING_KEY_FILE", str(secret))
    monkeypatch.setenv("AMF1_PAGERDUTY_URL_FILE", str(secret))
    settings = _NewPackageSettings()
    assert settings.pagerduty_routing_key is not None
    assert settings.pagerduty_routing_key.get_secret_value() == ROUTING_KEY
    assert settings.pagerduty_url == "https://events.pagerduty.com"  # not a secret: no file
    (variable,) = [v for v in variables(_NewPackageSettings) if v.name.endswith("ROUTING_KEY")]
    assert settings.origin(variable) == "file"
    monkeypatch.setenv("AMF1_PAGERDUTY_ROUTING_KEY", "from-the-environment")
    assert settings.origin(variable) == "environment"
    from_env = _NewPackageSettings().pagerduty_routing_key
    assert from_env is not None
    assert from_env.get_secret_value() == "from-the-environment"


@pytest.mark.parametrize("value", ["changeme", " Password ", "xxx"])
def test_placeholder_secrets_are_refused_outside_development(value: str) -> None:
    """Any SecretStr field, new ones too; the error names the variable."""
    assert _NewPackageSettings(pagerduty_routing_key=value)
    with pytest.raises(ValidationError, match="AMF1_PAGERDUTY_ROUTING_KEY is a placeholder"):
        _NewPackageSettings(pagerduty_routing_key=value, environment="production")


def test_origin_tells_argument_environment_and_default_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An explicit argument beats the variable and says so."""
    monkeypatch.setenv("AMF1_PAGERDUTY_URL", "https://env.example")
    monkeypatch.delenv("AMF1_MODELS_DIR", raising=False)
    settings = _NewPackageSettings(admin_token="t0ken-argument", pagerduty_url="https://arg")
    origins = {v.name: settings.origin(v) for v in variables(_NewPackageSettings)}
    assert settings.pagerduty_url == "https://arg"
    assert origins["AMF1_PAGERDUTY_URL"] == "argument"
    assert origins["AMF1_ADMIN_TOKEN"] == "argument"
    assert origins["AMF1_MODELS_DIR"] == "default"


def test_environment_is_one_literal() -> None:
    """An unknown environment name is refused, in every package."""
    with pytest.raises(ValidationError, match="environment"):
        Settings(environment="prod")


def test_secret_named_variables_of_packages_not_loaded_are_redacted(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    settings_for: Callable[..., Settings],
    stdout: Captured,
) -> None:
    """A process redacts an AMF1_* secret it was given even when none of its models reads it."""
    secret_file = tmp_path / "kibana-password"
    secret_file.write_text("kibana-file-secret-42\n", encoding="utf-8")
    monkeypatch.setenv("AMF1_SLACK_WEBHOOK_URL", "https://hooks.example/T/B/env-secret-42")
    monkeypatch.setenv("AMF1_KIBANA_PASSWORD_FILE", str(secret_file))
    monkeypatch.setenv("AMF1_LOG_DATASET", "amf1.service")  # not secret-looking: kept
    logshipping.configure(settings_for(), stream=stdout)
    emit(Action.SERVICE_STARTED, "hook https://hooks.example/T/B/env-secret-42 amf1.service")
    emit(Action.SERVICE_STARTED, "password kibana-file-secret-42")
    first, second = stdout.events()
    assert first["message"] == f"hook {REDACTED} amf1.service"
    assert second["message"] == f"password {REDACTED}"
