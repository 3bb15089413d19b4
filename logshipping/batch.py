"""Info events emitted on an event loop are processed and written in small batches.

An access event processed and rendered on its own, between two requests, costs about three times
what it costs among other events: by the next request, the processors' and renderer's code and
data have left the CPU's caches (docs/logging.md, Speed). So on a thread that runs an asyncio
event loop, `logshipping`'s fast path hands an info or debug event to the thread's batch here,
with the moment it was emitted (its time and its context, in which its processors run), and the
loop processes and writes the batch `AMF1_LOG_RENDER_DELAY_MS` later, or at once when
`MAX_EVENTS` are waiting.

Whatever the thread writes at once (a warning or error, an event emitted with no loop running,
a standard-library record) writes its waiting batch first, so a thread's lines keep their order.
A batch left behind by a loop that stopped is written by the thread's next event, and
`flush_all` runs at shutdown and exit: nothing is lost but on a crash (SIGKILL), which loses at
most the last few milliseconds of info events (warnings and errors are never held back). A
forked child forgets its parent's batches (the parent writes them).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any, Final

# A batch this long is written at once, whatever the delay (a burst holds back little).
MAX_EVENTS: Final = 16

Write = Callable[[str, Any], None]
"""Processes and writes one held-back event: `write(method_name, event)`, in its context."""


class _Batch:
    """One thread's held-back events and the loop that will write them."""

    __slots__ = ("events", "lock", "loop")

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, contextvars.Context]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        # Held for a swap or an append only: `flush_all` may run on another thread. Re-entrant:
        # a signal handler's shutdown may interrupt an append on the main thread.
        self.lock = threading.RLock()


class LoopBatches:
    """The batches of every thread that emits on an event loop; `write` processes and writes."""

    def __init__(self, write: Write, delay_s: float) -> None:
        self._write = write
        self._delay_s = delay_s
        self._local = threading.local()
        self._batches: list[_Batch] = []
        self._batches_lock = threading.RLock()

    def add(self, method_name: str, event: Any) -> bool:
        """Hold `event` back, with the current context, for this thread's loop; False (and the
        thread's batch written) when this thread runs no event loop: the caller writes it now."""
        loop = asyncio._get_running_loop()  # None where no loop runs (no exception to catch)
        if loop is None:
            self.flush_thread()
            return False
        batch = self._batch()
        if batch.events and batch.loop is not loop:  # held for a loop that has stopped since
            self._flush(batch)
        with batch.lock:
            batch.events.append((method_name, event, contextvars.copy_context()))
            waiting = len(batch.events)
        if waiting == 1:
            batch.loop = loop
            loop.call_later(self._delay_s, self._flush, batch)
        elif waiting >= MAX_EVENTS:
            self._flush(batch)
        return True

    def flush_thread(self) -> None:
        """Write this thread's batch (before the thread writes a line at once)."""
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is not None and batch.events:
            self._flush(batch)

    def flush_all(self) -> None:
        """Write every thread's batch (shutdown, exit)."""
        with self._batches_lock:
            batches = list(self._batches)
        for batch in batches:
            self._flush(batch)

    def forget(self) -> None:
        """In a forked child: drop the parent's held-back events (the parent writes them), and
        its locks, which another of its threads may have held at the fork."""
        self._batches_lock = threading.RLock()
        for batch in self._batches:
            batch.events = []
            batch.loop = None
            batch.lock = threading.RLock()

    def _batch(self) -> _Batch:
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is None:
            batch = self._local.batch = _Batch()
            with self._batches_lock:
                self._batches.append(batch)
        return batch

    def _flush(self, batch: _Batch) -> None:
        with batch.lock:
            events, batch.events = batch.events, []
        write = self._write
        for method_name, event, context in events:
            context.run(write, method_name, event)
