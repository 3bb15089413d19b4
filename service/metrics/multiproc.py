"""One multiprocess metrics directory per `amf1 serve` run (prometheus-client's multiprocess mode).

prometheus-client chooses where values live when it is imported, so `amf1 serve` enters
`multiproc_dir_for_run()` before importing the app; uvicorn's workers inherit the variable.
Imports nothing from prometheus-client.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def multiproc_dir_for_run() -> Iterator[Path]:
    """Point `PROMETHEUS_MULTIPROC_DIR` at an empty directory for this run.

    A directory already named by the variable is emptied of metric files (an earlier run's
    counts must not be added to this one's) and kept; otherwise a temporary one is made and
    removed when the run ends.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="amf1-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)
