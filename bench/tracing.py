"""Benchmark: what tracing costs `/predict/qualifying`, with the same service untraced as baseline.

Three `amf1 serve` processes (one uvicorn worker each) run side by side on loopback: `off`
(`AMF1_TRACING_ENABLED=false`), `on` (tracing with the default settings, exporting over OTLP
(the default HTTP, or `AMF1_OTLP_PROTOCOL=grpc`) to a counting sink in its own process,
`bench.otlp_sink`, so the export's encoding
and sending are paid for by the traced service, as in production) and `backend_down` (tracing
on, the OTLP endpoint a closed port: what requests cost while Jaeger is down). Logging is
configured identically in all (JSON to /dev/null, no shipping), so the trace correlation
processor's cost is counted too. The load generator (`amf1.loadgen`, unpaced, keep-alive)
drives them in rounds: each arm alone (absolute requests/s and p99), then all at once (the
machine's load then hits every arm alike at every moment; the ratio of their requests/s is the
headline overhead).

    python -m bench.tracing [--rounds 10] [--seconds 2] [--concurrency 16] [--models-dir DIR]

Prints one JSON object: requests/s and p99 per arm (median over rounds), the overhead in % of
requests/s (`span_overhead_pct`: 1 - the median over rounds of on/off loaded together; goal
<= 8), the per-request tracing cost in us
derived from the two service times, the backend-down arm against `on`, and the spans the sink
received. `AMF1_TRACING_*` variables in the environment reach the traced servers (e.g.
`AMF1_TRACING_HTTP_INSTRUMENTATION=contrib`, `AMF1_TRACING_SAMPLER_RATIO=0.1`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from amf1.loadgen.client import Request, Response, Target
from amf1.loadgen.runner import LoadPlan, run_load, run_sync
from bench.serving import (
    PYTHON,
    free_port,
    get_json,
    managed_process,
    models_dir,
    otlp_sink_env,
    sink_process,
    wait_ready,
)


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
    port = free_port()
    env = {
        **os.environ,
        **otlp,
        "AMF1_TRACING_ENABLED": "true" if traced else "false",
        "AMF1_TRACING_DROP_LOG_INTERVAL_S": "60",
        "AMF1_LOG_SHIP": "false",
        "AMF1_ENVIRONMENT": "development",
    }
    args = [PYTHON, "-m", "amf1.cli", "serve", "--port", str(port), "--models-dir", str(models)]
    process = stack.enter_context(
        managed_process(args, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return url


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


def _load(url: str, body: dict[str, Any], seconds: float, concurrency: int) -> dict[str, Any]:
    plan = LoadPlan(rps=None, duration_s=seconds, concurrency=concurrency, timeout_s=10.0)
    scenario = QualifyingScenario(body)
    return run_sync(lambda: run_load(Target.from_url(url), scenario, plan))


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


def _arm(results: list[dict[str, Any]]) -> dict[str, Any]:
    rps = [r["achieved_rps"] for r in results]
    p99 = [r["latency_ms"]["p99"] for r in results]
    return {
        "rps": round(statistics.median(rps), 1),
        "p99_ms": round(statistics.median(p99), 3),
        "rps_rounds": rps,
        "p99_ms_rounds": p99,
        "requests": sum(r["requests"] for r in results),
        "non_2xx": sum(n for r in results for k, n in r["outcomes"].items() if k != "200"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the sink and both servers, run the alternating rounds, return the result."""
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        ports, counts = stack.enter_context(sink_process("bench.otlp_sink"))
        closed = {"port": free_port(), "http_port": free_port()}
        urls = {
            "off": _server(stack, models, False, otlp_sink_env(ports)),
            "on": _server(stack, models, True, otlp_sink_env(ports)),
            "backend_down": _server(stack, models, True, otlp_sink_env(closed)),
        }
        body = _qualifying_body(urls["off"])
        for url in urls.values():  # warm-up: imports, caches, first connections
            _load(url, body, min(2.0, args.seconds), args.concurrency)
        arms = list(urls)
        results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
        together: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
        for round_index in range(args.rounds):
            shift = round_index % len(arms)
            for arm in arms[shift:] + arms[:shift]:
                results[arm].append(_load(urls[arm], body, args.seconds, args.concurrency))
            for arm, result in _load_together(urls, body, args.seconds, args.concurrency).items():
                together[arm].append(result)
        time.sleep(2.0)  # let the traced server's last batch reach the sink
    return _report(results, together, counts, args)


def _median_ratio(
    results: dict[str, list[dict[str, Any]]], numerator: str, denominator: str
) -> float:
    ratios = [
        float(a["achieved_rps"]) / float(b["achieved_rps"])
        for a, b in zip(results[numerator], results[denominator], strict=True)
    ]
    return float(statistics.median(ratios))


def _report(
    results: dict[str, list[dict[str, Any]]],
    together: dict[str, list[dict[str, Any]]],
    counts: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    off, on, down = _arm(results["off"]), _arm(results["on"]), _arm(results["backend_down"])
    # The headline compares the servers loaded at the same time: the shared machine's load
    # then hits every arm alike at every moment, and the OS gives each busy server the same
    # CPU share, so the ratio of their requests/s is the inverse ratio of their cost per
    # request. The arms loaded one after the other (same round) give absolute numbers.
    paired = _median_ratio(together, "on", "off")
    down_paired = _median_ratio(together, "backend_down", "on")
    overhead_pct = (1 - paired) * 100
    service_time_us = 1e6 / off["rps"]
    cost_us = service_time_us * (1 / paired - 1)
    return {
        "benchmark": "tracing",
        "endpoint": "/predict/qualifying",
        "baseline_tracing_off": off,
        "tracing_on": on,
        "tracing_on_backend_down": down,
        "span_overhead_pct": round(overhead_pct, 2),
        "overhead_pct_one_after_the_other": round(
            (1 - _median_ratio(results, "on", "off")) * 100, 2
        ),
        "together_rps": {arm: _arm(runs)["rps"] for arm, runs in together.items()},
        "per_request_tracing_cost_us": round(cost_us, 1),
        "p99_delta_ms": round(on["p99_ms"] - off["p99_ms"], 3),
        "backend_down_vs_on_rps_pct": round((down_paired - 1) * 100, 2),
        "backend_down_p99_delta_ms": round(down["p99_ms"] - on["p99_ms"], 3),
        "goal": "span_overhead_pct <= 8",
        "goal_met": overhead_pct <= 8,
        "sink": counts,
        "spans_per_request": 2,
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
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
    parser.add_argument("--rounds", type=int, default=10, help="rounds per arm (default 10)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per arm and round")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--models-dir", type=Path, help="trained models (default: train some)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
