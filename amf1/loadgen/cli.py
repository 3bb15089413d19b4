"""`amf1 loadgen --rps N --duration S --scenario NAME [--url URL]`: bounded load on the service."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from amf1.loadgen.session import SCENARIOS


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 loadgen`."""
    parser = subparsers.add_parser(
        "loadgen",
        help="drive the service with a scenario (bounded in count and time)",
        description="Send a scenario's requests at a target rate for a bounded time and print "
        "status codes and latencies. Scenarios: " + ", ".join(SCENARIOS) + ".",
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="normal")
    parser.add_argument("--rps", type=float, default=50.0, help="target requests/s (50)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (10, max 3600)")
    parser.add_argument("--max-requests", type=int, help="count bound (default rps x duration)")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument("--url", help="service base URL (default: AMF1_SERVICE_URL, loopback)")
    parser.add_argument(
        "--models-dir", type=Path, help="corrupt-model: the service's models dir (AMF1_MODELS_DIR)"
    )
    parser.add_argument("--model", default="stage1-qualifying", help="corrupt-model: which one")
    parser.add_argument(
        "--feedback-error-s", type=float, default=0.6, help="feedback-mae: lap-time error (0.6)"
    )
    parser.add_argument(
        "--delay-ms",
        type=int,
        default=400,
        help="slow: delay per prediction (the service needs AMF1_TEST_DELAY_ENABLED=true)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from amf1.loadgen.client import LoadgenError, Target  # noqa: PLC0415
    from amf1.loadgen.runner import LoadPlan, run_sync  # noqa: PLC0415
    from amf1.loadgen.session import Options, run_scenario  # noqa: PLC0415
    from amf1.settings import Settings  # noqa: PLC0415

    settings = Settings()
    if not 0 < args.duration <= 3600 or args.rps <= 0:
        print("amf1 loadgen: --duration must be in (0, 3600] and --rps > 0")
        return 2
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    told = settings.feedback_token
    options = Options(
        models_dir=args.models_dir or settings.models_dir,
        model=args.model,
        admin_token=token,
        feedback_token=told.get_secret_value() if told else None,
        feedback_error_s=args.feedback_error_s,
        slow_delay_ms=args.delay_ms,
    )
    plan = LoadPlan(
        rps=args.rps,
        duration_s=args.duration,
        max_requests=args.max_requests,
        concurrency=args.concurrency,
    )

    def say(line: str) -> None:
        if not args.json:
            print(f"loadgen: {line}")

    try:
        target = Target.from_url(args.url or settings.service_url)
        say(f"{args.scenario} at {args.rps:g} rps for {args.duration:g} s -> {target.url}")
        summary = run_sync(lambda: run_scenario(target, args.scenario, plan, options, progress=say))
    except LoadgenError as exc:
        print(f"amf1 loadgen: {exc}")
        return 1
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    slow = summary["by_label"].get("qualifying-slow", {}).get("latency_ms", {}).get("p50")
    if args.scenario == "slow" and slow is not None and slow < args.delay_ms:
        say(
            f"the service ignored the delay header (p50 {slow} ms < {args.delay_ms} ms): start it "
            "with AMF1_TEST_DELAY_ENABLED=true (never in production)"
        )
    return 0


def format_summary(summary: dict[str, Any]) -> str:
    """A human table: outcomes and latency percentiles per request label."""
    lines = [
        f"{summary['requests']} requests in {summary['elapsed_s']} s "
        f"({summary['achieved_rps']} rps) -> {summary['target']}",
        "",
        f"{'request':<22} {'count':>7}  {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  outcomes",
    ]
    for label, stats in summary["by_label"].items():
        latency = stats["latency_ms"]
        outcomes = ", ".join(f"{k}: {v}" for k, v in stats["outcomes"].items())
        lines.append(
            f"{label:<22} {stats['requests']:>7}  {_ms(latency['p50'])} {_ms(latency['p95'])} "
            f"{_ms(latency['p99'])}  {outcomes}"
        )
    latency = summary["latency_ms"]
    lines.append(
        f"{'all':<22} {summary['requests']:>7}  {_ms(latency['p50'])} {_ms(latency['p95'])} "
        f"{_ms(latency['p99'])}  " + ", ".join(f"{k}: {v}" for k, v in summary["outcomes"].items())
    )
    if summary.get("trace_ids"):
        lines.append(f"\ntrace ids: {', '.join(summary['trace_ids'][:3])}")
    lines.extend(
        f"{step['step']}: HTTP {step['status']}, loaded {step['loaded']}"
        for step in summary.get("actions", [])
    )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return f"{value:>8.2f}" if value is not None else f"{'-':>8}"
