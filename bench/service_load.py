"""Prediction throughput with all observability on vs off, and the service's memory under load.

    python -m bench.service_load [--rounds 3] [--seconds 8] [--concurrency 16] [--models-dir DIR]

Two `amf1 serve` processes (one uvicorn worker each) run side by side on loopback:

- bare: tracing off, shipping off, log level `critical` (no event is rendered or written);
- observed: what production runs: JSON events to stdout (sent to /dev/null here), shipped over
  TCP to a line sink in its own process (`bench.line_sink`, the collector's seat), spans exported
  over OTLP (HTTP by default, `AMF1_OTLP_PROTOCOL`) to a counting sink in its own process
  (`bench.otlp_sink`, Jaeger's seat).

The load generator (`amf1.loadgen`, unpaced, keep-alive) sends realistic `/predict/qualifying`
requests (rows of the synthetic season) to each in alternating rounds (bare/observed, then
observed/bare, ...) so the shared machine's drift hits both alike. The observed process's RSS is
sampled with psutil every 0.2 s while it is under load; the maximum is `service_rss_mib`.

Prints one JSON object: `rps_bare`, `rps_observed`, `p99_ms_bare`, `p99_ms_observed` (medians
over rounds), `service_rss_mib` (max under load), and what the sinks received.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

from amf1.loadgen.client import Target
from amf1.loadgen.payloads import PayloadFactory
from amf1.loadgen.runner import LoadPlan, run_load, run_sync
from amf1.loadgen.scenarios import NormalScenario
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

MIB = 1024 * 1024


def _server(stack: ExitStack, models: Path, env: dict[str, str]) -> tuple[str, int]:
    port = free_port()
    args = [PYTHON, "-m", "amf1.cli", "serve", "--port", str(port), "--models-dir", str(models)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = stack.enter_context(managed_process(args, {**os.environ, **env}, **quiet))
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return url, process.pid


class _RssSampler:
    """Max RSS of a process (and its children) while `sampling` is set."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.max_bytes = 0
        self.sampling = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if self.sampling.is_set():
                family = [self._process, *self._process.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in family)
                self.max_bytes = max(self.max_bytes, rss)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


def _round(url: str, payloads: PayloadFactory, seconds: float, concurrency: int) -> dict[str, Any]:
    scenario = NormalScenario(payloads, race_share=0.0)
    plan = LoadPlan(rps=None, duration_s=seconds, concurrency=concurrency, timeout_s=10)
    return run_sync(lambda: run_load(Target.from_url(url), scenario, plan))


def _arm(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(r["achieved_rps"] for r in results), 1),
        "p99_ms": round(statistics.median(r["latency_ms"]["p99"] for r in results), 3),
        "rps_rounds": [r["achieved_rps"] for r in results],
        "non_2xx": sum(n for r in results for k, n in r["outcomes"].items() if k != "200"),
    }


def main() -> None:
    """Run the alternating rounds and print the JSON document."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", "--duration", type=float, default=8.0, dest="seconds")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument(
        "--observed-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a variable of the observed arm (to find which part costs what)",
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.observed_env)
    sinks: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        log_ports, sinks["log_lines"] = stack.enter_context(sink_process("bench.line_sink"))
        otlp_ports, sinks["otlp"] = stack.enter_context(sink_process("bench.otlp_sink"))
        buffer_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-buf-"))
        common = {"AMF1_ENVIRONMENT": "development", "AMF1_WORKERS": "1"}
        bare_url, _ = _server(
            stack,
            models,
            common
            | {
                "AMF1_TRACING_ENABLED": "false",
                "AMF1_LOG_SHIP": "false",
                "AMF1_LOG_LEVEL": "critical",
            },
        )
        observed_url, observed_pid = _server(
            stack,
            models,
            common
            | {
                "AMF1_TRACING_ENABLED": "true",
                "AMF1_LOG_SHIP": "true",
                "AMF1_LOGSTASH_HOST": "127.0.0.1",
                "AMF1_LOGSTASH_PORT": str(log_ports["port"]),
                "AMF1_LOG_BUFFER_DIR": buffer_dir,
                "AMF1_LOG_LEVEL": "info",
            }
            | otlp_sink_env(otlp_ports)
            | overrides,
        )
        drivers = get_json(f"{bare_url}/drivers")["drivers"]
        circuits = get_json(f"{bare_url}/circuits")["circuits"]
        payloads = PayloadFactory.synthetic(drivers, circuits)
        sampler = _RssSampler(observed_pid)
        stack.callback(sampler.close)
        for url in (bare_url, observed_url):  # warm-up: first requests pay lazy imports
            _round(url, payloads, 1.0, args.concurrency)
        results: dict[str, list[dict[str, Any]]] = {"bare": [], "observed": []}
        for index in range(args.rounds):
            order = ("bare", "observed") if index % 2 == 0 else ("observed", "bare")
            for arm in order:
                url = bare_url if arm == "bare" else observed_url
                if arm == "observed":
                    sampler.sampling.set()
                results[arm].append(_round(url, payloads, args.seconds, args.concurrency))
                sampler.sampling.clear()
        rss_mib = round(sampler.max_bytes / MIB, 1)
    bare, observed = _arm(results["bare"]), _arm(results["observed"])
    document = {
        "benchmark": "service_load",
        "endpoint": "/predict/qualifying",
        "rps_bare": bare["rps"],
        "rps_observed": observed["rps"],
        "p99_ms_bare": bare["p99_ms"],
        "p99_ms_observed": observed["p99_ms"],
        "rps_ratio": round(observed["rps"] / bare["rps"], 3) if bare["rps"] else None,
        "service_rss_mib": rss_mib,
        "bare": bare,
        "observed": observed,
        "sinks": sinks,
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "cpu_count": os.cpu_count(),
            "observed_env": overrides,
        },
    }
    print(json.dumps(document))


if __name__ == "__main__":
    main()
