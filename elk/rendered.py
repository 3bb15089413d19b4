"""The generated pipeline files and their renderers: write them, or list the stale ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from elk import render_collector, render_logstash

_ELK = Path(__file__).parent
LOGSTASH_PIPELINE: Final = _ELK / "logstash" / "pipeline" / "amf1.conf"
COLLECTOR_CONFIG: Final = _ELK / "collector" / "config.yaml"
COLLECTOR_TLS_CONFIG: Final = _ELK / "collector" / "config-tls.yaml"

RENDERERS: Final[Mapping[Path, Callable[[], str]]] = {
    LOGSTASH_PIPELINE: render_logstash.render,
    COLLECTOR_CONFIG: render_collector.render,
    COLLECTOR_TLS_CONFIG: render_collector.render_tls,
}


def stale() -> list[Path]:
    """Return the generated files whose content differs from what the rules render."""
    return [
        path
        for path, render in RENDERERS.items()
        if not path.exists() or path.read_text(encoding="utf-8") != render()
    ]


def write() -> list[Path]:
    """Re-render every stale file; returns the files written."""
    written = stale()
    for path in written:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RENDERERS[path](), encoding="utf-8")
    return written
