"""The service's metrics, under the monitoring guide's names and labels.

Defined at import: prometheus-client picks its value store (in memory, or the multiprocess
files) when it is imported, so `PROMETHEUS_MULTIPROC_DIR` must be set before this module loads,
which `amf1 serve` does.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from service.features import STAGE1_NAME, STAGE2_NAME

MODELS: Final = (STAGE1_NAME, STAGE2_NAME)
# `status`: success (2xx), error (5xx: the service's fault, the error-rate alert's numerator) or
# rejected (4xx: the client's fault, in neither side of the error rate).
STATUSES: Final = ("success", "error", "rejected")
# Seconds. Dense around the 0.2 s high-latency threshold so its p95 interpolates closely.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0)

PREDICTIONS = Counter(
    "amf1_predictions", "Prediction requests answered, by model and outcome.", ["model", "status"]
)
PREDICTION_LATENCY = Histogram(
    "amf1_prediction_latency_seconds",
    "Duration of prediction requests (success and error), from the first byte to the answer.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
# A model counts as loaded only when every live worker has it (`livemin`): a request may reach
# any of them.
MODEL_LOADED = Gauge(
    "amf1_model_loaded",
    "1 when every live worker serves the model, 0 when one does not.",
    ["model"],
    multiprocess_mode="livemin",
)
LOG_EVENTS_SHIPPED = Counter(
    "amf1_log_events_shipped", "Log events written to the log pipeline's receiver."
)
LOG_EVENTS_BUFFERED = Gauge(
    "amf1_log_events_buffered",
    "Log events waiting in the shippers' disk buffers.",
    multiprocess_mode="livesum",
)
LOG_EVENTS_DROPPED = Counter(
    "amf1_log_events_dropped", "Log events lost before the log pipeline, by reason.", ["reason"]
)
SPANS_DROPPED = Counter(
    "amf1_spans_dropped", "Spans that never reached the trace backend, by reason.", ["reason"]
)

# One child per label set, resolved once: `.labels()` costs more than the update itself.
_COUNTS = {(m, s): PREDICTIONS.labels(m, s) for m in MODELS for s in STATUSES}
_LATENCY = {m: PREDICTION_LATENCY.labels(m) for m in MODELS}


def status_of(http_status: int) -> str:
    """The `status` label of an HTTP answer to a prediction request."""
    if http_status >= 500:
        return "error"
    return "rejected" if http_status >= 400 else "success"


def observe_prediction(model: str, http_status: int, duration_ns: int) -> None:
    """Count one answered prediction request and, unless rejected, its duration."""
    status = status_of(http_status)
    _COUNTS[model, status].inc()
    if status != "rejected":
        _LATENCY[model].observe(duration_ns * 1e-9)
