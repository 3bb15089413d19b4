"""Instructions the request thread executes per prediction, bare vs observed: a noise-free figure.

    python -m bench.request_cost [--requests 500] [--no-parts] [--models-dir DIR]

Requests/s on this VM swing by up to 2x within seconds, and the observed arm's share of that swing
is not constant, so `bench.service_load`'s ratio moves by several points between runs. The number
of instructions the serving thread executes per request does not: valgrind's callgrind counts
them exactly. Every arm is a real `amf1 serve` process (uvicorn, the app, the same environment as
`bench.service_load`'s arms) under callgrind, started with instrumentation off. After a warm-up,
counting is switched on (`callgrind_control`), the load generator's client sends the measured
`/predict/qualifying` requests one at a time over one keep-alive connection, and counting is
switched off and dumped, per thread.

Reported: main-thread instructions per request of every arm (the event loop: HTTP parsing, the
app, the response): `bare` (`amf1 serve` without observability), `tracing` (tracing only, default
sampling: `bench.overhead`'s tracing arm), `observed` (everything on); each arm's overhead over
bare in %; `rps_ratio_ceiling` = bare / observed,
the best requests/s ratio the serving thread's own work allows, i.e. if both arms ran at the same
instructions per cycle and the background threads (shipper, span exporter) cost nothing. The
arms `tracing_off`, `access_event_off` and `shipping_off` switch one part off. The background
threads are not reported: under valgrind the process runs ~50x slower while their timers keep
wall-clock time, so their share would be inflated. Kernel work (system calls) is not counted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from amf1.loadgen.client import Connection, Request, Target
from amf1.loadgen.payloads import PayloadFactory
from amf1.loadgen.runner import run_sync
from amf1.loadgen.scenarios import NormalScenario
from bench.overhead import TRACING_ONLY
from bench.service_load import BARE_ENV, COMMON_ENV, observed_env
from bench.serving import get_json, models_dir, otlp_sink_env, serve, sink_process

WARM_UP_REQUESTS = 300
PARTS = {
    "tracing_off": {"AMF1_TRACING_ENABLED": "false"},
    "access_event_off": {"AMF1_LOG_LEVEL": "warning"},
    "shipping_off": {"AMF1_LOG_SHIP": "false"},
}
_CALLGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes")


async def _send(url: str, requests: Sequence[Request]) -> None:
    """Send `requests` one after the other over one keep-alive connection; all must succeed."""
    connection = Connection(Target.from_url(url), timeout_s=120.0)
    try:
        for request in requests:
            response = await connection.send(request)
            if response.status != 200:
                raise RuntimeError(f"{url}{request.path} answered {response.status}")
    finally:
        await connection.close()


def _callgrind_control(pid: int, *options: str) -> None:
    subprocess.run(
        ["callgrind_control", *options, str(pid)], check=True, capture_output=True, timeout=300
    )


def _main_thread_instructions(out_file: Path) -> int:
    """Instructions of the main thread in the first dump of a `--separate-threads` run."""
    dump = out_file.with_name(f"{out_file.name}.1-01")
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])  # the first event is Ir
    raise RuntimeError(f"{dump} has no totals line")


def main() -> None:
    """Measure every arm and print the JSON document."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500, help="measured requests per arm")
    parser.add_argument("--no-parts", action="store_true", help="only bare, tracing and observed")
    parser.add_argument("--models-dir", type=Path)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print(json.dumps({"error": "valgrind not found (Debian package `valgrind`)"}))
        return
    counts: dict[str, int] = {}
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        log_ports, _ = stack.enter_context(sink_process("bench.sink"))
        otlp_ports, _ = stack.enter_context(sink_process("bench.otlp_sink"))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-")))
        observed = COMMON_ENV | observed_env(log_ports, otlp_ports, str(work / "observed"))
        tracing_only = COMMON_ENV | TRACING_ONLY | otlp_sink_env(otlp_ports)
        arms = {"bare": COMMON_ENV | BARE_ENV, "tracing": tracing_only, "observed": observed}
        if not args.no_parts:
            for name, override in PARTS.items():
                arms[name] = observed | {"AMF1_LOG_BUFFER_DIR": str(work / name)} | override
        scenario: NormalScenario | None = None
        for name, env in arms.items():
            out_file = work / f"{name}.out"
            prefix = (*_CALLGRIND, f"--callgrind-out-file={out_file}")
            with ExitStack() as server:
                url, pid = serve(server, models, env, prefix=prefix, ready_timeout_s=900)
                if scenario is None:
                    payloads = PayloadFactory.synthetic(
                        get_json(f"{url}/drivers")["drivers"],
                        get_json(f"{url}/circuits")["circuits"],
                    )
                    scenario = NormalScenario(payloads, race_share=0.0)
                    warm_up = [scenario.next_request() for _ in range(WARM_UP_REQUESTS)]
                    measured = [scenario.next_request() for _ in range(args.requests)]
                run_sync(lambda: _send(url, warm_up))  # noqa: B023 - called right here
                _callgrind_control(pid, "--instr=on")
                run_sync(lambda: _send(url, measured))  # noqa: B023 - called right here
                _callgrind_control(pid, "--instr=off")
                _callgrind_control(pid, "--dump")
                counts[name] = round(_main_thread_instructions(out_file) / args.requests)
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
