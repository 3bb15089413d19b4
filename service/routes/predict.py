"""`POST /predict/qualifying` and `POST /predict/race-winner`."""

from __future__ import annotations

import random

from fastapi import APIRouter, Request

from service.features import STAGE1_NAME, STAGE2_NAME
from service.predict_flow import PredictionFlow
from service.prediction import predict_qualifying, predict_race_winner
from service.schemas import (
    ErrorResponse,
    QualifyingRequest,
    QualifyingResponse,
    RaceWinnerRequest,
    RaceWinnerResponse,
    WinProbability,
)

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "malformed JSON"},
    413: {"model": ErrorResponse, "description": "body over the size limit"},
    422: {"model": ErrorResponse, "description": "invalid input, or unknown driver/circuit"},
    503: {"model": ErrorResponse, "description": "the model is not loaded (reason in body)"},
}

router = APIRouter(prefix="/predict", tags=["predictions"], responses=_ERRORS)


@router.post("/qualifying")
async def qualifying(body: QualifyingRequest, request: Request) -> QualifyingResponse:
    """Predict one driver's qualifying lap time (seconds) at a circuit in given conditions."""
    flow = PredictionFlow.start(request, STAGE1_NAME)
    prediction = await flow.infer(
        predict_qualifying, body, driver=body.driver, circuit=body.circuit
    )
    lap_time_s = round(prediction.lap_time_s, 3)
    prediction_id = flow.record(prediction.features[0], lap_time_s=lap_time_s)
    flow.log(prediction_id, body.driver, body.circuit, {"amf1.prediction.lap_time_s": lap_time_s})
    return QualifyingResponse(
        prediction_id=prediction_id,
        model=flow.model_ref,
        driver=body.driver,
        circuit=body.circuit,
        lap_time_s=lap_time_s,
    )


@router.post("/race-winner")
async def race_winner(body: RaceWinnerRequest, request: Request) -> RaceWinnerResponse:
    """Win probability of every driver in a race field; the probabilities sum to 1."""
    flow = PredictionFlow.start(request, STAGE2_NAME)
    prediction = await flow.infer(
        predict_race_winner, body, circuit=body.circuit, field_size=len(body.entries)
    )
    ranked = sorted(
        zip(prediction.drivers, prediction.probabilities.tolist(), strict=True),
        key=lambda pair: -pair[1],
    )
    # One entry of the field, drawn at random, is counted for drift: the circuit and the
    # weather are the same for every entry of a request, and the detector's statistics assume
    # independent rows (twenty copies of one weekend look like a drifted mix of weekends).
    entry = random.randrange(len(prediction.features))  # noqa: S311 - sampling, not cryptography
    probabilities = dict(ranked)
    prediction_id = flow.record(prediction.features[entry], probabilities=probabilities)
    favourite, top = ranked[0]
    # The whole field, so the watcher can score feedback that another worker receives.
    answer = {
        "amf1.prediction.win_probability": round(top, 6),
        "amf1.prediction.probabilities": probabilities,
    }
    flow.log(prediction_id, favourite, body.circuit, answer)
    return RaceWinnerResponse(
        prediction_id=prediction_id,
        model=flow.model_ref,
        circuit=body.circuit,
        probabilities=[WinProbability(driver=d, win_probability=p) for d, p in ranked],
    )
