"""Worker status files: published atomically, stale ones ignored and removed, differences named."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from service.registry import ModelRegistry
from service.workers.files import ensure_folder
from service.workers.status import ModelState, StatusBoard, WorkerStatus, differences, file_name

NOW = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def _board(tmp_path: Path, now: dt.datetime = NOW) -> StatusBoard:
    ensure_folder(tmp_path / ".workers")
    return StatusBoard(tmp_path / ".workers", stale_after_s=5.0, clock=lambda: now)


def _worker(worker_id: str, version: str | None, generation: int = 1) -> WorkerStatus:
    state = ModelState(loaded=version is not None, version=version, error=None if version else "x")
    return WorkerStatus(
        id=worker_id,
        generation=generation,
        started_at=NOW,
        heartbeat_at=NOW,
        models={"stage1-qualifying": state},
    )


def test_published_status_is_a_0600_file_named_after_host_and_pid(
    tmp_path: Path, loaded_registry: ModelRegistry
) -> None:
    """`host:pid` publishes `host-pid.json` (0600) with each model's version."""
    board = _board(tmp_path)
    board.publish("web-1:4242", 3, NOW, loaded_registry.statuses())
    path = tmp_path / ".workers" / "web-1-4242.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [status] = board.live()
    assert (status.id, status.generation) == ("web-1:4242", 3)
    versions = {name: state.version for name, state in status.models.items()}
    assert versions == {
        n: s.model.version for n, s in loaded_registry.statuses().items() if s.model
    }


def test_stale_heartbeat_is_ignored_and_its_file_removed(
    tmp_path: Path, loaded_registry: ModelRegistry
) -> None:
    """A worker silent for longer than `stale_after_s` is gone: not listed, file deleted."""
    old = _board(tmp_path, NOW - dt.timedelta(seconds=6))
    old.publish("dead:1", 1, NOW, loaded_registry.statuses())
    _board(tmp_path, NOW - dt.timedelta(seconds=4)).publish("slow:2", 1, NOW, {})
    assert [w.id for w in _board(tmp_path).live()] == ["slow:2"]
    assert not (tmp_path / ".workers" / "dead-1.json").exists()


def test_unreadable_status_file_is_removed(tmp_path: Path) -> None:
    """A file that is not a worker status is dropped rather than trusted."""
    board = _board(tmp_path)
    (tmp_path / ".workers" / "junk.json").write_text('{"id": 1}')
    assert board.live() == []
    assert not (tmp_path / ".workers" / "junk.json").exists()


def test_remove_deletes_only_this_workers_file(
    tmp_path: Path, loaded_registry: ModelRegistry
) -> None:
    """Clean shutdown removes the worker's own file and leaves the others."""
    board = _board(tmp_path)
    board.publish("a:1", 1, NOW, loaded_registry.statuses())
    board.publish("b:2", 1, NOW, loaded_registry.statuses())
    board.remove("a:1")
    board.remove("a:1")  # twice is fine
    assert [w.id for w in board.live()] == ["b:2"]


def test_unsafe_host_characters_do_not_escape_the_folder() -> None:
    """A host name with a slash still names a file inside the state folder."""
    assert file_name("../etc/x:9") == ".._etc_x-9.json"


def test_differences_name_each_version_and_its_workers() -> None:
    """Workers serving different versions are listed per model; agreeing workers give none."""
    same = [_worker("a:1", "v1"), _worker("b:2", "v1")]
    assert differences(same) == []
    mixed = [*same, _worker("c:3", None)]
    assert differences(mixed) == [
        "stage1-qualifying: not loaded (x) on c:3; v1 on a:1, b:2",
    ]
