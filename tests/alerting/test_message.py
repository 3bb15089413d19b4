"""The alert's content as data: summary, value vs threshold, window, count, example, links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from alerting.evaluate import Verdict, Window
from alerting.message import Links, build_message, discover_url
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


def _message(links: Links, kind: str = "fired") -> object:
    state = AlertState(
        rule=RULE.id, group="", status="firing", severity="critical", fired_at=WINDOW.end
    )
    verdict = Verdict("", "critical", 0.06, 160, EXAMPLE)
    return build_message(
        RULE,
        state=state,
        kind="fired" if kind == "fired" else "resolved",
        verdict=verdict,
        window=WINDOW,
        links=links,
        search_id=RULE.search,
    )


def test_message_states_value_threshold_window_count_and_example() -> None:
    """Everything an on-call engineer needs before clicking anything, as labelled values."""
    message = _message(Links("http://kibana:5601", "http://jaeger:16686", None))
    assert message.summary == "FIRED CRITICAL: Prediction error ratio — 6.00% (threshold > 1.00%)"
    facts = {f.label: f.value for f in message.facts}
    assert facts["Count"] == "160"
    assert facts["Window"] == "2026-03-01T11:55:00.000Z → 2026-03-01T12:00:00.000Z"
    example = [(f.label, f.value) for f in message.example]
    assert example == [
        ("driver", "HAM"),
        ("circuit", "monza"),
        ("error", "ValueError"),
        ("message", "bad feature"),
    ]


def test_links_to_discover_jaeger_and_runbook() -> None:
    """Discover on the saved search over the window, the example's trace, the runbook page."""
    message = _message(Links("http://kibana:5601/", "http://jaeger:16686/", "https://git/rb/"))
    links = {link.label: link.url for link in message.links}
    assert links["Jaeger trace"] == "http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"
    assert message.trace_command == "amf1 trace 4bf92f3577b34da6a3ce929d0e0e4736"
    assert links["Runbook"] == "https://git/rb/prediction-errors.md"
    url = discover_url(Links("http://kibana:5601/", "", None), RULE.search, WINDOW)
    assert url.startswith("http://kibana:5601/app/discover#/view/amf1-search-predictions?_g=")
    assert "time:(from:'2026-03-01T11:55:00.000Z',to:'2026-03-01T12:00:00.000Z')" in unquote(url)


def test_without_a_jaeger_ui_the_message_names_the_trace_command() -> None:
    """No Jaeger UI served (the native Jaeger): no dead link, the command that shows the trace."""
    message = _message(Links("http://kibana:5601/", None, None))
    assert "Jaeger trace" not in {link.label for link in message.links}
    assert message.trace_command == "amf1 trace 4bf92f3577b34da6a3ce929d0e0e4736"


def test_without_a_runbook_base_url_the_repository_path_is_given() -> None:
    """No base URL configured: the runbook's path in the repository, and no Runbook link."""
    message = _message(Links("k", "j", None))
    assert message.runbook == "alerting/runbooks/prediction-errors.md"
    assert "Runbook" not in {link.label for link in message.links}


def test_fired_and_resolved_share_the_incident_key() -> None:
    """The key PagerDuty deduplicates on is the same from fired to resolved."""
    links = Links("k", "j", None)
    assert _message(links).incident_key == _message(links, "resolved").incident_key
