"""The benchmark suite: runs every benchmark under `bench/` and folds them into one JSON document.

Each benchmark runs in its own Python process (`python -m bench.<name>`), because they configure
process-wide state (structlog, the OpenTelemetry tracer provider, the shipper's worker thread)
and must not measure each other. A benchmark prints one JSON object (its last stdout line that
parses as a JSON object); the suite maps that object's keys onto the issue's keys. Anything that
is missing, fails or times out becomes an explicit `null` with the reason, never a number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
Number = float | int
# The arms of `bench.overhead` (kept here: the suite imports no benchmark module).
OVERHEAD_ARMS = ("bare", "service", "tracing", "tracing_export_all", "sdk_tracing")
OVERHEAD_ARMS += ("all_observability",)
OVERHEAD_COMPARED = ("tracing", "tracing_export_all", "sdk_tracing", "all_observability")


@dataclass(frozen=True)
class Spec:
    """One output key of the suite and the benchmark that measures it.

    Attributes:
        key: the suite's output key.
        module: the benchmark module run as `python -m <module> <args>`.
        fields: output field -> candidate keys in the benchmark's JSON (first present wins;
            dotted keys reach into nested objects). An empty output field name means the value
            itself is a scalar; a dotted one nests (`slack.p95` -> `{"slack": {"p95": ...}}`).
        args: extra command-line arguments (the suite's defaults, not the benchmark's).
        timeout_s: wall-clock bound of the benchmark process.
    """

    key: str
    module: str
    fields: dict[str, tuple[str, ...]]
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()
    timeout_s: float = 600.0
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Goal:
    """A goal, stated as a ratio to the baseline where the machine's noise calls for it."""

    key: str
    text: str
    check: Callable[[Any], bool]
    show: Callable[[Any], str]


SPECS: tuple[Spec, ...] = (
    Spec(
        "log_event_us",
        "bench.log_event",
        {"project": ("project", "project_us"), "stdlib_json": ("stdlib_json", "stdlib_json_us")},
        quick_args=("--events", "5000", "--rounds", "3"),
    ),
    Spec(
        "shipping_events_per_s",
        "bench.shipping",
        {
            "project": ("project", "project_events_per_s"),
            "library_defaults": ("library_defaults", "library_defaults_events_per_s"),
        },
    ),
    Spec(
        "predict",
        "bench.service_load",
        {
            "rps_bare": ("rps_bare",),
            "rps_observed": ("rps_observed",),
            "p99_ms_bare": ("p99_ms_bare",),
            "p99_ms_observed": ("p99_ms_observed",),
        },
        quick_args=("--processes", "1", "--seconds", "5"),
    ),
    Spec(
        "cpu_per_request_us",
        "bench.overhead",
        {arm: (f"cpu_per_request_us.{arm}",) for arm in OVERHEAD_ARMS},
        quick_args=("--pairs", "2", "--seconds", "3"),
        timeout_s=7200.0,  # 40 pairs of six fresh processes: ~50 min on a quiet 2-core machine
    ),
    Spec(
        "overhead_pct",
        "bench.overhead",
        {arm: (f"overhead_pct.{arm}",) for arm in OVERHEAD_COMPARED},
        quick_args=("--pairs", "2", "--seconds", "3"),
        timeout_s=7200.0,
    ),
    Spec(
        "pipeline",
        "bench.pipeline",
        {
            "events_per_s": (
                "pipeline_events_per_s",
                "pipeline.events_per_s",
                "events_per_s",
            ),
            "es_bulk_direct_events_per_s": (
                "ceiling_events_per_s",
                "ceiling.events_per_s",
                "es_bulk_direct_events_per_s",
            ),
            # The lag at a sustained (paced) rate, not the backlog of a burst.
            "lag_p95_s": ("paced.lag_p95_s", "pipeline.lag_p95_s", "lag_p95_s"),
        },
    ),
    Spec(
        "alert_latency_s",
        "bench.alert_latency",
        {
            f"{channel}.{q}": (f"alert_latency_s.{channel}.{q}",)
            for channel in ("slack", "pagerduty", "email")
            for q in ("p50", "p95")
        },
    ),
    Spec(
        "drift_update_us",
        "bench.drift",
        {"": ("drift_update_us", "amortised_us", "per_request_us")},
    ),
    Spec(
        "service_rss_mib",
        "bench.service_load",
        {"": ("service_rss_mib",)},
        quick_args=("--processes", "1", "--seconds", "5"),
    ),
    Spec(
        "scale",
        "bench.scale",
        {
            "rps_1_worker": ("rps_1_worker",),
            "rps_2_workers": ("rps_2_workers",),
            "feedback_matched_pct": ("feedback_matched_pct",),
        },
        quick_args=("--seconds", "4"),
    ),
    Spec(
        "metrics_us",
        "bench.metrics",
        {"": ("metrics_us",)},
        quick_args=("--calls", "5000", "--rounds", "5"),
    ),
)


def _ratio(a: Number, b: Number) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


GOALS: tuple[Goal, ...] = (
    Goal(
        "log_event_us",
        "project <= 0.66 x stdlib_json",
        lambda v: v["project"] <= 0.66 * v["stdlib_json"],
        lambda v: _ratio(v["project"], v["stdlib_json"]),
    ),
    Goal(
        "shipping_events_per_s",
        "project >= 20 x library_defaults",
        lambda v: v["project"] >= 20 * v["library_defaults"],
        lambda v: _ratio(v["project"], v["library_defaults"]),
    ),
    # `predict` (requests/s observed vs bare) is information: throughput ratios do not settle on
    # a 2-core machine; the overhead goals are CPU per request (`overhead_pct`).
    Goal(
        "overhead_pct",
        "at the 95 % interval's top: tracing <= 5 %, tracing_export_all <= 1/4 x sdk_tracing "
        "(median, same run), all_observability <= 20 %",
        lambda v: (
            v["tracing"]["ci95_high"] <= 5
            and v["tracing_export_all"]["ci95_high"] <= v["sdk_tracing"]["median"] / 4
            and v["all_observability"]["ci95_high"] <= 20
        ),
        lambda v: (
            f"tracing {v['tracing']['ci95_high']:.1f} %, export-all "
            f"{v['tracing_export_all']['ci95_high']:.1f} % vs SDK {v['sdk_tracing']['median']:.1f}"
            f" % / 4, all {v['all_observability']['ci95_high']:.1f} % (interval tops)"
        ),
    ),
    Goal(
        "pipeline",
        "events_per_s >= 0.7 x es_bulk_direct_events_per_s and >= 10000, lag_p95_s <= 2",
        lambda v: (
            v["events_per_s"] >= 0.7 * v["es_bulk_direct_events_per_s"]
            and v["events_per_s"] >= 10_000
            and v["lag_p95_s"] <= 2
        ),
        lambda v: (
            f"{_ratio(v['events_per_s'], v['es_bulk_direct_events_per_s'])} of bulk, "
            f"{v['events_per_s']:,.0f} /s, lag p95 {v['lag_p95_s']:.2f} s"
        ),
    ),
    Goal(
        "alert_latency_s",
        "p95 <= 5 for each channel (1 s interval)",
        lambda v: all(q["p95"] <= 5 for q in v.values()),
        lambda v: ", ".join(f"{channel} p95 {q['p95']:.2f} s" for channel, q in v.items()),
    ),
    Goal("drift_update_us", "<= 20", lambda v: v <= 20, lambda v: f"{v:.1f} us"),
    Goal("service_rss_mib", "<= 300 under load", lambda v: v <= 300, lambda v: f"{v:.0f} MiB"),
    # Requests/s with 1 and 2 workers are information (a 2-core machine shares its cores with
    # the load generator); the goal is that no feedback is lost between workers.
    Goal(
        "scale",
        "feedback_matched_pct == 100 (2 workers)",
        lambda v: v["feedback_matched_pct"] == 100,
        lambda v: (
            f"{v['feedback_matched_pct']:.1f} % matched; rps 1 worker "
            f"{v['rps_1_worker']['observed']:,.0f}, 2 workers {v['rps_2_workers']['observed']:,.0f}"
            " (observed)"
        ),
    ),
    Goal("metrics_us", "<= 2 per prediction", lambda v: v <= 2, lambda v: f"{v:.2f} us"),
)


def last_json_object(stdout: str) -> dict[str, Any] | None:
    """The last stdout line that parses as a JSON object (benchmarks may print progress first)."""
    for raw in reversed(stdout.strip().splitlines()):
        line = raw.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    # A pretty-printed object spans many lines: try from each line that opens one.
    lines = stdout.splitlines()
    for start in range(len(lines) - 1, -1, -1):
        if lines[start].startswith("{"):
            try:
                value = json.loads("\n".join(lines[start:]))
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _lookup(result: dict[str, Any], dotted: str) -> Any:
    value: Any = result
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def extract(spec: Spec, result: dict[str, Any]) -> tuple[Any, str | None]:
    """Map a benchmark's JSON onto the spec's fields; returns (value, None) or (None, reason)."""
    values: dict[str, Any] = {}
    for name, candidates in spec.fields.items():
        found = next(
            (v for c in candidates if isinstance(v := _lookup(result, c), int | float)), None
        )
        if found is None:
            if isinstance(result.get("error"), str):
                return None, f"{spec.module}: {result['error']}"
            return None, (
                f"{spec.module} printed no numeric {' or '.join(candidates)} "
                f"(its keys: {', '.join(sorted(result))})"
            )
        _nest(values, name, found)
    return values.get("", values), None


def _nest(values: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        values = values.setdefault(part, {})
    values[last] = value


def run_module(spec: Spec, quick: bool) -> tuple[dict[str, Any] | None, str | None, dict[str, Any]]:
    """Run a benchmark process; returns (its JSON, reason when there is none, metadata)."""
    module_file = ROOT / Path(*spec.module.split(".")).with_suffix(".py")
    meta: dict[str, Any] = {"module": spec.module}
    if not module_file.exists():
        return None, f"{spec.module} does not exist (no {module_file.relative_to(ROOT)})", meta
    command = [sys.executable, "-m", spec.module, *spec.args, *(spec.quick_args if quick else ())]
    meta["command"] = " ".join(["python", *command[1:]])
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: PLW1510 - the return code is checked below
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=spec.timeout_s,
            env={**os.environ, **spec.env},
        )
    except subprocess.TimeoutExpired:
        return None, f"{spec.module} did not finish within {spec.timeout_s:.0f} s", meta
    meta["duration_s"] = round(time.monotonic() - started, 1)
    result = last_json_object(done.stdout)
    meta["raw"] = result
    if done.returncode != 0 and result is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return None, f"{spec.module} exited {done.returncode}: {' | '.join(tail)}", meta
    if result is None:
        return None, f"{spec.module} printed no JSON object", meta
    return result, None, meta


def evaluate(results: dict[str, Any], reasons: dict[str, str]) -> dict[str, Any]:
    """Per-goal verdicts: pass true/false, or null with the reason when unmeasured."""
    verdicts: dict[str, Any] = {}
    for goal in GOALS:
        value = results.get(goal.key)
        if value is None:
            verdicts[goal.key] = {"goal": goal.text, "pass": None, "reason": reasons.get(goal.key)}
            continue
        verdicts[goal.key] = {
            "goal": goal.text,
            "pass": bool(goal.check(value)),
            "measured": goal.show(value),
        }
    return verdicts


def run_suite(
    only: Sequence[str] = (),
    quick: bool = False,
    progress: Callable[[str], None] = print,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the selected benchmarks (all by default) and return the suite's document.

    With `previous` (an earlier document), keys not selected keep that document's figures, and
    `meta.merged_from` records it: each benchmark still measures its baseline in its own run.
    """
    results: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    runs: dict[str, Any] = {}
    kept: list[str] = []
    # Several keys may come from one benchmark (predict and service_rss_mib, the two overhead
    # keys): run it once.
    cache: dict[str, tuple[dict[str, Any] | None, str | None]] = {}
    for spec in SPECS:
        if only and spec.key not in only:
            if previous is not None and previous.get(spec.key) is not None:
                results[spec.key] = previous[spec.key]
                kept.append(spec.key)
                continue
            results[spec.key] = None
            reasons[spec.key] = "not selected (--only)"
            continue
        if spec.module not in cache:
            progress(f"bench: {spec.module} ...")
            raw, failure, runs[spec.module] = run_module(spec, quick)
            cache[spec.module] = (raw, failure)
        raw, failure = cache[spec.module]
        value, reason = extract(spec, raw) if raw is not None else (None, failure)
        results[spec.key] = value
        if reason:
            reasons[spec.key] = reason
        progress(f"bench: {spec.key} = {json.dumps(value)}" + (f"  [{reason}]" if reason else ""))
    document: dict[str, Any] = dict(results)
    document["goals"] = evaluate(results, reasons)
    document["meta"] = {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu_count": os.cpu_count(),
        "quick": quick,
        "git_commit": _git_commit(),
        "runs": runs,
    }
    if kept and previous is not None:
        document["meta"]["merged_from"] = {
            "keys": kept,
            "finished_at": previous.get("meta", {}).get("finished_at"),
            "git_commit": previous.get("meta", {}).get("git_commit"),
            "runs": {
                module: meta
                for module, meta in previous.get("meta", {}).get("runs", {}).items()
                if any(spec.module == module and spec.key in kept for spec in SPECS)
            },
        }
    return document


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None
