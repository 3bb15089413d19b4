"""Worker status files: what each live worker serves, `<state folder>/<host>-<pid>.json`.

Each worker rewrites its own file `<host>-<pid>.json` every poll (the heartbeat). A file whose
heartbeat is older than `stale_after_s` belongs to a worker that died without cleaning up: it is
ignored and removed. Heartbeats are wall-clock times, so replicas on several hosts need their
clocks in sync (NTP) to well within `stale_after_s`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from service.registry import ModelStatus
from service.workers.files import read_json, write_json_atomic

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class ModelState(BaseModel):
    """What one worker serves for one model."""

    model_config = ConfigDict(frozen=True)

    loaded: bool
    version: str | None = None
    sha256: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, status: ModelStatus) -> ModelState:
        """The state of a registry status."""
        if status.model is not None:
            meta = status.model.metadata
            # A failed reload beside a serving model: say so, the version still tells the truth.
            failure = f"reload failed: {status.error.reason}" if status.error else None
            return cls(loaded=True, version=meta.version, sha256=meta.model_sha256, error=failure)
        reason = status.error.reason if status.error else "not loaded"
        detail = f"{reason}: {status.error.detail}" if status.error else reason
        return cls(loaded=False, error=detail)

    def label(self) -> str:
        """The version, or why nothing is served (`not loaded (corrupt_file: ...)`)."""
        return self.version if self.version is not None else f"not loaded ({self.error})"


class WorkerStatus(BaseModel):
    """One worker's published status."""

    model_config = ConfigDict(frozen=True)

    id: str
    generation: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    models: dict[str, ModelState]


def file_name(worker_id: str) -> str:
    """The status file of `worker_id` (`host:pid` -> `host-pid.json`, unsafe characters `_`)."""
    return _UNSAFE.sub("_", worker_id.replace(":", "-")) + ".json"


class StatusBoard:
    """The status files of every worker sharing one state folder."""

    def __init__(
        self,
        state_folder: Path,
        stale_after_s: float,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.folder = state_folder
        self.stale_after_s = stale_after_s
        self._clock = clock

    def publish(
        self,
        worker_id: str,
        generation: int,
        started_at: dt.datetime,
        models: Mapping[str, ModelStatus],
    ) -> WorkerStatus:
        """Write this worker's status with a fresh heartbeat; returns what was written.

        Raises:
            OSError: the folder or file cannot be written.
        """
        status = WorkerStatus(
            id=worker_id,
            generation=generation,
            started_at=started_at,
            heartbeat_at=self._clock(),
            models={name: ModelState.of(model) for name, model in models.items()},
        )
        write_json_atomic(self.folder / file_name(worker_id), status.model_dump(mode="json"))
        return status

    def live(self) -> list[WorkerStatus]:
        """Every worker with a recent heartbeat, by id; stale and unreadable files are removed."""
        now = self._clock()
        found: list[WorkerStatus] = []
        for path in sorted(self.folder.glob("*.json")):
            status = _parse(path)
            age_s = (now - status.heartbeat_at).total_seconds() if status else None
            if status is None or age_s is None or age_s > self.stale_after_s:
                # A worker rewriting its file just now loses it until its next heartbeat: one
                # poll later it is back, which is the cost of not locking every heartbeat.
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            found.append(status)
        return sorted(found, key=lambda status: status.id)

    def remove(self, worker_id: str) -> None:
        """Delete this worker's file (clean shutdown); absent is fine."""
        with contextlib.suppress(FileNotFoundError):
            (self.folder / file_name(worker_id)).unlink()


def _parse(path: Path) -> WorkerStatus | None:
    document = read_json(path)
    if document is None:
        return None
    try:
        return WorkerStatus.model_validate(document)
    except ValidationError:
        return None


def differences(workers: Sequence[WorkerStatus]) -> list[str]:
    """One sentence per model that the live workers do not serve alike, e.g.
    `stage1-qualifying: 20260630.1-ab12cd34 on h:1, h:2; not loaded (corrupt_file: ...) on h:3`."""
    names = sorted({name for worker in workers for name in worker.models})
    found: list[str] = []
    for name in names:
        by_label: dict[str, list[str]] = {}
        for worker in workers:
            state = worker.models.get(name)
            label = state.label() if state is not None else "unknown to this worker"
            by_label.setdefault(label, []).append(worker.id)
        if len(by_label) > 1:
            parts = [f"{label} on {', '.join(ids)}" for label, ids in sorted(by_label.items())]
            found.append(f"{name}: {'; '.join(parts)}")
    return found
