"""Entry point of the `amf1` console script.

Each package contributes its subcommands through a `cli` module exposing
`add_parsers(subparsers)`. Those modules import their heavy dependencies inside the command
functions, so `amf1 --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Packages whose `cli` module adds subcommands, in help order; the operator tools (this package)
# come last because they drive all the others.
_COMMAND_MODULES = (
    "service.cli",
    "elk.cli",
    "alerting.cli",
    "alerting.prometheus.cli",
    "kibana.cli",
    "amf1.loadgen.cli",
    "amf1.health.cli",
    "amf1.report.cli",
    "amf1.traces.cli",
    "amf1.demo.cli",
    "amf1.settings_tools.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every package's subcommands registered."""
    parser = argparse.ArgumentParser(prog="amf1", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
