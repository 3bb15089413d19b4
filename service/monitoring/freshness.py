"""Data freshness: how old the data behind a loaded model is, reported as `data-freshness`.

The stale-data alert watches `amf1.data.age_s`; the event is at warning level once the age passes
`stale_after_s` so it also stands out in Kibana without the watcher.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from logshipping.events import Action, emit


class FreshnessConfig(BaseModel):
    """Cadence and staleness threshold of the freshness report (the one place of their
    defaults; the service settings read them from `AMF1_FRESHNESS_INTERVAL_S` and
    `AMF1_STALE_DATA_AFTER_S`)."""

    model_config = ConfigDict(frozen=True)

    interval_s: float = Field(
        300.0, gt=0, description="Interval of the data-freshness events, seconds."
    )
    stale_after_s: float = Field(
        86400.0, gt=0, description="Training data older than this is reported at warning level."
    )


def report_freshness(
    model_name: str,
    model_version: str,
    data_time: datetime,
    config: FreshnessConfig,
    now: datetime | None = None,
) -> float:
    """Emit one `data-freshness` event; returns the age in seconds."""
    current = now or datetime.now(UTC)
    age_s = max(0.0, (current - data_time).total_seconds())
    stale = age_s > config.stale_after_s
    emit(
        Action.DATA_FRESHNESS,
        f"Training data of {model_name} {model_version} is {age_s / 3600:.1f} h old"
        + (f" (stale: older than {config.stale_after_s / 3600:.0f} h)" if stale else ""),
        {
            "amf1.model.name": model_name,
            "amf1.model.version": model_version,
            "amf1.data.age_s": round(age_s, 3),
            "amf1.data.timestamp": data_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        },
        level="warning" if stale else "info",
    )
    return age_s
