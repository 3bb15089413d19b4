"""`amf1 report --days 30 --out DIR`: the monthly report from Elasticsearch."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 report`."""
    parser = subparsers.add_parser(
        "report",
        help="monthly report (Markdown + PNG charts) from Elasticsearch",
        description="Predictions, error ratio, latency, MAE/Brier trend, alerts, incidents and "
        "MTTR over the last N days, written as report.md, report.json and PNG charts.",
    )
    parser.add_argument("--days", type=int, default=30, help="look-back in days (30)")
    parser.add_argument("--out", type=Path, default=Path("report"), help="output directory")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from elasticsearch import ApiError, TransportError  # noqa: PLC0415 - heavy imports

    from alerting.errors import BackendUnavailableError  # noqa: PLC0415
    from amf1.report.data import collect  # noqa: PLC0415
    from amf1.report.render import write_report  # noqa: PLC0415
    from amf1.settings import Settings  # noqa: PLC0415
    from elk.client import make_client  # noqa: PLC0415
    from elk.security.credentials import StackUser  # noqa: PLC0415

    if args.days < 1:
        print("--days must be at least 1")
        return 2
    try:
        with make_client(user=StackUser.ANALYST) as es:
            end = datetime.now(UTC)
            data = collect(es, Settings(), end - timedelta(days=args.days), end)
    except (ApiError, TransportError, BackendUnavailableError) as exc:
        print(f"cannot read Elasticsearch: {type(exc).__name__}: {exc}")
        return 1
    period = "the last day" if args.days == 1 else f"the last {args.days} days"
    path = write_report(data, args.out, period)
    print(f"report written: {path} ({data.predictions:,} predictions, {len(data.alerts)} alerts)")
    return 0
