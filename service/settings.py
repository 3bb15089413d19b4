"""The service's settings: environment variables with the `AMF1_` prefix; arguments win."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.monitoring.settings import MonitoringSettings

# Values people paste from examples; refused as an admin token outside development.
_PLACEHOLDER_TOKENS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "token", "admin", "password", "xxx"}
)


class Settings(BaseSettings, MonitoringSettings):
    """Settings of `amf1 serve` and `amf1 train` (see docs/readme/service.md for the table;
    the monitoring fields inherited from `MonitoringSettings` are in docs/readme/drift.md)."""

    model_config = SettingsConfigDict(env_prefix="AMF1_", extra="ignore")

    environment: Literal["development", "test", "staging", "production"] = Field(
        "development",
        description="deployment environment; secrets are enforced outside development",
    )
    models_dir: Path = Field(Path("models"), description="directory holding <model-name>/ folders")
    admin_token: SecretStr | None = Field(
        None, description="bearer token for POST /admin/models/reload; unset disables the endpoint"
    )
    host: str = Field("127.0.0.1", description="address `amf1 serve` binds")
    port: int = Field(8000, ge=1, le=65535, description="port `amf1 serve` binds")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes")
    max_body_bytes: int = Field(65536, ge=1024, description="largest accepted request body (413)")
    prediction_ttl_s: float = Field(
        86400.0, gt=0, description="how long a prediction id accepts feedback, seconds"
    )
    prediction_store_size: int = Field(
        100_000, ge=1, description="most predictions remembered for feedback (oldest dropped)"
    )
    model_status_interval_s: float = Field(
        15.0, gt=0, description="interval of the model-status reports (model-not-loaded alert), s"
    )
    test_delay_enabled: bool = Field(
        False,
        description="TESTS ONLY: honour the X-AMF1-Test-Delay-Ms request header on predictions "
        "(sleep up to 5 s inside the inference span); refused in staging and production",
    )

    @model_validator(mode="after")
    def _refuse_test_delay_in_production(self) -> Settings:
        if self.test_delay_enabled and self.environment in ("staging", "production"):
            raise ValueError(
                f"AMF1_TEST_DELAY_ENABLED is a test hook; unset it in {self.environment}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_token(self) -> Settings:
        if self.environment == "development" or self.admin_token is None:
            return self
        if self.admin_token.get_secret_value().strip().lower() in _PLACEHOLDER_TOKENS:
            raise ValueError(
                f"AMF1_ADMIN_TOKEN is empty or a placeholder; set a real secret in "
                f"{self.environment} (or leave it unset to disable the admin endpoint)"
            )
        return self
