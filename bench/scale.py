"""Throughput with 1 and 2 uvicorn workers, bare and observed, in one interleaved run.

    python -m bench.scale [--seconds 12] [--slice 0.5] [--concurrency 16] [--models-dir DIR]

Four `amf1 serve` servers run on loopback: 1 and 2 workers (`AMF1_WORKERS`), each bare (no
spans, nothing shipped, no event rendered) and observed (events shipped to `bench.sink`, spans
exported to `bench.otlp_sink`, as `bench.service_load` sets them up). The load generator sends
`/predict/qualifying` requests to one server at a time, in slices interleaved across the four
(`bench.interleave`), with keep-alive connections spread over the workers by the kernel. On a
2-core machine the load generator takes a core's share too, so 2 workers cannot double 1.

Then `bench.feedback_match` runs a 2-worker service against the running stack: every prediction
followed by its outcome on a new connection, and the watcher's join over the indexed events.

Prints one JSON object: `rps_1_worker` and `rps_2_workers` (each `{bare, observed}`),
`speedup` (2 workers / 1, per arm), `feedback_matched_pct` (null with
`feedback_unmeasured` without the stack) and the per-arm details.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from amf1.loadgen.payloads import PayloadFactory
from amf1.loadgen.runner import run_sync
from amf1.loadgen.scenarios import NormalScenario
from bench import feedback_match
from bench.interleave import interleaved
from bench.service_load import BARE_ENV, observed_env
from bench.serving import get_json, models_dir, serve, sink_process


def main() -> None:
    """Start the four servers, load them in interleaved slices, print the JSON document."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=12.0, help="measured seconds per arm")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds per slice")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--feedback-pairs", type=int, default=200, help="0: skip the match")
    args = parser.parse_args()
    with ExitStack() as stack:
        models = models_dir(args.models_dir, stack)
        log_ports, _ = stack.enter_context(sink_process("bench.sink"))
        otlp_ports, _ = stack.enter_context(sink_process("bench.otlp_sink"))
        urls: dict[str, list[str]] = {}
        for workers in (1, 2):
            common = {"AMF1_ENVIRONMENT": "development", "AMF1_WORKERS": str(workers)}
            buffer_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="amf1-bench-buf-"))
            observed = observed_env(log_ports, otlp_ports, buffer_dir)
            urls[f"bare_{workers}"] = [serve(stack, models, common | BARE_ENV)[0]]
            urls[f"observed_{workers}"] = [serve(stack, models, common | observed)[0]]
        first = urls["bare_1"][0]
        factory = PayloadFactory.synthetic(
            get_json(f"{first}/drivers")["drivers"], get_json(f"{first}/circuits")["circuits"]
        )
        scenario = NormalScenario(factory, race_share=0.0)
        run_sync(lambda: interleaved(urls, scenario, seconds_per_arm=2.0, slice_s=0.5))
        results = run_sync(
            lambda: interleaved(
                urls,
                scenario,
                seconds_per_arm=args.seconds,
                slice_s=args.slice,
                concurrency=args.concurrency,
            )
        )
        matched = (
            feedback_match.measure(models, stack, args.feedback_pairs)
            if args.feedback_pairs
            else {"feedback_matched_pct": None, "feedback_unmeasured": "--feedback-pairs 0"}
        )
    arms = {arm: load.summary() for arm, load in results.items()}
    rps = {arm: summary["rps"] for arm, summary in arms.items()}
    document: dict[str, Any] = {
        "benchmark": "scale",
        "rps_1_worker": {"bare": rps["bare_1"], "observed": rps["observed_1"]},
        "rps_2_workers": {"bare": rps["bare_2"], "observed": rps["observed_2"]},
        "speedup": {
            arm: round(rps[f"{arm}_2"] / rps[f"{arm}_1"], 3) if rps[f"{arm}_1"] else None
            for arm in ("bare", "observed")
        },
        **matched,
        "arms": arms,
        "settings": {
            "seconds_per_arm": args.seconds,
            "slice_s": args.slice,
            "concurrency": args.concurrency,
            "cpu_count": os.cpu_count(),
        },
    }
    print(json.dumps(document))


if __name__ == "__main__":
    main()
