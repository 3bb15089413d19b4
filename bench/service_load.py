"""Prediction throughput with all observability on vs off, and the service's memory under load.

    python -m bench.service_load [--processes 2] [--seconds 24] [--slice 0.25] [--concurrency 16]
                                 [--models-dir DIR] [--observed-env NAME=VALUE ...]

`amf1 serve` processes (one uvicorn worker each, `--processes` per arm) run on loopback:

- bare: tracing off, shipping off, log level `critical` (no event is rendered or written);
- observed: what production runs: JSON events to stdout (sent to /dev/null here), shipped over
  TCP to a line sink in its own process (`bench.sink`, the collector's seat), spans exported
  over OTLP (HTTP by default, `AMF1_OTLP_PROTOCOL`) to a counting sink in its own process
  (`bench.otlp_sink`, Jaeger's seat).

The load generator (`amf1.loadgen`'s client, unpaced, keep-alive) sends realistic
`/predict/qualifying` requests (rows of the synthetic season) to one server at a time, in
`--slice`-second slices interleaved across all servers of both arms (`bench.interleave`), so the
machine's drift and one process's luck hit both arms alike. The observed processes' RSS is
sampled with psutil every 0.2 s while they are under load; the maximum is `service_rss_mib`.
The servers' CPU time (all threads, psutil) over their slices gives the CPU per request.

Prints one JSON object: `rps_bare`, `rps_observed`, `p99_ms_bare`, `p99_ms_observed`,
`rps_ratio`, `cpu_us_per_request_bare` / `_observed` (all threads) and
`serving_thread_cpu_us_per_request_bare` / `_observed` (the event loop alone; the difference is
the shipper and span exporter threads), `service_rss_mib` (max under load),
per-arm details (rps per process) and what the sinks received.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

from amf1.loadgen.payloads import PayloadFactory
from amf1.loadgen.runner import run_sync
from amf1.loadgen.scenarios import NormalScenario
from bench.interleave import interleaved
from bench.serving import cpu_seconds, get_json, models_dir, otlp_sink_env, serve, sink_process

MIB = 1024 * 1024
COMMON_ENV = {"AMF1_ENVIRONMENT": "development", "AMF1_WORKERS": "1"}
BARE_ENV = {"AMF1_TRACING_ENABLED": "false", "AMF1_LOG_SHIP": "false", "AMF1_LOG_LEVEL": "critical"}
"""The bare arm: no spans, nothing shipped, no event rendered (level `critical`)."""


class _RssSampler:
    """Max RSS of any one process (with its children) while `sampling` is set."""

    def __init__(self, pids: list[int]) -> None:
        self._processes = [psutil.Process(pid) for pid in pids]
        self.max_bytes = 0
        self.sampling = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if self.sampling.is_set():
                for process in self._processes:
                    family = [process, *process.children(recursive=True)]
                    rss = sum(p.memory_info().rss for p in family)
                    self.max_bytes = max(self.max_bytes, rss)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


def observed_env(
    log_ports: dict[str, Any], otlp_ports: dict[str, Any], buffer_dir: str
) -> dict[str, str]:
    """The observed arm: what production runs, shipping to `bench.sink` and exporting
    spans to `bench.otlp_sink` (their ports as `sink_process` yields them)."""
    return {
        "AMF1_TRACING_ENABLED": "true",
        "AMF1_LOG_SHIP": "true",
        "AMF1_LOGSTASH_HOST": "127.0.0.1",
        "AMF1_LOGSTASH_PORT": str(log_ports["port"]),
        "AMF1_LOG_BUFFER_DIR": buffer_dir,
        "AMF1_LOG_LEVEL": "info",
    } | otlp_sink_env(otlp_ports)


def main() -> None:
    """Run the interleaved slices and print the JSON document."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=2, help="server processes per arm")
    parser.add_argument("--seconds", type=float, default=24.0, help="measured seconds per arm")
    parser.add_argument("--slice", type=float, default=0.25, help="seconds per slice")
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
        log_ports, sinks["log_lines"] = stack.enter_context(sink_process("bench.sink"))
        otlp_ports, sinks["otlp"] = stack.enter_context(sink_process("bench.otlp_sink"))
        servers: dict[str, list[tuple[str, int]]] = {"bare": [], "observed": []}
        for _ in range(args.processes):
            servers["bare"].append(serve(stack, models, COMMON_ENV | BARE_ENV))
            buffer_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-buf-"))
            observed = COMMON_ENV | observed_env(log_ports, otlp_ports, buffer_dir) | overrides
            servers["observed"].append(serve(stack, models, observed))
        first_url = servers["bare"][0][0]
        drivers = get_json(f"{first_url}/drivers")["drivers"]
        circuits = get_json(f"{first_url}/circuits")["circuits"]
        scenario = NormalScenario(PayloadFactory.synthetic(drivers, circuits), race_share=0.0)
        urls = {arm: [url for url, _ in pairs] for arm, pairs in servers.items()}
        sampler = _RssSampler([pid for _, pid in servers["observed"]])
        stack.callback(sampler.close)

        cpu = {url: cpu_seconds(pid) for pairs in servers.values() for url, pid in pairs}

        def watch(arm: str, started: bool) -> None:
            if arm == "observed":
                (sampler.sampling.set if started else sampler.sampling.clear)()

        # Warm-up (first requests pay lazy imports), then the measured slices.
        run_sync(lambda: interleaved(urls, scenario, seconds_per_arm=2.0, slice_s=0.5))
        results = run_sync(
            lambda: interleaved(
                urls,
                scenario,
                seconds_per_arm=args.seconds,
                slice_s=args.slice,
                concurrency=args.concurrency,
                on_slice=watch,
                cpu_seconds=cpu,
            )
        )
        rss_mib = round(sampler.max_bytes / MIB, 1)
    bare, observed = results["bare"].summary(), results["observed"].summary()
    document = {
        "benchmark": "service_load",
        "endpoint": "/predict/qualifying",
        "rps_bare": bare["rps"],
        "rps_observed": observed["rps"],
        "p99_ms_bare": bare["latency_ms"]["p99"],
        "p99_ms_observed": observed["latency_ms"]["p99"],
        "rps_ratio": round(observed["rps"] / bare["rps"], 3) if bare["rps"] else None,
        "cpu_us_per_request_bare": bare["cpu_us_per_request"],
        "cpu_us_per_request_observed": observed["cpu_us_per_request"],
        "serving_thread_cpu_us_per_request_bare": bare["serving_thread_cpu_us_per_request"],
        "serving_thread_cpu_us_per_request_observed": observed["serving_thread_cpu_us_per_request"],
        "service_rss_mib": rss_mib,
        "bare": bare,
        "observed": observed,
        "sinks": sinks,
        "settings": {
            "processes_per_arm": args.processes,
            "seconds_per_arm": args.seconds,
            "slice_s": args.slice,
            "concurrency": args.concurrency,
            "cpu_count": os.cpu_count(),
            "observed_env": overrides,
        },
    }
    print(json.dumps(document))


if __name__ == "__main__":
    main()
