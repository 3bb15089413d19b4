"""The load scenarios: what `amf1 loadgen --scenario NAME` and `amf1 demo` send.

Each scenario is a small object with `next_request()` and `observe(request, response)`; the
runner calls them from one event loop, so they need no locking. Scenarios that change the
service's state (the corrupted model) do so in `amf1.loadgen.actions`, around the run.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from amf1.loadgen.client import Request, Response
from amf1.loadgen.payloads import (
    FEEDBACK_PATH,
    QUALIFYING_PATH,
    RACE_WINNER_PATH,
    PayloadFactory,
    post_json,
    qualifying_feedback,
    race_feedback,
)

OVERSIZED_BODY_BYTES: Final = 80 * 1024
# A heatwave: hotter air and track than any training weekend at most circuits.
DRIFT_SHIFT: Final = {"air_temp_c": 15.0, "track_temp_c": 22.0}


class NormalScenario:
    """Valid predictions: mostly qualifying laps, some race-winner fields."""

    name = "normal"

    def __init__(self, payloads: PayloadFactory, race_share: float = 0.2) -> None:
        self._payloads = payloads
        self._race_share = race_share
        self._rng = random.Random(payloads.seed + 1)  # noqa: S311 - load shaping

    def next_request(self) -> Request:
        """A valid qualifying or race-winner request."""
        if self._rng.random() < self._race_share:
            return post_json(RACE_WINNER_PATH, self._payloads.race_winner(), "race-winner")
        return post_json(QUALIFYING_PATH, self._payloads.qualifying(), "qualifying")

    def observe(self, request: Request, response: Response | None) -> None:
        """Nothing to learn from valid traffic."""


class DriftScenario(NormalScenario):
    """Valid requests whose conditions are shifted far from the training reference."""

    name = "drift"

    def __init__(self, payloads: PayloadFactory, shift: dict[str, float] | None = None) -> None:
        payloads.shift = shift or dict(DRIFT_SHIFT)
        super().__init__(payloads, race_share=0.1)


class SlowScenario(NormalScenario):
    """Qualifying requests asking for the service's test-only delay (when its settings allow it)."""

    name = "slow"

    def __init__(self, payloads: PayloadFactory, delay_header: tuple[str, str]) -> None:
        super().__init__(payloads, race_share=0.0)
        self._header = delay_header

    def next_request(self) -> Request:
        """A valid qualifying request carrying the delay header."""
        return post_json(
            QUALIFYING_PATH, self._payloads.qualifying(), "qualifying-slow", headers=(self._header,)
        )


class BadRequestsScenario:
    """Client errors of every kind the service must answer with a JSON 4xx, never a 5xx."""

    name = "bad-requests"

    def __init__(self, payloads: PayloadFactory) -> None:
        self._payloads = payloads
        builders: Sequence[Callable[[], Request]] = (
            self._malformed_json,
            self._unknown_driver,
            self._out_of_range,
            self._wrong_type,
            self._oversized,
        )
        self._cycle = itertools.cycle(builders)

    def next_request(self) -> Request:
        """The next bad request, in rotation."""
        return next(self._cycle)()

    def observe(self, request: Request, response: Response | None) -> None:
        """Nothing to learn; the summary shows the status codes."""

    def _malformed_json(self) -> Request:
        body = b'{"driver": "x", "circuit": '
        return Request("POST", QUALIFYING_PATH, body, label="bad-malformed-json")

    def _unknown_driver(self) -> Request:
        body = self._payloads.qualifying() | {"driver": "nobody-of-that-name"}
        return post_json(QUALIFYING_PATH, body, "bad-unknown-driver")

    def _out_of_range(self) -> Request:
        body = self._payloads.qualifying() | {"humidity_pct": 180.0, "rain_probability": 1.7}
        return post_json(QUALIFYING_PATH, body, "bad-out-of-range")

    def _wrong_type(self) -> Request:
        body = self._payloads.qualifying() | {"air_temp_c": "warm"}
        return post_json(QUALIFYING_PATH, body, "bad-wrong-type")

    def _oversized(self) -> Request:
        body = self._payloads.qualifying() | {"padding": "x" * OVERSIZED_BODY_BYTES}
        return post_json(QUALIFYING_PATH, body, "bad-oversized")


class FeedbackScenario:
    """Predictions followed by feedback that is off by `error_s` (and wrong winners).

    With the default 0.6 s error the rolling MAE climbs past both thresholds (0.40 s warning,
    0.50 s critical); race feedback names the driver the model rated least likely, which pushes
    the rolling Brier score up as far as one wrong winner per field can. With `honest=True`
    (the `recovery` scenario) the error is small and the favourite wins: the metrics recover.
    Feedback carries `token` as its bearer token (the service's AMF1_FEEDBACK_TOKEN).
    """

    name = "feedback-mae"

    def __init__(
        self,
        payloads: PayloadFactory,
        error_s: float = 0.6,
        honest: bool = False,
        token: str | None = None,
    ) -> None:
        self._payloads = payloads
        self._auth = (("Authorization", f"Bearer {token}"),) if token else ()
        self._error_s = error_s
        self._honest = honest
        self._pending: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._predictions = NormalScenario(payloads, race_share=0.2)

    def next_request(self) -> Request:
        """Feedback for an earlier prediction when one is waiting, else a new prediction."""
        if self._pending:
            return post_json(FEEDBACK_PATH, self._pending.popleft(), "feedback", self._auth)
        return self._predictions.next_request()

    def observe(self, request: Request, response: Response | None) -> None:
        """Queue feedback for each successful prediction."""
        if response is None or response.status != 200 or request.path == FEEDBACK_PATH:
            return
        answer = orjson.loads(response.body)
        feedback = feedback_for(request.path, answer, self._error_s, favourite_wins=self._honest)
        if feedback is not None:
            self._pending.append(feedback)


def feedback_for(
    path: str, answer: dict[str, Any], error_s: float, *, favourite_wins: bool = False
) -> dict[str, Any] | None:
    """The feedback body for a prediction response (None if it has no id).

    The lap time is the prediction plus `error_s`; the race winner is the driver the model rated
    least likely (or the favourite with `favourite_wins`).
    """
    prediction_id = answer.get("prediction_id")
    if not isinstance(prediction_id, str):
        return None
    if path == QUALIFYING_PATH:
        predicted = answer.get("lap_time_s")
        if not isinstance(predicted, int | float):
            return None
        return qualifying_feedback(prediction_id, float(predicted) + error_s)
    probabilities = answer.get("probabilities") or []
    if not probabilities:
        return None
    pick = max if favourite_wins else min
    winner = pick(probabilities, key=lambda item: item.get("win_probability", 0.0))
    return race_feedback(prediction_id, str(winner.get("driver")))


class MixedScenario:
    """A weighted mix of other scenarios: what a bad day looks like."""

    name = "mixed"

    def __init__(self, parts: Sequence[tuple[Any, float]], seed: int = 11) -> None:
        self._parts = [part for part, _ in parts]
        self._weights = [weight for _, weight in parts]
        self._rng = random.Random(seed)  # noqa: S311 - load shaping
        self._owner: dict[int, Any] = {}

    def next_request(self) -> Request:
        """A request from one of the parts, chosen by weight."""
        part = self._rng.choices(self._parts, self._weights)[0]
        request: Request = part.next_request()
        self._owner[id(request)] = part
        return request

    def observe(self, request: Request, response: Response | None) -> None:
        """Hand the response to the part that made the request."""
        part = self._owner.pop(id(request), None)
        if part is not None:
            part.observe(request, response)
