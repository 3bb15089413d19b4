"""Benchmark: what observability costs, as the service's CPU time per request at a fixed load.

    python -m bench.overhead [--pairs 40] [--seconds 3] [--slice 0.5] [--load 0.6] [--rate RPS]
                             [--concurrency 32] [--models-dir DIR] [--seed 0]

Throughput ratios did not settle on this 2-core machine (the same comparison moved by ten points
between runs): a server saturated by the load generator measures the machine's weather. This
measures work instead: each arm's server process gets the same open-loop offered load (requests
sent on a fixed schedule, `--load` x the bare service's capacity), and its CPU time (user +
system, every thread, from /proc) over the measured turns is divided by the requests it served.

- The bare service's capacity is what its one core can serve at the CPU per request it needs
  under open loop: 1 / (CPU s per request), probed at `PROBE_RPS` and again at `--load` x that
  first estimate. Not a saturating burst: a server flooded by 32 connections batches its wake-ups
  and answers ~1.5x that, and 0.6 x such a burst figure left the heavier arms saturated (they
  fell behind, queued, and their CPU per request then measured queueing and GIL hand-offs with
  their background threads, not their work). `turns_behind` counts, per arm, the turns that
  served under `SATURATED` x the offered rate: 0 is a clean run.

- The server runs on core 0 (`taskset -c 0`); this process (the load generator) and the sinks
  it starts (the OTLP sink in Jaeger's seat, the log line sink in the collector's) run on core 1
  (`os.sched_setaffinity`), so their work is not charged to the server.
- Every pair starts a fresh process of every arm (all up at once, idle but for the arm under
  load), warms each up for 1 s, then moves the load from arm to arm in `--slice`-second turns, in
  an order shuffled every round, until each arm had `--seconds`: a slower or faster spell of this
  shared machine falls on every arm of the pair alike instead of on whichever ran then. An arm's
  CPU (from /proc/<pid>/task/*/schedstat, in ns) is counted over its own turns, each with 0.2 s
  after it, not while the others are loaded (its idle timers would be charged to its requests).
  Arms:
  `bare` (FastAPI + LightGBM, `bench.predict_server`), `service` (`amf1 serve` without
  observability: tracing off, shipping off, level `critical`), `tracing` (the service with
  tracing only, default settings), `tracing_export_all` (tracing only, every trace exported),
  `sdk_tracing` (the official SDK's TracerProvider, BatchSpanProcessor and OTLP/HTTP exporter,
  every trace exported), `all_observability` (every default on: logs, shipping, tracing, drift,
  metrics).
- `overhead_pct`: the median over pairs of (arm / baseline - 1) x 100, with a 95 % bootstrap
  interval of that median (10,000 resamples); the tracing arms against `service`,
  `all_observability` against `bare`. 40 pairs by default: one turn's CPU per request varies by
  ~9 % here (the host's slow spells), one pair's ratio by 3-5 points, and 20 pairs left intervals
  3-6 points wide, wider than what the goals tell apart.

Prints one JSON object: `cpu_per_request_us` (per arm: median over pairs), `overhead_pct`
({arm: {median, ci95_low, ci95_high}}), the offered rate and the capacity probe, `turns_behind`,
and per-pair raw figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from amf1.loadgen.client import Connection, ProtocolError, Request, Target
from amf1.loadgen.runner import run_sync
from bench.predict import _scenario
from bench.service_load import BARE_ENV, COMMON_ENV, observed_env
from bench.serving import (
    PYTHON,
    models_dir,
    otlp_sink_env,
    serve_command,
    sink_process,
    start_server,
    wait_ready,
)

SERVER_CORE = 0
LOAD_CORE = 1
WARM_UP_S = 1.0
TAIL_S = 0.2
RECONNECT_SETTLE_S = 0.05  # the servers accept the new connections before the CPU count starts
PROBE_RPS = 400.0
PROBE_S = 3.0
SATURATED = 0.9  # a turn that served less than this share of the offered rate fell behind
TRACING_ONLY = {"AMF1_TRACING_ENABLED": "true", "AMF1_LOG_SHIP": "false"}
TRACING_ONLY |= {"AMF1_LOG_LEVEL": "critical"}
EXPORT_ALL = {"AMF1_TRACING_SAMPLER_RATIO": "1.0"}
ARMS = ("bare", "service", "tracing", "tracing_export_all", "sdk_tracing", "all_observability")
BASELINE = {
    "tracing": "service",
    "tracing_export_all": "service",
    "sdk_tracing": "service",
    "all_observability": "bare",
}


def bootstrap_median(values: list[float], seed: int, resamples: int = 10_000) -> dict[str, float]:
    """The median of `values` and the 2.5 / 97.5 percentiles of resampled medians."""
    rng = random.Random(seed)
    medians = sorted(
        statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples)
    )
    return {
        "median": round(statistics.median(values), 2),
        "ci95_low": round(medians[int(0.025 * resamples)], 2),
        "ci95_high": round(medians[int(0.975 * resamples) - 1], 2),
    }


async def _open_loop(
    pool: list[Connection], requests: Callable[[], Request], rate: float, seconds: float
) -> tuple[int, int]:
    """Send requests at `rate` per second for `seconds`, each on a free keep-alive connection of
    `pool` (waiting for one when all are busy); returns (answered with 200, failures)."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in pool:
        free.put_nowait(connection)
    served = failures = 0

    async def one(connection: Connection) -> None:
        nonlocal served, failures
        try:
            response = await connection.send(requests())
        except (TimeoutError, OSError, ProtocolError):
            failures += 1
        else:
            if response.status == 200:
                served += 1
            else:
                failures += 1
        finally:
            free.put_nowait(connection)

    tasks = []
    start = time.perf_counter()
    for k in range(round(rate * seconds)):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(await free.get())))
    await asyncio.gather(*tasks)
    return served, failures


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the threads of `pid` have run so far, in nanoseconds' resolution
    (/proc/<pid>/task/*/schedstat; psutil's clock ticks are 10 ms, a fifth of a turn's CPU)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text(encoding="ascii").split()[0])
        except (OSError, ValueError):  # a thread that ended in between
            continue
    return total / 1e9


async def _reconnect(pool: list[Connection]) -> None:
    """New connections before an arm's turn, outside its CPU window. An arm idle for longer than
    its server's keep-alive (uvicorn: 5 s) would otherwise lose requests on connections the
    server had closed and pay for new ones inside its turn: a different number in every arm."""
    for connection in pool:
        await connection.close()
    await asyncio.gather(*(connection.connect() for connection in pool))
    await asyncio.sleep(RECONNECT_SETTLE_S)


async def _pair(
    servers: dict[str, tuple[str, int]],
    requests: Callable[[], Request],
    rate: float,
    args: Any,
    rng: random.Random,
) -> dict[str, dict[str, Any]]:
    """One pair: every arm's fresh server is up; after a warm-up each, the load moves from arm
    to arm in `args.slice`-second turns (order shuffled every round) until each had
    `args.seconds`, so a change of the machine's speed during the pair reaches every arm alike.
    An arm's CPU is counted over its own turns, each with `TAIL_S` after it (requests still in
    flight, a batch of spans just full): not while the other arms are loaded, when its idle
    work (timers, pollers) would be charged to its requests six times over."""
    pools = {
        arm: [Connection(Target.from_url(url), timeout_s=10.0) for _ in range(args.concurrency)]
        for arm, (url, _) in servers.items()
    }
    for arm in servers:
        await _open_loop(pools[arm], requests, rate, WARM_UP_S)
    totals = {
        arm: {"served": 0, "failures": 0, "seconds": 0.0, "cpu_s": 0.0, "behind": 0}
        for arm in servers
    }
    for _ in range(max(1, round(args.seconds / args.slice))):
        for arm in rng.sample(list(servers), len(servers)):
            pid = servers[arm][1]
            await _reconnect(pools[arm])
            cpu_before = _cpu_s(pid)
            started = time.perf_counter()
            served, failures = await _open_loop(pools[arm], requests, rate, args.slice)
            elapsed = time.perf_counter() - started
            totals[arm]["seconds"] += elapsed
            totals[arm]["behind"] += served < SATURATED * rate * elapsed
            await asyncio.sleep(TAIL_S)
            totals[arm]["cpu_s"] += _cpu_s(pid) - cpu_before
            totals[arm]["served"] += served
            totals[arm]["failures"] += failures
    for pool in pools.values():
        for connection in pool:
            await connection.close()
    results = {}
    for arm, total in totals.items():
        served = int(total["served"])
        results[arm] = {
            "cpu_us_per_request": round(total["cpu_s"] / served * 1e6, 1) if served else None,
            "served": served,
            "failures": int(total["failures"]),
            "achieved_rps": round(served / total["seconds"], 1),
            "turns_behind": int(total["behind"]),
        }
    return results


async def _cpu_per_request(
    url: str, pid: int, requests: Callable[[], Request], rate: float, concurrency: int
) -> float:
    """`pid`'s CPU seconds per request over `PROBE_S` of open-loop load at `rate`, after 1 s of
    warm-up at that rate."""
    pool = [Connection(Target.from_url(url), timeout_s=10.0) for _ in range(concurrency)]
    await _open_loop(pool, requests, rate, WARM_UP_S)
    cpu_before = _cpu_s(pid)
    served, _ = await _open_loop(pool, requests, rate, PROBE_S)
    await asyncio.sleep(TAIL_S)
    cpu = _cpu_s(pid) - cpu_before
    for connection in pool:
        await connection.close()
    return cpu / max(served, 1)


def _capacity(
    stack: ExitStack, bare: list[str], requests: Callable[[], Request], args: Any
) -> dict[str, float]:
    """The bare server's capacity on its one core: 1 / its CPU seconds per request under open
    loop, measured at `PROBE_RPS`, then again at `args.load` x the first estimate (a server's CPU
    per request falls as its load rises: fewer wake-ups per request)."""
    url, pid = serve_command(stack, bare, COMMON_ENV)
    first = run_sync(lambda: _cpu_per_request(url, pid, requests, PROBE_RPS, args.concurrency))
    second = run_sync(
        lambda: _cpu_per_request(url, pid, requests, args.load / first, args.concurrency)
    )
    return {
        "probe_rps": PROBE_RPS,
        "cpu_us_per_request_at_probe": round(first * 1e6, 1),
        "second_probe_rps": round(args.load / first, 1),
        "cpu_us_per_request_at_second_probe": round(second * 1e6, 1),
        "bare_capacity_rps": round(1 / second, 1),
    }


def _saturated(pairs: list[dict[str, dict[str, Any]]]) -> dict[str, int]:
    """Per arm, the turns (over all pairs) that served less than `SATURATED` x the offered rate:
    the server fell behind, and its CPU per request then measures queueing, not its work."""
    return {arm: sum(p[arm]["turns_behind"] for p in pairs) for arm in ARMS}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__)
    parser.add_argument("--pairs", type=int, default=40, help="rounds of every arm")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per arm")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds of load per turn")
    parser.add_argument("--load", type=float, default=0.6, help="share of the bare capacity")
    parser.add_argument("--rate", type=float, help="offered requests/s (default: measured)")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--models-dir", type=Path, help="trained models (default: train now)")
    parser.add_argument("--seed", type=int, default=0, help="arm order and bootstrap seed")
    args = parser.parse_args()
    cores = os.sched_getaffinity(0)
    pinned = {SERVER_CORE, LOAD_CORE} <= cores
    if pinned:
        os.sched_setaffinity(0, {LOAD_CORE})  # the sinks started below inherit it
    prefix = ["taskset", "-c", str(SERVER_CORE)] if pinned else []
    rng = random.Random(args.seed)
    started = time.monotonic()
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        scenario = _scenario(models)
        otlp_ports, spans = stack.enter_context(sink_process("bench.otlp_sink"))
        log_ports, lines = stack.enter_context(sink_process("bench.sink"))
        buffers = stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-overhead-"))
        otlp = otlp_sink_env(otlp_ports)
        bare = [*prefix, PYTHON, "-m", "bench.predict_server", "--models-dir", str(models)]
        bare += ["--variant", "bare"]
        serve = [*prefix, PYTHON, "-m", "amf1.cli", "serve", "--models-dir", str(models)]
        envs: dict[str, dict[str, str]] = {
            "service": BARE_ENV,
            "tracing": TRACING_ONLY | otlp,
            "tracing_export_all": TRACING_ONLY | otlp | EXPORT_ALL,
            "sdk_tracing": TRACING_ONLY
            | otlp
            | EXPORT_ALL
            | {"AMF1_TRACING_IMPLEMENTATION": "sdk"},
            "all_observability": observed_env(log_ports, otlp_ports, buffers),
        }
        capacity: dict[str, float] | None = None
        if args.rate:
            rate = args.rate
        else:
            with ExitStack() as probe:
                capacity = _capacity(probe, bare, scenario.next_request, args)
            rate = args.load * capacity["bare_capacity_rps"]
        pairs: list[dict[str, Any]] = []
        for _ in range(args.pairs):
            with ExitStack() as pair_stack:
                started_servers = {
                    arm: start_server(
                        pair_stack, bare if arm == "bare" else serve, COMMON_ENV | envs.get(arm, {})
                    )
                    for arm in ARMS
                }
                for url, process in started_servers.values():
                    wait_ready(url, process)
                servers = {
                    arm: (url, process.pid) for arm, (url, process) in started_servers.items()
                }
                pairs.append(
                    run_sync(
                        lambda: _pair(servers, scenario.next_request, rate, args, rng)  # noqa: B023
                    )
                )
    cpu = {
        arm: [p[arm]["cpu_us_per_request"] for p in pairs if p[arm]["cpu_us_per_request"]]
        for arm in ARMS
    }
    overhead = {}
    for arm, baseline in BASELINE.items():
        ratios = [
            (p[arm]["cpu_us_per_request"] / p[baseline]["cpu_us_per_request"] - 1) * 100
            for p in pairs
            if p[arm]["cpu_us_per_request"] and p[baseline]["cpu_us_per_request"]
        ]
        overhead[arm] = bootstrap_median(ratios, args.seed) if ratios else None
    report = {
        "benchmark": "overhead",
        "pairs": args.pairs,
        "seconds_per_arm": args.seconds,
        "slice_s": args.slice,
        "offered_rps": round(rate, 1),
        "load_share_of_bare_capacity": args.load if not args.rate else None,
        "capacity_probe": capacity,
        "turns_behind": _saturated(pairs),
        "pinned": pinned,
        "cpu_per_request_us": {arm: round(statistics.median(v), 1) for arm, v in cpu.items() if v},
        "overhead_pct": overhead,
        "baselines": BASELINE,
        "wall_s": round(time.monotonic() - started, 1),
        "sink": {"spans": spans, "log_lines": lines},
        "raw": pairs,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
