"""Bring the native stack up and down, one service or all, and report its state.

`StackControl` is what the CLI and the test fixtures use. Every state change happens under one
lock file in the runtime dir, so concurrent `stack up` runs neither start a service twice nor
stop one that another run is starting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from elk.installer import InstallError
from elk.settings import Settings
from elk.stack import gobuild, probes, processes
from elk.stack.layout import Layout
from elk.stack.locking import file_lock
from elk.stack.progress import Reporter, quiet
from elk.stack.services import SERVICE_NAMES, SERVICES, Service, service

# Tools the tests run but nothing serves: built into the cache by `up` (everything) and `build`.
TOOLS: dict[str, Callable[[Layout, Reporter], object]] = {"compose": gobuild.ensure_compose}
_POLL_S = 1.0
_LOG_TAIL_LINES = 30


class StackError(RuntimeError):
    """A service could not be built, started or stopped; the message says which and why."""


@dataclass(frozen=True)
class ServiceStatus:
    """One row of `amf1 stack status`."""

    name: str
    port: int
    health: str  # healthy | starting | down | external (healthy, but not started by us)
    version: str
    pid: int | None


def _tail(path_text: str) -> str:
    return "\n".join(path_text.splitlines()[-_LOG_TAIL_LINES:])


class StackControl:
    """Start, stop and inspect the native services (see elk.stack.services)."""

    def __init__(self, settings: Settings | None = None, report: Reporter = quiet) -> None:
        self.settings = settings or Settings()
        self.layout = Layout.from_settings(self.settings)
        self._report = report

    def _lock(self) -> AbstractContextManager[None]:
        # Long enough for a concurrent cold build of everything.
        return file_lock(self.layout.runtime_dir / "stack.lock", 5400.0, self._report)

    def _selected(self, names: Iterable[str] | None) -> list[Service]:
        wanted = list(names) if names else list(SERVICE_NAMES)
        return [service(name) for name in wanted]

    def build(self, names: Iterable[str] | None = None) -> None:
        """Fetch or build the artifacts of the named services or tools (all by default)."""
        wanted = list(names) if names else [*SERVICE_NAMES, *TOOLS]
        for name in wanted:
            if name in TOOLS:
                TOOLS[name](self.layout, self._report)
            else:
                service(name).ensure(self.layout, self._report)

    def up(self, names: Iterable[str] | None = None, started: list[str] | None = None) -> list[str]:
        """Start the named services (all by default) unless already up; return those started.

        `started`, when given, is appended to as each service starts, so a caller still knows
        what to stop when a later service fails (StackError).
        """
        selected = self._selected(names)
        self.build([svc.name for svc in selected] if names else None)
        started = [] if started is None else started
        with self._lock():
            for svc in selected:
                if self._start_one(svc):
                    started.append(svc.name)
                self._when_healthy(svc)
        return started

    def down(self, names: Iterable[str] | None = None) -> list[str]:
        """Stop the named services (all by default) that `up` started; return those stopped."""
        stopped: list[str] = []
        with self._lock():
            # Reverse order: the collector drains into Elasticsearch before it goes.
            for svc in reversed(self._selected(names)):
                if processes.terminate(self.layout.pid_file(svc.name)):
                    self._report(f"{svc.name}: stopped")
                    stopped.append(svc.name)
        return stopped

    def start(self, name: str) -> None:
        """Start one service and wait until it is healthy (no-op when it already runs)."""
        self.up([name])

    def stop(self, name: str) -> None:
        """Stop one service that `up`/`start` started and wait until it is gone."""
        self.down([name])

    def status(self) -> list[ServiceStatus]:
        """The state of every service, probing each once."""
        return [self._status_of(svc) for svc in SERVICES]

    def _status_of(self, svc: Service) -> ServiceStatus:
        record = processes.alive_record(self.layout.pid_file(svc.name))
        healthy = svc.healthy(self.settings)
        port = svc.port(self.settings)
        if record is not None:
            health = "healthy" if healthy else "starting"
            return ServiceStatus(svc.name, port, health, record.version, record.pid)
        return ServiceStatus(svc.name, port, "external" if healthy else "down", "?", None)

    def _start_one(self, svc: Service) -> bool:
        pid_file = self.layout.pid_file(svc.name)
        if processes.alive_record(pid_file) is not None:
            self._report(f"{svc.name}: already running (started by amf1)")
            self._wait_healthy(svc)
            return False
        port = svc.port(self.settings)
        if svc.healthy(self.settings):
            self._report(f"{svc.name}: already answering on port {port}, not ours: left alone")
            return False
        if probes.tcp_open("127.0.0.1", port):
            raise StackError(f"{svc.name}: port {port} is taken by another program")
        artifact = svc.ensure(self.layout, self._report)
        launch = svc.launch(artifact, self.layout, self.settings)
        self.layout.service_dir(svc.name).mkdir(parents=True, exist_ok=True)
        record = processes.spawn(
            launch.argv,
            env=launch.env,
            cwd=launch.cwd,
            log_file=self.layout.log_file(svc.name),
            pid_file=pid_file,
            version=svc.version,
        )
        note = f", {launch.note}" if launch.note else ""
        self._report(f"{svc.name}: started pid {record.pid}{note}; waiting for health")
        self._wait_healthy(svc)
        self._report(f"{svc.name}: healthy on port {port}")
        return True

    def _when_healthy(self, svc: Service) -> None:
        if svc.when_healthy is None:
            return
        try:
            svc.when_healthy(self.settings, self._report)
        except InstallError as exc:
            raise StackError(f"{svc.name}: {exc}") from exc

    def _wait_healthy(self, svc: Service) -> None:
        pid_file = self.layout.pid_file(svc.name)
        deadline = time.monotonic() + self.settings.stack_timeout_s
        while not svc.healthy(self.settings):
            if processes.alive_record(pid_file) is None:
                log = self.layout.log_file(svc.name)
                text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
                raise StackError(f"{svc.name} exited while starting; end of {log}:\n{_tail(text)}")
            if time.monotonic() > deadline:
                raise StackError(
                    f"{svc.name} not healthy after {self.settings.stack_timeout_s:.0f} s "
                    f"(log: {self.layout.log_file(svc.name)})"
                )
            time.sleep(_POLL_S)
