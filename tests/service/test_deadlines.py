"""`service.deadlines`: the header and body deadlines without a timer per request."""

from __future__ import annotations

import asyncio
import time

import pytest

from service.deadlines import RESOLUTION_S, BodyDeadline, for_loop


def test_a_block_that_outlives_its_deadline_raises_timeout_error_in_time() -> None:
    """Like `asyncio.timeout`: TimeoutError once the time has passed, at most RESOLUTION_S late."""

    async def scenario() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError), BodyDeadline(0.3):
            await asyncio.sleep(10)
        return time.monotonic() - started

    took = asyncio.run(scenario())
    assert 0.3 <= took < 0.3 + RESOLUTION_S + 0.2


def test_a_block_that_ends_in_time_is_not_interrupted_later() -> None:
    """A finished block's deadline is gone: the task sleeps on past it undisturbed, and the
    loop's sweeping timer stops once nothing is armed."""

    async def scenario() -> bool:
        with BodyDeadline(0.1):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1 + 2 * RESOLUTION_S)
        return not for_loop(asyncio.get_running_loop()).sweeping

    assert asyncio.run(scenario())


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    """A client that goes away cancels the request's task: that is not a timeout."""

    async def scenario() -> None:
        async def read_body() -> None:
            with BodyDeadline(5.0):
                await asyncio.sleep(10)

        task = asyncio.create_task(read_body())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_a_header_deadline_armed_twice_keeps_the_first_time() -> None:
    """A connection's deadline runs from when it opened, not from its first byte."""

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        deadlines = for_loop(loop)
        fired = loop.create_future()
        key = object()
        started = time.monotonic()
        deadlines.arm(key, 0.3, lambda: fired.set_result(time.monotonic()))
        await asyncio.sleep(0.2)
        deadlines.arm(key, 0.3, lambda: None)
        return await fired - started

    took = asyncio.run(scenario())
    assert 0.3 <= took < 0.3 + RESOLUTION_S + 0.2
