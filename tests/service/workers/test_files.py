"""The state folder's file primitives: private modes, all-or-nothing writes, a shared lock."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from service.workers.files import ensure_folder, exclusive_lock, read_json, write_json_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folder_is_created_0700_and_tightened_when_it_exists(tmp_path: Path) -> None:
    """A new folder is 0700; an existing wider one is made 0700."""
    fresh = tmp_path / "a" / ".workers"
    ensure_folder(fresh)
    assert _mode(fresh) == 0o700
    wide = tmp_path / "wide"
    wide.mkdir(mode=0o755)
    ensure_folder(wide)
    assert _mode(wide) == 0o700


def test_written_file_is_0600_with_the_document(tmp_path: Path) -> None:
    """The file holds the JSON document, readable by its owner only."""
    target = tmp_path / "w.json"
    write_json_atomic(target, {"generation": 3})
    assert json.loads(target.read_text()) == {"generation": 3}
    assert _mode(target) == 0o600


def test_failed_write_keeps_the_old_content_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """A document that cannot be serialised changes nothing: readers see the old file."""
    target = tmp_path / "w.json"
    write_json_atomic(target, {"generation": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"generation": object()})
    assert read_json(target) == {"generation": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json"]


def test_readers_never_see_a_partial_file(tmp_path: Path) -> None:
    """While one thread rewrites a large document, every read parses completely."""
    target = tmp_path / "w.json"
    big: dict[str, Any] = {"pad": "x" * 200_000, "n": 0}
    write_json_atomic(target, big)
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            write_json_atomic(target, big | {"n": n})

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 1.0
        reads = 0
        while time.monotonic() < deadline:
            assert read_json(target) is not None
            reads += 1
    finally:
        stop.set()
        thread.join(timeout=10)
    assert reads > 10


def test_absent_or_invalid_file_reads_as_none(tmp_path: Path) -> None:
    """Missing and garbage files are not errors: they read as None."""
    assert read_json(tmp_path / "nope.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert read_json(tmp_path / "bad.json") is None


def test_lock_is_exclusive_between_holders(tmp_path: Path) -> None:
    """A second holder waits until the first releases the lock."""
    lock = tmp_path / "reload.lock"
    order: list[str] = []
    with exclusive_lock(lock):
        thread = threading.Thread(target=lambda: _take(lock, order))
        thread.start()
        time.sleep(0.2)
        order.append("first released")
    thread.join(timeout=10)
    assert order == ["first released", "second held"]
    assert _mode(lock) == 0o600


def _take(lock: Path, order: list[str]) -> None:
    with exclusive_lock(lock):
        order.append("second held")
