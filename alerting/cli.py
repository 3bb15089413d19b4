"""Subcommands of `amf1` that belong to the `alerting` package: `watch` and `kibana check`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from kibana.cli import command_group


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 watch` and `amf1 kibana check`."""
    watch = subparsers.add_parser(
        "watch", help="run the alerting watcher (Slack, PagerDuty and email alerts)"
    )
    watch.add_argument("--once", action="store_true", help="evaluate every rule once and exit")
    watch.add_argument("--interval", type=float, help="seconds between evaluations (>= 1)")
    watch.add_argument("--rules", type=Path, help="rules file (default: alerting/rules.yaml)")
    watch.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus /metrics on PORT (default: AMF1_WATCHER_METRICS_PORT)",
    )
    watch.set_defaults(func=_watch)

    # Under `kibana` because it checks the rules against Kibana's saved searches and data view.
    check = command_group(subparsers).add_parser(
        "check", help="validate the rules and saved searches"
    )
    check.add_argument("--rules", type=Path, help="rules file (default: alerting/rules.yaml)")
    check.set_defaults(func=_check)


def _settings(args: argparse.Namespace) -> Any:
    from alerting.settings import Settings  # noqa: PLC0415 - keep `amf1 --help` fast

    overrides: dict[str, Any] = {}
    names = (
        ("rules", "rules_file"),
        ("interval", "watch_interval_s"),
        ("metrics_port", "watcher_metrics_port"),
    )
    for arg, name in names:
        value = getattr(args, arg, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def _check(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from alerting.backend import field_types  # noqa: PLC0415
    from alerting.errors import AlertingError  # noqa: PLC0415
    from alerting.loading import load_compiled_rules  # noqa: PLC0415
    from logshipping.settings_base import describe_errors  # noqa: PLC0415

    try:
        settings = _settings(args)
    except ValidationError as exc:
        print(f"configuration error:\n{describe_errors(exc)}", file=sys.stderr)
        return 2
    try:
        rules = load_compiled_rules(
            settings.rules_file,
            settings.saved_objects_dir,
            field_types(settings, None),
            settings.index_prefix,
            time_zone=settings.kql_time_zone,
        )
    except AlertingError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    print(f"{len(rules)} rules OK ({settings.rules_file})")
    return 0


def _watch(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    import logshipping  # noqa: PLC0415
    from alerting.assembly import build_watcher  # noqa: PLC0415
    from alerting.errors import AlertingError  # noqa: PLC0415
    from logshipping.settings_base import describe_errors  # noqa: PLC0415

    try:
        settings = _settings(args)
        watcher = build_watcher(settings)
    except ValidationError as exc:
        print(f"configuration error:\n{describe_errors(exc)}", file=sys.stderr)
        return 2
    except AlertingError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    # The watcher's settings registered their secrets for redaction when they were built.
    logshipping.configure(
        logshipping.Settings(service_name="amf1-watcher", log_dataset="amf1.watcher")
    )
    # One line per Elasticsearch request or retry (tens per cycle) would drown the watcher's own
    # events; an outage is reported once, by the watcher itself (watcher-degraded).
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    if settings.watcher_metrics_port is not None and not args.once:
        from alerting.metrics import serve  # noqa: PLC0415

        serve(settings.watcher_metrics_port, settings.watcher_metrics_host)
    try:
        return _run_watcher(watcher, once=args.once)
    finally:
        logshipping.shutdown()


def _run_watcher(watcher: Any, *, once: bool) -> int:
    if once:
        ok = watcher.run_once()
        watcher.finish(timeout_s=60.0)
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
