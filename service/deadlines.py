"""Deadlines checked by one timer per event loop instead of a timer each.

Every request of `amf1 serve` has two deadlines: its headers (`service.protocol`) and its body
(`BodyLimitMiddleware`). With asyncio's own tools, `loop.call_later` and `asyncio.timeout`, each
is a timer handle pushed on the loop's heap, cancelled, and cleaned out later: ~28,000
instructions a request for the body's alone (`bench.request_cost`'s method), 3 % of a whole
prediction, for a deadline that almost never fires. Here arming is one dict entry and disarming
its removal; one timer of the loop runs every `RESOLUTION_S` while entries exist and calls the
expiry of those past their time. A deadline therefore fires up to `RESOLUTION_S` late.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable

RESOLUTION_S = 0.25
"""How late a deadline may fire: the interval of the sweeping timer."""


class Deadlines:
    """The deadlines of one event loop (`for_loop`); use from that loop's thread only."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._entries: dict[Hashable, tuple[float, Callable[[], object]]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, key: Hashable, seconds: float, expire: Callable[[], object]) -> None:
        """Call `expire()` once `seconds` have passed, unless `disarm(key)` comes first; `key`
        armed already keeps its deadline."""
        if key not in self._entries:
            self._entries[key] = (self.loop.time() + seconds, expire)
        if self._timer is None:
            self._timer = self.loop.call_later(RESOLUTION_S, self._sweep)

    @property
    def sweeping(self) -> bool:
        """Whether the sweeping timer is scheduled (only while a deadline is armed)."""
        return self._timer is not None

    def disarm(self, key: Hashable) -> None:
        """Forget `key`'s deadline (nothing if it has none)."""
        self._entries.pop(key, None)

    def _sweep(self) -> None:
        now = self.loop.time()
        due = [key for key, (at, _) in self._entries.items() if at <= now]
        for key in due:
            entry = self._entries.pop(key, None)  # an earlier expiry may have disarmed it
            if entry is not None:
                entry[1]()
        self._timer = self.loop.call_later(RESOLUTION_S, self._sweep) if self._entries else None


_local = threading.local()


def for_loop(loop: asyncio.AbstractEventLoop) -> Deadlines:
    """The deadlines of `loop` (one event loop runs per thread at a time)."""
    deadlines: Deadlines | None = getattr(_local, "deadlines", None)
    if deadlines is None or deadlines.loop is not loop:
        deadlines = _local.deadlines = Deadlines(loop)
    return deadlines


class BodyDeadline:
    """`with BodyDeadline(seconds):` in a task raises TimeoutError when the block outlives
    `seconds` (plus up to `RESOLUTION_S`), like `async with asyncio.timeout(seconds)`, by
    cancelling the task; a cancellation from elsewhere still propagates as one. (A plain `with`:
    no coroutine to make on entry and exit.)"""

    __slots__ = ("_cancelling", "_deadlines", "_expired", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._expired = False

    def __enter__(self) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("BodyDeadline must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._deadlines = for_loop(asyncio.get_running_loop())
        self._deadlines.arm(self, self._seconds, self._expire)

    def _expire(self) -> None:
        self._expired = True
        self._task.cancel()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._deadlines.disarm(self)
        if (
            self._expired
            and kind is asyncio.CancelledError
            and self._task.uncancel() <= self._cancelling
        ):
            raise TimeoutError
