"""Tests of elk.stack.processes: pid files that only ever stop the process we started."""

from __future__ import annotations

import gc
import json
import os
import sys
import warnings
from pathlib import Path

from elk.stack import processes


def _spawn_sleeper(tmp_path: Path) -> processes.PidRecord:
    return processes.spawn(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        env=dict(os.environ),
        cwd=tmp_path,
        log_file=tmp_path / "svc.log",
        pid_file=tmp_path / "svc.pid",
        version="1.2.3",
    )


def test_spawned_process_is_recorded_and_stopped(tmp_path: Path) -> None:
    """A started process is alive under its pid file; terminate stops it and removes the file."""
    record = _spawn_sleeper(tmp_path)
    assert processes.alive_record(tmp_path / "svc.pid") == record
    assert processes.terminate(tmp_path / "svc.pid", timeout_s=10)
    assert processes.start_ticks(record.pid) is None
    assert not (tmp_path / "svc.pid").exists()
    assert "amf1 stack: starting" in (tmp_path / "svc.log").read_text()


def test_a_running_service_outlives_the_call_that_started_it_without_warnings(
    tmp_path: Path,
) -> None:
    """The long-lived services outlive `spawn`'s Popen on purpose: no ResourceWarning when the
    caller drops it, and `terminate` still reaps the process (no zombie left)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = _spawn_sleeper(tmp_path)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert processes.terminate(tmp_path / "svc.pid", timeout_s=10)
    assert not Path(f"/proc/{record.pid}").exists()  # reaped, not a zombie


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    """A pid file whose start time does not match the live process is never signalled."""
    pid_file = tmp_path / "other.pid"
    ticks = processes.start_ticks(os.getpid())
    assert ticks is not None
    fake = {"pid": os.getpid(), "start_ticks": ticks + 1, "version": "x", "started_at": "t"}
    pid_file.write_text(json.dumps(fake))
    assert processes.alive_record(pid_file) is None
    assert not processes.terminate(pid_file)
    assert not pid_file.exists()


def test_missing_or_garbled_pid_file_means_not_running(tmp_path: Path) -> None:
    """No pid file, or one that is not ours, reads as 'not running'."""
    assert processes.alive_record(tmp_path / "none.pid") is None
    (tmp_path / "bad.pid").write_text("not json")
    assert processes.alive_record(tmp_path / "bad.pid") is None
