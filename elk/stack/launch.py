"""What it takes to start one service process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Launch:
    """Argv, environment and working directory of a service, plus a line for the progress log."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    note: str = ""
