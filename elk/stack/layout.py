"""Where the stack's artifacts (cache) and runtime files (pids, logs, data) live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elk import versions
from elk.settings import Settings


@dataclass(frozen=True)
class Layout:
    """Every path the stack uses; artifact directories are keyed by version."""

    cache_dir: Path
    runtime_dir: Path
    go_dir: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> Layout:
        """The layout that `settings` (AMF1_CACHE_DIR, AMF1_STACK_DIR, ...) describes."""
        return cls(settings.cache_dir, settings.runtime_dir, settings.go_dir)

    @property
    def downloads_dir(self) -> Path:
        return self.cache_dir / "downloads"

    @property
    def locks_dir(self) -> Path:
        return self.cache_dir / "locks"

    @property
    def es_home(self) -> Path:
        return self.cache_dir / f"elasticsearch-{versions.ELASTICSEARCH_VERSION}"

    @property
    def jaeger_binary(self) -> Path:
        return self.cache_dir / f"jaeger-{versions.JAEGER_VERSION}" / "jaeger"

    @property
    def compose_binary(self) -> Path:
        """The compose CLI (a tool, not a service: `config` needs no Docker engine)."""
        return self.cache_dir / f"compose-{versions.COMPOSE_VERSION}" / "docker-compose"

    @property
    def prometheus_dir(self) -> Path:
        """Holds `prometheus` and `promtool`."""
        return self.cache_dir / f"prometheus-{versions.PROMETHEUS_VERSION}"

    @property
    def alertmanager_dir(self) -> Path:
        """Holds `alertmanager` and `amtool`."""
        return self.cache_dir / f"alertmanager-{versions.ALERTMANAGER_VERSION}"

    @property
    def collector_dir(self) -> Path:
        return self.cache_dir / f"otelcol-{versions.COLLECTOR_RELEASE}"

    @property
    def collector_binary(self) -> Path:
        return self.collector_dir / versions.COLLECTOR_BINARY

    def service_dir(self, name: str) -> Path:
        """Runtime directory of one service: pid file, log file, data, generated config."""
        return self.runtime_dir / name

    def pid_file(self, name: str) -> Path:
        return self.service_dir(name) / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.service_dir(name) / f"{name}.log"
