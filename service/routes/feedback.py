"""`POST /feedback`: the actual outcome of an earlier prediction, made by any worker or replica.

The request is checked for what any worker can tell: an id this service could have issued within
the time-to-live, one outcome, a lap time within bounds, a winner the stage-2 model knows. When
this worker made the prediction it is also checked against it and the answer carries the
prediction's own error; otherwise the watcher joins the outcome with the prediction from the logs
(the `feedback-received` event carries both the id and the outcome).

Outcomes move the service's rolling MAE and Brier, so only holders of AMF1_FEEDBACK_TOKEN may
send them (`service.auth`); a refused request leaves a `feedback-refused` event.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from logshipping.events import Action, emit
from service.auth import refusal, refused
from service.errors import FeedbackMismatchError
from service.features import STAGE2_NAME
from service.feedback import Outcome
from service.middleware import log_fields
from service.prediction_id import check_prediction_id
from service.registry import ModelRegistry
from service.schemas import (
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    LapTimeFeedback,
    ModelRef,
)
from service.state import services

router = APIRouter(tags=["feedback"])

UNKNOWN_DRIVER = "unknown_driver"
_bearer = HTTPBearer(
    auto_error=False, scheme_name="FeedbackToken", description="the value of AMF1_FEEDBACK_TOKEN"
)


def require_feedback_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Allow only a bearer token equal to AMF1_FEEDBACK_TOKEN (compared in constant time)."""
    reason = refusal(services(request).settings.feedback_token, credentials)
    if reason is None:
        return
    emit(
        Action.FEEDBACK_REFUSED,
        f"feedback refused ({reason}): not applied",
        {"amf1.feedback.refused_reason": str(reason)},
    )
    raise refused(reason, "AMF1_FEEDBACK_TOKEN", "POST /feedback")


@router.post(
    "/feedback",
    status_code=202,
    dependencies=[Depends(require_feedback_token)],
    responses={
        401: {
            "model": ErrorResponse,
            "description": "no or a wrong token: send Authorization: Bearer <AMF1_FEEDBACK_TOKEN>",
        },
        403: {"model": ErrorResponse, "description": "AMF1_FEEDBACK_TOKEN is not configured"},
        404: {
            "model": ErrorResponse,
            "description": "not a prediction id this service could have issued within "
            "AMF1_PREDICTION_TTL_S (reason: not_uuid7, expired, from_the_future)",
        },
        409: {"model": ErrorResponse, "description": "feedback already recorded"},
        413: {"model": ErrorResponse, "description": "body over the size limit"},
        422: {
            "model": ErrorResponse,
            "description": "invalid (both or neither outcome, lap time out of bounds), a winner "
            "the stage-2 model does not know, or not the prediction's kind",
        },
    },
)
async def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
    """Record what actually happened for a prediction (lap time or race winner)."""
    state = services(request)
    fields = log_fields(request.scope)
    fields["amf1.prediction.id"] = body.prediction_id
    check_prediction_id(body.prediction_id, state.settings.prediction_ttl_s, time.time())
    if isinstance(body, LapTimeFeedback):
        outcome = Outcome(lap_time_s=body.actual_lap_time_s)
    else:
        _check_known_driver(state.registry, body.actual_winner)
        outcome = Outcome(winner=body.actual_winner)
    record = state.predictions.record_outcome(body.prediction_id, outcome)
    fields.update(_outcome_fields(outcome))
    if record is None:
        return FeedbackResponse(prediction_id=body.prediction_id, matched_by="watcher")
    fields.update(
        {"amf1.model.name": record.model_name, "amf1.model.version": record.model_version}
    )
    return FeedbackResponse(
        prediction_id=record.prediction_id,
        model=ModelRef(name=record.model_name, version=record.model_version),
        absolute_error_s=record.absolute_error_s(),
        brier=record.brier(),
    )


def _check_known_driver(registry: ModelRegistry, winner: str) -> None:
    """Refuse a winner the loaded stage-2 model does not know (unchecked while it is not loaded).

    Raises:
        FeedbackMismatchError: reason `unknown_driver`.
    """
    status = registry.statuses().get(STAGE2_NAME)
    if status is None or status.model is None:
        return
    if status.model.encoder.code("driver", winner) is None:
        raise FeedbackMismatchError(
            f"actual_winner {winner!r} is no driver of {STAGE2_NAME}; GET /drivers lists them",
            reason=UNKNOWN_DRIVER,
        )


def _outcome_fields(outcome: Outcome) -> dict[str, Any]:
    """The outcome on the `feedback-received` event, for the watcher's join."""
    if outcome.lap_time_s is not None:
        return {"amf1.feedback.lap_time_s": outcome.lap_time_s}
    return {"amf1.feedback.winner": outcome.winner}
