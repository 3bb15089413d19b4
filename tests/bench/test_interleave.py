"""The interleaved load driver against real loopback HTTP servers of known speed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from amf1.loadgen.client import Request
from amf1.loadgen.runner import run_sync
from bench.interleave import interleaved


class _Fixed:
    name = "fixed"

    def next_request(self) -> Request:
        return Request("GET", "/")

    def observe(self, request: Request, response: object) -> None:
        """Nothing to learn."""


@asynccontextmanager
async def _server(delay_s: float, status: int = 200) -> AsyncIterator[str]:
    """A keep-alive HTTP/1.1 server on loopback answering every request after `delay_s`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(delay_s)
                writer.write(b"HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok" % status)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def test_each_arm_gets_its_share_of_slices_and_its_own_speed() -> None:
    """Two arms of two servers: every server is loaded, the arms' times match the plan, the
    slow arm's requests/s is the lower one, and slices alternate between the arms."""
    slices: list[tuple[str, bool]] = []

    async def scenario() -> dict[str, object]:
        async with (
            _server(0.002) as fast_a,
            _server(0.002) as fast_b,
            _server(0.008) as slow_a,
            _server(0.008) as slow_b,
        ):
            arms = {"fast": [fast_a, fast_b], "slow": [slow_a, slow_b]}
            return dict(
                await interleaved(
                    arms,
                    _Fixed(),
                    seconds_per_arm=0.8,
                    slice_s=0.1,
                    concurrency=2,
                    on_slice=lambda arm, started: slices.append((arm, started)),
                    # The servers run in this process and thread: its CPU time is theirs (and the
                    # client's).
                    cpu_seconds=dict.fromkeys(
                        [fast_a, fast_b, slow_a, slow_b],
                        lambda: (time.process_time(), time.thread_time()),
                    ),
                )
            )

    results = run_sync(scenario)
    fast, slow = results["fast"].summary(), results["slow"].summary()
    assert len(fast["rps_by_process"]) == len(slow["rps_by_process"]) == 2
    assert all(rps > 0 for rps in fast["rps_by_process"] + slow["rps_by_process"])
    for arm in results.values():
        assert 0.7 < arm.seconds < 1.2
        assert arm.failures == 0
        assert len(arm.latencies_ns) == arm.requests
    assert fast["rps"] > 1.5 * slow["rps"]
    for summary in (fast, slow):
        assert summary["cpu_us_per_request"] > 0
        # One thread here: the two clocks agree up to when each was read.
        serving = summary["serving_thread_cpu_us_per_request"]
        assert 0 < serving <= 1.05 * summary["cpu_us_per_request"]
    starts = [arm for arm, started in slices if started]
    assert starts[:4] == ["fast", "slow", "fast", "slow"]
    assert starts[4:8] == ["slow", "fast", "slow", "fast"]  # the next cycle runs in reverse
    assert slices.count(("fast", True)) == slices.count(("fast", False)) == 8


def test_error_answers_are_counted_as_failures() -> None:
    """A server answering 500 shows up in `failures`, not as healthy throughput."""

    async def scenario() -> dict[str, object]:
        async with _server(0.001) as good, _server(0.001, status=500) as bad:
            return dict(
                await interleaved(
                    {"good": [good], "bad": [bad]},
                    _Fixed(),
                    seconds_per_arm=0.2,
                    slice_s=0.1,
                    concurrency=1,
                )
            )

    results = run_sync(scenario)
    assert results["good"].failures == 0
    assert results["bad"].failures == results["bad"].requests > 0
