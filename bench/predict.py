"""Benchmark of `POST /predict/qualifying`: the service without observability against a bare
FastAPI + LightGBM app (the service's own cost; what logging and tracing add on top is
`bench.service_load`).

    python -m bench.predict [--processes 2] [--seconds 12] [--slice 0.25] [--concurrency 16]
                            [--models-dir DIR] [--skip-in-process]

Both variants (`bench.predict_server`) run as one-worker uvicorn processes on loopback,
`--processes` each. The load generator (`amf1.loadgen`'s client, unpaced, keep-alive) sends
realistic requests (rows of the synthetic season) in short slices interleaved across every
server (`bench.interleave`), so the machine's drift hits both variants alike. Then both apps are
driven in-process over ASGI in many short interleaved pairs: the app-side CPU per request, the
figure a busy machine distorts least.

Prints one JSON object: requests/s, p50, p99 and server CPU per request of each variant, the
service's ratios to bare, and the in-process figures (medians).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import uvloop

from amf1.loadgen.payloads import PayloadFactory
from amf1.loadgen.runner import run_sync
from amf1.loadgen.scenarios import NormalScenario
from bench.interleave import interleaved
from bench.predict_server import bare_app, service_app
from bench.serving import PYTHON, cpu_seconds, models_dir, serve_command
from service.metadata import METADATA_FILE, ModelMetadata
from service.model_store import model_directory
from service.registry import ModelRegistry

PATH = "/predict/qualifying"
VARIANTS = ("bare", "service")


def _scenario(models: Path) -> NormalScenario:
    """Qualifying requests for the drivers and circuits the stage-1 model knows."""
    metadata_file = model_directory(models, "stage1-qualifying") / METADATA_FILE
    metadata = ModelMetadata.model_validate_json(metadata_file.read_bytes())
    known = {f.name: f.categories for f in metadata.features if f.categories}
    payloads = PayloadFactory.synthetic(known["driver"], known["circuit"])
    return NormalScenario(payloads, race_share=0.0)


def _asgi_scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _asgi_cpu_us(app: Any, bodies: list[bytes], count: int) -> float:
    """CPU time per request of driving the ASGI app directly (no sockets, no HTTP parsing)."""
    statuses: set[int] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    start_s = time.process_time()
    for i in range(count):
        body = bodies[i % len(bodies)]

        async def receive(body: bytes = body) -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(_asgi_scope(body), receive, send)
    elapsed_s = time.process_time() - start_s
    if statuses != {200}:
        raise RuntimeError(f"in-process requests answered {sorted(statuses)}")
    return elapsed_s / count * 1e6


def _in_process(
    models: Path, bodies: list[bytes], pairs: int = 60, count: int = 250
) -> dict[str, float]:
    """App-side CPU per request, bare and service, in many short interleaved pairs.

    Each pair runs `count` requests on each app back to back, so both see the same neighbours
    on a shared CPU; the ratio is the median of the per-pair ratios, the figures are medians.
    """
    service = service_app(models)
    registry: ModelRegistry = service.state.services.registry
    registry.load_all()  # what the lifespan would do
    bare = bare_app(models)
    results: dict[str, list[float]] = {"bare": [], "service": []}
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_asgi_cpu_us(bare, bodies, count))  # warm-up: imports, caches
        runner.run(_asgi_cpu_us(service, bodies, count))
        for _ in range(pairs):
            results["bare"].append(runner.run(_asgi_cpu_us(bare, bodies, count)))
            results["service"].append(runner.run(_asgi_cpu_us(service, bodies, count)))
    ratios = [s / b for s, b in zip(results["service"], results["bare"], strict=True)]
    return {
        "bare": statistics.median(results["bare"]),
        "service": statistics.median(results["service"]),
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__)
    parser.add_argument("--processes", type=int, default=2, help="server processes per variant")
    parser.add_argument("--seconds", type=float, default=12.0, help="measured seconds per variant")
    parser.add_argument("--slice", type=float, default=0.25, help="seconds per slice")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--models-dir", type=Path, help="trained models (default: train now)")
    parser.add_argument(
        "--skip-in-process", action="store_true", help="skip the in-process ASGI measurement"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        command = [PYTHON, "-m", "bench.predict_server", "--models-dir", str(models), "--variant"]
        servers = {
            variant: [serve_command(stack, [*command, variant], {}) for _ in range(args.processes)]
            for variant in VARIANTS
        }
        urls = {variant: [url for url, _ in pairs] for variant, pairs in servers.items()}
        cpu = {url: cpu_seconds(pid) for pairs in servers.values() for url, pid in pairs}
        scenario = _scenario(models)
        # Warm-up (first requests pay lazy imports), then the measured slices.
        run_sync(lambda: interleaved(urls, scenario, seconds_per_arm=2.0, slice_s=0.5))
        loads = run_sync(
            lambda: interleaved(
                urls,
                scenario,
                seconds_per_arm=args.seconds,
                slice_s=args.slice,
                concurrency=args.concurrency,
                cpu_seconds=cpu,
            )
        )
        bodies = [scenario.next_request().body for _ in range(16)]
        in_process = {} if args.skip_in_process else _in_process(models, bodies)
    report: dict[str, Any] = {
        "benchmark": "predict",
        "endpoint": PATH,
        "processes_per_variant": args.processes,
        "seconds_per_variant": args.seconds,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
    }
    for variant, load in loads.items():
        summary = load.summary()
        report[variant] = summary
        report[f"rps_{variant}"] = summary["rps"]
        report[f"p50_ms_{variant}"] = summary["latency_ms"]["p50"]
        report[f"p99_ms_{variant}"] = summary["latency_ms"]["p99"]
        report[f"server_cpu_us_per_request_{variant}"] = summary["cpu_us_per_request"]
    if report["rps_bare"]:
        report["ratio_rps_service_vs_bare"] = round(report["rps_service"] / report["rps_bare"], 3)
    if report["server_cpu_us_per_request_bare"]:
        report["ratio_cpu_service_vs_bare"] = round(
            report["server_cpu_us_per_request_service"] / report["server_cpu_us_per_request_bare"],
            3,
        )
    if in_process:
        report["asgi_cpu_us_per_request_bare"] = round(in_process["bare"], 1)
        report["asgi_cpu_us_per_request_service"] = round(in_process["service"], 1)
        report["ratio_asgi_cpu_service_vs_bare"] = round(in_process["ratio"], 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
