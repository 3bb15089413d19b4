"""An inter-process lock file, so two `stack up` at once never corrupt the cache or runtime."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class LockTimeoutError(TimeoutError):
    """Another process held the lock for longer than we were willing to wait."""


@contextmanager
def file_lock(
    path: Path, timeout_s: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` for the duration of the block.

    Waits up to `timeout_s` (polling), telling `on_wait` once that someone else holds it. The
    kernel drops the lock when the holder dies, so a crashed build never leaves it stuck.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout_s
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    message = f"{path} is still locked after {timeout_s:.0f} s"
                    raise LockTimeoutError(message) from None
                if on_wait is not None and not told:
                    on_wait(f"waiting for {path.name} (another amf1 process holds it)")
                    told = True
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
