"""Benchmark of `POST /predict/qualifying`: the service against a bare FastAPI + LightGBM app.

`python -m bench.predict [--duration 8] [--connections 16] [--rounds 2] [--models-dir DIR]`

Each variant runs as one uvicorn worker on 127.0.0.1 (see `bench.predict_server`); the load
generator in this process keeps `--connections` HTTP/1.1 keep-alive connections busy (raw
asyncio sockets, no client library in the way), warms up, then measures for `--duration`
seconds (and at most `--max-requests`). Variants alternate for `--rounds` rounds and the
median round is reported, so a noisy neighbour on the shared CPU hurts both sides alike.
Prints one JSON object: requests/s, p50, p99 and server CPU per request of each variant, the
ratios to the bare baseline, and the app-side CPU per request of bare and service driven
in-process over ASGI (min of interleaved trials: the figure a busy machine distorts least).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psutil
import uvloop

from bench.predict_server import bare_app, service_app
from service.dataset import validate_dataset
from service.metadata import MODEL_FILE
from service.registry import ModelRegistry
from service.synthetic import generate
from service.training import train_all

PATH = "/predict/qualifying"
VARIANTS = ("bare", "service", "observed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bodies(count: int = 16) -> list[bytes]:
    """Valid request bodies from synthetic weekends (another seed than training)."""
    frame = generate(seasons=1, seed=2027, last_race=dt.date(2026, 6, 30))
    frame = frame.dropna(subset=["practice_best_lap_s"]).head(count)
    keys = ["driver", "circuit", "air_temp_c", "track_temp_c", "humidity_pct"]
    keys += ["rain_probability", "practice_best_lap_s"]
    return [orjson.dumps({k: row[k] for k in keys}) for row in frame.to_dict("records")]


def _request(body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, requests: list[bytes], stop_at: float, budget: list[int], out: list[int]
) -> int:
    """Send requests back to back on one keep-alive connection; return non-200 count."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    i = 0
    try:
        while time.perf_counter() < stop_at and budget[0] > 0:
            budget[0] -= 1
            start = time.perf_counter_ns()
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            out.append(time.perf_counter_ns() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return errors


def _cpu_s(server: psutil.Process) -> float:
    times = server.cpu_times()
    return float(times.user + times.system)


async def _load(
    port: int,
    requests: list[bytes],
    connections: int,
    duration_s: float,
    max_requests: int,
    server: psutil.Process,
) -> dict[str, float]:
    warm: list[int] = []
    warm_until = time.perf_counter() + min(2.0, duration_s / 4)
    await asyncio.gather(
        *(_connection(port, requests, warm_until, [10**9], warm) for _ in range(connections))
    )
    latencies: list[int] = []
    budget = [max_requests]
    start = time.perf_counter()
    cpu_start_s = _cpu_s(server)
    errors = await asyncio.gather(
        *(
            _connection(port, requests, start + duration_s, budget, latencies)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - start
    cpu_s = _cpu_s(server) - cpu_start_s
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": sum(errors),
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1e6,
        # Server CPU per request: far less sensitive to a busy machine than requests/s.
        "server_cpu_us_per_request": cpu_s / max(1, len(latencies)) * 1e6,
    }


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1.0) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.2)
    raise TimeoutError(f"server on port {port} not ready after {timeout_s} s")


def _run_variant(variant: str, models_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    port = _free_port()
    command = [sys.executable, "-m", "bench.predict_server", "--variant", variant]
    command += ["--port", str(port), "--models-dir", str(models_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, process)
        requests = [_request(body) for body in _bodies()]
        # uvloop (installed with uvicorn[standard]) keeps the client's share of the CPU small.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(
                _load(
                    port,
                    requests,
                    args.connections,
                    args.duration,
                    args.max_requests,
                    psutil.Process(process.pid),
                )
            )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def _in_process(models_dir: Path, trials: int = 7, count: int = 2000) -> dict[str, float]:
    """Min over interleaved trials of the app-side CPU per request, bare and service."""
    bodies = _bodies()
    service = service_app(models_dir, observed=False)
    registry: ModelRegistry = service.state.services.registry
    registry.load_all()  # what the lifespan would do
    apps = {"bare": bare_app(models_dir), "service": service}
    best = dict.fromkeys(apps, float("inf"))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for _ in range(trials):
            for name, app in apps.items():
                best[name] = min(best[name], runner.run(_asgi_cpu_us(app, bodies, count)))
    return best


def _ensure_models(models_dir: Path | None, scratch: Path) -> Path:
    if models_dir and (models_dir / "stage1-qualifying" / MODEL_FILE).exists():
        return models_dir
    frame = validate_dataset(generate(seasons=8, seed=7), source="bench")
    train_all(frame, scratch, seed=7, source="synthetic(seasons=8, seed=7)")
    return scratch


def _median_round(results: list[dict[str, float]]) -> dict[str, float]:
    by_rps = sorted(results, key=lambda r: r["rps"])
    return by_rps[len(by_rps) // 2]


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per run")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per run")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per variant")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--models-dir", type=Path, help="trained models (default: train now)")
    parser.add_argument(
        "--skip-in-process", action="store_true", help="skip the in-process ASGI measurement"
    )
    parser.add_argument(
        "--ship", action="store_true", help="observed variant ships logs over TCP (stack up)"
    )
    args = parser.parse_args()
    if not args.ship:
        os.environ["AMF1_LOG_SHIP"] = "false"
    with tempfile.TemporaryDirectory(prefix="amf1-bench-") as scratch:
        models_dir = _ensure_models(args.models_dir, Path(scratch))
        runs: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants}
        for _ in range(args.rounds):
            for variant in args.variants:
                runs[variant].append(_run_variant(variant, models_dir, args))
        measure_in_process = not args.skip_in_process and {"bare", "service"} <= set(runs)
        in_process = _in_process(models_dir) if measure_in_process else {}
    report: dict[str, Any] = {
        "benchmark": "predict",
        "endpoint": PATH,
        "workers": 1,
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "log_shipping": args.ship,
    }
    for variant, results in runs.items():
        median = _median_round(results)
        report[variant] = {**median, "rps_all_rounds": [round(r["rps"]) for r in results]}
        report[f"rps_{variant}"] = round(median["rps"], 1)
        report[f"p50_ms_{variant}"] = round(median["p50_ms"], 3)
        report[f"p99_ms_{variant}"] = round(median["p99_ms"], 3)
        cpu = statistics.median(r["server_cpu_us_per_request"] for r in results)
        report[f"server_cpu_us_per_request_{variant}"] = round(cpu, 1)
    if "bare" in runs:
        for variant in runs.keys() - {"bare"}:
            report[f"ratio_rps_{variant}_vs_bare"] = round(
                report[f"rps_{variant}"] / report["rps_bare"], 3
            )
            report[f"ratio_cpu_{variant}_vs_bare"] = round(
                report[f"server_cpu_us_per_request_{variant}"]
                / report["server_cpu_us_per_request_bare"],
                3,
            )
    if in_process:
        report["asgi_cpu_us_per_request_bare"] = round(in_process["bare"], 1)
        report["asgi_cpu_us_per_request_service"] = round(in_process["service"], 1)
        report["ratio_asgi_cpu_service_vs_bare"] = round(
            in_process["service"] / in_process["bare"], 3
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
