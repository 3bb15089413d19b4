"""Runs every health check and shapes the result for the table and `--json`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from amf1.health.alerts import check_last_alerts
from amf1.health.checks import (
    Check,
    Status,
    check_cluster,
    check_disk,
    check_errors,
    check_service,
    check_today_index,
    worst,
)
from amf1.settings import Settings


def run_checks(
    settings: Settings, *, days: int = 7, local_path: Path = Path()
) -> tuple[list[dict[str, Any]], Status]:
    """Run the checks in the guide's order; returns the rows and the overall status."""
    from elk.client import make_client  # noqa: PLC0415 - elasticsearch is a heavy import
    from elk.security.credentials import StackUser  # noqa: PLC0415

    checks: list[Check] = [check_service(settings)]
    with make_client(user=StackUser.ANALYST) as es:
        cluster = check_cluster(es)
        checks.append(cluster)
        reachable = cluster.data != {}
        if reachable:
            checks.append(check_today_index(es, settings))
            checks.append(check_errors(es, settings, days))
        checks.append(check_disk(es if reachable else None, settings, local_path))
        if reachable:
            checks.append(check_last_alerts(es, settings))
    return [asdict(check) for check in checks], worst(checks)
