"""A demo run with real child processes and no stack: run as a script by test_demo_stop.py.

`Demo` is the real class and `amf1.demo.cli` installs its real signal handling; only the steps
that need the stack are replaced: `_prepare` starts two long-running children (standing in for
the service and the watcher) and writes their pids to argv[1]; `_drive` prints a line every
50 ms forever (a closed output pipe shows up at once).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from amf1.demo import cli
from amf1.demo.processes import ManagedProcess
from amf1.demo.run import Demo, DemoConfig

_SLEEPER = [sys.executable, "-c", "import time\nwhile True: time.sleep(1)"]


def _prepare(self: Demo) -> None:
    for name in ("service", "watcher"):
        log = self.config.work_dir / f"{name}.log"
        self.children.append(ManagedProcess(name, _SLEEPER, self.env, log).start())
    pids = " ".join(str(child.pid) for child in self.children)
    Path(sys.argv[1]).write_text(pids, encoding="utf-8")


def _drive(self: Demo) -> None:
    while True:
        self.say("traffic ...")
        time.sleep(0.05)


def main() -> int:
    """Run the stand-in demo until it is stopped."""
    # Ctrl-C comes from a terminal, where SIGINT is not ignored; a test run started in the
    # background (`make test &`, a runner under nohup) hands its children SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    Demo._prepare = _prepare  # type: ignore[method-assign]
    Demo._drive = _drive  # type: ignore[method-assign]
    work_dir = Path(sys.argv[1]).parent / "demo"
    original = DemoConfig
    cli_module = sys.modules["amf1.demo.run"]
    cli_module.DemoConfig = lambda **kwargs: original(work_dir=work_dir, **kwargs)  # type: ignore[attr-defined]
    return int(cli._run(argparse.Namespace(exit=True, quick=True)))


if __name__ == "__main__":
    sys.exit(main())
