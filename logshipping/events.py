"""The event catalogue: every `event.action` the product emits, with its level and required fields.

This module is the contract between the service, the Kibana saved searches and the watcher. Call
sites name an `Action` member, never a string, so a misspelt action cannot ship. Field names are
Elastic Common Schema names, flat and dotted (`"error.type"`), with domain fields under `amf1.*`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal

import structlog

Level = Literal["debug", "info", "warning", "error", "critical"]


class Action(StrEnum):
    """Values of `event.action`."""

    SERVICE_STARTED = "service-started"
    SERVICE_STOPPED = "service-stopped"
    MODEL_LOAD_SUCCEEDED = "model-load-succeeded"
    MODEL_LOAD_FAILED = "model-load-failed"
    MODEL_STATUS = "model-status"
    PREDICTION_SUCCEEDED = "prediction-succeeded"
    PREDICTION_FAILED = "prediction-failed"
    REQUEST_REJECTED = "request-rejected"
    HTTP_ACCESS = "http-access"
    FEEDBACK_RECEIVED = "feedback-received"
    FEEDBACK_UNMATCHED = "feedback-unmatched"
    FEEDBACK_REFUSED = "feedback-refused"
    DRIFT_COUNTS = "drift-counts"
    DRIFT_DETECTED = "drift-detected"
    MISSING_DATA_RATE = "missing-data-rate"
    MODEL_PERFORMANCE = "model-performance"
    DATA_FRESHNESS = "data-freshness"
    SHIPPER_DROPPED = "shipper-dropped"
    ALERT_FIRED = "alert-fired"
    ALERT_RESOLVED = "alert-resolved"
    ALERT_DELIVERY_FAILED = "alert-delivery-failed"
    WATCHER_DEGRADED = "watcher-degraded"
    WATCHER_RECOVERED = "watcher-recovered"
    LOG = "log"


class CatalogueError(ValueError):
    """A catalogue event lacks a required field or names an unknown action (strict mode only)."""


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What an action means, its default level and the fields every such event carries.

    `one_of`: fields of which every such event carries at least one (e.g. the two outcomes of
    feedback).
    """

    level: Level
    required: frozenset[str]
    description: str
    one_of: frozenset[str] = frozenset()

    def missing(self, present: Collection[str]) -> list[str]:
        """The required fields absent from `present` (`one of a|b` when none of `one_of`)."""
        missing = sorted(self.required.difference(present))
        if self.one_of and self.one_of.isdisjoint(present):
            missing.append("one of " + "|".join(sorted(self.one_of)))
        return missing


_MODEL = frozenset({"amf1.model.name", "amf1.model.version"})
_HTTP = frozenset(
    {"http.request.method", "url.path", "http.response.status_code", "event.duration"}
)
_ERROR = frozenset({"error.type", "error.message"})
_ALERT = frozenset({"amf1.alert.rule", "amf1.alert.group", "amf1.alert.severity"})

CATALOGUE: Final[Mapping[Action, EventSpec]] = {
    Action.SERVICE_STARTED: EventSpec("info", frozenset(), "The service process started."),
    Action.SERVICE_STOPPED: EventSpec("info", frozenset(), "The service process stopped."),
    Action.MODEL_LOAD_SUCCEEDED: EventSpec(
        "info", _MODEL | {"amf1.model.sha256"}, "A model file and its metadata loaded."
    ),
    Action.MODEL_LOAD_FAILED: EventSpec(
        "error",
        _ERROR | {"amf1.model.name"},
        "A model could not be loaded (missing, corrupt, checksum or schema mismatch).",
    ),
    Action.MODEL_STATUS: EventSpec(
        "info",
        frozenset({"amf1.model.name", "amf1.model.loaded"}),
        "Periodic report of whether a model is loaded (warning level when it is not).",
    ),
    Action.PREDICTION_SUCCEEDED: EventSpec(
        "info",
        _HTTP | _MODEL | {"amf1.prediction.id"},
        "The one access event of a prediction request that answered 2xx.",
    ),
    Action.PREDICTION_FAILED: EventSpec(
        "error",
        _HTTP | _ERROR | {"amf1.model.name"},
        "The one access event of a prediction request that answered 5xx.",
    ),
    Action.REQUEST_REJECTED: EventSpec(
        "warning",
        _HTTP | {"error.type", "error.message"},
        "A client error (4xx): never counted as a prediction error.",
    ),
    Action.HTTP_ACCESS: EventSpec(
        "info", _HTTP, "The one access event of a non-prediction request that answered 2xx/3xx."
    ),
    Action.FEEDBACK_RECEIVED: EventSpec(
        "info",
        _HTTP | {"amf1.prediction.id"},
        "The actual outcome of an earlier prediction was accepted; the watcher joins it with "
        "the prediction.",
        one_of=frozenset({"amf1.feedback.lap_time_s", "amf1.feedback.winner"}),
    ),
    Action.FEEDBACK_UNMATCHED: EventSpec(
        "info",
        frozenset({"amf1.feedback.unmatched_count"}),
        "Feedback of one interval the watcher could not join with a prediction, by reason "
        "(`amf1.feedback.unmatched.*`); warning level when any.",
    ),
    Action.FEEDBACK_REFUSED: EventSpec(
        "warning",
        frozenset({"amf1.feedback.refused_reason"}),
        "A `POST /feedback` was refused before it could move the MAE or Brier: no or a wrong "
        "bearer token (`missing_token`, `wrong_token`), or no AMF1_FEEDBACK_TOKEN configured "
        "(`disabled`).",
    ),
    Action.DRIFT_COUNTS: EventSpec(
        "info",
        _MODEL | {"amf1.drift.rows", "amf1.drift.counts"},
        "A worker's per-feature bin and missing counts of the rows since its previous report, "
        "with the reference's shares (unindexed); the watcher adds them up over all workers.",
    ),
    Action.DRIFT_DETECTED: EventSpec(
        "warning",
        _MODEL | {"amf1.drift.feature", "amf1.drift.score", "amf1.drift.threshold"},
        "A feature's recent inputs, over all workers, drifted from the training reference "
        "(logged by the watcher).",
    ),
    Action.MISSING_DATA_RATE: EventSpec(
        "info",
        _MODEL | {"amf1.data.missing_rate"},
        "Share of missing input values in the recent window over all workers (logged by the "
        "watcher; warning level above 5 %).",
    ),
    Action.MODEL_PERFORMANCE: EventSpec(
        "info",
        _MODEL | {"amf1.performance.metric", "amf1.performance.value"},
        "Rolling MAE (stage 1) or Brier score (stage 2) of the whole service, computed by the "
        "watcher from predictions joined with feedback; level by threshold.",
    ),
    Action.DATA_FRESHNESS: EventSpec(
        "info",
        _MODEL | {"amf1.data.age_s"},
        "Age of the data the loaded model was trained on, in seconds.",
    ),
    Action.SHIPPER_DROPPED: EventSpec(
        "warning",
        frozenset({"amf1.shipper.dropped_count"}),
        "The log shipper's buffer was full and dropped events (lowest levels first).",
    ),
    Action.ALERT_FIRED: EventSpec(
        "warning",
        _ALERT | {"amf1.alert.kind"},
        "The watcher opened, escalated or repeated an alert (a Slack message is queued).",
    ),
    Action.ALERT_RESOLVED: EventSpec(
        "info", _ALERT, "The watcher resolved an alert after enough clean evaluations."
    ),
    Action.ALERT_DELIVERY_FAILED: EventSpec(
        "warning",
        _ALERT | {"error.message"},
        "Slack refused or could not be reached; the message stays pending and is retried.",
    ),
    Action.WATCHER_DEGRADED: EventSpec(
        "error",
        frozenset({"error.message"}),
        "The watcher cannot reach Elasticsearch (its data and state); rules are kept.",
    ),
    Action.WATCHER_RECOVERED: EventSpec(
        "info",
        frozenset(),
        "Elasticsearch answers the watcher again; missed windows are evaluated.",
    ),
    Action.LOG: EventSpec(
        "info", frozenset(), "A line from a library's standard logging (uvicorn, lightgbm...)."
    ),
}

# Used by emit() before `logshipping.configure` ran (plain structlog defaults).
_logger: Any = structlog.get_logger("amf1")
# Installed by `logshipping.configure`: runs the configured structlog processor chain directly,
# without the bound logger's call machinery (keyword packing, context copy: ~3.5 us per event).
_fast_path: Callable[[str, str, dict[str, Any]], None] | None = None


def install_fast_path(fast_path: Callable[[str, str, dict[str, Any]], None] | None) -> None:
    """Called by `logshipping.configure` / `shutdown` only."""
    global _fast_path  # noqa: PLW0603 - set at (re-)configuration, read by emit()
    _fast_path = fast_path


def emit(
    action: Action,
    message: str,
    fields: Mapping[str, Any] | None = None,
    *,
    level: Level | None = None,
) -> None:
    """Log one catalogue event.

    Args:
        action: what happened; its catalogue entry gives the default level.
        message: a human sentence (ECS `message`).
        fields: ECS/`amf1.*` fields, flat and dotted.
        level: overrides the catalogue level (e.g. a model-performance event over its threshold).

    Required fields missing (also counting fields bound with structlog contextvars) raise
    `CatalogueError` when `AMF1_LOG_STRICT` is on (tests; also without `configure`) and are
    listed in `amf1.log.missing_fields` otherwise: logging never raises into a request in
    production.
    """
    method = level or CATALOGUE[action].level
    event_dict = dict(fields) if fields else {}
    event_dict["event.action"] = action.value
    fast_path = _fast_path
    if fast_path is not None:
        fast_path(method, message, event_dict)
        return
    if os.environ.get("AMF1_LOG_STRICT", "").lower() in ("1", "true", "yes"):
        _check_unconfigured(action, event_dict)
    getattr(_logger, method)(message, **event_dict)


def _check_unconfigured(action: Action, event_dict: Mapping[str, Any]) -> None:
    """Strict check for processes (tests) that log without `logshipping.configure`."""
    present = event_dict.keys() | structlog.contextvars.get_contextvars().keys()
    missing = CATALOGUE[action].missing(present)
    if missing:
        raise CatalogueError(f"{action} event lacks required fields {missing}")
