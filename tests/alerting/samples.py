"""Alert messages for the notifier tests, hostile ones included (event text that is markup)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerting.content import AlertMessage
from alerting.evaluate import Verdict, Window
from alerting.message import Links, build_message
from alerting.rules import Rule
from alerting.state_machine import AlertState, Kind

HOSTILE = "<!channel> <http://x|text> & <script>alert(1)</script> *bold* _it_ `code`"
RULE = Rule.model_validate(
    {
        "id": "model-load-failure",
        "title": "Model load failure",
        "search": "amf1-search-model-load-failed",
        "window": "5m",
        "group_by": "amf1.model.name",
        "condition": {"type": "count"},
        "critical": 0,
    }
)
WINDOW = Window(datetime(2026, 3, 1, 11, 55, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
LINKS = Links("http://kibana:5601", "http://jaeger:16686", "https://runbooks.example/rb/")


def message(
    kind: Kind = "fired",
    *,
    group: str = "stage2-race-winner",
    text: str = "model file missing",
    example: dict[str, Any] | None = None,
) -> AlertMessage:
    """The message of a model-load failure for `group`, whose event says `text`."""
    state = AlertState(
        rule=RULE.id,
        group=group,
        status="ok" if kind == "resolved" else "firing",
        severity="critical",
        fired_at=WINDOW.end,
    )
    event = example or {
        "amf1.model.name": group,
        "error.type": "FileNotFoundError",
        "error.message": text,
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
    }
    verdict = Verdict(group, "critical" if kind != "resolved" else None, 1.0, 1, event)
    return build_message(
        RULE,
        state=state,
        kind=kind,
        verdict=verdict,
        window=WINDOW,
        links=LINKS,
        search_id=RULE.search,
    )


def hostile() -> AlertMessage:
    """Markup everywhere an event reaches: group, error type and message, trace id."""
    return message(
        group=HOSTILE,
        example={
            "amf1.model.name": HOSTILE,
            "amf1.driver": "<@U123>",
            "error.type": "<!here>",
            "error.message": HOSTILE,
            "trace.id": "abc|<!channel>>",
        },
    )
