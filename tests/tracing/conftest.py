"""Fixtures: tracing configured with an in-memory exporter, reset after each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import tracing
from tracing.records import Span
from tracing.testing import MemoryExporter


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
def memory() -> MemoryTracing:
    """Tracing with default settings and an in-memory exporter."""
    return configure_memory()
