"""Feedback matched across workers: predictions and their outcomes, joined as the watcher does.

Used by `bench.scale` (`feedback_matched_pct`). `amf1 serve --workers 2` ships its events to
the running stack's collector; concurrent clients each make a prediction and send its outcome
on a new connection, so the outcome often reaches another worker than the prediction. Once the
events are indexed, the watcher's own join (`alerting.signals.outcomes`) pairs them up. Without
the stack the figure is unmeasured, with the reason, never a number.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from elasticsearch import Elasticsearch

from alerting.signals.outcomes import feedback_from, first_feedback, join, prediction_from
from amf1.loadgen.payloads import PayloadFactory
from bench.serving import get_json, serve
from elk.client import make_client
from elk.security.credentials import StackUser
from elk.settings import Settings as ElkSettings
from elk.stack import probes

INDEXED_WITHIN_S = 120.0
# The service takes feedback only with its token; this run makes one of its own.
FEEDBACK_TOKEN = secrets.token_urlsafe(24)


def _service_env(settings: ElkSettings, service_name: str, buffer_dir: str) -> dict[str, str]:
    return {
        "AMF1_ENVIRONMENT": "test",
        "AMF1_WORKERS": "2",
        "AMF1_FEEDBACK_TOKEN": FEEDBACK_TOKEN,
        "AMF1_SERVICE_NAME": service_name,
        "AMF1_TRACING_ENABLED": "false",
        "AMF1_LOG_SHIP": "true",
        "AMF1_LOG_LEVEL": "info",
        "AMF1_LOGSTASH_HOST": settings.logstash_host,
        "AMF1_LOGSTASH_PORT": str(settings.logstash_port),
        "AMF1_LOG_BUFFER_DIR": buffer_dir,
    }


async def _pairs(url: str, factory: PayloadFactory, pairs: int, concurrency: int) -> Counter[int]:
    """`pairs` predictions, each followed by its feedback; the feedback answers' statuses."""
    statuses: Counter[int] = Counter()
    queue = list(range(pairs))
    headers = {"Connection": "close"}  # a new connection per request: any worker may take it
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:

        async def one(i: int) -> None:
            if i % 2:
                answer = await client.post("/predict/race-winner", json=factory.race_winner())
                body = answer.json()
                outcome: dict[str, Any] = {"actual_winner": body["probabilities"][0]["driver"]}
            else:
                answer = await client.post("/predict/qualifying", json=factory.qualifying())
                body = answer.json()
                outcome = {"actual_lap_time_s": round(body["lap_time_s"] + 0.3, 3)}
            told = await client.post(
                "/feedback",
                json={"prediction_id": body["prediction_id"], **outcome},
                headers={"Authorization": f"Bearer {FEEDBACK_TOKEN}"},
            )
            statuses[told.status_code] += 1

        async def worker() -> None:
            while queue:
                await one(queue.pop())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def _documents(es: Elasticsearch, service: str, action: str, size: int) -> list[dict[str, Any]]:
    query = {
        "bool": {
            "filter": [{"term": {"service.name": service}}, {"term": {"event.action": action}}]
        }
    }
    response = es.search(index="amf1-logs-*", query=query, size=size)
    return [hit["_source"] for hit in response["hits"]["hits"]]


def _indexed(es: Elasticsearch, service: str, pairs: int) -> tuple[list[Any], list[Any]]:
    deadline = time.monotonic() + INDEXED_WITHIN_S
    while True:
        es.indices.refresh(index="amf1-logs-*")
        feedback = _documents(es, service, "feedback-received", pairs)
        predictions = _documents(es, service, "prediction-succeeded", pairs)
        if len(feedback) >= pairs and len(predictions) >= pairs:
            return feedback, predictions
        if time.monotonic() > deadline:
            return feedback, predictions
        time.sleep(1)


def measure(models: Path, stack: ExitStack, pairs: int, concurrency: int = 16) -> dict[str, Any]:
    """`feedback_matched_pct` (or None and `feedback_unmeasured`) and what it is made of."""
    settings = ElkSettings()
    if not probes.tcp_open(settings.logstash_host, settings.logstash_port):
        return {"feedback_matched_pct": None, "feedback_unmeasured": "no collector: stack down"}
    es = stack.enter_context(make_client(settings, user=StackUser.ADMIN))
    service = f"amf1-bench-scale-{uuid.uuid4().hex[:8]}"
    buffer_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-buf-"))
    url, _ = serve(stack, models, _service_env(settings, service, buffer_dir))
    factory = PayloadFactory.synthetic(
        get_json(f"{url}/drivers")["drivers"], get_json(f"{url}/circuits")["circuits"]
    )
    statuses = asyncio.run(_pairs(url, factory, pairs, concurrency))
    feedback_docs, prediction_docs = _indexed(es, service, pairs)
    feedback = [f for f in map(feedback_from, feedback_docs) if f is not None]
    predictions = {p.prediction_id: p for p in map(prediction_from, prediction_docs) if p}
    joined = join(first_feedback(feedback), predictions, final_before=datetime.now(UTC))
    return {
        "feedback_matched_pct": round(100 * len(joined.matched) / pairs, 2),
        "feedback": {
            "pairs": pairs,
            "answers": dict(statuses),
            "indexed": len(feedback_docs),
            "matched": len(joined.matched),
            "unmatched": Counter(reason for _, reason in joined.unmatched),
        },
    }
