"""The demo stops every child it started however it is stopped: Ctrl-C, SIGTERM, SIGHUP, a
closed output pipe, and Ctrl-C with the pipe's reader gone too (`amf1 demo | tee log`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXIT_WITHIN_S = 30.0  # ManagedProcess.stop: SIGTERM, then SIGKILL after 20 s


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[int]]:
    pids_file = tmp_path / "pids"
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "amf1" / "demo_stopping.py"), str(pids_file)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not (pids_file.exists() and pids_file.read_text().strip()):
        assert demo.poll() is None, demo.communicate()[1].decode()
        assert time.monotonic() < deadline, "the demo did not start its children"
        time.sleep(0.05)
    assert demo.stdout is not None
    demo.stdout.readline()  # it is driving now
    return demo, [int(pid) for pid in pids_file.read_text().split()]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _close_output(demo: subprocess.Popen[bytes]) -> None:
    assert demo.stdout is not None
    demo.stdout.close()


def _ctrl_c_with_reader_gone(demo: subprocess.Popen[bytes]) -> None:
    _close_output(demo)
    demo.send_signal(signal.SIGINT)


WAYS: dict[str, Callable[[subprocess.Popen[bytes]], None]] = {
    "ctrl-c": lambda demo: demo.send_signal(signal.SIGINT),
    "sigterm": lambda demo: demo.send_signal(signal.SIGTERM),
    "sighup": lambda demo: demo.send_signal(signal.SIGHUP),
    "closed-pipe": _close_output,
    "ctrl-c-and-closed-pipe": _ctrl_c_with_reader_gone,
}


@pytest.mark.parametrize("way", list(WAYS))
def test_no_child_survives_the_demo(tmp_path: Path, way: str) -> None:
    """Stopped each way, the demo exits within the bound and none of its children runs."""
    demo, children = _start(tmp_path)
    try:
        assert all(_alive(pid) for pid in children)
        WAYS[way](demo)
        demo.wait(EXIT_WITHIN_S)
        assert demo.stderr is not None
        errors = demo.stderr.read().decode()
        assert demo.returncode == 0, errors
        assert "Traceback" not in errors, errors
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in children:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
