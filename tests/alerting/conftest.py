"""Fixtures of the alerting tests: local stand-ins of Slack, PagerDuty and an SMTP server."""

from tests.alerting.pagerduty_server import pagerduty_fixture
from tests.alerting.slack_server import slack_fixture
from tests.alerting.smtp_server import smtp_fixture

__all__ = ["pagerduty_fixture", "slack_fixture", "smtp_fixture"]
