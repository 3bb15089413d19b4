"""Log injection: hostile values cannot forge a second event, on stdout or in the shipped stream."""

from __future__ import annotations

import logging
from collections.abc import Callable

import logshipping
from logshipping import Action, Settings, emit
from tests.logshipping.conftest import Captured
from tests.logshipping.receiver import LineReceiver

HOSTILE = (
    'VER"\n{"@timestamp":"2020-01-01T00:00:00Z","log.level":"critical",'
    '"event.action":"model-load-failed"}\r\n\x00\x1b[31m\u2028\u2029\\"}'
)


def test_hostile_driver_name_stays_inside_one_event_on_stdout(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """Newlines, quotes and control characters are escaped: one line, value intact."""
    logshipping.configure(settings_for(), stream=stdout)
    emit(Action.SERVICE_STARTED, HOSTILE, {"amf1.driver": HOSTILE})
    logging.getLogger("uvicorn.error").warning("bad input %s", HOSTILE)
    lines = stdout.lines()
    assert len(lines) == 2
    first, second = stdout.events()
    assert first["amf1.driver"] == HOSTILE
    assert first["message"] == HOSTILE
    assert first["event.action"] == "service-started"
    assert second["message"] == f"bad input {HOSTILE}"


def test_hostile_driver_name_stays_inside_one_event_in_the_shipped_stream(
    settings_for: Callable[..., Settings], stdout: Captured, receiver: LineReceiver
) -> None:
    """The receiver gets exactly the events logged, each parsing back to the original value."""
    logshipping.configure(settings_for(log_ship=True, logstash_port=receiver.port), stream=stdout)
    for _ in range(3):
        emit(Action.SERVICE_STARTED, "hostile", {"amf1.driver": HOSTILE})
    logging.getLogger("httpx").warning(HOSTILE)
    assert logshipping.shutdown(timeout_s=10)
    # Delivered means acknowledged by the receiver's kernel; its reader thread may lag behind.
    assert receiver.wait_for(lambda ev: len(ev) >= 4, 30.0)
    events = receiver.events()
    assert len(receiver.lines) == 4
    assert [e.get("amf1.driver") for e in events] == [HOSTILE] * 3 + [None]
    assert events[3]["message"] == HOSTILE
