"""`amf1 settings`: the effective settings of every package, secrets masked, with their origin."""

from __future__ import annotations

import argparse
import sys
from typing import Any

MASK = "********"


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 settings`."""
    from amf1.settings_tools.docs import PACKAGES  # noqa: PLC0415 - a constant; the models load later

    parser = subparsers.add_parser(
        "settings", help="print the effective settings (secrets masked) and where each came from"
    )
    parser.add_argument("--package", choices=list(PACKAGES), help="only this package's settings")
    parser.set_defaults(func=_settings)


def shown(value: object) -> str:
    """A value as printed: secrets masked, unset as `unset`."""
    from pydantic import SecretStr  # noqa: PLC0415

    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else "(empty)"
    if isinstance(value, frozenset | set):
        return str(sorted(value))
    return str(value)


def _settings(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from amf1.settings_tools.docs import PACKAGES, settings_class  # noqa: PLC0415
    from logshipping.settings_base import describe_errors, variables  # noqa: PLC0415

    code = 0
    for package in [args.package] if args.package else list(PACKAGES):
        cls = settings_class(package)
        print(f"[{package}]")
        try:
            settings = cls()
        except ValidationError as exc:
            print(f"  invalid:\n{describe_errors(exc)}", file=sys.stderr)
            code = 2
            continue
        rows = [(v.name, shown(settings.value(v)), settings.origin(v)) for v in variables(cls)]
        width = max(len(name) for name, _, _ in rows)
        for name, value, origin in rows:
            print(f"  {name:<{width}}  {value}  ({origin})")
    return code
