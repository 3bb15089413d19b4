"""`amf1 loadgen` scenarios against the real prediction service over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from amf1.cli import main
from amf1.loadgen.actions import BACKUP_SUFFIX, corrupt_model
from amf1.loadgen.actions import model_file as model_file_of
from amf1.loadgen.client import LoadgenError, Target
from amf1.loadgen.payloads import PayloadFactory, training_source
from amf1.loadgen.runner import LoadPlan, run_sync
from amf1.loadgen.scenarios import DRIFT_SHIFT
from amf1.loadgen.session import Options, run_scenario
from service.schemas import QualifyingRequest, RaceWinnerRequest
from tests.amf1.conftest import ADMIN_TOKEN, FEEDBACK_TOKEN, RunningService


@pytest.fixture(scope="module")
def payloads() -> PayloadFactory:
    return PayloadFactory.synthetic()


def _run(service: RunningService, name: str, payloads: PayloadFactory, requests: int = 40) -> dict:
    plan = LoadPlan(rps=200, duration_s=30, max_requests=requests, concurrency=4)
    options = Options(
        models_dir=service.models_dir, admin_token=ADMIN_TOKEN, feedback_token=FEEDBACK_TOKEN
    )
    target = Target.from_url(service.url)
    return run_sync(lambda: run_scenario(target, name, plan, options, payloads=payloads))


def test_generated_bodies_satisfy_the_service_request_schema(payloads: PayloadFactory) -> None:
    """Every normal and drifted body is a valid request of the service's own models."""
    drifted = PayloadFactory(payloads.sessions, payloads.races, shift=dict(DRIFT_SHIFT))
    for factory in (payloads, drifted):
        for _ in range(200):
            QualifyingRequest.model_validate(factory.qualifying())
            RaceWinnerRequest.model_validate(factory.race_winner())


def test_drift_moves_only_the_shifted_features(payloads: PayloadFactory) -> None:
    """Drifted bodies are hotter than their source sessions; other fields are unchanged."""
    drifted = PayloadFactory(payloads.sessions, payloads.races, shift={"air_temp_c": 15.0})
    plain = PayloadFactory(payloads.sessions, payloads.races)
    for _ in range(50):
        a, b = plain.qualifying(), drifted.qualifying()
        assert b["air_temp_c"] == pytest.approx(min(60.0, a["air_temp_c"] + 15.0), abs=1e-3)
        assert {k: v for k, v in a.items() if k != "air_temp_c"} == {
            k: v for k, v in b.items() if k != "air_temp_c"
        }


def test_normal_traffic_is_all_answered_200(
    service: RunningService, payloads: PayloadFactory
) -> None:
    """Normal scenario: every qualifying and race-winner request succeeds."""
    summary = _run(service, "normal", payloads)
    assert summary["requests"] == 40
    assert summary["outcomes"] == {"200": 40}


def test_bad_requests_get_the_right_4xx_and_never_a_5xx(
    service: RunningService, payloads: PayloadFactory
) -> None:
    """Malformed JSON 400, oversized body 413, unknown driver / out of range / wrong type 422."""
    summary = _run(service, "bad-requests", payloads, requests=25)
    by_label = {label: stats["outcomes"] for label, stats in summary["by_label"].items()}
    assert by_label == {
        "bad-malformed-json": {"400": 5},
        "bad-oversized": {"413": 5},
        "bad-out-of-range": {"422": 5},
        "bad-unknown-driver": {"422": 5},
        "bad-wrong-type": {"422": 5},
    }


def test_corrupt_model_breaks_stage1_then_restores_it(
    service: RunningService, payloads: PayloadFactory
) -> None:
    """Corrupted stage-1 file + reload -> the reload fails, the previous version keeps
    answering; afterwards file and model are back."""
    model_file = model_file_of(service.models_dir, "stage1-qualifying")
    original = model_file.read_bytes()
    summary = _run(service, "corrupt-model", payloads)
    assert set(summary["by_label"]["qualifying"]["outcomes"]) == {"200"}
    assert set(summary["by_label"]["race-winner"]["outcomes"]) == {"200"}
    first, last = summary["actions"]
    assert first["loaded"]["stage1-qualifying"] is True
    assert first["errors"]["stage1-qualifying"] == "ModelChecksumMismatchError"
    assert last["loaded"] == {"stage1-qualifying": True, "stage2-race-winner": True}
    assert model_file.read_bytes() == original
    assert not model_file.with_name(model_file.name + BACKUP_SUFFIX).exists()


def test_slow_scenario_gets_the_requested_delay(
    service: RunningService, payloads: PayloadFactory
) -> None:
    """slow: every prediction asks for 300 ms through the test header and takes at least that."""
    plan = LoadPlan(rps=50, duration_s=30, max_requests=8, concurrency=4)
    options = Options(slow_delay_ms=300)
    target = Target.from_url(service.url)
    summary = run_sync(lambda: run_scenario(target, "slow", plan, options, payloads=payloads))
    assert summary["outcomes"] == {"200": 8}
    assert summary["by_label"]["qualifying-slow"]["latency_ms"]["p50"] >= 300


def test_feedback_follows_each_successful_prediction(
    service: RunningService, payloads: PayloadFactory
) -> None:
    """feedback-mae: predictions are answered 200 and their feedback is accepted."""
    summary = _run(service, "feedback-mae", payloads)
    feedback = summary["by_label"]["feedback"]["outcomes"]
    assert set(feedback) == {"202"}
    assert feedback["202"] >= 15


def test_recovery_feedback_is_accurate(service: RunningService, payloads: PayloadFactory) -> None:
    """recovery: feedback is accepted and close to the predictions (MAE can fall again)."""
    summary = _run(service, "recovery", payloads)
    assert set(summary["by_label"]["feedback"]["outcomes"]) == {"202"}


def test_training_source_names_the_synthetic_table() -> None:
    """The models' training source gives the table to draw from; real data gives defaults."""
    assert training_source("synthetic(seasons=3, seed=11)") == (3, 11)
    assert training_source("/data/real.parquet") == (8, 7)
    assert training_source(None) == (8, 7)


def test_loadgen_command_prints_a_json_summary(
    service: RunningService, capsys: pytest.CaptureFixture[str]
) -> None:
    """`amf1 loadgen --json` exits 0 and prints the outcome counts."""
    code = main(
        [
            "loadgen",
            "--url",
            service.url,
            "--scenario",
            "drift",
            "--rps",
            "40",
            "--duration",
            "0.5",
            "--json",
        ]
    )
    out = capsys.readouterr().out  # the in-process service logs to stdout too
    summary = json.loads(out[out.rindex('{\n  "requests"') :])
    assert code == 0
    assert summary["requests"] == 20
    assert summary["outcomes"] == {"200": 20}


def test_loadgen_command_reports_a_dead_service(capsys: pytest.CaptureFixture[str]) -> None:
    """Pointing loadgen at a port nobody listens on fails with a message, not a traceback."""
    code = main(["loadgen", "--url", "http://127.0.0.1:9", "--duration", "1"])
    assert code == 1
    assert "cannot reach the service" in capsys.readouterr().out


def test_corrupt_model_refuses_a_missing_models_dir(tmp_path: Path) -> None:
    """corrupt-model needs the service's model files; without them it says so."""
    with pytest.raises(LoadgenError, match="does not exist"):
        corrupt_model(tmp_path, "stage1-qualifying")


def test_validation_errors_name_the_field() -> None:
    """Sanity check of the contract test itself: a wrong body is refused by the schema."""
    with pytest.raises(ValidationError):
        QualifyingRequest.model_validate({"driver": "varga"})
