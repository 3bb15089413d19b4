"""Subcommands of `amf1` that belong to the `kibana` package: `watch` and `kibana import`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 watch` and `amf1 kibana import`."""
    watch = subparsers.add_parser("watch", help="run the alerting watcher (Slack alerts)")
    watch.add_argument("--once", action="store_true", help="evaluate every rule once and exit")
    watch.add_argument("--interval", type=float, help="seconds between evaluations (>= 1)")
    watch.add_argument("--rules", type=Path, help="rules file (default: alerting/rules.yaml)")
    watch.set_defaults(func=_watch)

    kibana = subparsers.add_parser("kibana", help="Kibana saved objects")
    kibana_sub = kibana.add_subparsers(dest="kibana_command", required=True, metavar="COMMAND")
    imp = kibana_sub.add_parser("import", help="import the saved objects into Kibana")
    imp.add_argument("--url", help="Kibana base URL (default: AMF1_KIBANA_URL)")
    imp.add_argument("--api-key", help="Kibana API key (default: AMF1_KIBANA_API_KEY)")
    imp.add_argument("--user", help="basic-auth user (default: AMF1_KIBANA_USERNAME)")
    imp.add_argument("--password", help="basic-auth password (default: AMF1_KIBANA_PASSWORD)")
    imp.add_argument("--dir", type=Path, help="directory of *.ndjson (default: the shipped ones)")
    imp.set_defaults(func=_import)

    check = kibana_sub.add_parser("check", help="validate the rules and saved searches")
    check.add_argument("--rules", type=Path, help="rules file (default: alerting/rules.yaml)")
    check.set_defaults(func=_check)


def _settings(args: argparse.Namespace) -> Any:
    from kibana.settings import Settings  # noqa: PLC0415 - keep `amf1 --help` fast

    overrides: dict[str, Any] = {}
    for arg, name in (
        ("rules", "rules_file"),
        ("interval", "watch_interval_s"),
        ("url", "kibana_url"),
        ("api_key", "kibana_api_key"),
        ("user", "kibana_username"),
        ("password", "kibana_password"),
        ("dir", "saved_objects_dir"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def _check(args: argparse.Namespace) -> int:
    from alerting.backend import field_types  # noqa: PLC0415
    from alerting.loading import load_config  # noqa: PLC0415
    from kibana.errors import KibanaError  # noqa: PLC0415

    settings = _settings(args)
    try:
        rules = load_config(
            settings.rules_file,
            settings.saved_objects_dir,
            field_types(settings, None),
            settings.index_prefix,
        )
    except KibanaError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    print(f"{len(rules)} rules OK ({settings.rules_file})")
    return 0


def _secret_values(settings: Any) -> list[str]:
    """Every secret of the settings, so the log redactor masks it wherever it appears."""
    names = [
        "es_password",
        "es_api_key",
        "kibana_password",
        "kibana_api_key",
        "slack_webhook_url",
        "slack_critical_webhook_url",
        "slack_alerts_webhook_url",
    ]
    values = (getattr(settings, name) for name in names)
    return [value.get_secret_value() for value in values if value is not None]


def _watch(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    import logshipping  # noqa: PLC0415
    from alerting.assembly import build_watcher  # noqa: PLC0415
    from kibana.errors import KibanaError  # noqa: PLC0415

    try:
        settings = _settings(args)
        watcher = build_watcher(settings)
    except (KibanaError, ValidationError) as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    logshipping.configure(
        logshipping.Settings(service_name="amf1-watcher", log_dataset="amf1.watcher"),
        secrets=_secret_values(settings),
    )
    # One line per Elasticsearch request or retry (tens per cycle) would drown the watcher's own
    # events; an outage is reported once, by the watcher itself (watcher-degraded).
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    try:
        return _run_watcher(watcher, once=args.once)
    finally:
        logshipping.shutdown()


def _run_watcher(watcher: Any, *, once: bool) -> int:
    if once:
        ok = watcher.run_once()
        if not ok:
            print("Elasticsearch unreachable: nothing evaluated", file=sys.stderr)
        for problem, reason in watcher.health.rule_problems.items():
            print(f"{problem}: {reason}", file=sys.stderr)
        return 0 if ok and not watcher.health.rule_problems else 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        watcher.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _import(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from kibana.errors import KibanaError  # noqa: PLC0415
    from kibana.importer import bundle, import_saved_objects  # noqa: PLC0415

    try:
        settings = _settings(args)
        result = import_saved_objects(
            settings.kibana_url,
            bundle(settings.saved_objects_dir, settings.jaeger_ui_url),
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
    print(f"imported {result.success_count} objects, {len(result.rejected)} rejected")
    return 1 if result.rejected else 0
