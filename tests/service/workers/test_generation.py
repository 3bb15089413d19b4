"""The reload generation file: counting, cheap change detection, and a deleted file."""

from __future__ import annotations

from pathlib import Path

from service.workers.files import ensure_folder
from service.workers.generation import GenerationFile


def _file(tmp_path: Path) -> GenerationFile:
    ensure_folder(tmp_path / ".workers")
    return GenerationFile(tmp_path / ".workers")


def test_no_file_is_generation_zero(tmp_path: Path) -> None:
    """Before any announced reload the generation is 0."""
    assert _file(tmp_path).read() == 0


def test_announcing_counts_up_from_the_file_or_the_callers_generation(tmp_path: Path) -> None:
    """The next generation is one past the file's, or past the caller's when the file is
    behind (it was deleted)."""
    generation = _file(tmp_path)
    with generation.locked():
        assert generation.next_after(0) == 1
        generation.write(1, "h:1")
    assert generation.read() == 1
    with generation.locked():
        assert generation.next_after(7) == 8


def test_changed_only_when_the_file_was_replaced(tmp_path: Path) -> None:
    """Polling an unchanged file reports no change; every write (same value too) is seen."""
    generation = _file(tmp_path)
    assert not generation.changed()  # absent, as it was: nothing announced
    generation.write(1, "h:1")
    assert generation.changed()
    assert not generation.changed()
    generation.write(1, "h:2")
    assert generation.changed()


def test_a_garbage_file_reads_as_zero(tmp_path: Path) -> None:
    """A file that is not a generation document counts as no reload announced."""
    generation = _file(tmp_path)
    generation.path.write_text('{"generation": -3}')
    assert generation.read() == 0
