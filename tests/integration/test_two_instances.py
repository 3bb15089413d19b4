"""Two instances of one service on two ports behind a round-robin client, on the real stack.

Each prediction goes to one instance and its outcome to the other, with drifted inputs: every
feedback is accepted, the watcher's whole-service MAE and Brier equal the values computed
offline from the same pairs, and its drift signal reports each shifted feature exactly once.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from elasticsearch import Elasticsearch
from structlog.testing import capture_logs

from alerting.signals.drift import DriftSignal
from alerting.signals.drift_score import DriftScoring
from alerting.signals.outcomes import PerformanceConfig
from alerting.signals.performance import PerformanceSignal
from amf1.loadgen.payloads import TRAINING_SEASONS, TRAINING_SEED, PayloadFactory
from service.features import STAGE1_NAME, STAGE2_NAME
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all
from tests.integration import tracing_support
from tests.integration.pipeline_support import count_when_answering
from tests.integration.tracing_support import Served, serve
from tests.stack_fixtures import StackEndpoints

pytestmark = pytest.mark.integration

PAIRS = 440  # 220 per model: over drift's 200 samples once each instance has reported
SHIFT = {"air_temp_c": 15.0, "track_temp_c": 22.0}  # the demo's drift scenario
INDEXED_WITHIN_S = 120.0
FEEDBACK_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models trained as `amf1 train` trains them: on the table the payloads come from.

    A smaller table of other draws would drift on the weather features by itself: a weekend's
    rows share their weather, so a few dozen weekends make a lumpy reference.
    """
    out = tmp_path_factory.mktemp("models")
    table = generate(seasons=TRAINING_SEASONS, seed=TRAINING_SEED)
    train_all(validate_dataset(table, source="test"), out, seed=TRAINING_SEED, source="test")
    return out


@pytest.fixture
def instances(
    stack: StackEndpoints, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[Served]]:
    """Two `amf1 serve` processes of one service (one name, one models dir), shipping logs."""
    monkeypatch.setattr(tracing_support, "WAIT_S", 180.0)
    service = f"amf1-itest-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack_of_instances:
        started = []
        for n in range(2):
            env = {
                "AMF1_SERVICE_NAME": service,
                "AMF1_FEEDBACK_TOKEN": FEEDBACK_TOKEN,
                "AMF1_ENVIRONMENT": "test",
                "AMF1_TRACING_ENABLED": "false",
                "AMF1_LOGSTASH_HOST": stack.log_tcp_host,
                "AMF1_LOGSTASH_PORT": str(stack.log_tcp_port),
                "AMF1_LOG_BUFFER_DIR": str(tmp_path / f"buffer-{n}"),
                "AMF1_LOG_LEVEL": "info",
                "AMF1_DRIFT_EVALUATE_EVERY": "50",
            }
            started.append(stack_of_instances.enter_context(serve(tmp_path, models_dir, env)))
        yield started


def _count(es: Elasticsearch, service: str, action: str) -> int:
    terms = [{"term": {"service.name": service}}, {"term": {"event.action": action}}]
    return count_when_answering(es, {"bool": {"filter": terms}})


def _round_robin(urls: list[str], pairs: int) -> tuple[Counter[int], list[float], list[float]]:
    """Predictions round-robin, each outcome to the next instance; (feedback statuses, absolute
    lap-time errors, squared race errors) as computed offline."""
    rng = np.random.default_rng(7)
    statuses: Counter[int] = Counter()
    errors: list[float] = []
    squares: list[float] = []
    turn = cycle(range(len(urls)))
    auth = {"Authorization": f"Bearer {FEEDBACK_TOKEN}"}
    with httpx.Client(timeout=30) as client:
        drivers = client.get(f"{urls[0]}/drivers").json()["drivers"]
        circuits = client.get(f"{urls[0]}/circuits").json()["circuits"]
        factory = PayloadFactory.synthetic(drivers, circuits)
        factory.shift = dict(SHIFT)
        for i in range(pairs):
            here = next(turn)
            there = (here + 1) % len(urls)
            if i % 2 == 0:
                answer = client.post(f"{urls[here]}/predict/qualifying", json=factory.qualifying())
                assert answer.status_code == 200, answer.text
                body = answer.json()
                actual = round(body["lap_time_s"] + float(rng.normal(0.0, 0.5)), 3)
                outcome: dict[str, Any] = {"actual_lap_time_s": actual}
                errors.append(abs(body["lap_time_s"] - actual))
            else:
                race = factory.race_winner()
                answer = client.post(f"{urls[here]}/predict/race-winner", json=race)
                assert answer.status_code == 200, answer.text
                body = answer.json()
                field = {p["driver"]: p["win_probability"] for p in body["probabilities"]}
                winner = str(rng.choice(list(field)))
                outcome = {"actual_winner": winner}
                squares += [(p - (d == winner)) ** 2 for d, p in field.items()]
            told = client.post(
                f"{urls[there]}/feedback",
                json={"prediction_id": body["prediction_id"], **outcome},
                headers=auth,
            )
            statuses[told.status_code] += 1
    return statuses, errors, squares


@pytest.mark.timeout(600)
def test_two_instances_give_one_answer(instances: list[Served], es: Elasticsearch) -> None:
    """Every feedback accepted across instances; MAE / Brier as offline; drift once per feature."""
    service = instances[0].service_name
    statuses, errors, squares = _round_robin([i.url for i in instances], PAIRS)
    assert statuses == {202: PAIRS}
    for served in instances:  # a clean stop reports the drift counts still pending
        served.process.terminate()
        served.process.wait(30)

    deadline = time.monotonic() + INDEXED_WITHIN_S
    indexed = ("feedback-received", "prediction-succeeded")
    while [_count(es, service, action) for action in indexed] != [PAIRS, PAIRS]:
        assert time.monotonic() < deadline, "predictions and feedback not all indexed"
        time.sleep(1)

    now = datetime.now(UTC)
    performance = PerformanceSignal(
        PerformanceConfig(window=10_000, min_outcomes=1, grace_s=0.0),
        index_prefix="amf1-logs-",
        service_name=service,
    )
    drift = DriftSignal(DriftScoring(), "amf1-logs-")
    with capture_logs() as logs:
        performance.run(es, now)
        drift.run(es, now)
    values = {e["amf1.model.name"]: e for e in logs if e["event.action"] == "model-performance"}
    assert values[STAGE1_NAME]["amf1.performance.value"] == pytest.approx(np.mean(errors), 1e-5)
    assert values[STAGE2_NAME]["amf1.performance.value"] == pytest.approx(np.mean(squares), 1e-5)

    version = values[STAGE1_NAME]["amf1.model.version"]
    drifted = Counter(
        e["amf1.drift.feature"]
        for e in logs
        if e["event.action"] == "drift-detected"
        and e["amf1.model.name"] == STAGE1_NAME
        and e["amf1.model.version"] == version
    )
    assert drifted == dict.fromkeys(SHIFT, 1)
