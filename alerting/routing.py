"""Where an alert goes: the guide's Alertmanager routes, by severity and the rule's category.

As in Alertmanager, the first matching route wins: critical (any category) pages, then the
category picks the Slack channel of a warning. Group, repeat and inhibit semantics (the state
machine's) apply per channel: each channel gets each message once, a critical suppresses the
same alert's unsent warnings on every channel, a resolution goes to every channel told.
"""

from __future__ import annotations

from typing import Final

from alerting.rules import Category, Severity

SLACK_CRITICAL: Final = "slack-critical"
SLACK_ALERTS: Final = "slack-alerts"
SLACK_DATA: Final = "slack-data"
PAGERDUTY: Final = "pagerduty"
EMAIL: Final = "email"
# Channel name -> the Slack channel it posts to (its webhook decides; the name is for people).
SLACK_CHANNELS: Final = {
    SLACK_CRITICAL: "#amf1-critical",
    SLACK_ALERTS: "#amf1-alerts",
    SLACK_DATA: "#amf1-data",
}

CRITICAL_ROUTE: Final = (SLACK_CRITICAL, PAGERDUTY, EMAIL)
WARNING_ROUTES: Final[dict[Category, tuple[str, ...]]] = {
    "data": (SLACK_DATA,),
    "general": (SLACK_ALERTS,),
}


def route(severity: Severity, category: Category) -> tuple[str, ...]:
    """The channels an alert of this severity and category is sent to (configured or not)."""
    if severity == "critical":
        return CRITICAL_ROUTE
    return WARNING_ROUTES[category]
