"""The Slack message: summary, value vs threshold, window, count, example and the three links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from alerting.evaluate import Verdict, Window
from alerting.message import Links, build_payload, discover_url
from alerting.rules import Rule
from alerting.state_machine import AlertState

RULE = Rule.model_validate(
    {
        "id": "prediction-errors",
        "title": "Prediction error ratio",
        "search": "amf1-search-predictions",
        "window": "5m",
        "condition": {"type": "ratio", "numerator": "amf1-search-prediction-failed"},
        "critical": 0.01,
        "unit": "ratio",
    }
)
WINDOW = Window(datetime(2026, 3, 1, 11, 55, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
EXAMPLE = {
    "amf1.driver": "HAM",
    "amf1.circuit": "monza",
    "error.type": "ValueError",
    "error.message": "bad feature",
    "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
}


def _payload(links: Links) -> str:
    state = AlertState(rule=RULE.id, group="", status="firing", severity="critical")
    verdict = Verdict("", "critical", 0.06, 160, EXAMPLE)
    payload = build_payload(
        RULE,
        state=state,
        kind="fired",
        verdict=verdict,
        window=WINDOW,
        links=links,
        search_id=RULE.search,
    )
    return str(payload["text"]) + "\n" + str(payload["blocks"])


def test_message_states_value_threshold_window_count_and_example() -> None:
    """Everything an on-call engineer needs before clicking anything."""
    text = _payload(Links("http://kibana:5601", "http://jaeger:16686", None))
    assert "FIRED CRITICAL: Prediction error ratio" in text
    assert "6.00% (threshold > 1.00%)" in text
    assert "*Count* 160" in text
    assert "2026-03-01T11:55:00.000Z → 2026-03-01T12:00:00.000Z" in text
    assert "driver `HAM`, circuit `monza`, error `ValueError`, “bad feature”" in text


def test_links_to_discover_jaeger_and_runbook() -> None:
    """Discover on the saved search over the window, the example's trace, the runbook page."""
    text = _payload(Links("http://kibana:5601/", "http://jaeger:16686/", "https://git/rb/"))
    assert "<http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736|Jaeger trace>" in text
    assert "`amf1 trace 4bf92f3577b34da6a3ce929d0e0e4736`" in text

    assert "<https://git/rb/prediction-errors.md|Runbook>" in text
    url = discover_url(Links("http://kibana:5601/", "", None), RULE.search, WINDOW)
    assert url.startswith("http://kibana:5601/app/discover#/view/amf1-search-predictions?_g=")
    assert "time:(from:'2026-03-01T11:55:00.000Z',to:'2026-03-01T12:00:00.000Z')" in unquote(url)


def test_without_a_jaeger_ui_the_message_names_the_trace_command() -> None:
    """No Jaeger UI served (the native Jaeger): no dead link, the command that shows the trace."""
    text = _payload(Links("http://kibana:5601/", None, None))
    assert "Jaeger trace" not in text
    assert "Trace: `amf1 trace 4bf92f3577b34da6a3ce929d0e0e4736`" in text


def test_without_a_runbook_base_url_the_repository_path_is_shown() -> None:
    """No base URL configured: the runbook's path in the repository, as text."""
    assert "Runbook: `alerting/runbooks/prediction-errors.md`" in _payload(Links("k", "j", None))
