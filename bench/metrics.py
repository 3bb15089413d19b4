"""`python -m bench.metrics`: what the Prometheus metrics add to one prediction request.

Measures `service.metrics.definitions.observe_prediction` (the counter and the latency histogram
a prediction updates, in the middleware) in-process, in the mode `amf1 serve` runs it:
prometheus-client's multiprocess files (`PROMETHEUS_MULTIPROC_DIR`, set before the import). The
baseline, in the same run and interleaved round by round, is a function of the same signature
that does nothing, so the figure is the metrics' own cost, not the call's. The tally's flush
into the metrics happens once a second per worker (and per scrape), not per request: it is
timed apart (`flush_us`).

Prints one JSON object: `metrics_us` (median over rounds of the per-call difference), the
single-process figure (`metrics_us_in_memory`) and the raw per-call times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from service.features import STAGE1_NAME


def _baseline(model: str, http_status: int, duration_ns: int) -> None:
    """Same signature as `observe_prediction`, no work."""


def _per_call_us(function: Callable[[str, int, int], None], calls: int) -> float:
    started = time.perf_counter_ns()
    for index in range(calls):
        function(STAGE1_NAME, 200, 1_000_000 + index)
    return (time.perf_counter_ns() - started) / calls / 1000


def measure(calls: int, rounds: int) -> dict[str, float]:
    """Median over `rounds` of (metrics - baseline) per call, in microseconds."""
    from service.metrics.definitions import TALLY, observe_prediction  # noqa: PLC0415

    _per_call_us(observe_prediction, calls)  # warm: files created, children resolved
    TALLY.flush()
    diffs, metric_times, base_times, flush_times = [], [], [], []
    for _ in range(rounds):
        base = _per_call_us(_baseline, calls)
        metric = _per_call_us(observe_prediction, calls)
        diffs.append(metric - base)
        metric_times.append(metric)
        base_times.append(base)
        started = time.perf_counter_ns()
        TALLY.flush()
        flush_times.append((time.perf_counter_ns() - started) / 1000)
    return {
        "metrics_us": round(statistics.median(diffs), 3),
        "observe_us": round(statistics.median(metric_times), 3),
        "baseline_us": round(statistics.median(base_times), 3),
        # Once a second per worker (and per scrape), in the event loop: not per request.
        "flush_us": round(statistics.median(flush_times), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--child", choices=["multiprocess", "memory"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.calls, args.rounds)))
        return 0
    results = {}
    for mode in ("multiprocess", "memory"):
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        with tempfile.TemporaryDirectory(prefix="amf1-bench-metrics-") as directory:
            if mode == "multiprocess":
                env["PROMETHEUS_MULTIPROC_DIR"] = directory
            argv = [sys.executable, "-m", "bench.metrics", "--child", mode]
            argv += ["--calls", str(args.calls), "--rounds", str(args.rounds)]
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, check=True, timeout=300
            )
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        json.dumps(
            {
                "metrics_us": results["multiprocess"]["metrics_us"],
                "metrics_us_in_memory": results["memory"]["metrics_us"],
                "multiprocess": results["multiprocess"],
                "memory": results["memory"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
