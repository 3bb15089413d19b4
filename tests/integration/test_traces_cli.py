"""`amf1 traces` and `amf1 trace ID` against the real Jaeger and Elasticsearch, with a real
`amf1 serve` process at the default sampling (failed and slow traces kept)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import Elasticsearch

from amf1.cli import main
from service.features import STAGE1_NAME, STAGE2_NAME
from service.predict_flow import TEST_DELAY_HEADER
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all
from tests.integration.tracing_support import Served, serve, wait_for
from tests.stack_fixtures import StackEndpoints

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`amf1 serve` at the default sampling, stage-2's model missing (a 503 is one call away)."""
    work = tmp_path_factory.mktemp("traces-cli")
    models = work / "models"
    table = validate_dataset(generate(seasons=3, seed=5), source="test")
    train_all(table, models, seed=5, source="test")
    shutil.rmtree(models / STAGE2_NAME)
    env = {
        "AMF1_SERVICE_NAME": f"amf1-itest-{uuid.uuid4().hex[:8]}",
        "AMF1_ENVIRONMENT": "test",
        "AMF1_OTLP_HTTP_ENDPOINT": stack.otlp_http_endpoint,
        "AMF1_OTLP_PROTOCOL": "http",
        "AMF1_TRACING_SCHEDULE_DELAY_MS": "200",
        "AMF1_LOGSTASH_HOST": stack.log_tcp_host,
        "AMF1_LOGSTASH_PORT": str(stack.log_tcp_port),
        "AMF1_LOG_BUFFER_DIR": str(work / "buffer"),
        "AMF1_TEST_DELAY_ENABLED": "true",
        "AMF1_LOG_LEVEL": "info",
    }
    with serve(work, models, env) as process:
        yield process


@pytest.fixture(autouse=True)
def _tools_point_at_the_stack(stack: StackEndpoints, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMF1_JAEGER_QUERY_URL", stack.jaeger_query_url)
    monkeypatch.setenv("AMF1_ES_URL", stack.es_url)


def _qualifying(served: Served, **headers: str) -> httpx.Response:
    drivers = httpx.get(f"{served.url}/drivers", timeout=10).json()["by_model"][STAGE1_NAME]
    circuits = httpx.get(f"{served.url}/circuits", timeout=10).json()["by_model"][STAGE1_NAME]
    body = {
        "driver": drivers[0],
        "circuit": circuits[0],
        "air_temp_c": 24.0,
        "track_temp_c": 38.5,
        "humidity_pct": 55.0,
        "rain_probability": 0.05,
    }
    response = httpx.post(
        f"{served.url}/predict/qualifying", json=body, headers=headers, timeout=15
    )
    assert response.status_code == 200, response.text
    return response


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_traces_lists_the_slow_and_the_failed_prediction(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--min-duration-ms` finds the slow prediction with its columns; `--errors` the 503."""
    slow = _qualifying(served, **{TEST_DELAY_HEADER: "300"}).headers["x-trace-id"]
    drivers = httpx.get(f"{served.url}/drivers", timeout=10).json()["drivers"][:5]
    entries = [
        {"driver": d, "grid_position": i + 1, "qualifying_lap_s": 79.8 + 0.15 * i}
        for i, d in enumerate(drivers)
    ]
    body = {"circuit": "monza", "rain_probability": 0.1, "entries": entries}
    failed = httpx.post(f"{served.url}/predict/race-winner", json=body, timeout=15)
    assert failed.status_code == 503, failed.text
    failed_id = failed.headers["x-trace-id"]
    service = served.service_name

    def listed(*argv: str, trace_id: str) -> str | None:
        code, out = _run(capsys, "traces", "--service", service, "--since", "10m", *argv)
        return out if code == 0 and trace_id in out else None

    out = wait_for(lambda: listed("--min-duration-ms", "250", trace_id=slow), "slow trace")
    row = next(line for line in out.splitlines() if slow in line)
    assert "/predict/qualifying" in row
    assert STAGE1_NAME in row
    assert "200 ok" in row
    assert out.splitlines()[0].split()[:4] == ["time", "(UTC)", "trace", "id"]
    out = wait_for(lambda: listed("--errors", trace_id=failed_id), "failed trace")
    assert slow not in out
    assert "503 ERROR" in next(line for line in out.splitlines() if failed_id in line)


def test_trace_shows_the_waterfall_with_the_log_events(
    served: Served, es: Elasticsearch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spans with their attributes and the request's log event from Elasticsearch, in one
    view."""
    trace_id = _qualifying(served, **{TEST_DELAY_HEADER: "250"}).headers["x-trace-id"]

    def shown() -> str | None:
        code, out = _run(capsys, "trace", trace_id)
        return out if code == 0 and "prediction-succeeded" in out else None

    out = wait_for(shown, f"trace {trace_id} with its log event", 90)
    lines = out.splitlines()
    assert lines[0].startswith(f"trace {trace_id}  POST /predict/qualifying")
    server = next(
        i for i, line in enumerate(lines) if line.rstrip().endswith("POST /predict/qualifying")
    )
    inference = next(i for i, line in enumerate(lines) if "model-inference" in line)
    event = next(i for i, line in enumerate(lines) if "prediction-succeeded" in line)
    assert server < inference < event
    assert any("amf1.driver=" in line for line in lines)
    assert any("http.route=/predict/qualifying" in line for line in lines)


def test_unknown_trace_says_why_it_may_be_missing(capsys: pytest.CaptureFixture[str]) -> None:
    """A trace Jaeger does not have: exit 1 and the sampling hint."""
    code, out = _run(capsys, "trace", uuid.uuid4().hex)
    assert code == 1
    assert "amf1.trace.kept" in out
