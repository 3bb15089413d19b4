"""The file primitives of the worker state folder: private folder, atomic JSON, a shared lock.

Readers in other processes never see a half-written file: every write goes to a temporary file
in the same folder and replaces the target with `os.replace` (atomic on POSIX file systems,
NFS included). No fsync: the files describe running processes, which a power loss ends too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FOLDER_MODE = 0o700
FILE_MODE = 0o600
TEMP_PREFIX = ".tmp-"


def ensure_folder(path: Path) -> None:
    """Create `path` (and its parents) if needed and make it private to this user.

    Raises:
        OSError: the folder cannot be created or its mode cannot be set.
    """
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    # mkdir's mode passes through the umask and leaves an existing folder as it was.
    if path.stat().st_mode & 0o777 != FOLDER_MODE:
        path.chmod(FOLDER_MODE)


def write_json_atomic(path: Path, document: Any) -> None:
    """Write `document` as JSON to `path` (mode 0600), all or nothing.

    Raises:
        OSError: the folder is not writable or the disk is full; `path` keeps its old content.
    """
    descriptor, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        # mkstemp already creates 0600; say so explicitly rather than rely on it.
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(document, out, separators=(",", ":"))
        Path(temporary).replace(path)  # os.replace
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


def read_json(path: Path) -> Any:
    """The JSON document at `path`, or None when it is absent, unreadable or not valid JSON."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created 0600) for the block: one holder among every
    process of every replica that shares the folder.

    Raises:
        OSError: the lock file cannot be opened.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
