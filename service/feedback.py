"""Remembering this process's predictions by id: the fast path of feedback.

A bounded, expiring in-memory map: the oldest records go first when it is full, and a record
older than the time-to-live is forgotten. Feedback for a prediction this process holds is
checked against it and answered with the prediction's own error; any other feedback is matched
by the watcher, which sees the predictions of every worker and replica (`alerting.signals`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from service.errors import FeedbackAlreadyRecordedError, FeedbackMismatchError

# Why an outcome does not fit its prediction (`FeedbackMismatchError.reason`); the watcher counts
# unmatched feedback under the same names.
KIND_MISMATCH = "kind_mismatch"
WINNER_NOT_IN_FIELD = "winner_not_in_field"


@dataclass(slots=True)
class Outcome:
    """What actually happened: a lap time (stage 1) or the winner (stage 2)."""

    lap_time_s: float | None = None
    winner: str | None = None


@dataclass(slots=True)
class PredictionRecord:
    """One issued prediction.

    Attributes:
        prediction_id: the id returned to the client.
        model_name, model_version: the model that answered.
        lap_time_s: the predicted lap (stage 1), else None.
        probabilities: driver -> win probability (stage 2), else None.
        created_s: monotonic clock at creation, seconds.
        outcome: the feedback, once received.
    """

    prediction_id: str
    model_name: str
    model_version: str
    lap_time_s: float | None = None
    probabilities: Mapping[str, float] | None = None
    created_s: float = field(default_factory=time.monotonic)
    outcome: Outcome | None = None

    def absolute_error_s(self) -> float | None:
        """|predicted - actual| lap time, seconds, once both exist."""
        if self.lap_time_s is None or self.outcome is None or self.outcome.lap_time_s is None:
            return None
        return abs(self.lap_time_s - self.outcome.lap_time_s)

    def brier(self) -> float | None:
        """Mean squared error of the field's probabilities against the winner, once known."""
        if self.probabilities is None or self.outcome is None or self.outcome.winner is None:
            return None
        winner = self.outcome.winner
        errors = [(p - (driver == winner)) ** 2 for driver, p in self.probabilities.items()]
        return sum(errors) / len(errors)


class PredictionStore:
    """Predictions by id, at most `max_items`, each accepting feedback for `ttl_s` seconds."""

    def __init__(
        self, max_items: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_items = max_items
        self.ttl_s = ttl_s
        self._clock = clock
        self._records: OrderedDict[str, PredictionRecord] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: PredictionRecord) -> None:
        """Remember `record`, dropping expired and, if still full, the oldest records."""
        record.created_s = self._clock()
        with self._lock:
            self._records[record.prediction_id] = record
            self._evict(record.created_s)

    def get(self, prediction_id: str) -> PredictionRecord | None:
        """The record, or None if unknown or expired."""
        record = self._records.get(prediction_id)
        if record is None or self._clock() - record.created_s > self.ttl_s:
            return None
        return record

    def record_outcome(self, prediction_id: str, outcome: Outcome) -> PredictionRecord | None:
        """Attach the actual outcome to a prediction this process holds and return its record.

        Returns:
            The record, or None when this process does not hold the prediction (another worker
            or replica made it, or it expired or was evicted here): the watcher matches it.

        Raises:
            FeedbackAlreadyRecordedError: the prediction already has an outcome.
            FeedbackMismatchError: a winner for a lap-time prediction, a lap time for a race, or a
                winner who was not in the predicted field.
        """
        with self._lock:
            record = self.get(prediction_id)
            if record is None:
                return None
            if record.outcome is not None:
                raise FeedbackAlreadyRecordedError(
                    f"prediction {prediction_id} already has feedback"
                )
            _check_fits(record, outcome)
            record.outcome = outcome
            return record

    def _evict(self, now_s: float) -> None:
        records = self._records
        while records:
            oldest = next(iter(records.values()))
            if now_s - oldest.created_s <= self.ttl_s and len(records) <= self.max_items:
                return
            records.popitem(last=False)


def _check_fits(record: PredictionRecord, outcome: Outcome) -> None:
    if record.lap_time_s is not None and outcome.lap_time_s is None:
        raise FeedbackMismatchError(
            f"prediction {record.prediction_id} is a lap time: send actual_lap_time_s",
            reason=KIND_MISMATCH,
        )
    if record.probabilities is not None:
        if outcome.winner is None:
            raise FeedbackMismatchError(
                f"prediction {record.prediction_id} is a race: send actual_winner",
                reason=KIND_MISMATCH,
            )
        if outcome.winner not in record.probabilities:
            raise FeedbackMismatchError(
                f"actual_winner {outcome.winner!r} was not in the predicted field: "
                f"{sorted(record.probabilities)}",
                reason=WINNER_NOT_IN_FIELD,
            )
