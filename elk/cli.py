"""Subcommands of `amf1` that belong to the `elk` package."""

from __future__ import annotations

import argparse
from typing import Any

from elk.stack import cli as stack_cli


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register this package's subcommands."""
    stack_cli.add_parsers(subparsers)
    _add_elk_parsers(subparsers)


def _add_elk_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    elk = subparsers.add_parser("elk", help="Elasticsearch index set-up and the pipeline configs")
    commands = elk.add_subparsers(dest="elk_command", required=True, metavar="ELK_COMMAND")
    setup = commands.add_parser(
        "setup", help="install the amf1-logs index template (and 30-day ILM where supported)"
    )
    setup.set_defaults(func=_setup)
    render = commands.add_parser(
        "render", help="re-render the Logstash and collector configs from elk/pipeline_rules.py"
    )
    render.add_argument(
        "--check", action="store_true", help="only report stale files (exit 1 if any)"
    )
    render.set_defaults(func=_render)
    prune = commands.add_parser("prune", help="delete amf1-logs-* days older than the retention")
    prune.add_argument("--older-than-days", type=int, default=30, metavar="DAYS")
    prune.set_defaults(func=_prune)


def _setup(args: argparse.Namespace) -> int:
    from elk.client import make_client  # noqa: PLC0415 - keep `amf1 --help` fast
    from elk.installer import InstallError, install  # noqa: PLC0415 - keep `amf1 --help` fast
    from elk.security.credentials import StackUser  # noqa: PLC0415

    try:
        report = install(make_client(user=StackUser.ADMIN))
    except InstallError as exc:
        print(f"amf1 elk setup: {exc}")
        return 1
    for action in report.actions:
        print(action)
    return 0


def _render(args: argparse.Namespace) -> int:
    from elk import rendered  # noqa: PLC0415 - keep `amf1 --help` fast

    if args.check:
        outdated = rendered.stale()
        for path in outdated:
            print(f"stale: {path} (run `amf1 elk render`)")
        return 1 if outdated else 0
    for path in rendered.write():
        print(f"rendered {path}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    from elk.client import make_client  # noqa: PLC0415 - keep `amf1 --help` fast
    from elk.installer import prune  # noqa: PLC0415 - keep `amf1 --help` fast
    from elk.security.credentials import StackUser  # noqa: PLC0415

    for name in prune(make_client(user=StackUser.ADMIN), older_than_days=args.older_than_days):
        print(f"deleted {name}")
    return 0
