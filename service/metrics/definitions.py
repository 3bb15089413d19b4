"""The service's metrics, under the monitoring guide's names and labels.

Defined at import: prometheus-client picks its value store (in memory, or the multiprocess
files) when it is imported, so `PROMETHEUS_MULTIPROC_DIR` must be set before this module loads,
which `amf1 serve` does.
"""

from __future__ import annotations

from bisect import bisect_left
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

_STATUS_INDEX: Final = {status: index for index, status in enumerate(STATUSES)}
_BOUNDS: Final = (*LATENCY_BUCKETS, float("inf"))


class PredictionTally:
    """This process's prediction counts since the last flush, kept in plain lists.

    prometheus-client's multiprocess values cost ~10-20 us per prediction (a lock and an mmap
    write per value); a list increment costs well under one. `flush()` moves the tally into the
    metrics; the service calls it every second and before answering a scrape, so a scrape sees
    other workers' predictions at most a second late. Only the event loop's thread touches it.
    """

    def __init__(self) -> None:
        # Per model: [count per status..., latency sum (s), count per latency bucket...]
        self._rows = {model: self._empty() for model in MODELS}

    @staticmethod
    def _empty() -> list[float]:
        return [0.0] * (len(STATUSES) + 1 + len(_BOUNDS))

    def observe(self, model: str, http_status: int, duration_ns: int) -> None:
        """Count one answered prediction request and, unless rejected, its duration."""
        row = self._rows[model]
        if http_status >= 500:
            row[1] += 1
        elif http_status >= 400:
            row[2] += 1
            return
        else:
            row[0] += 1
        seconds = duration_ns * 1e-9
        row[3] += seconds
        row[4 + bisect_left(_BOUNDS, seconds)] += 1

    def flush(self) -> None:
        """Add the tally to the Prometheus metrics and start a new one."""
        rows, self._rows = self._rows, {model: self._empty() for model in MODELS}
        for model, row in rows.items():
            for status, index in _STATUS_INDEX.items():
                if row[index]:
                    PREDICTIONS.labels(model, status).inc(row[index])
            if not any(row[4:]):
                continue
            histogram = PREDICTION_LATENCY.labels(model)
            # Histogram.observe takes one value at a time; a batch goes to its per-bucket values
            # (non-cumulative, +Inf last, as observe() fills them) and its sum directly.
            histogram._sum.inc(row[3])
            for bucket, count in zip(histogram._buckets, row[4:], strict=True):
                if count:
                    bucket.inc(count)


TALLY: Final = PredictionTally()
observe_prediction: Final = TALLY.observe
