"""A loopback TCP JSON-lines receiver for benchmarks, standing in for the log pipeline.

    python -m bench.sink [--expect N] [--port P]

Runs as its own process, so reading the shipped stream costs the process under measurement
nothing. It binds 127.0.0.1 (a free port unless `--port`), prints `{"port": N}` on its first
line, `{"done": true}` once `--expect` lines arrived (N=0: never), and when its stdin closes
`{"lines": n, "bytes": m}`, then exits. `Sink` drives it from a benchmark that waits for the
last event; `bench.serving.sink_process` from one that only wants the counts.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import subprocess
import sys
import threading
import time
from types import TracebackType


class Sink:
    """Starts `python -m bench.sink` and waits for its `done` line."""

    def __init__(self, expect: int = 0, port: int = 0) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.sink", "--expect", str(expect), "--port", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        self.port: int = json.loads(self._process.stdout.readline())["port"]

    def wait_done(self, timeout_s: float) -> float:
        """perf_counter() when the sink reported every expected line; raises on timeout."""
        stdout = self._process.stdout
        assert stdout is not None
        readable, _, _ = select.select([stdout], [], [], timeout_s)
        if not readable or not json.loads(stdout.readline() or "{}").get("done"):
            raise SystemExit(f"sink did not receive every event within {timeout_s} s")
        return time.perf_counter()

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class _Counter:
    """Lines and bytes over every connection; reports `done` once `expect` lines arrived."""

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.lines = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            before = self.lines
            self.lines += chunk.count(b"\n")
            self.bytes += len(chunk)
            if before < self.expect <= self.lines:
                _print({"done": True})

    def totals(self) -> dict[str, object]:
        with self._lock:
            return {"lines": self.lines, "bytes": self.bytes}


def _print(document: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


def _serve(conn: socket.socket, counter: _Counter) -> None:
    with conn:
        while chunk := conn.recv(1 << 20):
            counter.add(chunk)


def main() -> None:
    """Accept connections until stdin closes; count lines and bytes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = socket.create_server(("127.0.0.1", args.port))
    _print({"port": server.getsockname()[1]})
    counter = _Counter(args.expect)

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=_serve, args=(conn, counter), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()  # until the benchmark closes our stdin
    _print(counter.totals())


if __name__ == "__main__":
    main()
