"""Window arithmetic and evaluation plumbing that needs no Elasticsearch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerting.evaluate import Window, build_search, index_names, parse_response
from alerting.loading import load_compiled_rules
from alerting.settings import Settings
from alerting.watcher import grid_end, plan_ends
from kibana.mapping import load_template_file

SETTINGS = Settings()
RULES = {
    c.rule.id: c
    for c in load_compiled_rules(
        SETTINGS.rules_file,
        SETTINGS.saved_objects_dir,
        load_template_file(SETTINGS.index_template_file),
        SETTINGS.index_prefix,
    )
}
NOON = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_window_touches_only_its_days() -> None:
    """A window across midnight queries two daily indices, a daytime window one."""
    late = Window(datetime(2026, 2, 28, 23, 58, tzinfo=UTC), datetime(2026, 3, 1, 0, 3, tzinfo=UTC))
    assert index_names("amf1-logs-", late) == ["amf1-logs-2026.02.28", "amf1-logs-2026.03.01"]
    assert index_names("amf1-logs-", Window.ending(NOON, 300)) == ["amf1-logs-2026.03.01"]


def test_window_ends_sit_on_the_interval_grid_after_the_delay() -> None:
    """Two watchers a moment apart evaluate the same window end."""
    a = grid_end(NOON + timedelta(seconds=12.3), delay_s=2, interval_s=5)
    b = grid_end(NOON + timedelta(seconds=14.9), delay_s=2, interval_s=5)
    assert a == b == NOON + timedelta(seconds=10)


def test_catch_up_replays_the_gap_in_half_window_steps() -> None:
    """After 10 minutes away, a 5-minute rule is evaluated every 150 s up to now."""
    ends = plan_ends(NOON, NOON + timedelta(minutes=10), 300, 10, 3600)
    assert [(e - NOON).total_seconds() for e in ends] == [150, 300, 450, 600]


def test_nothing_to_do_when_another_watcher_is_ahead() -> None:
    """A cursor at or past the newest window end means no evaluation."""
    assert plan_ends(NOON, NOON, 300, 10, 3600) == []
    assert plan_ends(None, NOON, 300, 10, 3600) == [NOON]


def test_catch_up_is_bounded() -> None:
    """A day away replays at most `max_catchup_s`."""
    ends = plan_ends(NOON - timedelta(days=1), NOON, 300, 10, 3600)
    assert ends[0] == NOON - timedelta(seconds=3600 - 150)
    assert ends[-1] == NOON


def test_search_has_time_range_and_group_aggregation() -> None:
    """The request filters on the window and groups by the rule's field."""
    body = build_search(RULES["model-load-failure"], Window.ending(NOON, 300))
    time_range = body["query"]["bool"]["filter"][1]["range"]["@timestamp"]
    assert time_range["gte"] == "2026-03-01T11:55:00.000000Z"
    assert time_range["lt"] == "2026-03-01T12:00:00.000000Z"
    assert body["aggs"]["groups"]["terms"]["field"] == "amf1.model.name"


def test_no_index_for_the_window_reads_as_no_events() -> None:
    """An answer without aggregations (no daily index yet) is a count of zero, not a crash."""
    empty = {"hits": {"total": {"value": 0}, "hits": []}}
    [silence] = parse_response(RULES["silence"], empty)
    assert (silence.count, silence.value) == (0, 0.0)
    assert parse_response(RULES["drift-warning"], empty) == []
    [ratio] = parse_response(RULES["prediction-errors"], empty)
    assert ratio.value is None
