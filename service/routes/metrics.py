"""`GET /metrics`: the Prometheus text exposition of the whole service."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.metrics.exposition import render_latest
from service.metrics.sync import ProcessSync

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Every worker's metrics, summed where they add up (the Prometheus text format)."""
    process_sync: ProcessSync = request.app.state.metrics_sync
    process_sync.sync()
    # Reading every worker's files is disk I/O: off the event loop.
    body = await run_in_threadpool(render_latest)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
