"""What `GET /metrics` answers: this process's registry, or every worker's multiprocess files."""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from service.metrics.multiproc import MULTIPROC_ENV

# Files of the `live*` gauges of one process: gauge_livesum_1234.db and the like.
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


def multiproc_dir() -> Path | None:
    """The multiprocess directory this process writes to, if any."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def prune_dead(directory: Path) -> list[int]:
    """Remove the `live*` gauge files of processes that are gone; returns their pids.

    Their counters and histograms stay: what a dead worker counted still happened. Only gauges
    that describe a live worker (model loaded, buffered events, process memory) must leave with
    it. Runs on every scrape, so no supervisor hook is needed when uvicorn replaces a worker.
    """
    dead = set()
    for path in directory.iterdir():
        match = _LIVE_GAUGE_FILE.match(path.name)
        if match is not None and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return sorted(dead)


def render_latest() -> bytes:
    """The Prometheus text exposition of the whole service (all workers) or of this process."""
    directory = multiproc_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    prune_dead(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry)
