"""`WorkerSync`: keeps this worker on the service's reload generation and publishes its status.

How a reload reaches every worker (and every replica sharing the models directory):

1. the worker that receives `POST /admin/models/reload` takes the state folder's lock, reloads,
   writes the next generation to the generation file, publishes its status, and waits (at most
   `wait_s`) until every live worker's status reports that generation or a later one;
2. every worker, every `poll_s`, rewrites its status file (the heartbeat) and stats the
   generation file; when the file was replaced with another generation it reloads and publishes
   again. A reload so reaches every worker within `poll_s` + the load time.

Problems with the state folder (read-only, disk full) never stop the service: the worker keeps
serving what it loaded, logs the problem once per distinct error, and `last_error` says it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi.concurrency import run_in_threadpool

from logshipping.events import Action, emit
from service.registry import ModelRegistry, ModelStatus
from service.workers.files import ensure_folder
from service.workers.generation import GenerationFile
from service.workers.status import ModelState, StatusBoard, WorkerStatus

STATE_FOLDER = ".workers"
# Heartbeats missed before a worker counts as gone: rides out a busy event loop, yet lets the
# files of crashed workers go within seconds.
STALE_AFTER_POLLS = 5
# How often the reloading worker re-reads the status files while it waits for the others.
_WAIT_STEP_S = 0.05
_ANNOUNCE_FAILED = "cannot announce the reload"

Trigger = Literal["start-up", "request", "other-worker"]


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What `reload_everywhere` did.

    `generation` is None when the reload could not be announced (the state folder is not
    writable): then only this worker reloaded and every other live worker is `lagging`.
    """

    statuses: Mapping[str, ModelStatus]
    generation: int | None
    workers: list[WorkerStatus]
    lagging: list[str]


class WorkerSync:
    """This worker's side of the reload generation and of the worker status files."""

    def __init__(
        self, registry: ModelRegistry, models_dir: Path, *, poll_s: float, wait_s: float
    ) -> None:
        self.registry = registry
        self.folder = models_dir / STATE_FOLDER
        self.poll_s = poll_s
        self.wait_s = wait_s
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.generation = 0
        self._errors: dict[str, str] = {}
        self._started_at = dt.datetime.now(dt.UTC)
        self._generation_file = GenerationFile(self.folder)
        self._board = StatusBoard(self.folder, stale_after_s=STALE_AFTER_POLLS * poll_s)
        # One reload at a time in this process (the request's or the poll's), and one status
        # write at a time, so a status file never goes back to an older state.
        self._reload_lock = threading.Lock()
        self._publish_lock = threading.Lock()

    @property
    def last_error(self) -> str | None:
        """What currently fails with the state folder, if anything."""
        return "; ".join(self._errors.values()) or None

    def load_initial(self) -> None:
        """Load the models at start-up (unless already loaded) at the current generation."""
        with self._reload_lock:
            self._watch_changed()  # a reload announced from now on is followed
            generation = self._generation_file.read()
            if not self.registry.attempted:
                self.registry.load_all(_fields(generation, "start-up"))
            self.generation = generation
        self.publish()

    def reload(self) -> tuple[Mapping[str, ModelStatus], int | None]:
        """Reload here and announce it; returns the statuses and the announced generation
        (None: not announced, see `ReloadOutcome`). Blocking: run it in a thread."""
        with self._reload_lock, contextlib.ExitStack() as announcing:
            announced: int | None = None
            try:
                ensure_folder(self.folder)
                announcing.enter_context(self._generation_file.locked())
                announced = self._generation_file.next_after(self.generation)
            except OSError as exc:
                self._failed(_ANNOUNCE_FAILED, exc)
            trigger_generation = self.generation if announced is None else announced
            statuses = self.registry.load_all(_fields(trigger_generation, "request"))
            if announced is not None:
                try:
                    self._generation_file.write(announced, self.worker_id)
                    self.generation = announced
                    self._errors.pop(_ANNOUNCE_FAILED, None)
                except OSError as exc:
                    self._failed(_ANNOUNCE_FAILED, exc)
                    announced = None
        self.publish()
        return statuses, announced

    async def reload_everywhere(self) -> ReloadOutcome:
        """Reload here, announce it, and wait up to `wait_s` for every live worker to follow."""
        statuses, target = await run_in_threadpool(self.reload)
        deadline = time.monotonic() + self.wait_s
        while True:
            workers = await run_in_threadpool(self.workers)
            if target is None:
                lagging = [w.id for w in workers if w.id != self.worker_id]
                return ReloadOutcome(statuses, None, workers, lagging)
            lagging = [w.id for w in workers if w.generation < target]
            if not lagging or time.monotonic() >= deadline:
                return ReloadOutcome(statuses, target, workers, lagging)
            await asyncio.sleep(_WAIT_STEP_S)

    def follow(self) -> None:
        """Reload when the generation file was replaced with another generation than ours."""
        if not self._watch_changed():
            return
        with self._reload_lock:
            announced = self._generation_file.read()
            # `!=`, not `>`: a deleted generation file counts from 0 again, and is followed too.
            if announced == self.generation:
                return
            self.registry.load_all(_fields(announced, "other-worker"))
            self.generation = announced
        self.publish()

    def publish(self) -> None:
        """Write this worker's status file (the heartbeat)."""
        with self._publish_lock:
            self._guard("cannot write the worker status", self._publish)

    def _publish(self) -> None:
        ensure_folder(self.folder)  # cheap, and recreates a folder someone deleted
        statuses = self.registry.statuses()
        self._board.publish(self.worker_id, self.generation, self._started_at, statuses)

    def workers(self) -> list[WorkerStatus]:
        """Every live worker's status; this worker's always, from memory when its file is
        missing (the state folder is not writable)."""
        found: list[WorkerStatus] = []
        with contextlib.suppress(OSError):
            found = self._board.live()
        if all(worker.id != self.worker_id for worker in found):
            found.append(self._own_status())
        return sorted(found, key=lambda worker: worker.id)

    def _own_status(self) -> WorkerStatus:
        statuses = self.registry.statuses()
        return WorkerStatus(
            id=self.worker_id,
            generation=self.generation,
            started_at=self._started_at,
            heartbeat_at=dt.datetime.now(dt.UTC),
            models={name: ModelState.of(status) for name, status in statuses.items()},
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerSync]:
        """Heartbeat and follow reloads in the background for the duration (app lifespan);
        remove this worker's status file after."""
        task = asyncio.create_task(self._run(), name="amf1-worker-sync")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(OSError):
                self._board.remove(self.worker_id)

    async def _run(self) -> None:
        # The heartbeat goes on while a followed reload loads, so a slow load never makes this
        # worker look gone to the others.
        following: asyncio.Future[None] | None = None
        try:
            while True:
                await asyncio.sleep(self.poll_s)
                await run_in_threadpool(self.publish)
                if following is None or following.done():
                    following = asyncio.ensure_future(run_in_threadpool(self._follow_logged))
        finally:
            if following is not None:
                # Let a reload in progress finish, so its status write cannot land after the
                # file's removal at shutdown.
                await asyncio.wait([following])

    def _follow_logged(self) -> None:
        try:
            self.follow()
        except Exception as exc:  # noqa: BLE001 - keep serving; the next poll tries again
            self._failed("cannot follow the reload generation", exc)

    def _watch_changed(self) -> bool:
        what = "cannot watch the reload generation"
        try:
            changed = self._generation_file.changed()
        except OSError as exc:
            self._failed(what, exc)
            return False
        self._errors.pop(what, None)
        return changed

    def _guard(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            self._failed(what, exc)
        else:
            self._errors.pop(what, None)

    def _failed(self, what: str, exc: Exception) -> None:
        error = f"{what} in {self.folder}: {exc}"
        # Logged once per distinct error: a read-only folder fails on every poll.
        if self._errors.get(what) != error:
            emit(
                Action.LOG,
                f"{error}; this worker keeps serving what it loaded",
                {"error.type": type(exc).__name__, "error.message": str(exc)},
                level="warning",
            )
        self._errors[what] = error


def _fields(generation: int, trigger: Trigger) -> dict[str, Any]:
    return {"amf1.reload.generation": generation, "amf1.reload.trigger": trigger}
