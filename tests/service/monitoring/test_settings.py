"""Monitoring knobs come from AMF1_* variables through the service settings."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from service.monitoring.drift import DriftConfig
from service.monitoring.freshness import FreshnessConfig
from service.monitoring.hub import MonitoringConfig
from service.monitoring.settings import MONITORING_VARIABLES, MonitoringSettings
from service.settings import Settings


def test_defaults_are_the_guides_thresholds() -> None:
    """Without variables: 24 h stale (drift scoring, missing data and model performance: the
    watcher's settings)."""
    config = Settings().monitoring
    assert config.freshness.stale_after_s == 86400.0
    assert config == MonitoringConfig()


def _declares_defaults(model: type[BaseModel]) -> bool:
    return any(not field.is_required() for field in model.model_fields.values())


def test_each_default_is_declared_once_in_the_hub_configs() -> None:
    """Settings hold no monitoring default of their own: every variable lands in a config field
    whose default is the config's, and the configs' fields are not repeated by the settings."""
    config_fields = {
        name
        for model in (DriftConfig, FreshnessConfig, MonitoringConfig)
        for name in model.__annotations__
    }
    assert set(MonitoringSettings.__annotations__) == {"monitoring"}
    assert not config_fields & set(Settings.model_fields)
    assert all(_declares_defaults(m) for m in (DriftConfig, FreshnessConfig))
    defaults = MonitoringConfig()
    settings = Settings()
    for path in MONITORING_VARIABLES.values():
        expected: object = defaults
        actual: object = settings
        for key in path[1:]:
            expected = getattr(expected, key)
        for key in path:
            actual = getattr(actual, key)
        assert actual == expected, path


def test_every_config_knob_has_a_variable() -> None:
    """A new config field gets its AMF1_* variable (or is knowingly left internal)."""
    mapped = {path[1:] for path in MONITORING_VARIABLES.values()}
    nested = {"drift", "freshness"}
    expected = {(name,) for name in MonitoringConfig.model_fields if name not in nested}
    for group, model in (
        ("drift", DriftConfig),
        ("freshness", FreshnessConfig),
    ):
        expected |= {(group, name) for name in model.model_fields}
    assert expected - mapped == set()


def test_variables_and_arguments_set_the_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_* variables reach the monitoring config; an explicit argument beats the variable."""
    monkeypatch.setenv("AMF1_DRIFT_EVALUATE_INTERVAL_S", "30")
    monkeypatch.setenv("AMF1_DRIFT_EVALUATE_EVERY", "500")
    monkeypatch.setenv("AMF1_MONITORING_TICK_S", "2")
    config = Settings(drift_evaluate_every=2000).monitoring
    assert config.drift.evaluate_interval_s == 30.0
    assert config.drift.evaluate_every_requests == 2000
    assert config.tick_interval_s == 2.0


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A report interval of 0 is a settings error naming the field."""
    monkeypatch.setenv("AMF1_DRIFT_EVALUATE_INTERVAL_S", "0")
    with pytest.raises(ValidationError, match="evaluate_interval_s"):
        Settings()
