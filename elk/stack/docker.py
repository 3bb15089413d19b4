"""The Docker path: when an engine answers, `docker compose -f docker-compose.elk.yml` does it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_DIR / "docker-compose.elk.yml"
_INFO_TIMEOUT_S = 5.0


def engine_answers() -> bool:
    """True when `docker info` succeeds quickly (a client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            check=False,
            timeout=_INFO_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def compose(*args: str) -> int:
    """Run `docker compose -f docker-compose.elk.yml ARGS...`; returns its exit code."""
    docker = shutil.which("docker") or "docker"
    argv = [docker, "compose", "-f", str(COMPOSE_FILE), *args]
    return subprocess.run(argv, cwd=REPO_DIR, check=False).returncode  # noqa: S603
