"""Prediction ids: UUIDv7, so any worker can tell an id this service could have issued.

A UUIDv7 carries its creation time (milliseconds since the epoch, the first 48 bits). Feedback
for an id that is not a UUIDv7, older than the prediction time-to-live, or from the future beyond
a small clock skew between replicas, cannot match any prediction: it is refused at once, by any
worker, without looking the prediction up.
"""

from __future__ import annotations

import uuid
from typing import Final

from service.errors import UnknownPredictionError

# Replicas' clocks may differ by this much: an id a little ahead of this worker's clock is fine.
CLOCK_SKEW_S: Final = 5.0


def issued_at_s(prediction_id: str) -> float:
    """The creation time embedded in a UUIDv7, seconds since the epoch.

    Raises:
        UnknownPredictionError: not a UUID, or not version 7 (reason `not_uuid7`).
    """
    try:
        parsed = uuid.UUID(prediction_id)
    except ValueError as exc:
        raise UnknownPredictionError(
            f"prediction_id {prediction_id!r} is not a UUID; send the prediction_id of a "
            "prediction response",
            reason="not_uuid7",
        ) from exc
    if parsed.version != 7 or parsed.variant != uuid.RFC_4122:
        raise UnknownPredictionError(
            f"prediction_id {prediction_id} is not an id this service issues (UUIDv7); send the "
            "prediction_id of a prediction response",
            reason="not_uuid7",
        )
    return (parsed.int >> 80) / 1000.0


def check_prediction_id(
    prediction_id: str, ttl_s: float, now_s: float, skew_s: float = CLOCK_SKEW_S
) -> float:
    """Refuse an id no prediction within the time-to-live can have; return its creation time.

    Args:
        prediction_id: the id the client sent.
        ttl_s: how long a prediction accepts feedback, seconds (`AMF1_PREDICTION_TTL_S`).
        now_s: the current time, seconds since the epoch.
        skew_s: how far in the future an id may lie (clock differences between replicas).

    Raises:
        UnknownPredictionError: not a UUIDv7 (`not_uuid7`), older than `ttl_s` (`expired`), or
            created more than `skew_s` in the future (`from_the_future`).
    """
    issued_s = issued_at_s(prediction_id)
    age_s = now_s - issued_s
    if age_s > ttl_s:
        raise UnknownPredictionError(
            f"prediction {prediction_id} was made {age_s:.0f} s ago; feedback is accepted for "
            f"{ttl_s:.0f} s after a prediction",
            reason="expired",
        )
    if -age_s > skew_s:
        raise UnknownPredictionError(
            f"prediction_id {prediction_id} carries a time {-age_s:.0f} s in the future; send "
            "the prediction_id of a prediction response",
            reason="from_the_future",
        )
    return issued_s
