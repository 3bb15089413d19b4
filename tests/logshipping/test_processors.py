"""The ECS shape of every event: base fields, errors, catalogue checks, standard logging."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import structlog

import logshipping
from logshipping import Action, CatalogueError, Settings, emit
from logshipping.processors import utc_timestamp
from tests.logshipping.conftest import Captured

_HTTP = {
    "http.request.method": "GET",
    "url.path": "/health",
    "http.response.status_code": 200,
    "event.duration": 1000,
}


def test_timestamp_is_utc_iso8601_with_microseconds_and_z() -> None:
    """`@timestamp` looks like 2026-11-27T09:00:00.123456Z."""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", utc_timestamp())


def test_values_json_cannot_hold_are_written_as_text(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """Non-string keys, integers beyond 64 bits, numpy floats, sets and other objects still make
    one JSON line: keys and unknown objects as their text, floats as numbers, sets as lists."""
    logshipping.configure(settings_for(), stream=stdout)
    emit(
        Action.HTTP_ACCESS,
        "GET /health 200",
        {
            **_HTTP,
            "amf1.counts": {1: "one"},
            "amf1.big": 2**70,
            "amf1.path": Path("/var/models"),
            "amf1.drivers": {"VER"},
            "amf1.score": np.float64(0.25),
        },
    )
    [event] = stdout.events()
    assert event["amf1.counts"] == {"1": "one"}
    assert event["amf1.big"] == str(2**70)
    assert event["amf1.path"] == "/var/models"
    assert event["amf1.drivers"] == ["VER"]
    assert event["amf1.score"] == 0.25


def test_every_event_carries_the_ecs_base_fields(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """An emitted event has level, message, ids, dataset, service, host and pid fields."""
    logshipping.configure(
        settings_for(service_name="svc", environment="test", log_dataset="amf1.cli"),
        stream=stdout,
    )
    emit(Action.HTTP_ACCESS, "GET /health 200", _HTTP)
    (event,) = stdout.events()
    assert event["log.level"] == "info"
    assert event["message"] == "GET /health 200"
    assert event["event.action"] == "http-access"
    assert event["event.dataset"] == "amf1.cli"
    assert event["service.name"] == "svc"
    assert event["service.environment"] == "test"
    assert event["host.name"]
    assert isinstance(event["process.pid"], int)
    assert event["url.path"] == "/health"
    assert uuid.UUID(event["event.id"]).version == 7


def test_event_ids_are_unique_and_time_ordered(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """UUIDv7 ids sort in logging order, so they work as Elasticsearch `_id`s."""
    logshipping.configure(settings_for(), stream=stdout)
    for _ in range(200):
        emit(Action.SERVICE_STARTED, "x")
    ids = [event["event.id"] for event in stdout.events()]
    assert len(set(ids)) == 200
    assert ids == sorted(ids)


def test_exceptions_become_ecs_error_fields(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """`log.exception` fills error.type, error.message and error.stack_trace."""
    logshipping.configure(settings_for(), stream=stdout)
    try:
        raise KeyError("stage9")
    except KeyError:
        structlog.get_logger().exception("lookup failed")
    (event,) = stdout.events()
    assert event["log.level"] == "error"
    assert event["error.type"] == "KeyError"
    assert event["error.message"] == "'stage9'"
    assert "Traceback" in event["error.stack_trace"]


def test_level_override_and_level_filter(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """`level=` overrides the catalogue level; events below the configured level are dropped."""
    logshipping.configure(settings_for(log_level="warning"), stream=stdout)
    fields = {"amf1.model.name": "m", "amf1.model.version": "1", "amf1.data.missing_rate": 0.2}
    emit(Action.MISSING_DATA_RATE, "quiet", fields)
    emit(Action.MISSING_DATA_RATE, "loud", fields, level="warning")
    assert [e["message"] for e in stdout.events()] == ["loud"]
    assert stdout.events()[0]["log.level"] == "warning"


def test_strict_mode_raises_on_a_missing_required_field(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """With AMF1_LOG_STRICT (tests) a catalogue event lacking a field fails loudly."""
    logshipping.configure(settings_for(log_strict=True), stream=stdout)
    with pytest.raises(CatalogueError, match=r"http\.response\.status_code"):
        emit(
            Action.HTTP_ACCESS, "incomplete", {k: v for k, v in _HTTP.items() if "status" not in k}
        )


def test_production_mode_ships_the_event_listing_missing_fields(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """Without strict mode logging never raises; the event says what it lacks."""
    logshipping.configure(settings_for(log_strict=False), stream=stdout)
    emit(Action.MODEL_LOAD_FAILED, "no model", {"amf1.model.name": "m"})
    (event,) = stdout.events()
    assert event["amf1.log.missing_fields"] == ["error.message", "error.type"]


def test_contextvars_fields_count_for_the_catalogue_and_appear_in_the_event(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """Request fields bound with structlog contextvars are merged into every event."""
    logshipping.configure(settings_for(log_strict=True), stream=stdout)
    structlog.contextvars.bind_contextvars(**_HTTP)
    emit(Action.HTTP_ACCESS, "GET /health 200")
    (event,) = stdout.events()
    assert event["http.response.status_code"] == 200


def test_extra_processors_run_before_rendering(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """The tracing package's processor can add trace.id/span.id to every event."""

    def add_trace(logger: object, method: str, event_dict: dict[str, object]) -> dict[str, object]:
        event_dict["trace.id"] = "0af7651916cd43dd8448eb211c80319c"
        return event_dict

    logshipping.configure(settings_for(), stream=stdout, extra_processors=[add_trace])
    emit(Action.SERVICE_STARTED, "up")
    logging.getLogger("httpx").warning("from the standard library")
    assert [e["trace.id"] for e in stdout.events()] == ["0af7651916cd43dd8448eb211c80319c"] * 2


def test_standard_library_logging_becomes_one_json_line_per_record(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """uvicorn/lightgbm/httpx records go through the same processors as our own events."""
    logshipping.configure(settings_for(), stream=stdout)
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("lightgbm").exception("training failed")
    started, failed = stdout.events()
    assert started["message"] == "Started server process [42]"
    assert started["log.logger"] == "uvicorn.error"
    assert started["event.action"] == "log"
    assert failed["error.type"] == "ZeroDivisionError"
    assert "_record" not in failed


def test_uvicorn_access_log_is_disabled(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """The service writes its own access event, so uvicorn's would be a duplicate."""
    logshipping.configure(settings_for(), stream=stdout)
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET / HTTP/1.1" 200')
    assert stdout.lines() == []


def test_capture_logs_sees_catalogue_events(settings_for: Callable[..., Settings]) -> None:
    """structlog.testing.capture_logs works with the configured fast path of emit()."""
    logshipping.configure(settings_for())
    with structlog.testing.capture_logs() as logs:
        emit(Action.SERVICE_STARTED, "up", {"amf1.x": 1})
    assert logs == [
        {"event": "up", "event.action": "service-started", "amf1.x": 1, "log_level": "info"}
    ]


def test_strict_environment_checks_the_catalogue_even_without_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other packages' tests log unconfigured: AMF1_LOG_STRICT=1 still catches missing fields."""
    monkeypatch.setenv("AMF1_LOG_STRICT", "1")
    with pytest.raises(CatalogueError, match=r"amf1\.model\.sha256"):
        emit(
            Action.MODEL_LOAD_SUCCEEDED,
            "loaded",
            {"amf1.model.name": "m", "amf1.model.version": "1"},
        )
    structlog.contextvars.bind_contextvars(**_HTTP)
    with structlog.testing.capture_logs() as logs:
        emit(Action.HTTP_ACCESS, "GET /health 200")
    assert logs[0]["event.action"] == "http-access"


def test_an_unusable_buffer_directory_disables_shipping_but_not_logging(
    settings_for: Callable[..., Settings], stdout: Captured, tmp_path: Path
) -> None:
    """Observability never breaks the service: configure logs the problem and carries on."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    logshipping.configure(settings_for(log_ship=True, log_buffer_dir=blocker), stream=stdout)
    emit(Action.SERVICE_STARTED, "still logging")
    failure, started = stdout.events()
    assert failure["log.logger"] == "logshipping.shipper"
    assert failure["log.level"] == "error"
    assert started["message"] == "still logging"


_GIVEN_ID = "0f2b8c1e-9d7a-5e3b-8c4d-2a1b0c9d8e7f"
_GIVEN_TIME = "2001-02-03T04:05:06.000000Z"
_SIGNAL = {"@timestamp": _GIVEN_TIME, "event.id": _GIVEN_ID, "amf1.shipper.dropped_count": 1}


def test_emit_keeps_a_caller_given_event_id_and_timestamp_on_the_fast_path(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """A whole-service signal names its own `event.id` (one per value per interval) and time."""
    logshipping.configure(settings_for(), stream=stdout)
    emit(Action.SHIPPER_DROPPED, "signal", _SIGNAL)
    (event,) = stdout.events()
    assert (event["event.id"], event["@timestamp"]) == (_GIVEN_ID, _GIVEN_TIME)


def test_a_caller_given_event_id_survives_the_structlog_path(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """Through a structlog logger (configured) and through emit before `configure`, the id holds."""
    logshipping.configure(settings_for(), stream=stdout)
    structlog.get_logger("amf1.test").warning(
        "signal", **{**_SIGNAL, "event.action": Action.SHIPPER_DROPPED.value}
    )
    (event,) = stdout.events()
    assert event["event.id"] == _GIVEN_ID
    logshipping.shutdown(timeout_s=1.0)
    structlog.reset_defaults()
    with structlog.testing.capture_logs() as logs:
        emit(Action.SHIPPER_DROPPED, "signal", _SIGNAL)
    assert logs[0]["event.id"] == _GIVEN_ID


def test_an_event_needs_one_of_its_alternative_fields(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """feedback-received carries a lap time or a winner; neither is a catalogue error."""
    logshipping.configure(settings_for(log_strict=True), stream=stdout)
    fields = {**_HTTP, "amf1.prediction.id": "p"}
    emit(Action.FEEDBACK_RECEIVED, "ok", {**fields, "amf1.feedback.winner": "varga"})
    with pytest.raises(CatalogueError, match=r"one of amf1\.feedback\.lap_time_s\|"):
        emit(Action.FEEDBACK_RECEIVED, "no outcome", fields)
    assert len(stdout.events()) == 1
