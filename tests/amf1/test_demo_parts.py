"""Pieces of `amf1 demo`: the Slack sink, the demo rules, the child processes, the summary."""

from __future__ import annotations

import json
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerting.rules import load_rules
from amf1.demo.environment import PHASES, scaled, write_demo_rules
from amf1.demo.processes import DemoError, ManagedProcess, http_ok
from amf1.demo.sink import SlackMessage, SlackSink
from amf1.demo.summary import Summary, alerts_from_sink, format_summary, trace_links

ROOT = Path(__file__).resolve().parents[2]


def _post(url: str, payload: dict[str, object]) -> int:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_sink_records_channel_title_and_kind_of_each_webhook_post() -> None:
    """A Block Kit alert posted to /critical is kept with its header as title, kind fired."""
    seen: list[SlackMessage] = []
    sink = SlackSink(seen.append).start()
    try:
        payload = {
            "text": "fallback",
            "blocks": [
                {
                    "type": "header",
                    "text": {
                        "type": "plain_text",
                        "text": ":rotating_light: FIRED CRITICAL: Model load failure",
                    },
                }
            ],
        }
        assert _post(sink.url("critical"), payload) == 200
        assert (
            _post(sink.url("alerts"), {"text": "✅ RESOLVED WARNING: Feature drift [air_temp_c]"})
            == 200
        )
    finally:
        sink.stop()
    assert [(m.channel, m.kind) for m in sink.messages] == [
        ("critical", "fired"),
        ("alerts", "resolved"),
    ]
    assert sink.messages[0].title.endswith("FIRED CRITICAL: Model load failure")
    assert seen == sink.messages


def test_demo_rules_cap_windows_and_still_validate(tmp_path: Path) -> None:
    """Every window of the demo rules is at most 60 s; the file passes the watcher's schema."""
    target = write_demo_rules(ROOT / "alerting" / "rules.yaml", tmp_path / "rules.yaml")
    rules = load_rules(target)
    originals = {rule.id: rule for rule in load_rules(ROOT / "alerting" / "rules.yaml")}
    assert rules
    for rule in rules:
        assert rule.window <= 60
        assert (rule.warning, rule.critical) == (
            originals[rule.id].warning,
            originals[rule.id].critical,
        )


def test_quick_demo_halves_the_phases() -> None:
    """--quick keeps the order and halves each phase (never below 5 s)."""
    quick = scaled(PHASES, 0.5)
    assert [p.scenario for p in quick] == [p.scenario for p in PHASES]
    assert all(
        q.duration_s == max(5.0, p.duration_s / 2) for q, p in zip(quick, PHASES, strict=True)
    )


def test_managed_process_is_stopped_with_its_children(tmp_path: Path) -> None:
    """stop() ends the child (and its process group); an early exit is reported with the log."""
    child = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path / "s.log"
    ).start()
    assert child.running()
    child.stop(timeout_s=5)
    assert not child.running()
    quitter = ManagedProcess("quitter", [sys.executable, "-c", "pass"], {}, tmp_path / "q.log")
    with pytest.raises(DemoError, match="exited early"):
        quitter.start().wait_http("http://127.0.0.1:9/", timeout_s=10)
    quitter.stop()
    assert not http_ok("http://127.0.0.1:9/", timeout_s=1)


def test_summary_lists_alerts_traces_and_where_kibana_is() -> None:
    """The closing summary names each alert, each trace link, and says Kibana is absent."""
    message = SlackMessage(
        "critical",
        "FIRED CRITICAL: Prediction error ratio — 0.5",
        datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        {"text": "FIRED CRITICAL: Prediction error ratio — 0.5"},
    )
    summary = Summary(
        events_total=1234,
        by_level={"info": 1000, "error": 234},
        by_tag={"error": 234},
        alerts=alerts_from_sink([message]),
        trace_links=trace_links(["a" * 32, "a" * 32, "b" * 32], "http://127.0.0.1:16686/"),
    )
    text = "\n".join(format_summary(summary, "var/demo/report/report.md"))
    assert "1,234" in text
    alert_line = next(line for line in text.splitlines() if "#critical" in line)
    assert alert_line.split() == [
        "09:30:00Z",
        "#critical",
        "fired",
        *["FIRED", "CRITICAL:", "Prediction", "error", "ratio", "—", "0.5"],
    ]
    assert f"http://127.0.0.1:16686/trace/{'a' * 32}" in text
    assert text.count("/trace/") == 2
    assert "amf1 traces --errors" in text
    assert "Kibana: not running here" in text


def test_without_a_jaeger_ui_the_summary_prints_trace_commands() -> None:
    """The native Jaeger serves no UI: the example traces are `amf1 trace ID` commands."""
    assert trace_links(["c" * 32, "c" * 32], None) == [("c" * 32, f"amf1 trace {'c' * 32}")]


def test_summary_says_where_the_metrics_are() -> None:
    """The endpoint, and a Prometheus query: in Prometheus when it runs, else how to start it."""
    summary = Summary(metrics_url="http://127.0.0.1:8000/metrics")
    text = "\n".join(format_summary(summary, None))
    assert "Metrics: http://127.0.0.1:8000/metrics" in text
    assert "rate(amf1_predictions_total[5m])" in text
    assert "amf1 stack up prometheus alertmanager" in text
    summary.prometheus_url = "http://127.0.0.1:9090"
    assert "http://127.0.0.1:9090/api/v1/query" in "\n".join(format_summary(summary, None))
