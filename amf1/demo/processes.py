"""The demo's child processes: `amf1` subcommands with their own logs, stopped by pid.

Children run in their own session, so Ctrl-C reaches only the demo, which then stops them in
order (the service first flushes its log shipper and span exporter on SIGTERM).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import psutil


class DemoError(Exception):
    """A step of the demo could not be completed; the message says which and why."""


def amf1_command(*args: str) -> list[str]:
    """argv running `amf1 <args>` with this interpreter (works without the console script)."""
    return [sys.executable, "-m", "amf1.cli", *args]


def run_step(args: Sequence[str], env: Mapping[str, str], timeout_s: float) -> str:
    """Run a command to completion, streaming its output; returns the output.

    Raises:
        DemoError: non-zero exit or timeout, with the output's last lines.
    """
    try:
        done = subprocess.run(  # noqa: S603 - argv built from our own constants
            list(args),
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DemoError(f"{' '.join(args[2:])} did not finish within {timeout_s:.0f} s") from exc
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-8:])
        raise DemoError(f"{' '.join(args[2:])} failed (exit {done.returncode}):\n{tail}")
    return output


def http_ok(url: str, timeout_s: float = 3.0) -> bool:
    """Whether `url` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class ManagedProcess:
    """A long-running child with its stdout/stderr in a log file."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._args = list(args)
        self._env = dict(env)
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self) -> ManagedProcess:
        """Start the child in its own session."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - argv built from our own constants
            self._args,
            env=self._env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self._process.pid if self._process is not None else None

    def running(self) -> bool:
        """Whether the child is still alive."""
        return self._process is not None and self._process.poll() is None

    def wait_http(self, url: str, timeout_s: float) -> None:
        """Wait until `url` answers 200.

        Raises:
            DemoError: the child exited, or no 200 within the timeout.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                raise DemoError(f"{self.name} exited early; see {self.log}")
            if http_ok(url, timeout_s=2):
                return
            time.sleep(0.5)
        raise DemoError(f"{self.name}: {url} did not answer 200 within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM, wait, then SIGKILL: never leaves the child running."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def service_pids(pid: int | None) -> list[int]:
    """`pid` and its descendants: the service's supervisor and its uvicorn workers."""
    if pid is None:
        return []
    try:
        process = psutil.Process(pid)
        return [pid, *(child.pid for child in process.children(recursive=True))]
    except psutil.Error:
        return [pid]
