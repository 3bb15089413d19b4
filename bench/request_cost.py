"""Instructions the request thread executes per prediction, bare vs observed: a noise-free figure.

    python -m bench.request_cost [--requests 500] [--no-parts] [--models-dir DIR]

Requests/s on this VM swing by up to 2x within seconds, and the observed arm's share of that swing
is not constant, so `bench.service_load`'s ratio moves by several points between runs. The number
of instructions the request thread executes per request does not: valgrind's callgrind counts
them exactly. Each arm runs the service app in its own process, driven in-process through its ASGI
interface with realistic `/predict/qualifying` bodies (no sockets, no load generator), with the
same environment as `bench.service_load`'s arms; callgrind counts only during the measured batch
(started with instrumentation off, switched on and off by `callgrind_control` around it) and per
thread.

Reported: request-thread instructions per request of every arm; each arm's overhead over bare in
%; `rps_ratio_ceiling` = bare / observed, the best requests/s ratio that the request thread's own
work allows, i.e. if both arms ran at the same instructions per cycle and the background threads
(shipper, span exporter) cost nothing. The arms `tracing_off`, `access_event_off` and
`shipping_off` switch one part off. The background threads' counts are not reported: under
valgrind the process runs ~50x slower while their timers keep wall-clock time, so their share
would be inflated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from bench.service_load import BARE_ENV, COMMON_ENV, observed_env
from bench.serving import PYTHON, ROOT, models_dir, sink_process

WARM_UP_REQUESTS = 300
PARTS = {
    "tracing_off": {"AMF1_TRACING_ENABLED": "false"},
    "access_event_off": {"AMF1_LOG_LEVEL": "warning"},
    "shipping_off": {"AMF1_LOG_SHIP": "false"},
}
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class _Driver:
    """Calls an ASGI app the way uvicorn would for one complete request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        scope: Message = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status = 0
        chunks: list[bytes] = []

        async def receive() -> Message:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # no disconnect: the request is complete
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def start(self) -> Callable[[], Awaitable[None]]:
        """Run the app's start-up; returns the coroutine function that shuts it down."""
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        outbox: asyncio.Queue[Message] = asyncio.Queue()
        task = asyncio.create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
        )
        await inbox.put({"type": "lifespan.startup"})
        answer = await outbox.get()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {answer}")

        async def shutdown() -> None:
            await inbox.put({"type": "lifespan.shutdown"})
            await outbox.get()
            await task

        return shutdown


async def _drive(commands: IO[str], replies: IO[str]) -> None:
    """Child process: build the app from this environment, warm it up, then run the batches
    the controller asks for (`run N` lines), answering `done` after each."""
    from amf1.loadgen.payloads import PayloadFactory  # noqa: PLC0415 - the child's imports
    from amf1.loadgen.scenarios import NormalScenario  # noqa: PLC0415
    from service.observability import create_served_app  # noqa: PLC0415

    driver = _Driver(create_served_app())
    shutdown = await driver.start()
    drivers = json.loads((await driver.request("GET", "/drivers"))[1])["drivers"]
    circuits = json.loads((await driver.request("GET", "/circuits"))[1])["circuits"]
    scenario = NormalScenario(PayloadFactory.synthetic(drivers, circuits), race_share=0.0)
    bodies = [scenario.next_request() for _ in range(WARM_UP_REQUESTS)]

    async def batch(count: int) -> None:
        for index in range(count):
            request = bodies[index % len(bodies)]
            status, body = await driver.request(request.method, request.path, request.body)
            if status != 200:
                raise RuntimeError(f"{request.path} answered {status}: {body[:200]!r}")

    await batch(WARM_UP_REQUESTS)
    print("ready", file=replies, flush=True)
    for line in commands:
        await batch(int(line.split()[1]))
        print("done", file=replies, flush=True)
    await shutdown()


def _total_instructions(path: Path) -> int:
    """The `totals:` line of one callgrind output file (its first event is Ir)."""
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"{path} has no totals line")


def _measure(arms: dict[str, dict[str, str]], requests: int, out_dir: Path) -> dict[str, int]:
    """Run every arm under callgrind at once; count one batch per arm, one arm at a time."""
    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, env in arms.items():
            processes[name] = subprocess.Popen(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    "--separate-threads=yes",
                    f"--callgrind-out-file={out_dir / name}.out",
                    PYTHON,
                    "-m",
                    "bench.request_cost",
                    "--drive",
                ],
                env={**os.environ, **env},
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        for name, process in processes.items():
            assert process.stdin is not None and process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"arm {name} did not start (exit {process.poll()})")
            _callgrind_control("on", process.pid)
            process.stdin.write(f"run {requests}\n")
            process.stdin.flush()
            if process.stdout.readline().strip() != "done":
                raise RuntimeError(f"arm {name} failed during the measured batch")
            _callgrind_control("off", process.pid)
        for process in processes.values():
            assert process.stdin is not None
            process.stdin.close()
            process.wait(300)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    # Thread 1 is the main thread: the event loop that runs every request.
    return {
        name: round(_total_instructions(out_dir / f"{name}.out-01") / requests) for name in arms
    }


def _callgrind_control(switch: str, pid: int) -> None:
    subprocess.run(
        ["callgrind_control", "--instr", switch, str(pid)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main() -> None:
    """Measure every arm and print the JSON document (or, with `--drive`, be one arm)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500, help="measured requests per arm")
    parser.add_argument("--no-parts", action="store_true", help="only the bare and observed arms")
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        replies = sys.stdout
        sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - the service logs to stdout
        asyncio.run(_drive(sys.stdin, replies))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print(json.dumps({"error": "valgrind not found (Debian package `valgrind`)"}))
        return
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        log_ports, _ = stack.enter_context(sink_process("bench.line_sink"))
        otlp_ports, _ = stack.enter_context(sink_process("bench.otlp_sink"))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-")))
        common = COMMON_ENV | {"AMF1_MODELS_DIR": str(models)}
        observed = common | observed_env(log_ports, otlp_ports, str(work / "observed"))
        arms = {"bare": common | BARE_ENV, "observed": observed}
        if not args.no_parts:
            for name, override in PARTS.items():
                arms[name] = observed | {"AMF1_LOG_BUFFER_DIR": str(work / name)} | override
        counts = _measure(arms, args.requests, work)
    bare = counts["bare"]
    print(
        json.dumps(
            {
                "benchmark": "request_cost",
                "endpoint": "/predict/qualifying",
                "requests_per_arm": args.requests,
                "instructions_per_request": counts,
                "overhead_pct": {
                    name: round((count / bare - 1) * 100, 1)
                    for name, count in counts.items()
                    if name != "bare"
                },
                "rps_ratio_ceiling": round(bare / counts["observed"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
