"""Fixtures: a configured pipeline writing to memory, and a real TCP receiver."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from logshipping import Settings
from tests.logshipping.receiver import LineReceiver


class Captured(io.BytesIO):
    """The process's stdout stand-in: every line written, parsed back."""

    def lines(self) -> list[bytes]:
        return self.getvalue().splitlines()

    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines()]


@pytest.fixture
def receiver() -> Iterator[LineReceiver]:
    """A running TCP JSON-lines receiver on a free loopback port."""
    server = LineReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with the buffer under tmp_path, strict catalogue checks, fast polling."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "log_buffer_dir": tmp_path / "buffer",
            "log_strict": True,
            "log_ship": False,
            "log_retry_max_s": 0.1,
            "log_connect_timeout_s": 1.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def stdout() -> Captured:
    """Where the configured pipeline writes its JSON lines in a test."""
    return Captured()
