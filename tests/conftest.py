"""Session-wide fixtures: the real stack (`stack`, `es`, `stack_control`).

Integration tests (`@pytest.mark.integration`) run against the real Elasticsearch, Jaeger and
log collector. Without them they skip with the reason; with CI=true or AMF1_REQUIRE_STACK=1
they fail. Bring the stack up with `amf1 stack up`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import structlog
from elasticsearch import Elasticsearch

import logshipping
from elk.client import make_client
from elk.security.credentials import StackUser, stack_credentials
from elk.settings import Settings
from elk.stack.control import StackControl
from logshipping.redaction import SECRETS
from tests.stack_fixtures import ServiceSwitch, StackEndpoints, skip_or_fail

_STACK_STATE = pytest.StashKey[list[str]]()


def _unreachable(config: pytest.Config) -> list[str]:
    """Probe the stack once per session; later integration tests reuse the answer."""
    if _STACK_STATE not in config.stash:
        config.stash[_STACK_STATE] = StackEndpoints.from_settings(Settings()).unreachable()
    return config.stash[_STACK_STATE]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """An integration test without the stack skips (or fails when the stack is required)."""
    if item.get_closest_marker("integration") is None:
        return
    missing = _unreachable(item.config)
    if missing:
        skip_or_fail(f"stack unreachable: {', '.join(missing)}; run `amf1 stack up`")


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Every test starts and ends with logging unconfigured and no secret registered: `configure`
    and the settings models' secret registry are process-global."""
    yield
    logshipping.shutdown(timeout_s=2.0)
    SECRETS.clear()
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    logging.getLogger("uvicorn.access").disabled = False


@pytest.fixture(scope="session")
def stack() -> StackEndpoints:
    """Endpoints of the running stack; skips (or fails) when any service does not answer."""
    endpoints = StackEndpoints.from_settings(Settings())
    missing = endpoints.unreachable()
    if missing:
        skip_or_fail(f"stack unreachable: {', '.join(missing)}; run `amf1 stack up`")
    return endpoints


@pytest.fixture(scope="session")
def es(stack: StackEndpoints) -> Iterator[Elasticsearch]:
    """An admin Elasticsearch client for the stack (the project's own client factory)."""
    client = make_client(Settings(es_url=stack.es_url), user=StackUser.ADMIN)
    yield client
    client.close()


@pytest.fixture(scope="session")
def es_as(stack: StackEndpoints) -> Iterator[Callable[[StackUser], Elasticsearch]]:
    """Clients in one role each: `es_as(StackUser.ANALYST)` authenticates as the analyst.

    They use the stack's generated credentials; a stack without them (security off) skips the
    test, or fails it where the stack is required.
    """
    clients: dict[StackUser, Elasticsearch] = {}

    def client(user: StackUser) -> Elasticsearch:
        if user not in clients:
            found = stack_credentials(stack.es_url, user)
            if found is None:
                skip_or_fail(f"no generated credentials of {user}: Elasticsearch security is off")
                raise AssertionError  # unreachable: skip_or_fail raised
            settings = Settings(
                es_url=stack.es_url, es_username=found.username, es_password=found.password
            )
            clients[user] = make_client(settings, user=user, max_retries=0)
        return clients[user]

    yield client
    for opened in clients.values():
        opened.close()


@pytest.fixture
def stack_control(stack: StackEndpoints) -> Iterator[ServiceSwitch]:
    """Stop/start native services by name; whatever a test leaves stopped is started again."""
    switch = ServiceSwitch(StackControl(Settings()))
    yield switch
    switch.restore()
