"""Adapters between the service's model registry and the monitoring hub."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import structlog

from service.monitoring.hub import MonitoringHub
from service.registry import LoadedModel, ModelStatus

_log = structlog.get_logger("amf1.monitoring")


def data_time(model: LoadedModel) -> dt.datetime:
    """When the model's newest training data was recorded (its newest race day, UTC midnight)."""
    newest = model.metadata.training_data.newest_date
    return dt.datetime.combine(newest, dt.time(), tzinfo=dt.UTC)


def sync_models(hub: MonitoringHub, statuses: Mapping[str, ModelStatus]) -> None:
    """Monitor exactly the loaded models: register new or reloaded ones, drop unloaded ones.

    Cheap when nothing changed (one comparison per model), so the background task calls it
    before every tick and hot reloads are picked up without touching the reload route.
    """
    for name, status in statuses.items():
        model = status.model
        if model is None:
            hub.unregister_model(name)
            continue
        current = hub.get(name)
        if current is not None and current.identity == model.metadata.model_sha256:
            continue
        try:
            _register(hub, model)
        except Exception:  # noqa: BLE001 - monitoring must not stop the service from starting
            _log.exception("monitoring registration failed", **{"amf1.model.name": name})


def _register(hub: MonitoringHub, model: LoadedModel) -> None:
    meta = model.metadata
    hub.register_model(
        model.name,
        meta.version,
        meta.reference,
        data_time(model),
        columns=[feature.name for feature in meta.features],
        categories={f.name: f.categories for f in meta.features if f.categories},
        identity=meta.model_sha256,
    )
