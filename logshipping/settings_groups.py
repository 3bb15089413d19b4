"""Groups of settings fields that several packages read, each declared here once.

A package's `Settings` inherits `AMF1Settings` and the groups it needs, e.g.
`class Settings(AMF1Settings, ElasticsearchConnection)`: only the packages that talk to
Elasticsearch carry its credentials. The groups are plain models; the base gives them their
`AMF1_` variables, `*_FILE` secrets and redaction.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "amf1"


class ServiceIdentity(BaseModel):
    """Who emits the logs and spans (logshipping, tracing)."""

    service_name: str = Field(
        "amf1-service", description="ECS `service.name` of the log events and of the spans."
    )
    service_version: str = Field(
        "0.1.0", description="ECS `service.version` of the log events and of the spans."
    )


class CacheDir(BaseModel):
    """The user-level cache root (logshipping's buffers, elk's downloads and stack)."""

    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="User-level cache: log buffers, downloads, builds, Go caches and the native "
        "stack's runtime dir (default ~/.cache/amf1).",
    )

    @field_validator("cache_dir")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        # A `~` in an environment variable is not expanded by the shell when quoted.
        return value.expanduser()


class LogPipeline(BaseModel):
    """Where the log pipeline (Logstash, or the collector) takes TCP JSON lines."""

    logstash_host: str = Field("127.0.0.1", description="Log pipeline TCP JSON-lines host.")
    logstash_port: int = Field(5000, description="Log pipeline TCP JSON-lines port.")


class ElasticsearchConnection(BaseModel):
    """How to reach Elasticsearch (TLS verified by default)."""

    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch base URL.")
    es_username: str | None = Field(
        None,
        description="Basic-auth user name; unset (with the password) on a loopback URL: the "
        "native stack's generated user of the process's role (docs/stack.md).",
    )
    es_password: SecretStr | None = Field(None, description="Basic-auth password.")
    es_api_key: SecretStr | None = Field(
        None, description="Encoded API key; preferred over user/password when set."
    )
    es_ca_cert: Path | None = Field(
        None, description="CA certificate (PEM) that signed the server's certificate."
    )
    es_verify_certs: bool = Field(
        True, description="Verify the server's TLS certificate (never off in production)."
    )
    es_timeout_s: float = Field(
        10.0, gt=0, description="Timeout of one Elasticsearch request, in seconds."
    )


class LogIndices(BaseModel):
    """Names of the indices the logs and the watcher's ledger live in."""

    index_prefix: str = Field(
        "amf1-logs-", description="Daily log indices are `<prefix>YYYY.MM.dd` (UTC days)."
    )
    state_index: str = Field(
        "amf1-watcher-state", description="The watcher's alert-state ledger index."
    )


class JaegerEndpoints(BaseModel):
    """Where Jaeger receives spans (OTLP/gRPC) and answers queries, and where its UI is."""

    otlp_endpoint: str = Field(
        "http://127.0.0.1:4317", description="OTLP/gRPC receiver (Jaeger, or the collector)."
    )
    jaeger_query_url: str = Field(
        "http://127.0.0.1:16686", description="Jaeger query API base URL."
    )
    jaeger_ui_url: str | None = Field(
        None, description="Jaeger UI base URL for trace links; unset: the query URL."
    )

    @property
    def ui_base_url(self) -> str:
        """Base URL of the Jaeger UI, without a trailing slash."""
        return (self.jaeger_ui_url or self.jaeger_query_url).rstrip("/")


class KibanaUrl(BaseModel):
    """Where Kibana is (its importer, and the links of alerts and of the demo)."""

    kibana_url: str = Field("http://127.0.0.1:5601", description="Kibana base URL.")


class ServiceAdmin(BaseModel):
    """The service's model files and its tokens (the service, and the operator tools)."""

    models_dir: Path = Field(
        Path("models"), description="Directory holding one <model-name>/ folder per model."
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of `POST /admin/models/reload`; unset disables the endpoint.",
    )
    feedback_token: SecretStr | None = Field(
        None,
        description="Bearer token of `POST /feedback` (outcomes move the rolling MAE and Brier); "
        "unset disables the endpoint (403) in every environment.",
    )
