"""`amf1 demo --exit --quick`, the README's main job, run whole against the real stack."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from alerting.state_machine import AlertState
from alerting.state_store import RuleCursor, StateStore
from amf1.demo.environment import PHASES
from tests.ports import free_port

pytestmark = pytest.mark.integration

_DEMO_TIMEOUT_S = 600
_OLD_GROUP = "stage0-retired-model"


def _run_demo(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run the demo to its end; on a timeout stop it as Ctrl-C would (it stops its children)."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "amf1.cli", "demo", "--exit", "--quick"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = demo.communicate(timeout=_DEMO_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=120)
        pytest.fail(f"the demo ran over {_DEMO_TIMEOUT_S} s:\n{output}")
    return demo.returncode, output


def _plant_an_earlier_runs_alert(es: Elasticsearch, index: str) -> None:
    """What a watcher left an hour ago: a firing alert, and its rule's cursor at that time."""
    store = StateStore(es, index)
    store.ensure_index()
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    rule = "model-load-failure"
    store.put_cursor(
        store.get_cursor(rule),
        RuleCursor(rule=rule, evaluated_up_to=hour_ago, active_groups=[_OLD_GROUP]),
    )
    store.put_alert(
        store.get_alert(rule, _OLD_GROUP),
        AlertState(
            rule=rule,
            group=_OLD_GROUP,
            status="firing",
            severity="critical",
            fired_at=hour_ago,
            last_notified_at=hour_ago,
            last_window_end=hour_ago,
            value=1.0,
            count=1,
        ),
    )


@pytest.mark.timeout(_DEMO_TIMEOUT_S + 180)
def test_quick_demo_drives_every_phase_and_alerts_only_on_what_it_caused(
    es: Elasticsearch, trained_models: Path, tmp_path: Path
) -> None:
    # Another watcher's state on the same Elasticsearch, named by AMF1_STATE_INDEX: the demo must
    # neither replay it (an hour of catch-up would resolve its old alert in the first phase) nor
    # touch it.
    other_state = f"amf1-watcher-state-test-{uuid.uuid4().hex[:10]}"
    _plant_an_earlier_runs_alert(es, other_state)
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)  # the corrupt-model phase breaks and restores one
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMF1_SLACK_")}
    env |= {
        "AMF1_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
        "AMF1_MODELS_DIR": str(models),
        "AMF1_STATE_INDEX": other_state,
    }
    try:
        code, output = _run_demo(env, tmp_path)
        other = StateStore(es, other_state).get_alert("model-load-failure", _OLD_GROUP).doc
    finally:
        es.indices.delete(index=other_state, ignore_unavailable=True)

    assert code == 0, output
    slack = [line.split(">> slack ", 1)[1] for line in output.splitlines() if ">> slack " in line]
    assert not [line for line in slack if _OLD_GROUP in line], output
    assert other.status == "firing", "the demo changed another watcher's state"
    # Every phase ran; the broken model file alerted the critical channel, and was repaired.
    for phase in PHASES:
        assert f"] {phase.scenario}: " in output, output
    assert any(
        line.startswith("#critical: ") and "FIRED CRITICAL: Model load failure" in line
        for line in slack
    ), output
    assert "model restored; reload -> HTTP 200" in output, output
    # The summary: what was indexed, what was sent, where the traces are.
    assert "Example traces (Jaeger):" in output, output
    assert "/trace/" in output or "amf1 trace " in output, output
    report = (tmp_path / "var" / "demo" / "report" / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# AMF1 report: the demo run\n"), report
