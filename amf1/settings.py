"""Settings of the operator tools (`amf1 loadgen | health | report | demo`).

Environment variables carry the `AMF1_` prefix; an explicit argument beats the environment.
Elasticsearch connection settings are the `elk` package's (`AMF1_ES_*`), read through
`elk.client.make_client`; the names shared with other packages keep their shared meaning.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the operator tools find the service, the logs, the watcher's state and the UIs."""

    model_config = SettingsConfigDict(env_prefix="AMF1_", extra="ignore")

    service_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of the prediction service."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Token of `POST /admin/models/reload` (shared name)."
    )
    models_dir: Path = Field(default=Path("models"), description="Model files (shared name).")
    index_prefix: str = Field(
        default="amf1-logs-", description="Daily log indices are `<prefix>YYYY.MM.dd`."
    )
    state_index: str = Field(
        default="amf1-watcher-state", description="The watcher's alert-state index."
    )
    kibana_url: str = Field(
        default="http://127.0.0.1:5601", description="Kibana, where it runs (Docker path)."
    )
    jaeger_ui_url: str = Field(
        default="http://127.0.0.1:16686", description="Jaeger UI base URL for trace links."
    )
    http_timeout_s: float = Field(
        default=5.0, gt=0, description="Timeout of one call to the service, Kibana or Jaeger."
    )
    disk_warn_pct: float = Field(
        default=85.0, gt=0, le=100, description="Disk use (%) that `amf1 health` warns about."
    )
    disk_fail_pct: float = Field(
        default=95.0,
        gt=0,
        le=100,
        description="Disk use (%) that makes `amf1 health` fail (Elasticsearch's flood stage).",
    )
