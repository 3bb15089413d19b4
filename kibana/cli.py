"""Subcommands of `amf1` that belong to the `kibana` package: `kibana import`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 kibana import`."""
    imp = command_group(subparsers).add_parser(
        "import",
        help="import the saved objects into Kibana",
        description="Credentials are never arguments (a command line is visible to every user "
        "of the machine): the password comes from AMF1_KIBANA_PASSWORD or the file named by "
        "AMF1_KIBANA_PASSWORD_FILE, an API key from AMF1_KIBANA_API_KEY (or _FILE).",
    )
    imp.add_argument("--url", help="Kibana base URL (default: AMF1_KIBANA_URL)")
    imp.add_argument("--user", help="basic-auth user (default: AMF1_KIBANA_USERNAME)")
    imp.add_argument("--dir", type=Path, help="directory of *.ndjson (default: the shipped ones)")
    imp.add_argument("--space", help="Kibana space to import into (default: AMF1_KIBANA_SPACE)")
    imp.set_defaults(func=_import)


def command_group(subparsers: argparse._SubParsersAction[Any]) -> argparse._SubParsersAction[Any]:
    """The subcommands of `amf1 kibana`, the `kibana` command being added on first use.

    Other packages add their own Kibana-facing subcommands here (`alerting` adds `check`), so
    `amf1 kibana ...` stays one command whoever registers first.
    """
    parser = subparsers.choices.get("kibana")
    if parser is None:
        parser = subparsers.add_parser("kibana", help="Kibana saved objects")
        parser.add_subparsers(dest="kibana_command", required=True, metavar="COMMAND")
    # argparse gives no public way back to a parser's subcommands: find the action it holds.
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _settings(args: argparse.Namespace) -> Any:
    from kibana.settings import Settings  # noqa: PLC0415 - keep `amf1 --help` fast

    overrides: dict[str, Any] = {}
    for arg, name in (
        ("url", "kibana_url"),
        ("user", "kibana_username"),
        ("dir", "saved_objects_dir"),
        ("space", "kibana_space"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def _import(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from kibana.errors import KibanaError  # noqa: PLC0415
    from kibana.importer import bundle, import_saved_objects  # noqa: PLC0415
    from tracing.correlation import jaeger_ui_served  # noqa: PLC0415

    try:
        settings = _settings(args)
        result = import_saved_objects(
            settings.kibana_url,
            bundle(
                settings.saved_objects_dir,
                settings.ui_base_url,
                jaeger_ui_served=jaeger_ui_served(settings.ui_base_url, settings.kibana_timeout_s),
            ),
            space=settings.kibana_space,
            api_key=settings.kibana_api_key,
            username=settings.kibana_username,
            password=settings.kibana_password,
            ca_cert=settings.kibana_ca_cert,
            timeout_s=settings.kibana_timeout_s,
        )
    except (KibanaError, ValidationError) as exc:
        print(f"import failed: {exc}", file=sys.stderr)
        return 2
    for rejected in result.rejected:
        print(f"rejected {rejected.type} {rejected.id}: {rejected.reason}", file=sys.stderr)
    for imported in result.imported:
        if imported.destination_id != imported.id:
            print(f"imported {imported.type} {imported.id} as {imported.destination_id}")
    print(
        f"imported {result.success_count} objects into space {settings.kibana_space}, "
        f"{len(result.rejected)} rejected"
    )
    return 1 if result.rejected else 0
