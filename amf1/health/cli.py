"""`amf1 health [--json]`: service, models, cluster, today's index, errors, disk, last alerts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

_MARK = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL"}


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 health`."""
    parser = subparsers.add_parser(
        "health",
        help="weekly health check (exit 1 when unhealthy)",
        description="Service and models, Elasticsearch health, today's index, errors in the "
        "last 7 days, disk usage and the last alert per rule. Exits 1 when any check fails.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--service-url", help="service base URL (default: AMF1_SERVICE_URL)")
    parser.add_argument("--days", type=int, default=7, help="error look-back in days (7)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from amf1.health.report import run_checks  # noqa: PLC0415 - keeps `amf1 --help` fast
    from amf1.settings import Settings  # noqa: PLC0415

    settings = Settings(service_url=args.service_url) if args.service_url else Settings()
    checks, overall = run_checks(settings, days=args.days, local_path=Path.cwd())
    if args.json:
        print(json.dumps({"status": overall, "checks": checks}, indent=2, default=str))
    else:
        width = max(len(c["name"]) for c in checks)
        for check in checks:
            print(f"{_MARK[check['status']]}  {check['name']:<{width}}  {check['detail']}")
        print(f"\noverall: {overall.upper()}")
    return 1 if overall == "fail" else 0
