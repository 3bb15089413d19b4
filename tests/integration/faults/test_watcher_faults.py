"""The real watcher (`amf1 watch`) killed while Slack is taking its alert, then started again.

Slack (a local stand-in) accepts the message and holds its answer; the watcher is killed with
SIGKILL meanwhile, so its ledger still holds the delivery, claimed. The next watcher on the same
ledger sends it once the claim expires. Slack offers no idempotency key, so the bound is
at-least-once: a delivery in flight at a kill goes out at most twice (once before, once after),
and any other is sent exactly once. The test asserts exactly that, and that nothing is pending.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch, NotFoundError

from alerting.state_store import alert_id
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.faults.fault_support import Figures
from tests.integration.tracing_support import ROOT, wait_for
from tests.integration.watcher_support import event, messages, plant
from tests.stack_fixtures import StackEndpoints

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("index_template")]
__all__ = ["slack_fixture"]  # the `slack` fixture, shared with tests/alerting

RULE = "model-load-failure"
HOLD_S = 10  # Slack's answer to the first copy: longer than the kill takes
SLACK_TIMEOUT_S = HOLD_S + 2  # the first watcher must still be waiting when it is killed
CLAIM_TTL_S = SLACK_TIMEOUT_S + 4  # just over one Slack send (timeout, Retry-After 1 s, 2 s)


def _rules_file(directory: Path) -> Path:
    """The shipped rules file with only RULE (other rules would alert on everyone's live data)."""
    rules = yaml.safe_load((ROOT / "alerting/rules.yaml").read_text())
    rules["rules"] = [rule for rule in rules["rules"] if rule["id"] == RULE]
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


@contextmanager
def _watcher(directory: Path, env: dict[str, str], name: str) -> Iterator[subprocess.Popen[bytes]]:
    """`amf1 watch` as a subprocess (stdout and stderr to `<name>.log`), stopped at the end."""
    args = [sys.executable, "-m", "amf1.cli", "watch", "--rules", str(_rules_file(directory))]
    with (directory / f"{name}.log").open("wb") as sink:
        process = subprocess.Popen(
            args, env={**os.environ, **env}, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _pending(es: Elasticsearch, index: str, group: str) -> int | None:
    """Deliveries still pending in the ledger for (RULE, group); None before it is written."""
    try:
        doc = es.get(index=index, id=alert_id(RULE, group))
    except NotFoundError:
        return None
    return len(doc["_source"].get("pending", []))


def test_watcher_killed_mid_delivery_delivers_after_restart_at_most_twice(
    stack: StackEndpoints, es: Elasticsearch, slack: SlackServer, tmp_path: Path
) -> None:
    """A fired alert whose Slack call is in flight at kill -9 reaches Slack after the restart:
    two copies (the bound), never three; the ledger ends with nothing pending."""
    started = time.monotonic()
    group = f"fault-model-{uuid.uuid4().hex[:8]}"
    state_index = f"amf1-watcher-state-fault-{uuid.uuid4().hex[:12]}"  # the watcher role's pattern
    env = {
        "AMF1_ES_URL": stack.es_url,
        "AMF1_STATE_INDEX": state_index,
        "AMF1_WATCH_INTERVAL_S": "1",
        "AMF1_QUERY_DELAY_S": "0",
        "AMF1_CLAIM_TTL_S": str(CLAIM_TTL_S),
        "AMF1_SLACK_TIMEOUT_S": str(SLACK_TIMEOUT_S),
        "AMF1_SLACK_MAX_RETRIES": "0",
        "AMF1_SLACK_MAX_RETRY_AFTER_S": "1",
        "AMF1_SLACK_CRITICAL_WEBHOOK_URL": slack.url("critical"),
        "AMF1_SLACK_ALERTS_WEBHOOK_URL": slack.url("alerts"),
        "AMF1_SLACK_DATA_WEBHOOK_URL": slack.url("data"),
        "AMF1_LOG_SHIP": "false",
        "AMF1_LOG_BUFFER_DIR": str(tmp_path / "buffer"),
    }
    fired = ("fired", "critical", group)
    slack.hold(group, HOLD_S)
    plant(es, [event(datetime.now(UTC), "model-load-failed", amf1__model__name=group)])
    try:
        with _watcher(tmp_path, env, "first") as first:
            wait_for(lambda: fired in messages(slack, RULE) or None, "first copy in Slack", 90)
            first.kill()  # Slack has the message; the watcher never hears back
            first.wait(10)
        assert _pending(es, state_index, group) == 1
        with _watcher(tmp_path, env, "second"):
            wait_for(lambda: _pending(es, state_index, group) == 0 or None, "delivery recorded", 90)
            copies = messages(slack, RULE).count(fired)
    finally:
        es.indices.delete(index=state_index, ignore_unavailable=True)
    assert copies == 2, messages(slack, RULE)
    Figures(
        scenario="watcher killed mid-delivery, restarted",
        written=1,
        indexed=1,
        lost=0,
        duplicated=copies - 1,
        dropped_counted=0,
        stdout_only=0,
        seconds=round(time.monotonic() - started, 1),
    ).record()
