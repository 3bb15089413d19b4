"""`WorkerSync` between two workers over one models directory (in one process: ids set apart)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from structlog.testing import capture_logs

from service.metadata import METADATA_FILE
from service.model_store import model_directory
from service.registry import ModelRegistry
from service.workers.sync import WorkerSync


def _sync(models_dir: Path, worker_id: str, wait_s: float = 1.0) -> WorkerSync:
    sync = WorkerSync(ModelRegistry(models_dir), models_dir, poll_s=0.05, wait_s=wait_s)
    sync.worker_id = worker_id
    sync.load_initial()
    return sync


def _rename_version(models_dir: Path, name: str, version: str) -> None:
    path = model_directory(models_dir, name) / METADATA_FILE
    document = json.loads(path.read_text())
    path.write_text(json.dumps(document | {"version": version}))


def test_a_reload_is_followed_by_the_other_worker_and_logged(models_dir: Path) -> None:
    """Worker b sees a's announced generation, reloads the changed model, and its load events
    say it followed another worker's reload."""
    a, b = _sync(models_dir, "a:1"), _sync(models_dir, "b:2")
    _rename_version(models_dir, "stage1-qualifying", "v-next")
    _, generation = a.reload()
    assert generation == 1
    with capture_logs() as events:
        b.follow()
    assert b.generation == 1
    assert b.registry.get("stage1-qualifying").version == "v-next"
    loads = [e for e in events if e["event.action"] == "model-load-succeeded"]
    assert {(e["amf1.reload.generation"], e["amf1.reload.trigger"]) for e in loads} == {
        (1, "other-worker")
    }
    with capture_logs() as again:
        b.follow()  # nothing new announced: no second load
    assert again == []


def test_reload_waits_for_the_follower_then_reports_everyone(models_dir: Path) -> None:
    """The reloading worker answers once the other live worker reports the new generation."""
    a, b = _sync(models_dir, "a:1", wait_s=10.0), _sync(models_dir, "b:2")

    async def scenario() -> tuple[bool, list[str]]:
        async with b.running():
            outcome = await a.reload_everywhere()
        return not outcome.lagging, [w.id for w in outcome.workers]

    all_reloaded, workers = asyncio.run(asyncio.wait_for(scenario(), timeout=20))
    assert all_reloaded
    assert workers == ["a:1", "b:2"]
    assert not (models_dir / ".workers" / "b-2.json").exists(), "b removes its file on shutdown"


def test_a_worker_starting_after_a_reload_starts_at_its_generation(models_dir: Path) -> None:
    """A late worker loads what the last reload loaded and never counts as lagging."""
    a = _sync(models_dir, "a:1")
    a.reload()
    late = _sync(models_dir, "late:3")
    assert late.generation == a.generation == 1
    late.follow()
    assert late.generation == 1


def test_a_state_folder_that_cannot_be_written_still_reloads_here(models_dir: Path) -> None:
    """When `.workers` cannot be created, this worker still loads and reloads; the error is
    kept, and the reload is reported as not announced."""
    (models_dir / ".workers").write_text("not a folder")
    sync = _sync(models_dir, "a:1", wait_s=0.1)
    assert sync.registry.get("stage1-qualifying") is not None
    outcome = asyncio.run(sync.reload_everywhere())
    assert outcome.generation is None
    assert [w.id for w in outcome.workers] == ["a:1"]
    assert sync.last_error is not None
    assert ".workers" in sync.last_error
