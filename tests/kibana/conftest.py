"""Fixtures of the kibana tests: the local Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kibana.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    """A running Slack webhook stand-in, stopped after the test."""
    server = SlackServer()
    server.start()
    yield server
    server.stop()
