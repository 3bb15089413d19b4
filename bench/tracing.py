"""Benchmark: what tracing costs `/predict/qualifying`, with the same service untraced as baseline.

Three arms of `amf1 serve` processes (one uvicorn worker each, `--processes` per arm) run on
loopback: `off` (`AMF1_TRACING_ENABLED=false`), `on` (tracing with the default settings,
exporting over OTLP (the default HTTP, or `AMF1_OTLP_PROTOCOL=grpc`) to a counting sink in its
own process, `bench.otlp_sink`, so the export's encoding and sending are paid for by the traced
service, as in production) and `backend_down` (tracing on, the OTLP endpoint a closed port: what
requests cost while Jaeger is down). Logging is configured identically in all (JSON to
/dev/null, no shipping), so the trace correlation processor's cost is counted too.

The headline loads one server at a time (it has a core to itself, like a service worker in
production) in short slices interleaved across every process of every arm (`bench.interleave`),
so the machine's drift and one process's luck hit all arms alike. For comparison, `--rounds`
short rounds load the first server of each arm side by side (all servers and the load generator
then share the two cores, and the traced server's export thread competes for them too).

    python -m bench.tracing [--processes 2] [--seconds 16] [--slice 0.25] [--rounds 3]
                            [--concurrency 16] [--models-dir DIR]

Prints one JSON object: requests/s, p99 and requests/s per process for each arm, the overhead in
% of requests/s (`span_overhead_pct`: 1 - on/off; goal <= 8), the side-by-side figure, the
per-request tracing cost in us (the difference of the two service times), the backend-down arm
against `on`, and the spans the sink received. `AMF1_TRACING_*` variables in the environment
reach the traced servers (e.g. `AMF1_TRACING_HTTP_INSTRUMENTATION=contrib`,
`AMF1_TRACING_SAMPLER_RATIO=0.1`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from amf1.loadgen.client import Request, Response, Target
from amf1.loadgen.runner import LoadPlan, run_load, run_sync
from bench.interleave import interleaved
from bench.serving import free_port, get_json, models_dir, otlp_sink_env, serve, sink_process


class QualifyingScenario:
    """The same valid qualifying request, over and over (the hot path, nothing else)."""

    name = "qualifying"

    def __init__(self, body: dict[str, Any]) -> None:
        self._request = Request(
            "POST", "/predict/qualifying", json.dumps(body).encode(), label="qualifying"
        )

    def next_request(self) -> Request:
        """The request."""
        return self._request

    def observe(self, request: Request, response: Response | None) -> None:
        """Nothing to learn."""


def _server(stack: ExitStack, models: Path, traced: bool, otlp: dict[str, str]) -> str:
    env = otlp | {
        "AMF1_TRACING_ENABLED": "true" if traced else "false",
        "AMF1_TRACING_DROP_LOG_INTERVAL_S": "60",
        "AMF1_LOG_SHIP": "false",
        "AMF1_ENVIRONMENT": "development",
    }
    return serve(stack, models, env)[0]


def _qualifying_body(url: str) -> dict[str, Any]:
    drivers = get_json(f"{url}/drivers")
    circuits = get_json(f"{url}/circuits")
    return {
        "driver": drivers["by_model"]["stage1-qualifying"][0],
        "circuit": circuits["by_model"]["stage1-qualifying"][0],
        "air_temp_c": 24.0,
        "track_temp_c": 38.5,
        "humidity_pct": 55.0,
        "rain_probability": 0.05,
        "practice_best_lap_s": 80.4,
    }


def _load_together(
    urls: dict[str, str], body: dict[str, Any], seconds: float, concurrency: int
) -> dict[str, dict[str, Any]]:
    """Load every server at once, `concurrency` connections each, from one event loop."""
    plan = LoadPlan(rps=None, duration_s=seconds, concurrency=concurrency, timeout_s=10.0)

    async def together() -> list[dict[str, Any]]:
        runs = [
            run_load(Target.from_url(url), QualifyingScenario(body), plan) for url in urls.values()
        ]
        return list(await asyncio.gather(*runs))

    return dict(zip(urls, run_sync(together), strict=True))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the sink and the servers, run the interleaved slices and the side-by-side rounds."""
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        ports, counts = stack.enter_context(sink_process("bench.otlp_sink"))
        closed = {"port": free_port(), "http_port": free_port()}
        kinds = {
            "off": (False, otlp_sink_env(ports)),
            "on": (True, otlp_sink_env(ports)),
            "backend_down": (True, otlp_sink_env(closed)),
        }
        urls = {
            arm: [_server(stack, models, traced, otlp) for _ in range(args.processes)]
            for arm, (traced, otlp) in kinds.items()
        }
        body = _qualifying_body(urls["off"][0])
        scenario = QualifyingScenario(body)
        # Warm-up (imports, caches, first connections), then the measured slices.
        run_sync(lambda: interleaved(urls, scenario, seconds_per_arm=2.0, slice_s=0.5))
        alone = run_sync(
            lambda: interleaved(
                urls,
                scenario,
                seconds_per_arm=args.seconds,
                slice_s=args.slice,
                concurrency=args.concurrency,
            )
        )
        firsts = {arm: arm_urls[0] for arm, arm_urls in urls.items()}
        together: dict[str, list[dict[str, Any]]] = {arm: [] for arm in urls}
        for _ in range(args.rounds):
            for arm, result in _load_together(firsts, body, 2.0, args.concurrency).items():
                together[arm].append(result)
        time.sleep(2.0)  # let the traced servers' last batches reach the sink
    return _report({arm: load.summary() for arm, load in alone.items()}, together, counts, args)


def _median_ratio(
    results: dict[str, list[dict[str, Any]]], numerator: str, denominator: str
) -> float:
    ratios = [
        float(a["achieved_rps"]) / float(b["achieved_rps"])
        for a, b in zip(results[numerator], results[denominator], strict=True)
    ]
    return float(statistics.median(ratios))


def _arm(load: dict[str, Any]) -> dict[str, Any]:
    return {
        "rps": load["rps"],
        "p99_ms": load["latency_ms"]["p99"],
        "rps_by_process": load["rps_by_process"],
        "requests": load["requests"],
        "failures": load["failures"],
    }


def _report(
    alone: dict[str, dict[str, Any]],
    together: dict[str, list[dict[str, Any]]],
    counts: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    off, on, down = _arm(alone["off"]), _arm(alone["on"]), _arm(alone["backend_down"])
    # The headline: each server loaded alone (it has a core to itself, as a service worker in
    # production), in short slices interleaved across every process of every arm, so the
    # machine's drift and one process's luck hit all arms alike. The side-by-side figure (all
    # servers and the load generator sharing the cores) is reported for comparison.
    ratio = on["rps"] / off["rps"]
    overhead_pct = (1 - ratio) * 100
    cost_us = 1e6 / on["rps"] - 1e6 / off["rps"]
    return {
        "benchmark": "tracing",
        "endpoint": "/predict/qualifying",
        "baseline_tracing_off": off,
        "tracing_on": on,
        "tracing_on_backend_down": down,
        "span_overhead_pct": round(overhead_pct, 2),
        "overhead_pct_side_by_side": round((1 - _median_ratio(together, "on", "off")) * 100, 2),
        "together_rps": {
            arm: round(statistics.median(r["achieved_rps"] for r in runs), 1)
            for arm, runs in together.items()
        },
        "per_request_tracing_cost_us": round(cost_us, 1),
        "p99_delta_ms": round(on["p99_ms"] - off["p99_ms"], 3),
        "backend_down_vs_on_rps_pct": round((down["rps"] / on["rps"] - 1) * 100, 2),
        "backend_down_p99_delta_ms": round(down["p99_ms"] - on["p99_ms"], 3),
        "goal": "span_overhead_pct <= 8",
        "goal_met": overhead_pct <= 8,
        "sink": counts,
        "spans_per_request": 2,
        "settings": {
            "processes_per_arm": args.processes,
            "seconds_per_arm": args.seconds,
            "slice_s": args.slice,
            "side_by_side_rounds": args.rounds,
            "concurrency": args.concurrency,
            "uvicorn_workers": 1,
            "http_instrumentation": os.environ.get("AMF1_TRACING_HTTP_INSTRUMENTATION", "lean"),
            "sampler_ratio": os.environ.get("AMF1_TRACING_SAMPLER_RATIO", "1.0"),
            "otlp_protocol": os.environ.get("AMF1_OTLP_PROTOCOL", "http"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__)
    parser.add_argument("--processes", type=int, default=2, help="server processes per arm")
    parser.add_argument("--seconds", type=float, default=16.0, help="measured seconds per arm")
    parser.add_argument("--slice", type=float, default=0.25, help="seconds per slice")
    parser.add_argument(
        "--rounds", type=int, default=3, help="2 s side-by-side rounds (comparison figure)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--models-dir", type=Path, help="trained models (default: train some)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
