"""`POST /predict/qualifying` and `POST /predict/race-winner`."""

from __future__ import annotations

import asyncio
import random

import uuid_utils
from fastapi import APIRouter, Request

from service.errors import UnknownValueError
from service.features import STAGE1_NAME, STAGE2_NAME
from service.feedback import PredictionRecord
from service.middleware import log_fields
from service.prediction import predict_qualifying, predict_race_winner
from service.schemas import (
    ErrorResponse,
    ModelRef,
    QualifyingRequest,
    QualifyingResponse,
    RaceWinnerRequest,
    RaceWinnerResponse,
    WinProbability,
)
from service.state import services
from tracing import spans

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "malformed JSON"},
    413: {"model": ErrorResponse, "description": "body over the size limit"},
    422: {"model": ErrorResponse, "description": "invalid input, or unknown driver/circuit"},
    503: {"model": ErrorResponse, "description": "the model is not loaded (reason in body)"},
}

router = APIRouter(prefix="/predict", tags=["predictions"], responses=_ERRORS)

# Tests only (AMF1_TEST_DELAY_ENABLED): a prediction asking for it sleeps this long, in ms.
TEST_DELAY_HEADER = "x-amf1-test-delay-ms"
_MAX_TEST_DELAY_MS = 5000.0
# An unknown driver or circuit is the client's error (422), not a failed prediction.
_CLIENT_ERRORS = (UnknownValueError,)


async def _test_delay(request: Request) -> None:
    """Sleep as long as the request's `X-AMF1-Test-Delay-Ms` header asks (bounded)."""
    try:
        delay_ms = float(request.headers.get(TEST_DELAY_HEADER, "0"))
    except ValueError:
        return
    if delay_ms > 0:
        await asyncio.sleep(min(delay_ms, _MAX_TEST_DELAY_MS) / 1000)


@router.post("/qualifying")
async def qualifying(body: QualifyingRequest, request: Request) -> QualifyingResponse:
    """Predict one driver's qualifying lap time (seconds) at a circuit in given conditions."""
    state = services(request)
    fields = log_fields(request.scope)
    fields["amf1.model.name"] = STAGE1_NAME
    model = state.registry.get(STAGE1_NAME)
    with spans.inference_span(
        STAGE1_NAME,
        model.version,
        driver=body.driver,
        circuit=body.circuit,
        client_errors=_CLIENT_ERRORS,
    ) as span:
        if state.settings.test_delay_enabled:
            await _test_delay(request)
        prediction = predict_qualifying(model, body)
        spans.features_built(span, prediction.features_ns)
    state.monitoring.observe(STAGE1_NAME, prediction.features[0].tolist())
    prediction_id = str(uuid_utils.uuid7())
    lap_time_s = round(prediction.lap_time_s, 3)
    state.predictions.add(
        PredictionRecord(prediction_id, STAGE1_NAME, model.version, lap_time_s=lap_time_s)
    )
    fields.update(
        {
            "amf1.model.version": model.version,
            "amf1.prediction.id": prediction_id,
            "amf1.driver": body.driver,
            "amf1.circuit": body.circuit,
            "amf1.prediction.lap_time_s": lap_time_s,
        }
    )
    return QualifyingResponse(
        prediction_id=prediction_id,
        model=ModelRef(name=STAGE1_NAME, version=model.version),
        driver=body.driver,
        circuit=body.circuit,
        lap_time_s=lap_time_s,
    )


@router.post("/race-winner")
async def race_winner(body: RaceWinnerRequest, request: Request) -> RaceWinnerResponse:
    """Win probability of every driver in a race field; the probabilities sum to 1."""
    state = services(request)
    fields = log_fields(request.scope)
    fields["amf1.model.name"] = STAGE2_NAME
    model = state.registry.get(STAGE2_NAME)
    with spans.inference_span(
        STAGE2_NAME,
        model.version,
        circuit=body.circuit,
        field_size=len(body.entries),
        client_errors=_CLIENT_ERRORS,
    ) as span:
        if state.settings.test_delay_enabled:
            await _test_delay(request)
        prediction = predict_race_winner(model, body)
        spans.features_built(span, prediction.features_ns)
    # One entry of the field, drawn at random, enters the drift window: the circuit and the
    # weather are the same for every entry of a request, and the detector's statistics assume
    # independent rows (twenty copies of one weekend look like a drifted mix of weekends).
    matrix = prediction.features
    entry = random.randrange(len(matrix))  # noqa: S311 - sampling, not cryptography
    state.monitoring.observe(STAGE2_NAME, matrix[entry].tolist())
    prediction_id = str(uuid_utils.uuid7())
    ranked = sorted(
        zip(prediction.drivers, prediction.probabilities.tolist(), strict=True),
        key=lambda pair: -pair[1],
    )
    state.predictions.add(
        PredictionRecord(prediction_id, STAGE2_NAME, model.version, probabilities=dict(ranked))
    )
    favourite, top = ranked[0]
    fields.update(
        {
            "amf1.model.version": model.version,
            "amf1.prediction.id": prediction_id,
            "amf1.driver": favourite,
            "amf1.circuit": body.circuit,
            "amf1.prediction.win_probability": round(top, 6),
        }
    )
    return RaceWinnerResponse(
        prediction_id=prediction_id,
        model=ModelRef(name=STAGE2_NAME, version=model.version),
        circuit=body.circuit,
        probabilities=[WinProbability(driver=d, win_probability=p) for d, p in ranked],
    )
