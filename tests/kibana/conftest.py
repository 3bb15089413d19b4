"""Fixtures of the kibana tests: the local Slack stand-in."""

from tests.kibana.slack_server import slack_fixture

__all__ = ["slack_fixture"]
