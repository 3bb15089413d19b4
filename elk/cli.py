"""Subcommands of `amf1` that belong to the `elk` package."""

from __future__ import annotations

import argparse
from pathlib import Path
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
    certs = commands.add_parser(
        "certs",
        help="issue the pipeline's TLS certificates (CA, pipeline server, shipper client) "
        "into DIR unless DIR/ca.crt exists",
    )
    certs.add_argument("directory", type=Path, metavar="DIR")
    certs.add_argument(
        "--host",
        action="append",
        dest="hosts",
        metavar="NAME",
        help="name or IP address of the pipeline in its certificate (repeatable; default "
        "127.0.0.1 and localhost)",
    )
    certs.add_argument(
        "--owner",
        action="append",
        default=[],
        metavar="DIR=UID",
        help="give a subdirectory (pipeline, shipper) to a user id (needs root)",
    )
    certs.set_defaults(func=_certs)
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


def _certs(args: argparse.Namespace) -> int:
    from elk.certs import issue_pipeline_certs  # noqa: PLC0415 - keep `amf1 --help` fast

    try:
        owners = {name: int(uid) for name, _, uid in (o.partition("=") for o in args.owner)}
    except ValueError:
        print("amf1 elk certs: --owner takes DIR=UID, e.g. pipeline=1000")
        return 2
    hosts = args.hosts or ["127.0.0.1", "localhost"]
    written = issue_pipeline_certs(args.directory, hosts, owners)
    if not written:
        print(f"{args.directory / 'ca.crt'} exists: certificates kept")
    for path in written:
        print(f"wrote {path}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    from elk.client import make_client  # noqa: PLC0415 - keep `amf1 --help` fast
    from elk.installer import prune  # noqa: PLC0415 - keep `amf1 --help` fast
    from elk.security.credentials import StackUser  # noqa: PLC0415

    for name in prune(make_client(user=StackUser.ADMIN), older_than_days=args.older_than_days):
        print(f"deleted {name}")
    return 0
