"""Settings of the `elk` package: where Elasticsearch is, and the local stack (`amf1 stack ...`).

The connection (`AMF1_ES_*`), the cache directory, the log pipeline and the Jaeger endpoints are
shared groups declared in `logshipping.settings_groups`. An explicit argument to `Settings(...)`
beats the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import (
    CacheDir,
    ElasticsearchConnection,
    JaegerEndpoints,
    LogPipeline,
)


class ElasticsearchSettings(AMF1Settings, ElasticsearchConnection):
    """Only the Elasticsearch connection: what `elk.client.make_client` reads by default."""


class Settings(ElasticsearchSettings, CacheDir, LogPipeline, JaegerEndpoints):
    """Elasticsearch connection plus the local stack (`amf1 stack ...`)."""

    stack_dir: Path | None = Field(
        default=None, description="Runtime dir (pids, logs, data); default <cache_dir>/stack."
    )
    stack_mode: Literal["auto", "native", "docker"] = Field(
        default="auto", description="auto: Docker compose when an engine answers, else native."
    )
    java_home: Path | None = Field(
        default=None, description="JDK for Elasticsearch; default: detected (ES_JAVA_HOME, ...)."
    )
    go_cache_dir: Path | None = Field(
        default=None, description="GOMODCACHE/GOCACHE root for the builds; default <cache_dir>/go."
    )
    es_heap: str = Field(default="1g", description="Elasticsearch heap (-Xms/-Xmx) when native.")
    collector_health_port: int = Field(
        default=13134, description="Health-check port of the native stack's collector."
    )
    collector_metrics_port: int = Field(
        default=8889, description="Prometheus metrics port of the native stack's collector."
    )
    stack_timeout_s: float = Field(
        default=240.0, gt=0, description="How long `stack up` waits for one service's health."
    )
    collector_tls_cert: Path | None = Field(
        default=None,
        description="Native collector's TLS certificate (PEM); with its key and client CA set, "
        "`stack up` starts the collector with elk/collector/config-tls.yaml (mutual TLS).",
    )
    collector_tls_key: Path | None = Field(
        default=None, description="Path of the private key (PEM) of AMF1_COLLECTOR_TLS_CERT."
    )
    collector_tls_client_ca: Path | None = Field(
        default=None,
        description="CA (PEM) that signs the shippers' client certificates; the collector "
        "refuses clients without one.",
    )

    @field_validator("stack_dir", "go_cache_dir", "java_home")
    @classmethod
    def _expand_optional_paths(cls, value: Path | None) -> Path | None:
        # A `~` in an environment variable is not expanded by the shell when quoted.
        return value.expanduser() if value is not None else None

    @property
    def collector_tls(self) -> bool:
        """Whether the native collector listens with mutual TLS (all three paths set)."""
        paths = (self.collector_tls_cert, self.collector_tls_key, self.collector_tls_client_ca)
        return all(path is not None for path in paths)

    @property
    def runtime_dir(self) -> Path:
        """Where the native stack keeps pid files, logs and data."""
        return self.stack_dir or self.cache_dir / "stack"

    @property
    def go_dir(self) -> Path:
        """Root of the Go module and build caches used by the stack's builds."""
        return self.go_cache_dir or self.cache_dir / "go"
