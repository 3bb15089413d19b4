"""Per-process buffer files, their locks, and recovery of what a killed process left behind.

Every process owns `<dir>/amf1-logs-<pid>` files: `.sqlite3` (the buffer), `.journal.NNNNNNNN`
(segments) and `.lock`, which it holds with `flock` for its whole life. The kernel releases a
flock when its process dies, even by SIGKILL, so a lock that can be taken belongs to a dead
process: a starting process moves that process's events into its own buffer and deletes its
files. Pids are only a naming device; correctness rests on the locks (pids get reused, and in a
container the service is often pid 1 every time: then it simply recovers its own old files).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from logshipping.shipping.buffer import BatchDatabaseCache
from logshipping.shipping.journal import existing_segments, group_by_level, read_segment_file

STEM_PREFIX: Final = "amf1-logs-"
FOLDER_MODE: Final = 0o700


def private_folder(directory: Path) -> None:
    """Create the buffer directory 0700 (an existing one is made 0700): it holds log events."""
    directory.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o777 != FOLDER_MODE:
        directory.chmod(FOLDER_MODE)


def database_path(stem: Path) -> Path:
    """The SQLite buffer file of `stem`."""
    return stem.with_name(f"{stem.name}.sqlite3")


def lock_path(stem: Path) -> Path:
    """The lock file of `stem`."""
    return stem.with_name(f"{stem.name}.lock")


def acquire_own_lock(stem: Path) -> int:
    """Creates and flocks this process's lock file; returns its descriptor (keep it open).

    The lock is taken under a temporary name and then renamed into place, so another process
    scanning for orphans never sees an unlocked lock file of a live process.
    """
    private_folder(stem.parent)
    temporary = stem.with_name(f".{stem.name}.lock.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        temporary.rename(lock_path(stem))
    except OSError:
        os.close(fd)
        raise
    return fd


def orphans(directory: Path, own_stem: Path) -> Iterator[tuple[Path, int]]:
    """Yields (stem, locked descriptor) of every buffer whose owner is dead; caller closes fd."""
    for lock in sorted(directory.glob(f"{STEM_PREFIX}*.lock")):
        stem = lock.with_name(lock.name.removesuffix(".lock"))
        if stem == own_stem:
            continue
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            continue  # another process adopted it meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # its owner is alive
            continue
        yield stem, fd


def recover_journal(
    target: BatchDatabaseCache,
    stem: Path,
    position: tuple[int, int] | None,
    *,
    before_seq: int | None = None,
) -> int:
    """Moves the complete records of `stem`'s journal segments into `target`, deleting them.

    `position` is where that journal's own buffer had committed up to (earlier records are
    already in that buffer). Returns how many events the size bound dropped.
    """
    dropped = 0
    for seq, path in existing_segments(stem):
        if before_seq is not None and seq >= before_seq:
            break
        if position is not None and seq < position[0]:
            path.unlink(missing_ok=True)  # fully committed before the crash
            continue
        offset = position[1] if position is not None and seq == position[0] else 0
        data = read_segment_file(path, offset)
        dropped += target.add_chunks(group_by_level(data), (seq + 1, 0))
        path.unlink(missing_ok=True)
    return dropped


def _delete_buffer_files(stem: Path) -> None:
    db = database_path(stem)
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    for _, segment in existing_segments(stem):
        segment.unlink(missing_ok=True)


def adopt_orphan(target: BatchDatabaseCache, stem: Path, fd: int) -> tuple[int, int]:
    """Moves a dead process's buffered and journaled events into `target`; deletes its files.

    Returns (events moved, events dropped by the size bound). A crash half-way can only cause
    re-delivery of the same events (same `event.id`), never loss: files go after the commit.
    """
    try:
        moved = dropped = 0
        db_file = database_path(stem)
        if db_file.exists():
            orphan = BatchDatabaseCache(
                db_file, max_events=2**62, max_age_s=target.event_ttl, batch_size=1, create=False
            )
            try:
                recover_journal(orphan, stem, orphan.journal_position())
            finally:
                orphan.close()
            moved, dropped = target.adopt(db_file)
        else:  # killed before its shipper thread created the buffer
            before = target.count
            dropped = recover_journal(target, stem, None)
            moved = target.count - before + dropped
        _delete_buffer_files(stem)
        lock_path(stem).unlink(missing_ok=True)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return moved, dropped


def adopt_orphans_into(target: BatchDatabaseCache, own_stem: Path) -> int:
    """Adopts every dead process's buffer next to `own_stem`; returns events dropped by bounds."""
    dropped = 0
    for stem, fd in orphans(own_stem.parent, own_stem):
        dropped += adopt_orphan(target, stem, fd)[1]
    return dropped
