"""The steps every prediction request shares, around the model call that differs.

A prediction route starts a `PredictionFlow` for its model, then `infer` (the model call inside
the inference span), `record` (drift counts and feedback store; gives the prediction its id) and
`log` (the prediction's fields on the request's access event). What the request asks, and what
the answer looks like, stays in the route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import uuid_utils
from fastapi import Request

from service.errors import UnknownValueError
from service.feedback import PredictionRecord
from service.middleware import log_fields
from service.registry import LoadedModel
from service.schemas import ModelRef
from service.state import Services, services
from tracing import spans

# Tests only (AMF1_TEST_DELAY_ENABLED): a prediction asking for it sleeps this long, in ms.
TEST_DELAY_HEADER = "x-amf1-test-delay-ms"
_MAX_TEST_DELAY_MS = 5000.0
# An unknown driver or circuit is the client's error (422), not a failed prediction.
_CLIENT_ERRORS = (UnknownValueError,)


class _Timed(Protocol):
    @property
    def features_ns(self) -> int: ...


BodyT = TypeVar("BodyT")
PredictionT = TypeVar("PredictionT", bound=_Timed)


@dataclass(slots=True)
class PredictionFlow:
    """One prediction request of one model: its services, model and access-event fields."""

    name: str
    model: LoadedModel
    request: Request
    state: Services
    fields: dict[str, Any]

    @classmethod
    def start(cls, request: Request, name: str) -> PredictionFlow:
        """Look up model `name` for `request`; the access event names the model either way.

        Raises:
            ModelUnavailableError: the model is not loaded (a 503 naming the load error).
        """
        state = services(request)
        fields = log_fields(request.scope)
        fields["amf1.model.name"] = name
        return cls(name, state.registry.get(name), request, state, fields)

    @property
    def model_ref(self) -> ModelRef:
        """The model that answers, as the response names it."""
        return ModelRef(name=self.name, version=self.model.version)

    async def infer(
        self,
        predict: Callable[[LoadedModel, BodyT], PredictionT],
        body: BodyT,
        *,
        driver: str | None = None,
        circuit: str | None = None,
        field_size: int | None = None,
    ) -> PredictionT:
        """`predict(model, body)` inside the inference span (the span attributes as named).

        Raises:
            UnknownValueError: from `predict` (a 422; not recorded as a failure on the span).
        """
        with spans.inference_span(
            self.name,
            self.model.version,
            driver=driver,
            circuit=circuit,
            field_size=field_size,
            client_errors=_CLIENT_ERRORS,
        ) as span:
            if self.state.settings.test_delay_enabled:
                await _test_delay(self.request)
            prediction = predict(self.model, body)
            spans.features_built(span, prediction.features_ns)
        return prediction

    def record(
        self,
        row: np.ndarray,
        *,
        lap_time_s: float | None = None,
        probabilities: Mapping[str, float] | None = None,
    ) -> str:
        """Add the model input `row` to the drift counts and keep the answer for feedback.

        Returns:
            The new prediction id.
        """
        self.state.monitoring.observe(self.name, row.tolist())
        prediction_id = str(uuid_utils.uuid7())
        self.state.predictions.add(
            PredictionRecord(
                prediction_id,
                self.name,
                self.model.version,
                lap_time_s=lap_time_s,
                probabilities=probabilities,
            )
        )
        return prediction_id

    def log(self, prediction_id: str, driver: str, circuit: str, answer: Mapping[str, Any]) -> None:
        """Put the prediction on the request's access event; `answer` holds its `amf1.prediction.*`
        fields."""
        self.fields.update(
            {
                "amf1.model.version": self.model.version,
                "amf1.prediction.id": prediction_id,
                "amf1.driver": driver,
                "amf1.circuit": circuit,
                **answer,
            }
        )


async def _test_delay(request: Request) -> None:
    """Sleep as long as the request's `X-AMF1-Test-Delay-Ms` header asks (bounded)."""
    try:
        delay_ms = float(request.headers.get(TEST_DELAY_HEADER, "0"))
    except ValueError:
        return
    if delay_ms > 0:
        await asyncio.sleep(min(delay_ms, _MAX_TEST_DELAY_MS) / 1000)
