"""A real TCP JSON-lines receiver for tests and benchmarks: start, stop, restart on one port."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

import orjson


class LineReceiver:
    """Accepts connections on 127.0.0.1 and keeps every complete line it reads.

    `resets` connections are reset (RST) as soon as they are accepted, without reading: a
    receiver that crashes with the sender's data in flight.
    """

    def __init__(self, port: int = 0, *, resets: int = 0) -> None:
        self.port = port
        self.resets = resets
        self.lines: list[bytes] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._running = False

    def start(self) -> LineReceiver:
        """Listens (again) on the same port."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.1)
        self.port = server.getsockname()[1]
        self._server = server
        self._running = True
        thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept(self, server: socket.socket) -> None:
        while self._running:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.resets > 0:
                self.resets -= 1
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                continue
            conn.settimeout(0.1)
            with self._lock:
                self._conns.append(conn)
            thread = threading.Thread(target=self._read, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read(self, conn: socket.socket) -> None:
        pending = b""
        while True:
            try:
                chunk = conn.recv(1 << 20)
            except TimeoutError:
                if not self._running:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            with self._lock:
                self.lines.extend(complete)
        with contextlib.suppress(OSError):
            conn.close()

    def stop(self) -> None:
        """Stops listening and closes every connection after reading what already arrived."""
        self._running = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.close()
            self._conns.clear()

    def events(self) -> list[dict[str, object]]:
        """Every received line parsed as JSON (a line that is not JSON fails the test)."""
        with self._lock:
            return [orjson.loads(line) for line in self.lines]

    def wait_for(
        self, predicate: Callable[[list[dict[str, object]]], bool], timeout: float
    ) -> bool:
        """Polls until `predicate(events)` holds or `timeout` seconds passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events()):
                return True
            time.sleep(0.02)
        return predicate(self.events())
