"""Settings of the `elk` package: where Elasticsearch is and how to reach it.

The `AMF1_ES_*` names are shared with the other packages (each reads them itself). An explicit
argument to `Settings(...)` beats the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Connection settings for Elasticsearch (TLS verified by default)."""

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
