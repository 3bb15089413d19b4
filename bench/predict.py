"""Benchmark of `POST /predict/qualifying`: the service against a bare FastAPI + LightGBM app.

`python -m bench.predict [--duration 2] [--rounds 8] [--connections 16] [--models-dir DIR]`

Each variant (see `bench.predict_server`) runs as one uvicorn worker on 127.0.0.1, all started
up front. The load generator in this process keeps `--connections` HTTP/1.1 keep-alive
connections busy (raw asyncio sockets on uvloop, no client library in the way). After a warm-up
it alternates bursts of `--duration` seconds (at most `--max-requests` each) between the
variants for `--rounds` rounds, so a noisy neighbour on a shared CPU hurts all of them alike.
Prints one JSON object: requests/s, p50, p99 and server CPU per request of each variant (pooled
over its bursts), the ratios to the bare baseline, and the app-side CPU per request of bare and
service driven in-process over ASGI (medians of short interleaved pairs: the figure a busy
machine distorts least).
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
from collections.abc import Iterator
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


async def _burst(
    port: int,
    requests: list[bytes],
    connections: int,
    duration_s: float,
    max_requests: int,
    server: psutil.Process,
) -> dict[str, Any]:
    """Keep `connections` connections busy for `duration_s`; raw latencies (ns) and counts."""
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
    return {
        "latencies_ns": latencies,
        "errors": sum(errors),
        "elapsed_s": time.perf_counter() - start,
        "cpu_s": _cpu_s(server) - cpu_start_s,
    }


def _summary(bursts: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = sorted(ns for burst in bursts for ns in burst["latencies_ns"])
    count = len(latencies)
    return {
        "requests": count,
        "errors": sum(burst["errors"] for burst in bursts),
        "rps": count / sum(burst["elapsed_s"] for burst in bursts),
        "p50_ms": latencies[count // 2] / 1e6,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] / 1e6,
        # Server CPU per request: far less sensitive to a busy machine than requests/s.
        "server_cpu_us_per_request": sum(b["cpu_s"] for b in bursts) / max(1, count) * 1e6,
        "rps_per_burst": [round(len(b["latencies_ns"]) / b["elapsed_s"]) for b in bursts],
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


@contextlib.contextmanager
def _servers(variants: list[str], models_dir: Path) -> Iterator[dict[str, tuple[int, Any]]]:
    """Start one uvicorn server per variant; yield variant -> (port, process); stop them all."""
    started: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    try:
        for variant in variants:
            port = _free_port()
            command = [sys.executable, "-m", "bench.predict_server", "--variant", variant]
            command += ["--port", str(port), "--models-dir", str(models_dir)]
            started[variant] = (
                port,
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            )
        for port, process in started.values():
            _wait_ready(port, process)
        yield {variant: (port, process) for variant, (port, process) in started.items()}
    finally:
        for _, process in started.values():
            process.terminate()
        for _, process in started.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _measure(
    servers: dict[str, tuple[int, Any]], args: argparse.Namespace
) -> dict[str, list[dict[str, Any]]]:
    """Warm every server up, then alternate short bursts between them for `rounds` rounds.

    Only the server under load runs: the others are suspended (SIGSTOP), so their background
    work (an exporter retrying, a shipper polling) cannot steal the CPU from the measured one.
    """
    requests = [_request(body) for body in _bodies()]
    bursts: dict[str, list[dict[str, Any]]] = {variant: [] for variant in servers}
    processes = {variant: psutil.Process(process.pid) for variant, (_, process) in servers.items()}
    for process in processes.values():
        process.suspend()
    # uvloop (installed with uvicorn[standard]) keeps the client's share of the CPU small.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for round_index in range(args.rounds + 1):
            for variant, (port, _) in servers.items():
                server = processes[variant]
                server.resume()
                try:
                    if round_index == 0:  # warm-up
                        runner.run(_burst(port, requests, args.connections, 2.0, 10**9, server))
                        continue
                    burst = _burst(
                        port, requests, args.connections, args.duration, args.max_requests, server
                    )
                    bursts[variant].append(runner.run(burst))
                finally:
                    server.suspend()
    for process in processes.values():
        process.resume()  # so that terminate() is handled
    return bursts


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


def _in_process(models_dir: Path, pairs: int = 60, count: int = 250) -> dict[str, float]:
    """App-side CPU per request, bare and service, in many short interleaved pairs.

    Each pair runs `count` requests on each app back to back, so both see the same neighbours
    on a shared CPU; the ratio is the median of the per-pair ratios, the figures are medians.
    """
    bodies = _bodies()
    service = service_app(models_dir, observed=False)
    registry: ModelRegistry = service.state.services.registry
    registry.load_all()  # what the lifespan would do
    bare = bare_app(models_dir)
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


def _ensure_models(models_dir: Path | None, scratch: Path) -> Path:
    if models_dir and (models_dir / "stage1-qualifying" / MODEL_FILE).exists():
        return models_dir
    frame = validate_dataset(generate(seasons=8, seed=7), source="bench")
    train_all(frame, scratch, seed=7, source="synthetic(seasons=8, seed=7)")
    return scratch


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per burst")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per burst")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=8, help="bursts per variant, alternating")
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
        with _servers(args.variants, models_dir) as servers:
            bursts = _measure(servers, args)
        measure_in_process = not args.skip_in_process and {"bare", "service"} <= set(bursts)
        in_process = _in_process(models_dir) if measure_in_process else {}
    report: dict[str, Any] = {
        "benchmark": "predict",
        "endpoint": PATH,
        "workers": 1,
        "connections": args.connections,
        "burst_s": args.duration,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "log_shipping": args.ship,
    }
    for variant, runs in bursts.items():
        summary = _summary(runs)
        report[variant] = summary
        report[f"rps_{variant}"] = round(summary["rps"], 1)
        report[f"p50_ms_{variant}"] = round(summary["p50_ms"], 3)
        report[f"p99_ms_{variant}"] = round(summary["p99_ms"], 3)
        report[f"server_cpu_us_per_request_{variant}"] = round(
            summary["server_cpu_us_per_request"], 1
        )
    for variant in bursts.keys() - {"bare"} if "bare" in bursts else ():
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
        report["ratio_asgi_cpu_service_vs_bare"] = round(in_process["ratio"], 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
