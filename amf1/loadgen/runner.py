"""The load loop: keep-alive workers pacing requests at a target rate, bounded in count and time.

This is the one load-generator core of the project: `amf1 loadgen`, `amf1 demo` and the
benchmarks under `bench/` all drive the service through `run_load`.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from amf1.loadgen.client import Connection, LoadgenError, ProtocolError, Request, Response, Target
from amf1.loadgen.stats import Recorder

# A hard ceiling on requests in one run, whatever the arguments say.
MAX_REQUESTS = 2_000_000
_T = TypeVar("_T")


class Scenario(Protocol):
    """What a load run sends: one request at a time, seeing each response."""

    name: str

    def next_request(self) -> Request:
        """The next request to send (called once per request, from one event loop)."""
        ...

    def observe(self, request: Request, response: Response | None) -> None:
        """See the response (None when the request failed at the connection level)."""
        ...


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """How hard and for how long.

    Attributes:
        rps: target request rate; None sends as fast as the connections allow (benchmarks).
        duration_s: wall-clock bound of the run.
        max_requests: count bound; defaults to rps x duration (or `MAX_REQUESTS` unpaced).
        concurrency: keep-alive connections, one worker each.
        timeout_s: per-request timeout.
    """

    rps: float | None
    duration_s: float
    max_requests: int | None = None
    concurrency: int = 8
    timeout_s: float = 10.0

    def request_limit(self) -> int:
        """The count bound actually applied."""
        if self.max_requests is not None:
            return min(self.max_requests, MAX_REQUESTS)
        if self.rps:
            return min(math.ceil(self.rps * self.duration_s), MAX_REQUESTS)
        return MAX_REQUESTS


async def run_load(target: Target, scenario: Scenario, plan: LoadPlan) -> dict[str, Any]:
    """Run `scenario` against `target` under `plan`; returns the recorder's summary.

    The run stops at the first of: `plan.request_limit()` requests, `plan.duration_s` elapsed.
    Requests are scheduled at `start + i / rps`; a server slower than the target rate simply gets
    fewer requests (latency is measured from the actual send).
    """
    if plan.duration_s <= 0 or plan.concurrency < 1:
        raise LoadgenError("duration must be > 0 and concurrency >= 1")
    recorder = Recorder()
    limit = plan.request_limit()
    counter = itertools.count()
    start = time.perf_counter()
    deadline = start + plan.duration_s

    async def worker() -> None:
        connection = Connection(target, plan.timeout_s)
        try:
            while (index := next(counter)) < limit:
                if plan.rps:
                    delay = start + index / plan.rps - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if time.perf_counter() >= deadline:
                    return
                await _one_request(connection, scenario, recorder)
        finally:
            await connection.close()

    workers = [asyncio.ensure_future(worker()) for _ in range(plan.concurrency)]
    # Every request has its own timeout; this outer bound only guards against a stuck loop.
    await _bounded(asyncio.gather(*workers), plan.duration_s + plan.timeout_s + 5.0, workers)
    summary = recorder.summary(time.perf_counter() - start)
    summary["scenario"] = scenario.name
    summary["target"] = target.url
    summary["plan"] = {
        "rps": plan.rps,
        "duration_s": plan.duration_s,
        "max_requests": limit,
        "concurrency": plan.concurrency,
    }
    return summary


async def _one_request(connection: Connection, scenario: Scenario, recorder: Recorder) -> None:
    request = scenario.next_request()
    response: Response | None = None
    started = time.perf_counter_ns()
    try:
        response = await connection.send(request)
        outcome = str(response.status)
    except TimeoutError:
        outcome = "timeout"
    except (OSError, ProtocolError) as exc:
        outcome = type(exc).__name__
    recorder.add(request.label or request.path, outcome, time.perf_counter_ns() - started, response)
    scenario.observe(request, response)


async def _bounded(
    awaitable: Awaitable[_T], timeout_s: float, tasks: Sequence[asyncio.Future[None]]
) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        for task in tasks:
            task.cancel()


def run_sync(coroutine_factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine on a fresh event loop (uvloop when installed, as uvicorn uses)."""
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up, present with uvicorn[standard]

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(_as_coroutine(coroutine_factory))


async def _as_coroutine(factory: Callable[[], Awaitable[_T]]) -> _T:
    return await factory()
