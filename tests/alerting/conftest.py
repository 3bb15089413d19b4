"""Fixtures of the alerting tests: the local Slack stand-in."""

from tests.alerting.slack_server import slack_fixture

__all__ = ["slack_fixture"]
