"""Monitoring knobs come from AMF1_* variables through the service settings."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from service.monitoring.drift import DriftConfig
from service.monitoring.freshness import FreshnessConfig
from service.monitoring.hub import MonitoringConfig
from service.monitoring.performance import PerformanceConfig
from service.monitoring.settings import MONITORING_VARIABLES, MonitoringSettings
from service.settings import Settings


def test_defaults_are_the_guides_thresholds() -> None:
    """Without variables: PSI 0.2, 5 % missing, MAE 0.40/0.50 s, Brier 0.045/0.0475, 24 h stale."""
    config = Settings().monitoring
    assert config.drift.psi_threshold == 0.2
    assert config.drift.missing_rate_threshold == 0.05
    assert config.performance.thresholds("mae") == (0.40, 0.50)
    assert config.performance.thresholds("brier") == (0.045, 0.0475)
    assert config.freshness.stale_after_s == 86400.0
    assert config == MonitoringConfig()


def _declares_defaults(model: type[BaseModel]) -> bool:
    return any(not field.is_required() for field in model.model_fields.values())


def test_each_default_is_declared_once_in_the_hub_configs() -> None:
    """Settings hold no monitoring default of their own: every variable lands in a config field
    whose default is the config's, and the configs' fields are not repeated by the settings."""
    config_fields = {
        name
        for model in (DriftConfig, PerformanceConfig, FreshnessConfig, MonitoringConfig)
        for name in model.__annotations__
    }
    assert set(MonitoringSettings.__annotations__) == {"monitoring"}
    assert not config_fields & set(Settings.model_fields)
    assert all(_declares_defaults(m) for m in (DriftConfig, PerformanceConfig, FreshnessConfig))
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


def test_every_config_knob_but_the_psi_floor_has_a_variable() -> None:
    """A new config field gets its AMF1_* variable (or is knowingly left internal)."""
    mapped = {path[1:] for path in MONITORING_VARIABLES.values()}
    nested = {"drift", "performance", "freshness"}
    expected = {(name,) for name in MonitoringConfig.model_fields if name not in nested}
    for group, model in (
        ("drift", DriftConfig),
        ("performance", PerformanceConfig),
        ("freshness", FreshnessConfig),
    ):
        expected |= {(group, name) for name in model.model_fields}
    assert expected - mapped == {("drift", "psi_epsilon")}


def test_variables_and_arguments_set_the_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_* variables reach the monitoring config; an explicit argument beats the variable."""
    monkeypatch.setenv("AMF1_DRIFT_PSI_THRESHOLD", "0.3")
    monkeypatch.setenv("AMF1_DRIFT_IGNORE_FEATURES", '["circuit"]')
    monkeypatch.setenv("AMF1_MAE_WARNING_S", "0.35")
    monkeypatch.setenv("AMF1_DRIFT_WINDOW_SIZE", "500")
    monkeypatch.setenv("AMF1_MONITORING_TICK_S", "2")
    config = Settings(drift_window_size=2000).monitoring
    assert config.drift.psi_threshold == 0.3
    assert config.drift.ignore_features == frozenset({"circuit"})
    assert config.performance.mae_warning_s == 0.35
    assert config.drift.window_size == 2000
    assert config.tick_interval_s == 2.0


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A significance outside (0, 1) is a settings error naming the field."""
    monkeypatch.setenv("AMF1_DRIFT_SIGNIFICANCE", "1.5")
    with pytest.raises(ValidationError, match="significance"):
        Settings()
