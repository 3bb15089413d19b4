"""The request thread's durable hand-off to the shipper: memory-mapped, append-only segments.

python-logstash-async hands events from the logging call to its worker thread through an
in-memory queue, so a SIGKILL loses whatever the worker had not written to SQLite yet, and writing
SQLite on the request thread costs far more than our per-event budget. Here the request thread
copies the rendered line into a shared memory mapping of a file instead: no system call, and the
bytes are in the kernel's page cache the moment the copy ends, so they survive a SIGKILL of the
process (not a power cut; neither does SQLite with synchronous=NORMAL). The worker thread moves
them into SQLite in batches and deletes a segment once all of it is committed there.

A record is one rendered JSON line, ending in b"\\n", exactly as the receiver gets it: with a
healthy receiver the worker sends the new bytes of a segment as they are. JSON rendered by orjson
contains neither a raw newline nor a NUL inside, and a segment file is created zero-filled, so its
content ends at the first NUL and a record cut by the kill has no final newline and is ignored
(its logging call had not returned). An event's level, which decides what the SQLite buffer drops
first when full, is read from its `log.level` field only when events are buffered.
"""

from __future__ import annotations

import mmap
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# `log.level` as every renderer of this package writes it (orjson, no spaces), and its values.
_LEVEL_FIELD: Final = b'"log.level":"'
_LEVEL_NOS: Final = {b"debug": 10, b"info": 20, b"warning": 30, b"error": 40, b"critical": 50}
_UNIFORM_INFO: Final = _LEVEL_FIELD + b'info"'


def segment_path(stem: Path, seq: int) -> Path:
    """The file of segment `seq` of the journal named `stem`."""
    return stem.with_name(f"{stem.name}.journal.{seq:08d}")


def existing_segments(stem: Path) -> list[tuple[int, Path]]:
    """The journal segment files of `stem` on disk, oldest first."""
    pattern = re.compile(re.escape(stem.name) + r"\.journal\.(\d{8})")
    found = []
    for path in stem.parent.glob(f"{stem.name}.journal.*"):
        match = pattern.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def group_by_level(data: bytes) -> dict[int, tuple[bytes, int]]:
    """Splits complete JSON lines into {level_no: (newline-terminated lines, count)} by their
    `log.level` (info when it is missing or unknown), keeping the order within each level.

    The common case (every line at info) is one count in C; mixed levels split line by line.
    """
    if not data:
        return {}
    count = data.count(b"\n")
    if data.count(_UNIFORM_INFO) == count:
        return {20: (data, count)}
    grouped: dict[int, list[bytes]] = {}
    for line in data.splitlines(keepends=True):
        grouped.setdefault(line_level(line), []).append(line)
    return {level: (b"".join(lines), len(lines)) for level, lines in grouped.items()}


def line_level(line: bytes) -> int:
    """The stdlib level number of one rendered line's first `log.level` (top-level fields come
    first in our lines), or INFO (20) when it has none we know."""
    start = line.find(_LEVEL_FIELD)
    if start == -1:
        return 20
    start += len(_LEVEL_FIELD)
    return _LEVEL_NOS.get(line[start : line.find(b'"', start)], 20)


def read_segment_file(path: Path, offset: int = 0) -> bytes:
    """The complete records of a segment file on disk from `offset` (up to its last newline)."""
    data = path.read_bytes()
    nul = data.find(b"\x00", offset)
    content = data[offset : nul if nul != -1 else len(data)]
    return content[: content.rfind(b"\n") + 1]


@dataclass
class _Segment:
    seq: int
    fd: int
    map: mmap.mmap
    size: int
    end: int = 0  # bytes written so far


class Journal:
    """Writer side used by logging threads, reader side used by the one shipper thread."""

    def __init__(self, stem: Path, *, first_seq: int, segment_bytes: int, max_bytes: int) -> None:
        self.stem = stem
        self.first_seq = first_seq
        self._segment_bytes = segment_bytes
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._segments: dict[int, _Segment] = {}
        self._current = self._open_segment(first_seq, segment_bytes)
        self.dropped = 0  # records refused because the reader fell too far behind
        self._closed = False

    def _open_segment(self, seq: int, size: int) -> _Segment:
        fd = os.open(segment_path(self.stem, seq), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # Blocks reserved now: a full disk fails here (counted as dropped), not as a SIGBUS
            # on a later write into the mapping. Reads as zeros: content ends at the first NUL.
            os.posix_fallocate(fd, 0, size)
            segment = _Segment(seq, fd, mmap.mmap(fd, size), size)
        except OSError:
            os.close(fd)
            raise
        self._segments[seq] = segment
        return segment

    def append(self, line: bytes) -> None:
        """Copies one rendered, newline-terminated line into the journal; never blocks on I/O,
        never raises OSError.

        If the shipper thread stopped consuming (it died), refuses the record once `max_bytes`
        are pending and counts it in `dropped`; the line was still written to stdout.
        """
        size = len(line)
        with self._lock:
            if self._closed:  # after shutdown only stdout gets the line
                return
            segment = self._current
            end = segment.end + size
            if end > segment.size:
                rotated = self._rotate(size)
                if rotated is None:
                    self.dropped += 1
                    return
                segment = rotated
                end = size
            segment.map[segment.end : end] = line
            segment.end = end

    def _rotate(self, needed: int) -> _Segment | None:
        if len(self._segments) * self._segment_bytes >= self._max_bytes:
            return None
        try:
            self._current = self._open_segment(
                self._current.seq + 1, max(self._segment_bytes, needed)
            )
        except OSError:  # disk full or similar: stdout still has the line
            return None
        return self._current

    def read(self, seq: int, offset: int) -> tuple[bytes, int, bool]:
        """Reader: (new bytes of segment `seq` from `offset`, their end, whether `seq` is sealed).

        A sealed segment gets no more writes; once its bytes are committed, `release` it.
        """
        with self._lock:
            segment = self._segments.get(seq)
            if segment is None:
                return b"", offset, True
            end = segment.end
            sealed = segment is not self._current
        return segment.map[offset:end], end, sealed

    def next_seq(self, seq: int) -> int | None:
        """Reader: the segment after `seq`, if one exists."""
        with self._lock:
            later = [s for s in self._segments if s > seq]
        return min(later) if later else None

    def release(self, seq: int) -> None:
        """Reader: closes and deletes a sealed segment whose records are committed elsewhere."""
        with self._lock:
            segment = self._segments.pop(seq, None)
        if segment is not None:
            self._close_segment(segment, delete=True)

    def _close_segment(self, segment: _Segment, *, delete: bool) -> None:
        segment.map.close()
        os.close(segment.fd)
        if delete:
            segment_path(self.stem, segment.seq).unlink(missing_ok=True)

    def seal(self) -> None:
        """Stops accepting records (shutdown); the reader can still read what is there."""
        with self._lock:
            self._closed = True

    def pending(self, seq: int, offset: int) -> bool:
        """Whether records exist beyond the reader position (seq, offset)."""
        with self._lock:
            return any(
                s > seq or (s == seq and seg.end > offset) for s, seg in self._segments.items()
            )

    def close(self) -> None:
        """Unmaps every segment; the files stay, the next start-up recovers what they hold."""
        with self._lock:
            self._closed = True
            segments = list(self._segments.values())
            self._segments.clear()
        for segment in segments:
            self._close_segment(segment, delete=False)

    def abandon(self) -> None:
        """After fork, in the child: drop the parent's mappings without touching its files."""
        self._closed = True
        self._segments = {}
