"""Start and stop the stack's processes, and remember them by pid file.

A pid file records the pid and the process's start time (from /proc), so `down` never signals
a process that merely reused the pid: only the very process `up` started counts as ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class PidRecord:
    """What `up` wrote about a process it started."""

    pid: int
    start_ticks: int
    version: str
    started_at: str


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces and parentheses.
    return text[text.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot; None when it is gone or a zombie."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in {"Z", "X"}:
        return None
    return int(fields[19])


def read_record(pid_file: Path) -> PidRecord | None:
    """The record in `pid_file`, or None when missing or unreadable."""
    try:
        return PidRecord(**json.loads(pid_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def alive_record(pid_file: Path) -> PidRecord | None:
    """The record in `pid_file` if its process is still the one we started, else None."""
    record = read_record(pid_file)
    if record is None or start_ticks(record.pid) != record.start_ticks:
        return None
    return record


_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Services this process started and has not reaped yet, by pid."""


def spawn(
    argv: list[str], *, env: dict[str, str], cwd: Path, log_file: Path, pid_file: Path, version: str
) -> PidRecord:
    """Start `argv` detached (own session, output appended to `log_file`), write its pid file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n--- amf1 stack: starting at {datetime.now(UTC).isoformat()}\n".encode())
        log.flush()
        process = subprocess.Popen(  # noqa: S603 - argv built from constants and cache paths
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Held until it is reaped: a Popen collected while its process runs warns (ResourceWarning),
    # and the long-lived services outlive the call that started them by design.
    _CHILDREN[process.pid] = process
    ticks = start_ticks(process.pid)
    record = PidRecord(process.pid, ticks or 0, version, datetime.now(UTC).isoformat())
    pid_file.write_text(json.dumps(asdict(record)), encoding="utf-8")
    return record


def _reap(pid: int) -> None:
    """Collect `pid` if it is our own child (when tests start services in-process)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(record: PidRecord, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(record.pid)
        if start_ticks(record.pid) != record.start_ticks:
            return True
        time.sleep(0.2)
    return False


def terminate(pid_file: Path, timeout_s: float = 60.0) -> bool:
    """Stop the process group recorded in `pid_file` if it is ours; True if something stopped.

    SIGTERM first (Elasticsearch and the collectors shut down cleanly on it), SIGKILL after
    `timeout_s`. The pid file is removed either way once the process is gone.
    """
    record = alive_record(pid_file)
    if record is None:
        pid_file.unlink(missing_ok=True)
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            # start_new_session made the process a group leader: its children go with it.
            os.killpg(record.pid, sig)
        if _wait_gone(record, timeout_s if sig == signal.SIGTERM else 10.0):
            break
    pid_file.unlink(missing_ok=True)
    return True
