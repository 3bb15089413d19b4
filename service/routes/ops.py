"""Operational routes: health, readiness, model status, valid values, and hot reload (which
reaches every worker: `service.workers`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth import refusal, refused
from service.registry import ModelStatus
from service.schemas import ErrorResponse
from service.state import services
from service.workers.status import WorkerStatus, differences

router = APIRouter(tags=["operations"])
_bearer = HTTPBearer(auto_error=False, description="the value of AMF1_ADMIN_TOKEN")


def _status_body(status: ModelStatus) -> dict[str, Any]:
    body: dict[str, Any] = {"name": status.name, "loaded": status.model is not None}
    body["attempted_at"] = status.attempted_at.isoformat()
    if status.model is not None:
        meta = status.model.metadata
        newest = dt.datetime.combine(meta.training_data.newest_date, dt.time(), tzinfo=dt.UTC)
        body |= {
            "version": meta.version,
            "trained_at": meta.trained_at.isoformat(),
            "sha256": meta.model_sha256,
            "metrics": meta.metrics,
            "features": [feature.name for feature in meta.features],
            "training_data": meta.training_data.model_dump(mode="json"),
            "data_age_s": round((dt.datetime.now(dt.UTC) - newest).total_seconds()),
        }
    if status.error is not None:
        # Beside a loaded model the error is the latest reload's: the previous version serves.
        body["reload_error" if status.reload_failed else "error"] = {
            "type": type(status.error).__name__,
            "reason": status.error.reason,
            "message": status.error.detail,
            "path": str(status.error.path),
        }
    return body


def _problems(request: Request, *, reloads: bool = False) -> list[str]:
    """Why this worker cannot serve every model; with `reloads`, also the failed reloads that
    left a previous version serving (degraded, yet ready)."""
    registry = services(request).registry
    statuses = registry.statuses()
    if not statuses:
        return ["models not loaded yet (starting)"]
    problems: list[str] = []
    for name, status in statuses.items():
        if status.model is None:
            problems.append(f"{name}: {status.error.reason if status.error else 'not loaded'}")
        elif reloads and status.error is not None:
            problems.append(
                f"{name}: reload failed ({status.error.reason}): {status.error.detail}; "
                f"the previous version {status.model.version} keeps serving"
            )
    return problems


async def _workers_view(request: Request) -> dict[str, Any]:
    """Which worker answers, and what every live worker serves (`service.workers`)."""
    sync = services(request).workers
    workers = await run_in_threadpool(sync.workers)
    view: dict[str, Any] = {
        "worker": {"id": sync.worker_id, "generation": sync.generation},
        "workers": [_worker_body(worker) for worker in workers],
        "workers_agree": not differences(workers),
        "differences": differences(workers),
    }
    if sync.last_error is not None:
        view["worker_state_error"] = sync.last_error
    return view


def _worker_body(worker: WorkerStatus) -> dict[str, Any]:
    return worker.model_dump(mode="json", exclude_none=True)


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness: 200 while the process runs; `status` is `degraded` with reasons when a model
    is not loaded here, a reload failed (the previous version keeps serving), the live workers
    serve different versions, or the worker state folder fails."""
    problems = _problems(request, reloads=True)
    statuses = services(request).registry.statuses()
    view = await _workers_view(request)
    problems += [f"workers serve different versions: {text}" for text in view["differences"]]
    if "worker_state_error" in view:
        problems.append(f"reloads may not reach every worker: {view['worker_state_error']}")
    return {
        "status": "degraded" if problems else "ok",
        "reasons": problems,
        "models": {name: _status_body(status) for name, status in statuses.items()},
        **view,
    }


@router.get("/ready", responses={503: {"description": "not every model is loaded"}})
async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 only when both models are loaded, else 503 with the reasons."""
    problems = _problems(request)
    return JSONResponse({"ready": not problems, "reasons": problems}, 503 if problems else 200)


@router.get("/models")
async def models(request: Request) -> dict[str, Any]:
    """Every model's version, metrics, training data, and load error if any, as this worker
    serves them; and the version every live worker serves."""
    statuses = services(request).registry.statuses()
    body = {"models": [_status_body(status) for status in statuses.values()]}
    return body | await _workers_view(request)


def _valid_values(request: Request, feature: str) -> dict[str, Any]:
    by_model = {
        name: status.model.encoder.valid_values(feature)
        for name, status in services(request).registry.statuses().items()
        if status.model is not None
    }
    union = sorted({value for values in by_model.values() for value in values})
    return {f"{feature}s": union, "by_model": by_model}


@router.get("/drivers")
async def drivers(request: Request) -> dict[str, Any]:
    """The driver ids the loaded models know (per model, and their union)."""
    return _valid_values(request, "driver")


@router.get("/circuits")
async def circuits(request: Request) -> dict[str, Any]:
    """The circuit ids the loaded models know (per model, and their union)."""
    return _valid_values(request, "circuit")


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Allow only a bearer token equal to AMF1_ADMIN_TOKEN (compared in constant time)."""
    reason = refusal(services(request).settings.admin_token, credentials)
    if reason is not None:
        raise refused(reason, "AMF1_ADMIN_TOKEN", "the admin endpoint")


@router.post(
    "/admin/models/reload",
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse, "description": "missing or wrong token"},
        403: {"model": ErrorResponse, "description": "admin endpoint disabled"},
    },
)
async def reload_models(request: Request) -> dict[str, Any]:
    """Reload both models from disk without a restart, in every worker sharing the models
    directory; returns their new status here, and whether every live worker has reloaded (it
    waits up to AMF1_RELOAD_WAIT_S for them)."""
    outcome = await services(request).workers.reload_everywhere()
    return {
        "models": [_status_body(status) for status in outcome.statuses.values()],
        "generation": outcome.generation,
        "all_workers_reloaded": not outcome.lagging,
        "workers_not_reloaded": outcome.lagging,
        "workers": [_worker_body(worker) for worker in outcome.workers],
        "workers_agree": not differences(outcome.workers),
        "differences": differences(outcome.workers),
    }
