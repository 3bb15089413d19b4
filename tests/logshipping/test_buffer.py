"""The journal record format and the SQLite buffer's bookkeeping, without a network."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from logshipping.shipping.buffer import BatchDatabaseCache, split_chunk
from logshipping.shipping.journal import (
    Journal,
    group_by_level,
    line_level,
    read_segment_file,
    segment_path,
)


def _line(name: str, level: str = "info") -> bytes:
    return b'{"@timestamp":"t","log.level":"%s","m":"%s"}\n' % (level.encode(), name.encode())


def _lines(*names: str) -> bytes:
    return b"".join(_line(name) for name in names)


def test_lines_are_grouped_by_their_log_level_in_order() -> None:
    """Uniform batches stay one chunk; mixed batches keep the order within each level."""
    uniform = _lines("a", "b")
    assert group_by_level(uniform) == {20: (uniform, 2)}
    mixed = _line("a") + _line("b", "error") + _line("c") + _line("d", "warning")
    assert group_by_level(mixed) == {
        20: (_lines("a", "c"), 2),
        40: (_line("b", "error"), 1),
        30: (_line("d", "warning"), 1),
    }


def test_the_first_log_level_of_a_line_counts_and_unknown_levels_are_info() -> None:
    """A nested `log.level` further in the line does not move the event to another level."""
    nested = b'{"log.level":"debug","data":{"log.level":"critical"}}\n'
    assert line_level(nested) == 10
    assert line_level(b'{"message":"no level"}\n') == 20
    assert line_level(b'{"log.level":"verbose"}\n') == 20
    assert group_by_level(_line("a") + nested) == {20: (_line("a"), 1), 10: (nested, 1)}


def test_a_record_cut_by_a_kill_is_ignored_on_recovery(tmp_path: Path) -> None:
    """A segment's content ends at the first NUL and at its last complete line."""
    journal = Journal(tmp_path / "j", first_seq=0, segment_bytes=1 << 16, max_bytes=1 << 20)
    journal.append(_line("a"))
    journal.append(_line("b", "error"))
    journal.close()
    path = segment_path(tmp_path / "j", 0)
    data = path.read_bytes()
    end = data.index(b"\x00")
    path.write_bytes(data[:end] + b'{"log.level":"warning","m":"torn')
    assert group_by_level(read_segment_file(path)) == {
        20: (_line("a"), 1),
        40: (_line("b", "error"), 1),
    }


def test_journal_rotates_segments_and_refuses_beyond_its_bound(tmp_path: Path) -> None:
    """Full segments roll over; past max_bytes records are counted as dropped, never raised."""
    journal = Journal(tmp_path / "j", first_seq=0, segment_bytes=1 << 16, max_bytes=1 << 17)
    line = b'{"m":"' + b"x" * 1000 + b'"}\n'
    for _ in range(200):
        journal.append(line)
    assert journal.dropped > 0
    assert journal.next_seq(0) == 1
    journal.close()


def test_big_chunks_are_split_on_line_boundaries() -> None:
    """No stored row (and no TCP write from the buffer) exceeds about 1 MiB."""
    line = b'{"m":"' + b"x" * 999 + b'"}\n'
    pieces = split_chunk(line * 3000, 3000)
    assert len(pieces) == 3
    assert sum(count for _, count in pieces) == 3000
    assert all(piece.endswith(b"\n") and len(piece) <= 1 << 20 for piece, _ in pieces)


def test_size_bound_drops_lowest_levels_oldest_first_exactly(tmp_path: Path) -> None:
    """Over the bound, info goes before warning, oldest first, to the exact line."""
    buffer = BatchDatabaseCache(tmp_path / "b.sqlite3", max_events=5, max_age_s=60, batch_size=10)
    assert buffer.add_chunks({40: (_lines("w1", "w2"), 2), 20: (_lines("i1", "i2"), 2)}) == 0
    dropped = buffer.add_chunks({20: (_lines("i3", "i4", "i5"), 3)}, (0, 99))
    assert dropped == 2
    assert buffer.count == 5
    sent = b"".join(buffer.get_queued_events())
    assert sorted(sent.splitlines()) == sorted(_lines("w1", "w2", "i3", "i4", "i5").splitlines())
    assert buffer.journal_position() == (0, 99)
    buffer.delete_queued_events()
    assert buffer.count == 0
    buffer.close()


def test_adopting_another_buffer_moves_its_events(tmp_path: Path) -> None:
    """A dead process's buffer file is merged into ours, with its count."""
    other = BatchDatabaseCache(tmp_path / "o.sqlite3", max_events=99, max_age_s=60, batch_size=9)
    other.add_chunks({30: (_lines("a", "b"), 2)})
    other.close()
    ours = BatchDatabaseCache(tmp_path / "m.sqlite3", max_events=99, max_age_s=60, batch_size=9)
    assert ours.adopt(tmp_path / "o.sqlite3") == (2, 0)
    assert b"".join(ours.get_queued_events()) == _lines("a", "b")
    ours.close()


def test_byte_bound_drops_lowest_levels_oldest_first(tmp_path: Path) -> None:
    """Over the byte bound (under the count bound), info lines go first, oldest first, and
    every dropped line is counted."""
    big = b'{"m":"' + b"x" * 990 + b'"}\n'  # 999 bytes
    buffer = BatchDatabaseCache(
        tmp_path / "b.sqlite3", max_events=10_000, max_bytes=5000, max_age_s=60, batch_size=99
    )
    assert buffer.add_chunks({40: (big * 2, 2), 20: (big * 2, 2)}) == 0
    dropped = buffer.add_chunks({20: (big * 3, 3)})
    assert dropped == 2
    assert buffer.count == 5
    assert buffer.size_bytes == 5 * len(big) <= 5000
    levels = [row[0] for row in buffer._conn.execute("SELECT level FROM chunk ORDER BY chunk_id")]
    assert 40 in levels  # the warnings survived
    buffer.close()
    reopened = BatchDatabaseCache(tmp_path / "b.sqlite3", max_events=99, max_age_s=60, batch_size=9)
    assert (reopened.count, reopened.size_bytes) == (5, 5 * len(big))
    reopened.close()


def test_buffer_files_are_private(tmp_path: Path) -> None:
    """The database and its -wal/-shm files are 0600 whatever the umask."""
    previous = os.umask(0o022)
    try:
        path = tmp_path / "b.sqlite3"
        buffer = BatchDatabaseCache(path, max_events=9, max_age_s=60, batch_size=9)
        buffer.add_chunks({20: (_lines("a"), 1)})
        files = sorted(tmp_path.iterdir())
        assert {p.name for p in files} >= {"b.sqlite3", "b.sqlite3-wal", "b.sqlite3-shm"}
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {
            p.name: 0o600 for p in files
        }
        buffer.close()
    finally:
        os.umask(previous)
