"""The watcher's Prometheus metrics: the whole-service signals, served on its own `/metrics`.

MAE, Brier, drift and the missing-data rate are computed by the watcher's signals from every
worker's events (`alerting.signals`), so they are exported here, once for the service, and not
by the service's workers. The signals call the `record_*` functions; `serve()` starts the
endpoint (`amf1 watch --metrics-port`, `AMF1_WATCHER_METRICS_PORT`). Names and labels follow
the monitoring guide; `docs/metrics.md` lists them.
"""

from __future__ import annotations

from threading import Thread
from typing import Final, Literal
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

REGISTRY: Final = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

MODEL_MAE: Final = Gauge(
    "amf1_model_mae",
    "Rolling mean absolute error of the stage-1 model's lap times over the feedback, seconds.",
    ["model"],
    registry=REGISTRY,
)
MODEL_BRIER: Final = Gauge(
    "amf1_model_brier_score",
    "Rolling Brier score of the stage-2 model's win probabilities over the feedback.",
    ["model"],
    registry=REGISTRY,
)
DATA_MISSING_RATE: Final = Gauge(
    "amf1_data_missing_rate",
    "Share of missing input values over all workers' recent requests (0-1).",
    ["model"],
    registry=REGISTRY,
)
DRIFT_PSI: Final = Gauge(
    "amf1_drift_psi",
    "Population stability index of a feature over all workers' recent requests.",
    ["model", "feature"],
    registry=REGISTRY,
)
_PERFORMANCE: Final = {"mae": MODEL_MAE, "brier": MODEL_BRIER}


def record_performance(model: str, metric: Literal["mae", "brier"], value: float) -> None:
    """Set the rolling `metric` ("mae" or "brier") of `model`.

    Raises:
        KeyError: `metric` is neither.
    """
    _PERFORMANCE[metric].labels(model).set(value)


def record_missing_rate(model: str, value: float) -> None:
    """Set the missing-data rate (0-1) of `model`'s requests."""
    DATA_MISSING_RATE.labels(model).set(value)


def record_drift(model: str, feature: str, psi: float) -> None:
    """Set the PSI of `feature` in `model`'s inputs."""
    DRIFT_PSI.labels(model, feature).set(psi)


def serve(port: int, host: str = "127.0.0.1") -> tuple[WSGIServer, Thread]:
    """Serve `/metrics` on `host:port` from a daemon thread; `server.shutdown()` stops it.

    Raises:
        OSError: the port is taken.
    """
    return start_http_server(port, host, registry=REGISTRY)
