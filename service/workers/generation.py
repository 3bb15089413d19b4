"""The reload generation: a counter in `<state folder>/reload-generation` that every worker watches.

The worker that reloads on request announces the next generation (under a lock shared by every
process, so two concurrent reloads get two generations); every other worker sees the file change
and reloads.
Watching is cheap: a `stat` per poll, and a read only when the file was replaced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.workers.files import exclusive_lock, read_json, write_json_atomic

# No `.json` suffix: the worker status files next to it are `*.json`.
GENERATION_FILE = "reload-generation"
LOCK_FILE = "reload.lock"


class GenerationFile:
    """The generation counter of one state folder (which must exist)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / GENERATION_FILE
        self._lock_path = folder / LOCK_FILE
        self._seen: tuple[int, int, int] | None = None

    def read(self) -> int:
        """The current generation; 0 when no reload was ever announced (or the file is bad)."""
        document = read_json(self.path)
        value = document.get("generation") if isinstance(document, dict) else None
        return value if isinstance(value, int) and value >= 0 else 0

    def changed(self) -> bool:
        """Whether the file was replaced (or appeared, or vanished) since the last call."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            signature = None
        else:
            # `os.replace` gives every write a new inode, so this changes even within one
            # mtime tick.
            signature = (info.st_ino, info.st_mtime_ns, info.st_size)
        if signature == self._seen:
            return False
        self._seen = signature
        return True

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise reload-and-announce among every worker and replica sharing the folder."""
        with exclusive_lock(self._lock_path):
            yield

    def next_after(self, own: int) -> int:
        """The generation to announce next: max(current, `own`) + 1; call inside `locked()`.

        `own` is the caller's generation: were the file deleted, counting from 0 again would
        announce a generation that the other workers already passed.
        """
        return max(self.read(), own) + 1

    def write(self, generation: int, worker_id: str) -> None:
        """Announce `generation` (written atomically); call inside `locked()`.

        Raises:
            OSError: the file cannot be written.
        """
        at = dt.datetime.now(dt.UTC).isoformat()
        write_json_atomic(self.path, {"generation": generation, "by": worker_id, "at": at})
