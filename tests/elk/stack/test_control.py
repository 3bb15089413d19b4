"""Tests of elk.stack.control with a stand-in service (a tiny HTTP server on a free port).

The real services are exercised by tests/integration/test_stack.py; here the bookkeeping is:
`up` is idempotent, `down` stops only what `up` started, status reports each state.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from elk.installer import InstallError
from elk.settings import Settings
from elk.stack import control, probes
from elk.stack.launch import Launch
from elk.stack.layout import Layout
from elk.stack.progress import Reporter
from elk.stack.services import Service
from tests.ports import free_port

_SERVER = (
    "import http.server as h; "
    "h.test(HandlerClass=h.SimpleHTTPRequestHandler, port={port}, bind='127.0.0.1')"
)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[control.StackControl, Service]:
    port = free_port()

    def ensure(_layout: Layout, _report: Reporter) -> Path:
        return Path(sys.executable)

    def launch(binary: Path, layout: Layout, _settings: Settings) -> Launch:
        argv = [str(binary), "-c", _SERVER.format(port=port)]
        return Launch(argv=argv, env={}, cwd=layout.service_dir("fake"))

    svc = Service(
        "fake",
        lambda _s: port,
        "0.1",
        ensure,
        launch,
        lambda _s: probes.http_ok(f"http://127.0.0.1:{port}/"),
    )
    monkeypatch.setattr(control, "SERVICES", (svc,))
    monkeypatch.setattr(control, "SERVICE_NAMES", ("fake",))
    monkeypatch.setattr(control, "service", lambda _name: svc)
    monkeypatch.setattr(control, "TOOLS", {})
    settings = Settings(cache_dir=tmp_path, stack_timeout_s=30)
    return control.StackControl(settings), svc


def test_up_is_idempotent_and_down_stops_what_up_started(
    fake: tuple[control.StackControl, Service],
) -> None:
    """The first up starts the service, the second leaves it alone, down stops it once."""
    stack, svc = fake
    try:
        assert stack.up() == ["fake"]
        assert stack.status()[0].health == "healthy"
        assert stack.up() == []
    finally:
        assert stack.down() == ["fake"]
    assert stack.down() == []
    assert not svc.healthy(stack.settings)
    assert stack.status()[0].health == "down"


def test_a_healthy_service_we_did_not_start_is_left_alone(
    fake: tuple[control.StackControl, Service],
) -> None:
    """Something already answering on the port is reported external and never stopped."""
    stack, svc = fake
    other = control.StackControl(Settings(cache_dir=stack.settings.cache_dir / "other"))
    other_layout = other.layout
    try:
        assert other.up() == ["fake"]  # started under a different runtime dir
        assert stack.up() == []
        assert stack.status()[0].health == "external"
        assert stack.down() == []
        assert svc.healthy(stack.settings)
    finally:
        other.down()
    assert not other_layout.pid_file("fake").exists()


def test_up_runs_the_when_healthy_step_once_the_service_answers(
    fake: tuple[control.StackControl, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step (Elasticsearch: the index template) runs on every up, with the service healthy."""
    stack, svc = fake
    seen: list[bool] = []
    step = replace(svc, when_healthy=lambda settings, _report: seen.append(svc.healthy(settings)))
    monkeypatch.setattr(control, "service", lambda _name: step)
    try:
        stack.up()
        stack.up()
    finally:
        stack.down()
    assert seen == [True, True]


def test_a_failing_when_healthy_step_is_a_stack_error_naming_the_service(
    fake: tuple[control.StackControl, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index template Elasticsearch refuses stops `up` with an error that says where."""
    stack, svc = fake

    def refuse(_settings: Settings, _report: Reporter) -> None:
        raise InstallError("Elasticsearch refused the set-up: 400")

    monkeypatch.setattr(control, "service", lambda _name: replace(svc, when_healthy=refuse))
    try:
        with pytest.raises(control.StackError, match="fake: Elasticsearch refused"):
            stack.up()
    finally:
        stack.down()


def test_up_of_everything_builds_the_tools_too(
    fake: tuple[control.StackControl, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`up` with no names also builds the tools (the compose CLI); `up NAME` only that service."""
    stack, _svc = fake
    built: list[Path] = []
    monkeypatch.setattr(
        control, "TOOLS", {"compose": lambda layout, _report: built.append(layout.cache_dir)}
    )
    try:
        stack.up(["fake"])
        assert built == []
        stack.up()
        assert built == [stack.layout.cache_dir]
        stack.build(["compose"])
        assert len(built) == 2
    finally:
        stack.down()
