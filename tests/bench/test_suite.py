"""The benchmark suite's plumbing: parsing benchmark output, mapping keys, judging goals."""

from __future__ import annotations

import json

from bench.suite import (
    GOALS,
    SPECS,
    Spec,
    evaluate,
    extract,
    last_json_object,
    run_module,
    run_suite,
)

ISSUE_KEYS = [
    "log_event_us",
    "shipping_events_per_s",
    "predict",
    "cpu_per_request_us",
    "overhead_pct",
    "pipeline",
    "alert_latency_s",
    "drift_update_us",
    "service_rss_mib",
    "scale",
    "metrics_us",
]
INFORMATION_ONLY = {"predict", "cpu_per_request_us"}


def test_suite_covers_exactly_the_issue_keys_with_their_goals() -> None:
    """Every key of the issue has a spec, every one but the information keys a goal."""
    assert [spec.key for spec in SPECS] == ISSUE_KEYS
    assert [goal.key for goal in GOALS] == [k for k in ISSUE_KEYS if k not in INFORMATION_ONLY]


def test_overhead_goal_reads_the_interval_tops_and_the_sdk_in_the_same_run() -> None:
    """Tracing <= 5 %, export-all <= a quarter of the SDK's median, everything <= 20 %."""

    def figures(tracing: float, export_all: float, sdk: float, everything: float) -> dict:
        return {
            "tracing": {"median": tracing - 1, "ci95_high": tracing},
            "tracing_export_all": {"median": export_all - 1, "ci95_high": export_all},
            "sdk_tracing": {"median": sdk, "ci95_high": sdk + 5},
            "all_observability": {"median": everything - 1, "ci95_high": everything},
        }

    assert evaluate({"overhead_pct": figures(4.9, 9.0, 40.0, 19.0)}, {})["overhead_pct"]["pass"]
    for failing in (figures(5.1, 9, 40, 19), figures(4, 10.1, 40, 19), figures(4, 9, 40, 21)):
        assert evaluate({"overhead_pct": failing}, {})["overhead_pct"]["pass"] is False


def test_last_json_object_skips_progress_lines_and_reads_pretty_json() -> None:
    """Progress before the result is ignored; an indented object spanning lines is parsed."""
    assert last_json_object('starting\n{"a": 1}\n') == {"a": 1}
    assert last_json_object("noise\n" + json.dumps({"b": {"c": 2}}, indent=2)) == {"b": {"c": 2}}
    assert last_json_object("no json here") is None


def test_extract_follows_dotted_candidates_and_names_missing_keys() -> None:
    """Nested values map onto the issue's names; a missing one yields a reason, not a number."""
    spec = Spec("pipeline", "bench.pipeline", {"events_per_s": ("pipeline.events_per_s",)})
    assert extract(spec, {"pipeline": {"events_per_s": 12_000}}) == ({"events_per_s": 12_000}, None)
    value, reason = extract(spec, {"ceiling": {}})
    assert value is None
    assert reason is not None and "pipeline.events_per_s" in reason and "ceiling" in reason


def test_goals_pass_fail_and_unmeasured() -> None:
    """A met goal passes, a missed one fails with the honest figure, a null says why."""
    verdicts = evaluate(
        {"log_event_us": {"project": 4.0, "stdlib_json": 8.0}, "drift_update_us": 25.0},
        {"service_rss_mib": "bench.service_load exited 1"},
    )
    assert verdicts["log_event_us"]["pass"] is True
    assert verdicts["drift_update_us"] == {"goal": "<= 20", "pass": False, "measured": "25.0 us"}
    assert verdicts["service_rss_mib"]["pass"] is None
    assert verdicts["service_rss_mib"]["reason"] == "bench.service_load exited 1"


def test_missing_benchmark_module_is_an_explicit_null() -> None:
    """A benchmark nobody wrote yet is reported as missing, never run or invented."""
    raw, reason, _meta = run_module(Spec("x", "bench.does_not_exist", {"": ("x",)}), quick=True)
    assert raw is None
    assert reason is not None and "does not exist" in reason


def test_merge_keeps_unselected_figures_from_an_earlier_run() -> None:
    """--only with --merge: the other keys keep the earlier figures and say where they came from."""
    previous = {"drift_update_us": 9.5, "meta": {"finished_at": "t0", "git_commit": "abc"}}
    document = run_suite(
        only=["log_event_us"], previous=previous, progress=lambda _line: None, quick=True
    )
    assert document["drift_update_us"] == 9.5
    assert document["goals"]["drift_update_us"]["pass"] is True
    assert document["meta"]["merged_from"]["keys"] == ["drift_update_us"]
    assert document["service_rss_mib"] is None


def test_a_benchmark_error_is_the_reason() -> None:
    """A benchmark that reports {"error": ...} gets that message as its null's reason."""
    spec = Spec("pipeline", "bench.pipeline", {"events_per_s": ("pipeline.events_per_s",)})
    assert extract(spec, {"error": "Elasticsearch unreachable"}) == (
        None,
        "bench.pipeline: Elasticsearch unreachable",
    )


def test_alert_latency_is_reported_per_channel() -> None:
    """The alert benchmark's per-channel figures nest under the channel; the goal holds for
    every channel or fails."""
    [spec] = [s for s in SPECS if s.key == "alert_latency_s"]
    raw = {
        "alert_latency_s": {
            channel: {"p50": 1.0, "p95": p95, "max": 9.0}
            for channel, p95 in (("slack", 2.0), ("pagerduty", 3.0), ("email", 6.0))
        }
    }
    value, reason = extract(spec, raw)
    assert reason is None
    assert value == {
        "slack": {"p50": 1.0, "p95": 2.0},
        "pagerduty": {"p50": 1.0, "p95": 3.0},
        "email": {"p50": 1.0, "p95": 6.0},
    }
    verdict = evaluate({"alert_latency_s": value}, {})["alert_latency_s"]
    assert verdict["pass"] is False
    assert verdict["measured"] == "slack p95 2.00 s, pagerduty p95 3.00 s, email p95 6.00 s"
