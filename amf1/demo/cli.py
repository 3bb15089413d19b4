"""`amf1 demo [--exit] [--quick]`: the README's main command."""

from __future__ import annotations

import argparse
import signal
from datetime import UTC, datetime
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 demo`."""
    parser = subparsers.add_parser(
        "demo",
        help="run everything and drive the failure scenarios (Ctrl-C to stop)",
        description="Train models if absent, bring the stack up, install the index template, "
        "start the service and the watcher (Slack: the configured webhook, else a local sink "
        "that prints), drive normal traffic, bad requests, a slow prediction, a corrupted model "
        "and its reload, drifted inputs and MAE-raising feedback, then print a summary. Keeps "
        "running until Ctrl-C; with --exit, stops what it started and exits.",
    )
    parser.add_argument("--exit", action="store_true", help="stop everything after the summary")
    parser.add_argument("--quick", action="store_true", help="half-length phases")
    parser.set_defaults(func=_run)


def _say(line: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {line}" if line else "", flush=True)


def _stop_requested(signum: int, frame: object) -> None:
    # SIGTERM and SIGHUP must clean up like Ctrl-C: the children run in their own sessions.
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    from amf1.demo.run import Demo, DemoConfig  # noqa: PLC0415 - keeps `amf1 --help` fast

    signal.signal(signal.SIGTERM, _stop_requested)
    signal.signal(signal.SIGHUP, _stop_requested)
    # A closed output pipe (`| head -5`) must stop the demo through its clean-up, not kill it
    # outright: SIGPIPE stays ignored (Python's default) and writes raise BrokenPipeError.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    return Demo(DemoConfig(exit_after=args.exit, quick=args.quick), _say).run()
