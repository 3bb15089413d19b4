"""Monitoring knobs come from AMF1_* variables through the service settings."""

from __future__ import annotations

import pytest

from service.monitoring.hub import MonitoringConfig
from service.settings import Settings


def test_defaults_are_the_guides_thresholds() -> None:
    """Without variables: PSI 0.2, 5 % missing, MAE 0.40/0.50 s, Brier 0.045/0.0475, 24 h stale."""
    config = Settings().monitoring_config()
    assert config.drift.psi_threshold == 0.2
    assert config.drift.missing_rate_threshold == 0.05
    assert config.performance.thresholds("mae") == (0.40, 0.50)
    assert config.performance.thresholds("brier") == (0.045, 0.0475)
    assert config.freshness.stale_after_s == 86400.0
    assert config == MonitoringConfig()


def test_variables_and_arguments_set_the_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMF1_* variables reach the monitoring config; an explicit argument beats the variable."""
    monkeypatch.setenv("AMF1_DRIFT_PSI_THRESHOLD", "0.3")
    monkeypatch.setenv("AMF1_DRIFT_IGNORE_FEATURES", '["circuit"]')
    monkeypatch.setenv("AMF1_MAE_WARNING_S", "0.35")
    monkeypatch.setenv("AMF1_DRIFT_WINDOW_SIZE", "500")
    config = Settings(drift_window_size=2000).monitoring_config()
    assert config.drift.psi_threshold == 0.3
    assert config.drift.ignore_features == frozenset({"circuit"})
    assert config.performance.mae_warning_s == 0.35
    assert config.drift.window_size == 2000


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A significance outside (0, 1) is a settings error naming the field."""
    monkeypatch.setenv("AMF1_DRIFT_SIGNIFICANCE", "1.5")
    with pytest.raises(ValueError, match="drift_significance"):
        Settings()
