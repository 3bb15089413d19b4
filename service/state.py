"""What the routes share, held on `app.state.services` and reached through `services(request)`.

Routes call `services(request)` directly rather than through `Depends`: the hot path saves the
dependency resolution, and there is only one object to find.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request

from service.feedback import PredictionStore
from service.monitoring.hub import MonitoringHub
from service.registry import ModelRegistry
from service.settings import Settings
from service.workers.sync import WorkerSync


@dataclass(frozen=True, slots=True)
class Services:
    """The app's long-lived collaborators."""

    settings: Settings
    registry: ModelRegistry
    predictions: PredictionStore
    monitoring: MonitoringHub
    workers: WorkerSync


def services(request: Request) -> Services:
    """The `Services` of the app serving `request`."""
    found: Services = request.app.state.services
    return found


def services_of(app: FastAPI) -> Services:
    """The `Services` stored on `app` by `create_app`."""
    found: Services = app.state.services
    return found
