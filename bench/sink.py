"""A loopback TCP JSON-lines sink in its own process (so its CPU does not count for the producer).

    python -m bench.sink --expect N

Prints its port on the first line, then `done` once N lines arrived (N=0: never); exits when its
stdin closes. `Sink` drives it from a benchmark.
"""

from __future__ import annotations

import argparse
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
        self.port = int(self._process.stdout.readline())

    def wait_done(self, timeout_s: float) -> float:
        """perf_counter() when the sink reported every expected line; raises on timeout."""
        stdout = self._process.stdout
        assert stdout is not None
        readable, _, _ = select.select([stdout], [], [], timeout_s)
        if not readable or stdout.readline().strip() != b"done":
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


def _serve(conn: socket.socket, counter: list[int], expect: int, lock: threading.Lock) -> None:
    with conn:
        while chunk := conn.recv(1 << 20):
            with lock:
                before = counter[0]
                counter[0] += chunk.count(b"\n")
                if before < expect <= counter[0]:
                    sys.stdout.write("done\n")
                    sys.stdout.flush()


def main() -> None:
    """Accept connections until stdin closes; count newlines."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = socket.create_server(("127.0.0.1", args.port))
    sys.stdout.write(f"{server.getsockname()[1]}\n")
    sys.stdout.flush()
    counter = [0]
    lock = threading.Lock()

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(
                target=_serve, args=(conn, counter, args.expect, lock), daemon=True
            ).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()  # until the benchmark closes our stdin


if __name__ == "__main__":
    main()
