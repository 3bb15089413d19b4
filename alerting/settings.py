"""Settings of the `alerting` package: Slack, the rules file, the state index and the loop.

Every value comes from an `AMF1_`-prefixed environment variable (or an explicit argument, which
wins). The Elasticsearch, Kibana and Jaeger values, the secret files (`AMF1_<NAME>_FILE`, e.g.
`AMF1_SLACK_CRITICAL_WEBHOOK_URL_FILE=/run/secrets/slack-critical`) and the refusal of
placeholder secrets come from `kibana.settings`, which these settings extend.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from kibana.settings import Settings as KibanaSettings

_PACKAGE_DIR = Path(__file__).resolve().parent


class Settings(KibanaSettings):
    """Configuration of the watcher (env prefix `AMF1_`; Kibana's and `AMF1_ES_*` inherited)."""

    file_secrets: ClassVar[tuple[str, ...]] = (
        *KibanaSettings.file_secrets,
        "slack_webhook_url",
        "slack_critical_webhook_url",
        "slack_alerts_webhook_url",
    )

    runbook_base_url: str | None = None

    # One shared webhook (the team-wide name) is the fallback for both channels.
    slack_webhook_url: SecretStr | None = None
    slack_critical_webhook_url: SecretStr | None = None
    slack_alerts_webhook_url: SecretStr | None = None
    slack_timeout_s: int = Field(default=10, gt=0)
    slack_max_retries: int = Field(default=2, ge=0, le=10)
    slack_max_retry_after_s: int = Field(default=30, ge=0)

    rules_file: Path = _PACKAGE_DIR / "rules.yaml"
    index_template_file: Path = _PACKAGE_DIR.parent / "elk" / "index" / "amf1-logs.template.json"
    index_prefix: str = "amf1-logs-"
    state_index: str = "amf1-watcher-state"

    watch_interval_s: float = Field(default=10.0, ge=1.0)
    query_delay_s: float = Field(default=2.0, ge=0.0)
    repeat_after_s: float = Field(default=3600.0, ge=0.0)
    resolve_after_evaluations: int = Field(default=3, ge=1)
    degraded_after_s: float = Field(default=30.0, ge=0.0)
    max_catchup_s: float = Field(default=6 * 3600.0, ge=0.0)
    claim_ttl_s: float = Field(default=300.0, gt=0.0)

    @model_validator(mode="after")
    def _claim_outlasts_a_send(self) -> Settings:
        """Refuse a claim shorter than the longest Slack send."""
        # A message is reserved for its sender longer than slack-sdk can spend sending it
        # (every attempt timing out or waiting out Retry-After), else a second watcher could
        # send it too.
        longest_send_s = (self.slack_max_retries + 1) * (
            self.slack_timeout_s + self.slack_max_retry_after_s + 2
        )
        if self.claim_ttl_s <= longest_send_s:
            raise ValueError(
                f"claim_ttl_s ({self.claim_ttl_s:g}) must exceed the longest Slack send "
                f"({longest_send_s:g} s with these retry settings)"
            )
        return self

    def webhook_for(self, channel: str) -> SecretStr | None:
        """The webhook URL of `channel` ("critical" or "alerts"), else the shared one."""
        specific = {
            "critical": self.slack_critical_webhook_url,
            "alerts": self.slack_alerts_webhook_url,
        }.get(channel)
        return specific or self.slack_webhook_url
