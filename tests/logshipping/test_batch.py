"""Info events emitted on an event loop are written in batches, in order, and never lost."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import orjson
import pytest
import structlog

import logshipping
from logshipping import Action, CatalogueError, Settings, emit
from logshipping.batch import MAX_EVENTS
from tests.logshipping.conftest import Captured

_STARTED = Action.SERVICE_STARTED  # info, no required fields


def _configure(
    settings_for: Callable[..., Settings], stream: BinaryIO, *, delay_ms: int, strict: bool = False
) -> None:
    logshipping.configure(
        settings_for(log_render_delay_ms=delay_ms, log_strict=strict), stream=stream
    )


def _messages(stdout: Captured) -> list[str]:
    return [event["message"] for event in stdout.events()]


def test_info_events_on_a_loop_are_written_by_the_loop_in_order(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """Emitted on a running loop, info events are not on stdout yet; the loop writes them."""
    _configure(settings_for, stdout, delay_ms=20)

    async def serve() -> list[str]:
        emit(_STARTED, "one")
        emit(_STARTED, "two")
        held = _messages(stdout)
        await asyncio.sleep(0.5)
        return held

    assert asyncio.run(serve()) == []
    assert _messages(stdout) == ["one", "two"]


def test_time_and_context_are_those_of_the_moment_of_emission(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """A held-back event carries its emission's time and context fields."""
    _configure(settings_for, stdout, delay_ms=300)

    async def serve() -> datetime:
        with structlog.contextvars.bound_contextvars(**{"amf1.request.tag": "bound"}):
            emit(_STARTED, "held")
        emitted_by = datetime.now().astimezone()
        await asyncio.sleep(0.6)
        return emitted_by

    emitted_by = asyncio.run(serve())
    [event] = stdout.events()
    assert event["amf1.request.tag"] == "bound"
    assert datetime.fromisoformat(event["@timestamp"]) <= emitted_by


@pytest.mark.parametrize("writer", ["warning event", "standard-library record"])
def test_a_line_written_at_once_comes_after_the_held_back_ones(
    settings_for: Callable[..., Settings], stdout: Captured, writer: str
) -> None:
    """A warning or a standard-library record on the loop's thread writes the batch first."""
    _configure(settings_for, stdout, delay_ms=1000)

    async def serve() -> list[str]:
        emit(_STARTED, "held")
        if writer == "warning event":
            emit(_STARTED, "at once", level="warning")
        else:
            logging.getLogger("uvicorn.error").warning("at once")
        return _messages(stdout)

    assert asyncio.run(serve()) == ["held", "at once"]


def test_events_off_the_loop_are_written_at_once(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """A thread with no loop writes at once; once a thread's loop has stopped, its next event
    writes what the loop left behind first."""
    _configure(settings_for, stdout, delay_ms=1000)

    async def serve() -> None:
        emit(_STARTED, "held")
        await asyncio.to_thread(emit, _STARTED, "from a thread")

    asyncio.run(serve())
    assert _messages(stdout) == ["from a thread"]
    emit(_STARTED, "after the loop")
    assert _messages(stdout) == ["from a thread", "held", "after the loop"]


def test_a_batch_whose_loop_stopped_is_written_at_shutdown(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """The loop ended before its batch was due: shutdown (and exit) write it."""
    _configure(settings_for, stdout, delay_ms=1000)

    async def serve() -> None:
        emit(_STARTED, "held")

    asyncio.run(serve())
    assert stdout.lines() == []
    logshipping.shutdown()
    assert _messages(stdout) == ["held"]


def test_a_full_batch_is_written_at_once(
    settings_for: Callable[..., Settings], stdout: Captured
) -> None:
    """`MAX_EVENTS` waiting are written without waiting for the delay."""
    _configure(settings_for, stdout, delay_ms=1000)

    async def serve() -> int:
        for n in range(MAX_EVENTS):
            emit(_STARTED, f"event {n}")
        return len(stdout.lines())

    assert asyncio.run(serve()) == MAX_EVENTS


@pytest.mark.parametrize("setting", ["delay 0", "strict"])
def test_a_zero_delay_or_strict_checks_write_every_event_at_once(
    settings_for: Callable[..., Settings], stdout: Captured, setting: str
) -> None:
    """`AMF1_LOG_RENDER_DELAY_MS=0`, or `AMF1_LOG_STRICT` (whose catalogue errors are raised
    into the emitter): nothing is held back."""
    strict = setting == "strict"
    _configure(settings_for, stdout, delay_ms=0 if not strict else 1000, strict=strict)

    async def serve() -> list[str]:
        emit(_STARTED, "at once")
        if strict:
            with pytest.raises(CatalogueError):
                emit(Action.PREDICTION_SUCCEEDED, "lacks its fields")
        return _messages(stdout)

    assert asyncio.run(serve()) == ["at once"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_write_its_parents_held_events(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    """The parent writes its held-back events once; the child forgets them."""
    path = tmp_path / "stdout.jsonl"
    with path.open("ab", buffering=0) as stream:
        _configure(settings_for, stream, delay_ms=1000)

        async def serve() -> None:
            emit(_STARTED, "held by the parent")
            pid = os.fork()
            if pid == 0:  # the child: its shutdown writes what it holds, which must be nothing
                logshipping.shutdown()
                os._exit(0)
            await asyncio.to_thread(os.waitpid, pid, 0)

        asyncio.run(serve())
        logshipping.shutdown()
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(line)["message"] for line in lines] == ["held by the parent"]
