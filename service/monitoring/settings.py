"""The monitoring part of the service settings: one nested `MonitoringConfig`, flat variables.

The defaults, limits and descriptions live once, in the hub's config models (`DriftConfig`,
`FreshnessConfig`, `MonitoringConfig`). `service.settings.Settings` holds one `MonitoringConfig`
and maps the variables users set (`AMF1_DRIFT_EVALUATE_EVERY`, `AMF1_STALE_DATA_AFTER_S`, ...)
onto its fields through `MONITORING_VARIABLES`. Drift scoring, the missing-data rate and model
performance are the watcher's (`AMF1_DRIFT_WINDOW_SIZE`, `AMF1_PERFORMANCE_WINDOW`, ...:
`alerting.settings`; their alert levels are in `alerting/rules.yaml`).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field

from service.monitoring.hub import MonitoringConfig

# Variable name (without the `AMF1_` prefix) -> the field it sets, under the `monitoring` field.
MONITORING_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "drift_evaluate_every": ("monitoring", "drift", "evaluate_every_requests"),
    "drift_evaluate_interval_s": ("monitoring", "drift", "evaluate_interval_s"),
    "freshness_interval_s": ("monitoring", "freshness", "interval_s"),
    "stale_data_after_s": ("monitoring", "freshness", "stale_after_s"),
    "monitoring_tick_s": ("monitoring", "tick_interval_s"),
}


class MonitoringSettings(BaseModel):
    """Drift-counting and freshness knobs of the service."""

    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig,
        description="The monitoring hub's configuration (set through its flat variables).",
    )
