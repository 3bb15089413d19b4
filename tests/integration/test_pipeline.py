"""The log pipeline end to end: lines in on the TCP port, documents out in Elasticsearch.

Runs against the collector of the native stack, and against a real Logstash container where a
Docker engine answers (same test bodies). Expected documents come from the rules' Python oracle
(`elk.pipeline_rules.reference_document`), so the engines are held to the one table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pytest
from elasticsearch import Elasticsearch

import logshipping
from elk import installer, pipeline_rules
from logshipping import Action, Settings
from tests.integration.pipeline_support import (
    Pipeline,
    by_run,
    by_text,
    count_when_answering,
    docker_engine_answers,
    event_line,
    logstash_pipeline,
    send_lines,
    wait_for_hits,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def index_template(es: Elasticsearch) -> None:
    """The amf1-logs template is in place before any daily index is created by a test."""
    installer.install(es)


@pytest.fixture(params=["collector", "logstash"])
def pipeline(
    request: pytest.FixtureRequest, stack: Any, stack_control: Any, index_template: None
) -> Iterator[Pipeline]:
    """The pipeline engine under test, listening for JSON lines."""
    if request.param == "collector":
        yield Pipeline(
            "collector",
            stack.log_tcp_host,
            stack.log_tcp_port,
            stop=lambda: stack_control.stop("collector"),
            start=lambda: stack_control.start("collector"),
        )
        return
    if not docker_engine_answers():
        pytest.skip("no Docker engine: the Logstash pipeline runs in a container only with Docker")
    yield from logstash_pipeline(stack.es_url)


@pytest.fixture
def stdout(tmp_path: Path) -> Iterator[BinaryIO]:
    """Where the service logger writes its stdout copy during a test."""
    with (tmp_path / "stdout.jsonl").open("wb") as stream:
        yield stream


def _source(hit: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = hit["_source"]
    return source


def test_structured_events_from_the_service_logger_land_in_todays_index(
    pipeline: Pipeline, es: Elasticsearch, tmp_path: Path, stdout: BinaryIO
) -> None:
    """Events logged by the service's own logger arrive with level, tags, @timestamp and _id."""
    run_id = uuid.uuid4().hex
    logshipping.configure(
        Settings(
            logstash_host=pipeline.host,
            logstash_port=pipeline.port,
            log_buffer_dir=tmp_path / "buffer",
            service_name="amf1-test",
        ),
        stream=stdout,
    )
    try:
        logshipping.emit(
            Action.MODEL_LOAD_FAILED,
            f"model load failed {run_id}",
            {
                "amf1.model.name": "stage1-qualifying",
                "error.type": "ChecksumMismatch",
                "error.message": "sha256 differs",
                "amf1.test_run": run_id,
            },
        )
        logshipping.emit(
            Action.DRIFT_DETECTED,
            f"drift {run_id}",
            {
                "amf1.model.name": "stage1-qualifying",
                "amf1.model.version": "1",
                "amf1.drift.feature": "track_temp_c",
                "amf1.drift.score": 0.31,
                "amf1.drift.threshold": 0.2,
                "amf1.test_run": run_id,
            },
        )
    finally:
        assert logshipping.shutdown(timeout_s=30)

    hits = wait_for_hits(es, by_run(run_id), 2)
    today = pipeline_rules.index_for(datetime.now(UTC))
    by_action = {_source(hit)["event.action"]: hit for hit in hits}
    failed = by_action["model-load-failed"]
    assert failed["_index"] == today
    assert failed["_id"] == _source(failed)["event.id"]
    assert _source(failed)["log.level"] == "error"
    assert sorted(_source(failed)["tags"]) == ["error", "model_load_failure"]
    drift = _source(by_action["drift-detected"])
    assert drift["log.level"] == "warning"
    assert drift["tags"] == ["drift_warning"]
    assert pipeline_rules.index_for(datetime.fromisoformat(drift["@timestamp"])) == today


def test_plain_text_line_is_parsed_into_level_message_and_timestamp(
    pipeline: Pipeline, es: Elasticsearch
) -> None:
    """`<time> - ERROR - text` becomes a document with level error, tag error, that @timestamp."""
    token = uuid.uuid4().hex
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    line = f"{stamp} - ERROR - plain text failure {token}"
    send_lines(pipeline, [line])

    (hit,) = wait_for_hits(es, by_text(token), 1)
    expected = pipeline_rules.reference_document(line, datetime.now(UTC))
    assert hit["_index"] == expected.index
    source = _source(hit)
    assert source["message"] == f"plain text failure {token}"
    assert source["log.level"] == "error"
    assert source["tags"] == ["error"]
    assert datetime.fromisoformat(source["@timestamp"]) == datetime.fromisoformat(
        expected.document["@timestamp"]
    )


def test_event_at_the_last_millisecond_of_a_day_lands_in_that_days_index(
    pipeline: Pipeline, es: Elasticsearch
) -> None:
    """An event stamped 23:59:59.999 UTC is indexed in that day, whatever the clock says now."""
    run_id = uuid.uuid4().hex
    _, line = event_line(run_id, **{"@timestamp": "2026-03-14T23:59:59.999000Z"})
    send_lines(pipeline, [line])

    (hit,) = wait_for_hits(es, by_run(run_id), 1)
    assert hit["_index"] == "amf1-logs-2026.03.14"
    assert _source(hit)["@timestamp"] == "2026-03-14T23:59:59.999000Z"


def test_malformed_line_is_indexed_with_the_parse_failure_tag(
    pipeline: Pipeline, es: Elasticsearch
) -> None:
    """A line that is not JSON nor the plain format is kept, raw, tagged, not dropped."""
    token = uuid.uuid4().hex
    line = f'{{"truncated": "{token}'
    send_lines(pipeline, [line])

    (hit,) = wait_for_hits(es, by_text(token), 1)
    source = _source(hit)
    assert pipeline_rules.PARSE_FAILURE_TAG in source["tags"]
    assert source["message"] == line
    assert source["event.original"] == line
    assert hit["_index"] == pipeline_rules.index_for(datetime.fromisoformat(source["@timestamp"]))


def test_json_object_followed_by_junk_is_a_malformed_line(
    pipeline: Pipeline, es: Elasticsearch
) -> None:
    """A JSON object with text after it is not a JSON line: kept raw and tagged, as the rules say
    (a lenient parser would index the object's fields and drop the rest silently)."""
    token = uuid.uuid4().hex
    line = f'{{"message": "{token}", "log.level": "info"}} trailing junk'
    expected = pipeline_rules.reference_document(line, datetime.now(UTC)).document
    send_lines(pipeline, [line])

    (hit,) = wait_for_hits(es, by_text(token), 1)
    source = _source(hit)
    assert pipeline_rules.PARSE_FAILURE_TAG in expected["tags"]
    assert pipeline_rules.PARSE_FAILURE_TAG in source["tags"]
    assert source["message"] == line


def test_re_delivered_event_is_stored_once(pipeline: Pipeline, es: Elasticsearch) -> None:
    """The same event delivered three times is one document, the first copy (`_id` = event.id)."""
    run_id = uuid.uuid4().hex
    event_id, line = event_line(run_id, message=f"first copy {run_id}")
    send_lines(pipeline, [line])
    (first,) = wait_for_hits(es, by_run(run_id), 1)
    assert first["_id"] == event_id

    _, sentinel = event_line(run_id, message=f"sentinel {run_id}")
    copy = line.replace("first copy", "second copy")
    send_lines(pipeline, [copy, copy, sentinel])
    # The sentinel went in after the copies; once it is searchable, so would they be.
    wait_for_hits(es, by_run(run_id), 2)
    time.sleep(2)
    by_id = {"term": {"event.id": event_id}}
    assert count_when_answering(es, by_id) == 1
    (stored,) = wait_for_hits(es, by_id, 1)
    assert _source(stored)["message"] == f"first copy {run_id}"


def test_nothing_is_lost_while_elasticsearch_is_down_for_30_seconds(
    pipeline: Pipeline, es: Elasticsearch, stack_control: Any
) -> None:
    """Events accepted while Elasticsearch is stopped are all indexed once it is back."""
    run_id = uuid.uuid4().hex
    lines = [event_line(run_id, **{"amf1.seq": seq})[1] for seq in range(200)]
    stack_control.stop("elasticsearch")
    try:
        send_lines(pipeline, lines[:100])
        time.sleep(15)
        send_lines(pipeline, lines[100:])
        time.sleep(15)
    finally:
        stack_control.start("elasticsearch")
    hits = wait_for_hits(es, by_run(run_id), 200, timeout_s=180)
    assert len({hit["_id"] for hit in hits}) == 200


def test_shipper_buffer_holds_while_the_pipeline_is_down_and_drains(
    pipeline: Pipeline, es: Elasticsearch, tmp_path: Path, stdout: BinaryIO
) -> None:
    """With the pipeline stopped the service's shipper keeps every event and sends it later."""
    run_id = uuid.uuid4().hex
    pipeline.stop()
    restarted = False
    logshipping.configure(
        Settings(
            logstash_host=pipeline.host,
            logstash_port=pipeline.port,
            log_buffer_dir=tmp_path / "buffer",
            log_retry_max_s=2.0,
        ),
        stream=stdout,
    )
    try:
        for seq in range(300):
            logshipping.emit(
                Action.LOG, f"buffered {run_id}", {"amf1.test_run": run_id, "amf1.seq": seq}
            )
        time.sleep(10)
        assert count_when_answering(es, by_run(run_id)) == 0
        pipeline.start()
        restarted = True
        hits = wait_for_hits(es, by_run(run_id), 300, timeout_s=120)
    finally:
        if not restarted:
            pipeline.start()
        logshipping.shutdown(timeout_s=10)
    assert sorted(_source(hit)["amf1.seq"] for hit in hits) == list(range(300))


def _without(line: str, field: str) -> str:
    event = orjson.loads(line)
    del event[field]
    return orjson.dumps(event).decode()


def test_levels_tags_and_timestamps_follow_the_oracle(
    pipeline: Pipeline, es: Elasticsearch
) -> None:
    """Level spellings, non-string levels, missing or unreadable @timestamp: as the rules say."""
    run_id = uuid.uuid4().hex
    lines = [
        event_line(run_id, **{"amf1.case": case, **fields})[1]
        for case, fields in enumerate(
            [
                {"log.level": "WARN", "event.action": "drift-detected"},
                {"log.level": "Fatal", "event.action": "prediction-failed"},
                {"log.level": "err"},
                {"log.level": "ERROR", "event.action": "model-load-failed"},
                {"log.level": "verbose"},
                {"log.level": 5},
                {"@timestamp": "yesterday"},
            ]
        )
    ]
    lines.append(_without(event_line(run_id, **{"amf1.case": len(lines)})[1], "@timestamp"))
    received = datetime.now(UTC)
    send_lines(pipeline, lines)

    hits = wait_for_hits(es, by_run(run_id), len(lines))
    by_case = {_source(hit)["amf1.case"]: hit for hit in hits}
    for case, line in enumerate(lines):
        expected = pipeline_rules.reference_document(line, received)
        hit = by_case[case]
        stored = _source(hit)
        assert hit["_index"] == expected.index, line
        for field in ("log.level", "tags", "_@timestamp"):
            assert stored.get(field) == expected.document.get(field), (field, line)
        stamp = datetime.fromisoformat(stored["@timestamp"])
        if pipeline_rules.TIMESTAMP_FIELD in orjson.loads(line) and "_@timestamp" not in stored:
            assert stamp == datetime.fromisoformat(expected.document["@timestamp"]), line
        else:  # stamped on receipt, by the engine's clock
            assert abs((stamp - received).total_seconds()) < 60, line


def test_a_race_fields_probabilities_are_stored_not_indexed(
    pipeline: Pipeline, es: Elasticsearch
) -> None:
    """`amf1.prediction.probabilities` (driver -> probability) passes through as an object that
    is kept in `_source` for the watcher's join and adds no field to the mapping."""
    run_id = uuid.uuid4().hex
    day = datetime(2002, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 700)
    field = {"varga": 0.5, "o'neil": 0.25, "st. pierre": 0.25}
    _, line = event_line(
        run_id,
        **{
            "@timestamp": day.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "event.action": "prediction-succeeded",
            "amf1.prediction.id": run_id,
            "amf1.prediction.probabilities": field,
        },
    )
    index = pipeline_rules.index_for(day)
    try:
        send_lines(pipeline, [line])
        (hit,) = wait_for_hits(es, by_run(run_id), 1)
        assert hit["_index"] == index
        assert _source(hit)["amf1.prediction.probabilities"] == field
        mapping = es.indices.get_mapping(index=index)[index]["mappings"]
        stored = mapping["properties"]["amf1"]["properties"]["prediction"]["properties"]
        assert stored["probabilities"] == {"type": "object", "enabled": False}
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
