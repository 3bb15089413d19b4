"""Fixtures: tracing configured with an in-memory exporter, reset after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import tracing
from tracing import native as native_path
from tracing.records import Span
from tracing.testing import MemoryExporter


def lean_path(wanted: bool) -> bool:
    """`wanted`, the lean tracer's path for a test: True for the C hot path (`tracing.native`;
    skipped where it was not built, a failure in CI, where `uv sync` must have built it), False
    for pure Python."""
    if wanted and not native_path.AVAILABLE:
        message = "tracing/_hotpath.c was not built (no C compiler at `uv sync`?)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return wanted


@pytest.fixture(params=[True, False], ids=["c", "python"])
def native(request: pytest.FixtureRequest) -> bool:
    """Each lean tracer path in turn: the C hot path, then pure Python."""
    return lean_path(request.param)


class MemoryTracing:
    """The in-memory exporter behind the configured tracing, with a flushing accessor."""

    def __init__(self, exporter: MemoryExporter) -> None:
        self.exporter = exporter

    def spans(self) -> list[Span]:
        """Every span ended so far, in end order."""
        tracing.force_flush()
        return self.exporter.spans()

    def span(self, name: str) -> Span:
        """The one finished span called `name`."""
        matches = [s for s in self.spans() if s.name == name]
        assert len(matches) == 1, [s.name for s in self.spans()]
        return matches[0]


def configure_memory(**settings: Any) -> MemoryTracing:
    """Configure tracing for a test, exporting into memory (every trace, unless `settings` say
    otherwise)."""
    settings.setdefault("tracing_sampler_ratio", 1.0)
    exporter = MemoryExporter()
    assert tracing.configure(
        tracing.Settings(**settings),
        service_version="1.2.3",
        exporter=exporter,
        set_global=False,
    )
    return MemoryTracing(exporter)


@pytest.fixture(autouse=True)
def _reset_tracing() -> Iterator[None]:
    yield
    tracing.shutdown()


@pytest.fixture
def memory(native: bool) -> MemoryTracing:
    """Tracing with default settings and an in-memory exporter, on each lean tracer path."""
    return configure_memory(tracing_native=native)
