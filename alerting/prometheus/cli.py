"""`amf1 prometheus render [--check]`: the Prometheus alert rules from the one threshold table."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 prometheus render`."""
    group = subparsers.add_parser("prometheus", help="Prometheus configuration of the service")
    commands = group.add_subparsers(dest="prometheus_command", required=True, metavar="COMMAND")
    render = commands.add_parser(
        "render",
        help="write prometheus/rules/amf1.rules.yml (alerting/rules.yaml + prometheus/alerts.yaml)",
    )
    render.add_argument(
        "--check", action="store_true", help="only compare; exit 1 if the file is out of date"
    )
    render.set_defaults(func=_render)


def _render(args: argparse.Namespace) -> int:
    from alerting.errors import ConfigurationError  # noqa: PLC0415 - keep `amf1 --help` fast
    from alerting.prometheus.render import OUTPUT_FILE, write_or_check  # noqa: PLC0415

    try:
        matched = write_or_check(check=args.check)
    except ConfigurationError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    if args.check and not matched:
        print(f"{OUTPUT_FILE} is out of date: run `amf1 prometheus render`", file=sys.stderr)
        return 1
    print(f"{OUTPUT_FILE}: {'unchanged' if matched else 'written'}")
    return 0
