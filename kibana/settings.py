"""Settings of the `kibana` package: Elasticsearch, Kibana, Jaeger, Slack and the watcher loop.

Every value comes from an `AMF1_`-prefixed environment variable (or an explicit argument, which
wins). Secrets are `SecretStr`: their repr is masked, so they never reach a log line. A secret can
also be read from a file named by the matching `*_FILE` variable (e.g.
`AMF1_SLACK_CRITICAL_WEBHOOK_URL_FILE=/run/secrets/slack-critical`), for container secrets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator

from elk.settings import ElasticsearchSettings

_PACKAGE_DIR = Path(__file__).resolve().parent
_PLACEHOLDERS = frozenset({"changeme", "change-me", "placeholder", "secret", "password", "xxx"})

# Secrets that may be given as `AMF1_<NAME>_FILE`; the file's stripped content is the value.
_FILE_SECRETS = (
    "es_password",
    "es_api_key",
    "kibana_password",
    "kibana_api_key",
    "slack_webhook_url",
    "slack_critical_webhook_url",
    "slack_alerts_webhook_url",
)


class Settings(ElasticsearchSettings):
    """Configuration of the importer and the watcher (env prefix `AMF1_`; `AMF1_ES_*` inherited)."""

    kibana_url: str = "http://127.0.0.1:5601"
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None
    kibana_api_key: SecretStr | None = None
    kibana_ca_cert: Path | None = None
    kibana_timeout_s: float = Field(default=30.0, gt=0)

    jaeger_ui_url: str = "http://127.0.0.1:16686"
    runbook_base_url: str | None = None

    # One shared webhook (the team-wide name) is the fallback for both channels.
    slack_webhook_url: SecretStr | None = None
    slack_critical_webhook_url: SecretStr | None = None
    slack_alerts_webhook_url: SecretStr | None = None
    slack_timeout_s: int = Field(default=10, gt=0)
    slack_max_retries: int = Field(default=2, ge=0, le=10)
    slack_max_retry_after_s: int = Field(default=30, ge=0)

    rules_file: Path = _PACKAGE_DIR.parent / "alerting" / "rules.yaml"
    saved_objects_dir: Path = _PACKAGE_DIR / "saved_objects"
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
    environment: str = "development"

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """Fill a secret from `AMF1_<NAME>_FILE` when neither the argument nor the env sets it."""
        if not isinstance(data, dict):
            return data
        for name in _FILE_SECRETS:
            env_name = f"AMF1_{name.upper()}"
            if data.get(name) is not None or os.environ.get(env_name):
                continue
            file_name = os.environ.get(f"{env_name}_FILE")
            if file_name:
                data[name] = Path(file_name).read_text(encoding="utf-8").strip()
        return data

    @model_validator(mode="after")
    def _check(self) -> Settings:
        """Refuse placeholder secrets outside development, and a claim shorter than a send."""
        if self.environment != "development":
            for name in _FILE_SECRETS:
                value = getattr(self, name)
                if value is not None and value.get_secret_value().lower() in _PLACEHOLDERS:
                    raise ValueError(f"AMF1_{name.upper()} is a placeholder in {self.environment}")
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
