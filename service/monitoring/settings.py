"""The monitoring part of the service settings: one nested `MonitoringConfig`, flat variables.

The defaults, limits and descriptions live once, in the hub's config models (`DriftConfig`,
`PerformanceConfig`, `FreshnessConfig`, `MonitoringConfig`). `service.settings.Settings` holds one
`MonitoringConfig` and maps the variables users set (`AMF1_DRIFT_EVALUATE_EVERY`,
`AMF1_MAE_WARNING_S`, ...) onto its fields through `MONITORING_VARIABLES`. Drift scoring and the
missing-data rate are the watcher's (`AMF1_DRIFT_WINDOW_SIZE`, ...: `alerting.settings`).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field

from service.monitoring.hub import MonitoringConfig

# Variable name (without the `AMF1_` prefix) -> the field it sets, under the `monitoring` field.
MONITORING_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "drift_evaluate_every": ("monitoring", "drift", "evaluate_every_requests"),
    "drift_evaluate_interval_s": ("monitoring", "drift", "evaluate_interval_s"),
    "performance_window": ("monitoring", "performance", "window"),
    "performance_interval_s": ("monitoring", "performance", "interval_s"),
    "performance_min_outcomes": ("monitoring", "performance", "min_outcomes"),
    "mae_warning_s": ("monitoring", "performance", "mae_warning_s"),
    "mae_critical_s": ("monitoring", "performance", "mae_critical_s"),
    "brier_warning": ("monitoring", "performance", "brier_warning"),
    "brier_critical": ("monitoring", "performance", "brier_critical"),
    "freshness_interval_s": ("monitoring", "freshness", "interval_s"),
    "stale_data_after_s": ("monitoring", "freshness", "stale_after_s"),
    "monitoring_tick_s": ("monitoring", "tick_interval_s"),
}


class MonitoringSettings(BaseModel):
    """Drift-counting, model-performance and freshness knobs of the service."""

    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig,
        description="The monitoring hub's configuration (set through its flat variables).",
    )
