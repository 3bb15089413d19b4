"""The service's settings: environment variables with the `AMF1_` prefix; arguments win."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import ServiceAdmin
from service.monitoring.settings import MONITORING_VARIABLES, MonitoringSettings


class Settings(AMF1Settings, ServiceAdmin, MonitoringSettings):
    """Settings of `amf1 serve` and `amf1 train` (docs/settings.md lists every variable)."""

    flat_variables: ClassVar[dict[str, tuple[str, ...]]] = MONITORING_VARIABLES

    host: str = Field("127.0.0.1", description="Address `amf1 serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `amf1 serve` binds.")
    workers: int = Field(1, ge=1, le=64, description="Uvicorn worker processes.")
    max_body_bytes: int = Field(
        65536, ge=1024, description="Largest accepted request body (413 beyond it)."
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A connection must complete each request's headers within this many seconds "
        "of opening (or of the request's first byte), else 408 and the connection closes.",
    )
    body_timeout_s: float = Field(
        30.0,
        gt=0,
        description="A request body must arrive completely within this many seconds, else 408 "
        "and the connection closes.",
    )
    max_concurrent_requests: int = Field(
        64,
        ge=1,
        description="Requests in progress per worker; beyond it, 503 with Retry-After: 1 "
        "(/health and /metrics are not counted).",
    )
    prediction_ttl_s: float = Field(
        86400.0, gt=0, description="How long a prediction id accepts feedback, seconds."
    )
    prediction_store_size: int = Field(
        100_000, ge=1, description="Most predictions remembered for feedback (oldest dropped)."
    )
    model_status_interval_s: float = Field(
        15.0, gt=0, description="Interval of the model-status reports (model-not-loaded alert), s."
    )
    test_delay_enabled: bool = Field(
        False,
        description="TESTS ONLY: honour the X-AMF1-Test-Delay-Ms request header on predictions "
        "(sleep up to 5 s inside the inference span); refused in staging and production.",
    )
    reload_poll_s: float = Field(
        1.0,
        gt=0,
        description="How often each worker heartbeats its status file and checks the reload "
        "generation in AMF1_MODELS_DIR/.workers, seconds: a reload reaches every worker within "
        "this plus the load time; a worker silent for 5 polls counts as gone.",
    )
    reload_wait_s: float = Field(
        10.0,
        ge=0,
        description="How long POST /admin/models/reload waits for every live worker to report "
        "the new generation before it answers all_workers_reloaded=false, seconds.",
    )

    @model_validator(mode="after")
    def _refuse_test_delay_in_production(self) -> Settings:
        if self.test_delay_enabled and self.environment in ("staging", "production"):
            raise ValueError(
                f"AMF1_TEST_DELAY_ENABLED is a test hook; unset it in {self.environment}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_empty_tokens(self) -> Settings:
        # An empty token would let an empty bearer through; unset disables the endpoint instead.
        if self.environment == "development":
            return self
        for variable, token in (
            ("AMF1_ADMIN_TOKEN", self.admin_token),
            ("AMF1_FEEDBACK_TOKEN", self.feedback_token),
        ):
            if token is not None and not token.get_secret_value().strip():
                raise ValueError(
                    f"{variable} is empty; set a real secret in {self.environment} "
                    "(or leave it unset to disable its endpoint)"
                )
        return self
