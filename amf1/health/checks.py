"""The weekly health check of the monitoring guide, one function per question.

Every check returns a `Check` and never raises for an unreachable dependency: a dead service or
cluster is exactly what the operator needs to see in the table.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from amf1.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

Status = Literal["ok", "warn", "fail"]
_RANK: dict[Status, int] = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the health table; `data` holds the machine-readable figures."""

    name: str
    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def worst(checks: list[Check]) -> Status:
    """The overall status: the worst of the checks."""
    return max((c.status for c in checks), key=_RANK.__getitem__, default="ok")


def check_service(settings: Settings) -> Check:
    """Liveness of the service and whether both models are loaded (`/health`, `/models`)."""
    base = settings.service_url.rstrip("/")
    try:
        with httpx.Client(timeout=settings.http_timeout_s) as client:
            health = client.get(f"{base}/health")
            models = client.get(f"{base}/models")
    except httpx.HTTPError as exc:
        return Check("service", "fail", f"{base} unreachable: {type(exc).__name__}")
    body = _json(health)
    loaded, problems = _models_loaded(_json(models))
    data = {
        "url": base,
        "http_status": health.status_code,
        "status": body.get("status"),
        "reasons": body.get("reasons", []),
        "models": loaded,
    }
    if health.status_code != 200:
        return Check("service", "fail", f"/health answered {health.status_code}", data)
    if problems:
        return Check("service", "fail", "; ".join(problems), data)
    status = str(body.get("status", "ok")).lower()
    if status not in {"ok", "healthy", "pass"}:
        reasons = "; ".join(str(reason) for reason in data["reasons"])
        return Check("service", "warn", f"service reports {status}: {reasons}", data)
    names = ", ".join(f"{name} {version}" for name, version in loaded.items())
    return Check("service", "ok", f"up; models loaded: {names or 'none listed'}", data)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"items": value}


def _models_loaded(body: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Model name -> version for loaded models, and a problem line per unloaded one.

    Accepts `{"models": [{"name", "version", "loaded", "error"}...]}` or a mapping by name.
    """
    entries: Any = body.get("models", body.get("items", body))
    if isinstance(entries, dict):
        entries = [
            {"name": name, **value} for name, value in entries.items() if isinstance(value, dict)
        ]
    loaded: dict[str, str] = {}
    problems: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        name = str(entry.get("name", "?"))
        if entry.get("loaded", True) and not entry.get("error"):
            loaded[name] = str(entry.get("version", "?"))
        else:
            reason = entry.get("error") or entry.get("load_error") or "not loaded"
            problems.append(f"{name} not loaded: {_short(reason)}")
    return loaded, problems


def _short(value: Any, limit: int = 120) -> str:
    if isinstance(value, dict):
        value = value.get("message") or value.get("reason") or value
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_cluster(es: Elasticsearch) -> Check:
    """Elasticsearch cluster health (green/yellow/red)."""
    from elasticsearch import ApiError, TransportError  # noqa: PLC0415

    try:
        health = dict(es.cluster.health(timeout="5s"))
    except (ApiError, TransportError) as exc:
        return Check("elasticsearch", "fail", f"unreachable: {type(exc).__name__}")
    color = str(health.get("status"))
    status: Status = {"green": "ok", "yellow": "warn"}.get(color, "fail")  # type: ignore[assignment]
    detail = (
        f"{color}, {health.get('number_of_nodes')} node(s), {health.get('active_shards')} shards"
    )
    return Check("elasticsearch", status, detail, health)


def check_today_index(es: Elasticsearch, settings: Settings, now: datetime | None = None) -> Check:
    """Documents in today's (UTC) log index; none at all means nothing is shipping."""
    from elasticsearch import ApiError, NotFoundError, TransportError  # noqa: PLC0415

    index = f"{settings.index_prefix}{(now or datetime.now(UTC)):%Y.%m.%d}"
    try:
        count = int(es.count(index=index)["count"])
    except NotFoundError:
        return Check("today's index", "warn", f"{index} does not exist yet", {"index": index})
    except (ApiError, TransportError) as exc:
        return Check("today's index", "fail", f"{index}: {type(exc).__name__}", {"index": index})
    data = {"index": index, "docs": count}
    if count == 0:
        return Check("today's index", "warn", f"{index} is empty", data)
    return Check("today's index", "ok", f"{index}: {count:,} docs", data)


def check_errors(es: Elasticsearch, settings: Settings, days: int = 7) -> Check:
    """Error events (tag `error`) over the last `days`, with the commonest error types."""
    from elasticsearch import ApiError, TransportError  # noqa: PLC0415

    query = {
        "bool": {
            "filter": [
                {"range": {"@timestamp": {"gte": f"now-{days}d"}}},
                {"term": {"tags": "error"}},
            ]
        }
    }
    aggs = {"types": {"terms": {"field": "error.type", "size": 5}}}
    try:
        result = es.search(
            index=f"{settings.index_prefix}*",
            query=query,
            aggs=aggs,
            size=0,
            track_total_hits=True,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
    except (ApiError, TransportError) as exc:
        return Check(f"errors ({days} d)", "fail", f"query failed: {type(exc).__name__}")
    total = int(result["hits"]["total"]["value"])
    buckets = result.get("aggregations", {}).get("types", {}).get("buckets", [])
    top = {str(b["key"]): int(b["doc_count"]) for b in buckets}
    detail = f"{total:,} error events" + (
        f" (top: {', '.join(f'{k} {v}' for k, v in top.items())})" if top else ""
    )
    return Check(f"errors ({days} d)", "ok", detail, {"count": total, "by_type": top})


def check_disk(es: Elasticsearch | None, settings: Settings, local_path: Path) -> Check:
    """Disk use of Elasticsearch's data path (node stats) and of the local disk."""
    usages: dict[str, float] = {}
    if es is not None:
        usages.update(_es_disk_usage(es))
    local = shutil.disk_usage(local_path)
    usages[f"local {local_path}"] = round(100 * local.used / local.total, 1)
    highest = max(usages.values())
    status: Status = "ok"
    if highest >= settings.disk_fail_pct:
        status = "fail"
    elif highest >= settings.disk_warn_pct:
        status = "warn"
    detail = ", ".join(f"{where} {pct:.0f}% used" for where, pct in usages.items())
    return Check("disk", status, detail, {"used_pct": usages})


def _es_disk_usage(es: Elasticsearch) -> dict[str, float]:
    from elasticsearch import ApiError, TransportError  # noqa: PLC0415

    try:
        stats = es.nodes.stats(metric="fs")
    except (ApiError, TransportError):
        return {}
    usages: dict[str, float] = {}
    for node in stats.get("nodes", {}).values():
        total = node.get("fs", {}).get("total", {})
        size, available = total.get("total_in_bytes"), total.get("available_in_bytes")
        if size:
            usages[f"es {node.get('name', '?')}"] = round(100 * (size - available) / size, 1)
    return usages
