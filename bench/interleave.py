"""Load several servers in short interleaved slices, so the machine's drift hits every arm alike.

The CPU speed of these machines swings by up to 2x within seconds (a pure-Python loop timed
every half second on an idle machine: 100 to 200 ms), and two identical server processes can
differ by several percent (memory layout). Loading arm A for 8 s and then arm B for 8 s measures
the machine as much as the arms. Here every server of every arm gets the whole load generator
for one short slice at a time, in an order that is reversed every cycle (A1 B1 A2 B2, then
B2 A2 B1 A1, ...), with its keep-alive connections kept open across slices. An arm's requests/s
is its requests over its slices' total time; its latency percentiles are over all its requests.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from amf1.loadgen.client import Connection, ProtocolError, Target
from amf1.loadgen.runner import Scenario
from amf1.loadgen.stats import latency_summary


@dataclass
class ArmLoad:
    """What one arm's servers answered over all their slices."""

    requests: int = 0
    seconds: float = 0.0
    failures: int = 0
    cpu_seconds: float = 0.0  # of the servers' processes during their slices, when measured
    serving_cpu_seconds: float = 0.0  # of their main threads (the event loop) alone
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))
    by_server: dict[str, list[float]] = field(default_factory=dict)  # url -> [requests, seconds]

    def summary(self) -> dict[str, Any]:
        """rps over the arm's slices, latency percentiles in ms, and rps per server process."""
        return {
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": latency_summary(self.latencies_ns),
            "requests": self.requests,
            "failures": self.failures,
            "cpu_us_per_request": self._per_request_us(self.cpu_seconds),
            "serving_thread_cpu_us_per_request": self._per_request_us(self.serving_cpu_seconds),
            "rps_by_process": [round(n / s, 1) if s else 0.0 for n, s in self.by_server.values()],
        }

    def _per_request_us(self, seconds: float) -> float | None:
        return round(seconds / self.requests * 1e6, 1) if seconds and self.requests else None


async def _slice(
    connections: Sequence[Connection], scenario: Scenario, seconds: float, arm: ArmLoad
) -> int:
    deadline = time.perf_counter() + seconds
    latencies = arm.latencies_ns

    async def worker(connection: Connection) -> int:
        done = 0
        while time.perf_counter() < deadline:
            request = scenario.next_request()
            started = time.perf_counter_ns()
            try:
                response = await connection.send(request)
            except (TimeoutError, OSError, ProtocolError):
                arm.failures += 1
                await asyncio.sleep(0.01)  # a dead server must not turn this into a busy loop
                continue
            latencies.append(time.perf_counter_ns() - started)
            if response.status != 200:
                arm.failures += 1
            done += 1
        return done

    return sum(await asyncio.gather(*(worker(c) for c in connections)))


async def interleaved(
    arms: Mapping[str, Sequence[str]],
    scenario: Scenario,
    *,
    seconds_per_arm: float,
    slice_s: float = 0.25,
    concurrency: int = 16,
    on_slice: Callable[[str, bool], None] | None = None,
    cpu_seconds: Mapping[str, Callable[[], tuple[float, float]]] | None = None,
) -> dict[str, ArmLoad]:
    """Load `arms` ({name: server URLs}, the same number per arm) for about `seconds_per_arm`
    each, one slice at a time.

    `on_slice(arm, started)` is called around every slice (e.g. to sample a process's memory
    only while it is under load). `cpu_seconds` ({URL: CPU seconds its server process has used
    so far, all threads and its main thread}) adds each arm's server CPU time per request.
    """
    servers = [(name, url) for name, urls in arms.items() for url in urls]
    # Alternate arms within a cycle: A1 B1 A2 B2 (servers of one arm are not adjacent).
    per_arm = [[(name, url) for url in urls] for name, urls in arms.items()]
    order = [pair for group in zip(*per_arm, strict=True) for pair in group]
    connections = {
        url: [Connection(Target.from_url(url), timeout_s=10.0) for _ in range(concurrency)]
        for _, url in servers
    }
    results = {name: ArmLoad() for name in arms}
    cycles = max(1, round(seconds_per_arm / (slice_s * len(order) / len(arms))))
    try:
        for cycle in range(cycles):
            for name, url in order if cycle % 2 == 0 else order[::-1]:
                arm = results[name]
                if on_slice:
                    on_slice(name, True)
                cpu = cpu_seconds.get(url) if cpu_seconds else None
                cpu_before = cpu() if cpu else (0.0, 0.0)
                started = time.perf_counter()
                done = await _slice(connections[url], scenario, slice_s, arm)
                elapsed = time.perf_counter() - started
                if cpu:
                    process_s, serving_s = cpu()
                    arm.cpu_seconds += process_s - cpu_before[0]
                    arm.serving_cpu_seconds += serving_s - cpu_before[1]
                if on_slice:
                    on_slice(name, False)
                arm.requests += done
                arm.seconds += elapsed
                tally = arm.by_server.setdefault(url, [0, 0.0])
                tally[0] += done
                tally[1] += elapsed
    finally:
        for pool in connections.values():
            for connection in pool:
                await connection.close()
    return results
