"""Subcommands of `amf1` that belong to the `elk` package."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register this package's subcommands."""
