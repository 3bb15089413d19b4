"""`amf1 demo`: the whole product on one machine, driven through its failure modes.

Steps: models (trained if absent) -> stack up (Docker if an engine answers, native otherwise)
-> index template -> Slack (the configured webhook, else a local sink that prints) -> service and
watcher as child processes -> the scenario phases -> summary -> wait for Ctrl-C (or `--exit`).
Everything the demo started is stopped on the way out, and nothing else, however the demo is
stopped: Ctrl-C, SIGTERM, SIGHUP (the CLI turns them into `KeyboardInterrupt`), or its output
closing (`amf1 demo | head -5`, or a `tee` that Ctrl-C ended first). While it stops, further
signals are ignored and output that cannot be written is dropped, so the clean-up always ends.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amf1.demo import environment, summary
from amf1.demo.processes import (
    DemoError,
    ManagedProcess,
    amf1_command,
    http_ok,
    run_step,
    service_pids,
)
from amf1.demo.sink import SlackMessage, SlackSink
from amf1.loadgen.client import LoadgenError, Target
from amf1.loadgen.payloads import PayloadFactory
from amf1.loadgen.runner import LoadPlan, run_sync
from amf1.loadgen.session import Options, payloads_for, run_scenario
from amf1.settings import Settings
from elk.security.credentials import without_credentials
from tracing.correlation import jaeger_ui_served

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_STEP_STOP_WAIT_S = 30.0  # a step interrupted gets this long to clean up after SIGINT

_SLACK_ENV = (
    "AMF1_SLACK_WEBHOOK_URL",
    "AMF1_SLACK_CRITICAL_WEBHOOK_URL",
    "AMF1_SLACK_ALERTS_WEBHOOK_URL",
    "AMF1_SLACK_DATA_WEBHOOK_URL",
)


@dataclass
class DemoConfig:
    """Options of one demo run."""

    exit_after: bool = False
    quick: bool = False
    work_dir: Path = field(default_factory=lambda: Path("var", "demo").resolve())
    settings: Settings = field(default_factory=Settings)


class OutputClosedError(Exception):
    """The demo's output was closed (the reader of its pipe exited): a request to stop."""


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP for the block (the clean-up must not be cut short);
    the children run in their own sessions and still get the signals the demo sends them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _silence_stdout() -> None:
    """Point stdout at /dev/null: the reader is gone, and the interpreter's last flush at exit
    would otherwise fail too."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class Demo:
    """One run of the demo; `run()` returns the exit code."""

    def __init__(self, config: DemoConfig, say: Callable[[str], None]) -> None:
        self.config = config
        self.settings = config.settings
        self._say = say
        self._output_closed = False
        self._stopping = False
        self.started_at = datetime.now(UTC)
        self.env = dict(os.environ)
        self.env["AMF1_STATE_INDEX"] = environment.DEMO_STATE_INDEX
        self.settings = self.settings.model_copy(
            update={"state_index": environment.DEMO_STATE_INDEX}
        )
        # Absolute, so the children and the corrupt-model step agree whatever their cwd.
        models_dir = Path(self.env.get("AMF1_MODELS_DIR", str(self.settings.models_dir)))
        self.env["AMF1_MODELS_DIR"] = str(models_dir.resolve())
        token = self.settings.admin_token
        self.admin_token = token.get_secret_value() if token else secrets.token_urlsafe(24)
        self.env["AMF1_ADMIN_TOKEN"] = self.admin_token
        told = self.settings.feedback_token
        self.feedback_token = told.get_secret_value() if told else secrets.token_urlsafe(24)
        self.env["AMF1_FEEDBACK_TOKEN"] = self.feedback_token
        self.children: list[ManagedProcess] = []
        self.sink: SlackSink | None = None
        self.stack_started: list[str] = []
        self.own_service = False
        self.trace_ids: list[str] = []

    def say(self, line: str) -> None:
        """Print a progress line. When the output is closed: the first time, ask the demo to
        stop (`OutputClosedError`); once stopping, drop the line."""
        if self._output_closed:
            return
        try:
            self._say(line)
        except (BrokenPipeError, ConnectionResetError) as exc:
            self._output_closed = True
            _silence_stdout()
            if not self._stopping:
                raise OutputClosedError(str(exc)) from exc

    def run(self) -> int:
        """Run every step; always stops what was started when it returns."""
        code = 0
        try:
            self._prepare()
            self._drive()
            self._summarize()
            if not self.config.exit_after:
                self._wait_for_ctrl_c()
        except DemoError as exc:
            self._stopping = True
            self.say(f"demo stopped: {exc}")
            code = 1
        except (KeyboardInterrupt, OutputClosedError):
            self._stopping = True
            self.say("stop requested: stopping what the demo started")
        finally:
            self._stopping = True
            with _signals_ignored():
                self._shutdown()
        return code

    def _prepare(self) -> None:
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_models()
        self._started_file.unlink(missing_ok=True)  # a stale list would stop others' services
        self._step("stack up", ["stack", "up", "--started-file", str(self._started_file)], 3600)
        self.stack_started = self._started_file.read_text(encoding="utf-8").split()
        self._step("index template", ["elk", "setup"], 120)
        self._slack()
        self._start_service()
        self._start_watcher()

    @property
    def _started_file(self) -> Path:
        return self.config.work_dir / "stack-started.txt"

    def _step(self, title: str, args: list[str], timeout_s: float) -> None:
        """Run `amf1 <args>`, its progress on the terminal."""
        self.say(f"{title}: amf1 {' '.join(args)}")
        process = subprocess.Popen(amf1_command(*args), env=self.env)  # noqa: S603 - our argv
        try:
            returncode = process.wait(timeout_s)
        except subprocess.TimeoutExpired as exc:
            _interrupt(process)
            raise DemoError(f"amf1 {' '.join(args)} took longer than {timeout_s:.0f} s") from exc
        except BaseException:
            # Stopped meanwhile: let the step clean up (`stack up` lists what it started).
            _interrupt(process)
            raise
        if returncode != 0:
            raise DemoError(f"amf1 {' '.join(args)} failed (exit {returncode})")

    def _ensure_models(self) -> None:
        models_dir = Path(self.env["AMF1_MODELS_DIR"])
        if any(models_dir.glob("*/model.txt")) or any(models_dir.glob("*/current/model.txt")):
            self.say(f"models: found in {models_dir}/")
            return
        self.say(f"models: none in {models_dir}/, training them (about a minute)")
        self._step("train", ["train", "--out", str(models_dir)], 1800)

    def _slack(self) -> None:
        if any(self.env.get(name) for name in _SLACK_ENV):
            self.say("slack: using the configured webhook(s)")
            return
        self.sink = SlackSink(self._on_slack).start()
        self.env["AMF1_SLACK_CRITICAL_WEBHOOK_URL"] = self.sink.url("critical")
        self.env["AMF1_SLACK_ALERTS_WEBHOOK_URL"] = self.sink.url("alerts")
        self.env["AMF1_SLACK_DATA_WEBHOOK_URL"] = self.sink.url("data")
        self.say(f"slack: no webhook configured; a local sink prints alerts ({self.sink.url('')})")

    def _on_slack(self, message: SlackMessage) -> None:
        self.say(f"  >> slack #{message.channel}: {message.title}")

    def _start_service(self) -> None:
        if http_ok(f"{self.settings.service_url.rstrip('/')}/health"):
            self.say(f"service: already running at {self.settings.service_url}; using it")
            return
        target = Target.from_url(self.settings.service_url)
        # The demo runs the service as it is deployed: several workers (unless told otherwise).
        # The service never talks to Elasticsearch: it gets no credentials of it.
        env = {"AMF1_WORKERS": str(environment.DEMO_WORKERS)} | without_credentials(self.env)
        env |= environment.SERVICE_DEMO_ENV
        args = amf1_command("serve", "--host", target.host, "--port", str(target.port))
        service = self._child("service", args, env)
        self.own_service = True
        self.say(f"service: starting on {target.url} (log {service.log})")
        service.wait_http(f"{target.url}/ready", 180)
        self.say("service: ready, both models loaded")
        self._wait_for_pipeline(service)

    def _wait_for_pipeline(self, service: ManagedProcess) -> None:
        """Wait until the service's first events are searchable (shipper -> collector -> ES).

        Starting the watcher before then would alert on silence and stale data that are only
        the pipeline's start-up lag.
        """
        from elk.client import make_client  # noqa: PLC0415 - heavy import
        from elk.security.credentials import StackUser  # noqa: PLC0415

        started = time.monotonic()
        with make_client(user=StackUser.WATCHER) as es:
            while time.monotonic() - started < 90:
                # With several workers the events come from the workers, not the supervisor.
                query = {"terms": {"process.pid": service_pids(service.pid)}}
                found = summary.count_events(es, self.settings, self.started_at, query)
                if found:
                    waited = time.monotonic() - started
                    self.say(f"pipeline: the service's events reach Elasticsearch ({waited:.0f} s)")
                    return
                time.sleep(1)
        self.say(
            "pipeline: no service event searchable after 90 s; see `amf1 stack logs collector`"
        )

    def _start_watcher(self) -> None:
        from alerting.settings import Settings as WatcherSettings  # noqa: PLC0415
        from elk.client import make_client  # noqa: PLC0415 - heavy import
        from elk.security.credentials import StackUser  # noqa: PLC0415

        rules = environment.write_demo_rules(
            WatcherSettings().rules_file, self.config.work_dir / "rules.yaml"
        )
        with make_client(user=StackUser.WATCHER) as es:
            es.indices.delete(index=environment.DEMO_STATE_INDEX, ignore_unavailable=True)
        args = amf1_command("watch", "--interval", "1", "--rules", str(rules))
        # The drift window and cadences are the watcher's to score with.
        watcher = self._child("watcher", args, self.env | environment.SERVICE_DEMO_ENV)
        time.sleep(3)
        if not watcher.running():
            raise DemoError(f"the watcher exited; see {watcher.log}")
        self.say(
            f"watcher: every 1 s, rule windows capped at {environment.DEMO_WINDOW_S} s for the "
            f"demo, its state in {environment.DEMO_STATE_INDEX}, emptied (log {watcher.log})"
        )

    def _child(self, name: str, args: list[str], env: dict[str, str]) -> ManagedProcess:
        child = ManagedProcess(name, args, env, self.config.work_dir / f"{name}.log").start()
        self.children.append(child)
        return child

    def _drive(self) -> None:
        target = Target.from_url(self.settings.service_url)
        models_dir = Path(self.env["AMF1_MODELS_DIR"])
        options = Options(
            models_dir=models_dir,
            admin_token=self.admin_token,
            feedback_token=self.feedback_token,
        )
        try:
            payloads = run_sync(lambda: payloads_for(target))
        except LoadgenError as exc:
            raise DemoError(str(exc)) from exc
        phases = environment.scaled(environment.PHASES, 0.5 if self.config.quick else 1.0)
        for number, phase in enumerate(phases, 1):
            step = f"[{number}/{len(phases)}] {phase.scenario}"
            if phase.scenario == "corrupt-model" and not self.own_service:
                self.say(f"{step} skipped: the service was not started by the demo")
                continue
            self.say(
                f"{step}: {phase.rps:g} rps for {phase.duration_s:g} s; expect: {phase.expect}"
            )
            self._phase_result(self._run_phase(phase, target, options, payloads))

    def _run_phase(
        self,
        phase: environment.Phase,
        target: Target,
        options: Options,
        payloads: PayloadFactory,
    ) -> dict[str, Any]:
        plan = LoadPlan(rps=phase.rps, duration_s=phase.duration_s, concurrency=8)
        try:
            return run_sync(
                lambda: run_scenario(
                    target, phase.scenario, plan, options, progress=self._indent, payloads=payloads
                )
            )
        except LoadgenError as exc:
            raise DemoError(str(exc)) from exc

    def _indent(self, line: str) -> None:
        self.say(f"    {line}")

    def _phase_result(self, result: dict[str, Any]) -> None:
        outcomes = ", ".join(f"{k}: {v}" for k, v in result["outcomes"].items())
        p95 = result["latency_ms"]["p95"]
        self.say(f"    {result['requests']} requests ({outcomes}); p95 {p95} ms")
        if result.get("slowest_trace_id"):
            self.trace_ids.insert(0, result["slowest_trace_id"])
        self.trace_ids.extend(result.get("trace_ids", [])[:2])

    def _summarize(self) -> None:
        from amf1.report.data import collect  # noqa: PLC0415 - matplotlib only when needed
        from amf1.report.render import write_report  # noqa: PLC0415
        from elk.client import make_client  # noqa: PLC0415
        from elk.security.credentials import StackUser  # noqa: PLC0415

        self.say("waiting 10 s for the last events to be searchable ...")
        time.sleep(10)
        result = summary.Summary()
        pids = [child.pid for child in self.children if child.pid is not None]
        with make_client(user=StackUser.WATCHER) as es:
            summary.indexed_events(es, self.settings, self.started_at, result, pids)
            if self.sink is not None:
                result.alerts = summary.alerts_from_sink(list(self.sink.messages))
            else:
                result.alerts = summary.alerts_from_state(es, self.settings, self.started_at)
            # The demo's own period: the indices may hold days of other traffic.
            data = collect(es, self.settings, self.started_at, datetime.now(UTC))
            report = write_report(data, self.config.work_dir / "report", "the demo run")
        ui = self.settings.ui_base_url
        result.trace_links = summary.trace_links(
            self.trace_ids, ui if jaeger_ui_served(ui) else None
        )
        if http_ok(f"{self.settings.kibana_url.rstrip('/')}/api/status"):
            result.kibana_url = self.settings.kibana_url
        result.metrics_url = f"{self.settings.service_url.rstrip('/')}/metrics"
        if http_ok(f"{summary.PROMETHEUS_URL}/-/ready"):
            result.prometheus_url = summary.PROMETHEUS_URL
        for line in summary.format_summary(result, str(report)):
            self.say(line)

    def _wait_for_ctrl_c(self) -> None:
        self.say("")
        self.say(
            f"Everything keeps running: service {self.settings.service_url}, watcher, stack "
            f"(`amf1 stack status`). Try `AMF1_STATE_INDEX={environment.DEMO_STATE_INDEX} amf1 "
            f"health` (the demo watcher's alerts), `amf1 loadgen`. Ctrl-C stops the demo."
        )
        while all(child.running() for child in self.children):
            time.sleep(1)
        stopped = [child.name for child in self.children if not child.running()]
        raise DemoError(f"{', '.join(stopped)} stopped unexpectedly")

    def _shutdown(self) -> None:
        for child in reversed(self.children):
            self.say(f"stopping {child.name}")
            try:
                child.stop()
            except OSError as exc:  # one child's trouble must not leave the others running
                self.say(f"stopping {child.name}: {exc}")
        self.children.clear()
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
        if not self.stack_started and self._started_file.exists():
            # `stack up` was interrupted: it still listed what it had started.
            self.stack_started = self._started_file.read_text(encoding="utf-8").split()
        if self.stack_started:
            self.say(
                f"stopping the stack services the demo started: {' '.join(self.stack_started)}"
            )
            try:
                run_step(amf1_command("stack", "down", *self.stack_started), self.env, 300)
            except DemoError as exc:
                self.say(f"stack down: {exc}")
            self.stack_started = []


def _interrupt(process: subprocess.Popen[bytes]) -> None:
    """SIGINT a step, wait a bounded time, then kill it: never leaves it running."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(_STEP_STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
