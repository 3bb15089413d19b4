"""`POST /feedback`: the actual outcome of an earlier prediction."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.feedback import Outcome
from service.middleware import log_fields
from service.monitoring.wiring import record_feedback
from service.schemas import ErrorResponse, FeedbackRequest, FeedbackResponse, ModelRef
from service.state import services

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    status_code=202,
    responses={
        404: {"model": ErrorResponse, "description": "unknown or expired prediction id"},
        409: {"model": ErrorResponse, "description": "feedback already recorded"},
        413: {"model": ErrorResponse, "description": "body over the size limit"},
        422: {"model": ErrorResponse, "description": "invalid, or not the prediction's kind"},
    },
)
async def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
    """Record what actually happened for a prediction (lap time or race winner)."""
    fields = log_fields(request.scope)
    fields["amf1.prediction.id"] = body.prediction_id
    outcome = Outcome(lap_time_s=body.actual_lap_time_s, winner=body.actual_winner)
    state = services(request)
    record = state.predictions.record_outcome(body.prediction_id, outcome)
    record_feedback(state.monitoring, record)
    fields.update(
        {"amf1.model.name": record.model_name, "amf1.model.version": record.model_version}
    )
    return FeedbackResponse(
        prediction_id=record.prediction_id,
        model=ModelRef(name=record.model_name, version=record.model_version),
        absolute_error_s=record.absolute_error_s(),
        brier=record.brier(),
    )
