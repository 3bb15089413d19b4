"""Settings of the `elk` package: where Elasticsearch is and how to reach it.

The `AMF1_ES_*` names are shared with the other packages (each reads them itself). An explicit
argument to `Settings(...)` beats the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    return Path("~/.cache/amf1").expanduser()


class ElasticsearchSettings(BaseSettings):
    """How to reach Elasticsearch (TLS verified by default); every package's settings reuse it."""

    model_config = SettingsConfigDict(env_prefix="AMF1_", extra="ignore")

    es_url: str = Field(default="http://127.0.0.1:9200", description="Elasticsearch base URL.")
    es_username: str | None = Field(default=None, description="Basic-auth user name.")
    es_password: SecretStr | None = Field(default=None, description="Basic-auth password.")
    es_api_key: SecretStr | None = Field(
        default=None, description="Encoded API key; preferred over user/password when set."
    )
    es_ca_cert: Path | None = Field(
        default=None, description="CA certificate (PEM) that signed the server's certificate."
    )
    es_verify_certs: bool = Field(
        default=True, description="Verify the server's TLS certificate (never off in production)."
    )
    es_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of one Elasticsearch request, in seconds."
    )


class Settings(ElasticsearchSettings):
    """Elasticsearch connection plus the local stack (`amf1 stack ...`)."""

    # The local stack (`amf1 stack ...`): where it is cached and run, and how it is reached.
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="User-level cache: downloads, builds, Go caches, and the stack's runtime dir.",
    )
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
    stack_timeout_s: float = Field(
        default=240.0, gt=0, description="How long `stack up` waits for one service's health."
    )
    jaeger_query_url: str = Field(
        default="http://127.0.0.1:16686", description="Jaeger query API (v3) base URL."
    )
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4317", description="OTLP gRPC endpoint (Jaeger)."
    )
    logstash_host: str = Field(default="127.0.0.1", description="Log pipeline TCP host.")
    logstash_port: int = Field(default=5000, description="Log pipeline TCP port (JSON lines).")

    @field_validator("cache_dir", "stack_dir", "go_cache_dir", "java_home")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        # A `~` in an environment variable is not expanded by the shell when quoted.
        return value.expanduser() if value is not None else None

    @property
    def runtime_dir(self) -> Path:
        """Where the native stack keeps pid files, logs and data."""
        return self.stack_dir or self.cache_dir / "stack"

    @property
    def go_dir(self) -> Path:
        """Root of the Go module and build caches used by the stack's builds."""
        return self.go_cache_dir or self.cache_dir / "go"
