"""Helpers shared by the benchmarks that run `amf1 serve` processes on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psutil

from service.model_store import has_models

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    """GET `url` (5 s timeout) and parse the JSON body."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextmanager
def managed_process(
    args: list[str], env: dict[str, str], **popen: Any
) -> Iterator[subprocess.Popen[Any]]:
    """Run `args` from the repository root; terminate (then kill) it on exit."""
    process = subprocess.Popen(args, env=env, cwd=ROOT, **popen)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def models_dir(given: Path | None, stack: ExitStack, timeout_s: float = 900) -> Path:
    """`given`, else `AMF1_MODELS_DIR` (models/) if trained, else small models in a temp dir."""
    if given is not None:
        return given
    default = Path(os.environ.get("AMF1_MODELS_DIR", ROOT / "models"))
    if has_models(default):
        return default
    out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-models-")))
    subprocess.run(
        [PYTHON, "-m", "amf1.cli", "train", "--out", str(out), "--seasons", "3"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=timeout_s,
    )
    return out


def wait_ready(url: str, process: subprocess.Popen[Any], timeout_s: float = 120.0) -> None:
    """Poll `url`/ready until it answers; raise if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            get_json(f"{url}/ready")
        except OSError:
            time.sleep(0.3)
        else:
            return
    raise RuntimeError(f"{url} not ready after {timeout_s} s")


def serve(
    stack: ExitStack,
    models: Path,
    env: dict[str, str],
    *,
    prefix: Sequence[str] = (),
    ready_timeout_s: float = 120.0,
) -> tuple[str, int]:
    """Start `amf1 serve` on a free loopback port with `env` over this environment (output
    discarded), wait until it is ready; it stops with `stack`. Returns (base URL, pid).

    `prefix` runs it under another program (e.g. valgrind), which then has that pid.
    """
    command = [*prefix, PYTHON, "-m", "amf1.cli", "serve", "--models-dir", str(models)]
    return serve_command(stack, command, env, ready_timeout_s=ready_timeout_s)


def serve_command(
    stack: ExitStack, command: Sequence[str], env: dict[str, str], *, ready_timeout_s: float = 120.0
) -> tuple[str, int]:
    """`serve` for any server `command` that takes `--port N` and answers `GET /ready`."""
    url, process = start_server(stack, command, env)
    wait_ready(url, process, ready_timeout_s)
    return url, process.pid


def start_server(
    stack: ExitStack, command: Sequence[str], env: dict[str, str]
) -> tuple[str, subprocess.Popen[Any]]:
    """Start `command --port N` on a free loopback port (output discarded) without waiting for
    it (`wait_ready`); it stops with `stack`. Returns (base URL, process)."""
    port = free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    args = [*command, "--port", str(port)]
    process = stack.enter_context(managed_process(args, {**os.environ, **env}, **quiet))
    return f"http://127.0.0.1:{port}", process


def cpu_seconds(pid: int) -> Callable[[], tuple[float, float]]:
    """User + system CPU seconds a process has used so far: all its threads, and its main thread
    (the event loop that serves the requests; the others are the shipper and span exporter)."""
    process = psutil.Process(pid)

    def used() -> tuple[float, float]:
        times = process.cpu_times()
        main = next((t for t in process.threads() if t.id == pid), None)
        serving = main.user_time + main.system_time if main is not None else 0.0
        return float(times.user + times.system), float(serving)

    return used


@contextmanager
def sink_process(module: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Run a sink (`bench.sink`, `bench.otlp_sink`) that prints its ports as a JSON line,
    counts until its stdin closes, then prints its counts. Yields (ports, counts); `counts` is
    filled when the block ends."""
    counts: dict[str, Any] = {}
    with managed_process(
        [PYTHON, "-m", module], dict(os.environ), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        ports: dict[str, Any] = json.loads(process.stdout.readline())
        try:
            yield ports, counts
        finally:
            process.stdin.close()
            counts.update(json.loads(process.stdout.readline() or "{}"))


def otlp_sink_env(ports: dict[str, Any]) -> dict[str, str]:
    """Point a traced server at `bench.otlp_sink` over either protocol (`AMF1_OTLP_PROTOCOL`
    from the environment picks one; the default is the service's)."""
    return {
        "AMF1_OTLP_ENDPOINT": f"http://127.0.0.1:{ports['port']}",
        "AMF1_OTLP_HTTP_ENDPOINT": f"http://127.0.0.1:{ports['http_port']}",
    }
