"""Exception handlers: every error becomes a JSON body that says what to fix.

Each handler also records `error.type` / `error.message` for the request's access event.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from logshipping.processors import truncate
from service.errors import FeedbackError, ModelUnavailableError, UnknownValueError
from service.middleware import log_fields
from tracing.spans import record_error

_MAX_LISTED_PROBLEMS = 5


def error_response(
    request: Request, status: int, kind: str, message: str, **extra: Any
) -> JSONResponse:
    """A JSON error `{"error": {"type", "message", ...}}`, noted for the access event."""
    log_fields(request.scope).update({"error.type": kind, "error.message": message})
    detail = {"type": kind, "message": message} | {k: v for k, v in extra.items() if v is not None}
    return JSONResponse({"error": detail}, status_code=status)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(error) for error in exc.errors()]
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "cannot parse")
            position = error.get("loc", ("body", "?"))[-1]
            message = f"request body is not valid JSON (at character {position}: {reason})"
            return error_response(request, 400, "malformed_json", message)
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:_MAX_LISTED_PROBLEMS])
    return error_response(request, 422, "validation_error", summary, fields=problems)


def _problem(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    message = truncate(str(error.get("msg", "invalid")))
    if error.get("type") == "extra_forbidden":
        message = "unknown field; remove it (see the request schema in /openapi.json)"
    elif error.get("type") == "missing" and not location:
        message = "a JSON body is required"
    return {
        # Field names come from the client: a 64 KiB body can name a 60 KiB field.
        "field": truncate(".".join(location) or "body"),
        "message": message,
        "type": str(error.get("type")),
    }


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    kinds = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    kind = kinds.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(request, exc.status_code, kind, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _model_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelUnavailableError)
    record_error(exc)  # a failed prediction: the trace shows why
    cause = exc.cause
    detail = cause.detail if cause else "no load attempt yet; the service is starting"
    message = f"model {exc.model} is not loaded ({exc.reason}): {detail}"
    response = error_response(
        request, 503, "model_unavailable", message, model=exc.model, reason=exc.reason
    )
    # The access event names the load error's own type, e.g. ModelChecksumMismatchError.
    log_fields(request.scope).update(
        {
            "error.type": type(cause).__name__ if cause else "ModelNotLoaded",
            "amf1.model.name": exc.model,
        }
    )
    return response


async def _unknown_value(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownValueError)
    return error_response(request, 422, f"unknown_{exc.field}", str(exc), valid_values=exc.valid)


async def _feedback(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FeedbackError)
    return error_response(request, exc.status, exc.kind, str(exc), reason=exc.reason)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ModelUnavailableError, _model_unavailable)
    app.add_exception_handler(UnknownValueError, _unknown_value)
    app.add_exception_handler(FeedbackError, _feedback)
