"""Settings of the `alerting` package: channels, the rules file, the state index and the loop.

Every value comes from an `AMF1_`-prefixed environment variable (or an explicit argument, which
wins). The Elasticsearch, Kibana and Jaeger values come from `kibana.settings`, which these
settings extend; the index names are a shared group of `logshipping.settings_groups`. Every
secret can be given as a file (`AMF1_<NAME>_FILE`, e.g.
`AMF1_SLACK_CRITICAL_WEBHOOK_URL_FILE=/run/secrets/slack-critical`), is refused as a placeholder
outside development and is redacted from the logs (`logshipping.settings_base`).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Final

from pydantic import Field, SecretStr, model_validator

from alerting.signals.drift_score import DriftScoring
from alerting.signals.outcomes import PerformanceConfig
from kibana.settings import Settings as KibanaSettings
from logshipping.settings_groups import LogIndices

_PACKAGE_DIR = Path(__file__).resolve().parent

# Variable name (without the `AMF1_` prefix) -> the field it sets, under the `drift` field.
DRIFT_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "drift_window_size": ("drift", "window_size"),
    "drift_window_max_age_s": ("drift", "window_max_age_s"),
    "drift_min_samples": ("drift", "min_samples"),
    "drift_score_interval_s": ("drift", "score_interval_s"),
    "drift_psi_threshold": ("drift", "psi_threshold"),
    "drift_significance": ("drift", "significance"),
    "drift_cooldown_s": ("drift", "cooldown_s"),
    "drift_ignore_features": ("drift", "ignore_features"),
    "missing_rate_threshold": ("drift", "missing_rate_threshold"),
    "missing_report_interval_s": ("drift", "missing_report_interval_s"),
}
# ... and under the `performance` field.
PERFORMANCE_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "performance_window": ("performance", "window"),
    "performance_interval_s": ("performance", "interval_s"),
    "performance_min_outcomes": ("performance", "min_outcomes"),
    "performance_lookback_s": ("performance", "lookback_s"),
    "performance_grace_s": ("performance", "grace_s"),
}


class Settings(KibanaSettings, LogIndices):
    """Configuration of the watcher (env prefix `AMF1_`; Kibana's and `AMF1_ES_*` inherited)."""

    flat_variables: ClassVar[dict[str, tuple[str, ...]]] = DRIFT_VARIABLES | PERFORMANCE_VARIABLES

    runbook_base_url: str | None = Field(
        None, description="Base URL of the runbooks linked from alerts; unset: the shipped files."
    )

    # One shared webhook (the team-wide name) is the fallback for every Slack channel.
    slack_webhook_url: SecretStr | None = Field(
        None, description="Slack webhook of every channel without its own."
    )
    slack_critical_webhook_url: SecretStr | None = Field(
        None, description="Slack webhook of #amf1-critical."
    )
    slack_alerts_webhook_url: SecretStr | None = Field(
        None, description="Slack webhook of #amf1-alerts."
    )
    slack_data_webhook_url: SecretStr | None = Field(
        None, description="Slack webhook of #amf1-data (data-quality and pipeline alerts)."
    )
    slack_timeout_s: int = Field(10, gt=0, description="Timeout of one Slack call, in seconds.")
    slack_max_retries: int = Field(
        2, ge=0, le=10, description="Retries of a failed Slack send (slack-sdk's handlers)."
    )
    slack_max_retry_after_s: int = Field(
        30, ge=0, description="Longest Retry-After of Slack that is waited out, in seconds."
    )

    pagerduty_routing_key: SecretStr | None = Field(
        None, description="Integration key of a PagerDuty Events API v2 integration; unset: off."
    )
    pagerduty_url: str = Field(
        "https://events.pagerduty.com", description="Base URL of PagerDuty's Events API v2."
    )
    pagerduty_ca_cert: Path | None = Field(
        None, description="CA certificate (PEM) of the PagerDuty endpoint; unset: the system's."
    )
    pagerduty_timeout_s: int = Field(
        10, gt=0, description="Timeout of one PagerDuty call, in seconds."
    )

    smtp_host: str | None = Field(None, description="SMTP server of the email alerts; unset: off.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_starttls: bool = Field(
        True, description="Upgrade the SMTP connection with STARTTLS (certificate verified)."
    )
    smtp_ca_cert: Path | None = Field(
        None, description="CA certificate (PEM) of the SMTP server; unset: the system's."
    )
    smtp_username: str | None = Field(None, description="SMTP user (AUTH); unset: no AUTH.")
    smtp_password: SecretStr | None = Field(None, description="Password of the SMTP user.")
    smtp_timeout_s: float = Field(10.0, gt=0, description="Timeout of one SMTP step, seconds.")
    email_from: str | None = Field(None, description="Sender address of the email alerts.")
    email_to: str | None = Field(
        None, description="Recipients of the critical alerts by email, comma-separated."
    )

    rules_file: Path = Field(_PACKAGE_DIR / "rules.yaml", description="The alert rules file.")
    index_template_file: Path = Field(
        _PACKAGE_DIR.parent / "elk" / "index" / "amf1-logs.template.json",
        description="Index template whose mapping the saved searches are checked against.",
    )

    watch_interval_s: float = Field(
        10.0, ge=1.0, description="Seconds between two evaluations of the rules."
    )
    query_delay_s: float = Field(
        2.0, ge=0.0, description="Evaluated periods end this long before now (late events), s."
    )
    repeat_after_s: float = Field(
        3600.0, ge=0.0, description="A firing alert is repeated at most this often, seconds."
    )
    resolve_after_evaluations: int = Field(
        3, ge=1, description="Quiet evaluations before a firing alert is resolved."
    )
    degraded_after_s: float = Field(
        30.0, ge=0.0, description="Elasticsearch unreachable this long: watcher-degraded (s)."
    )
    max_catchup_s: float = Field(
        6 * 3600.0, ge=0.0, description="Longest past period evaluated after a pause, seconds."
    )
    watcher_metrics_host: str = Field(
        "127.0.0.1", description="Address the watcher's /metrics binds (with the port set)."
    )
    watcher_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port of the watcher's Prometheus /metrics (MAE, Brier, drift, "
        "missing-data rate); unset: not served.",
    )
    claim_ttl_s: float = Field(
        300.0,
        gt=0.0,
        description="How long a message is reserved for its sender (longer than any send).",
    )
    drift: DriftScoring = Field(
        default_factory=DriftScoring,
        description="Drift and missing-data scoring over all workers (set through its flat "
        "variables).",
    )
    performance: PerformanceConfig = Field(
        default_factory=PerformanceConfig,
        description="Rolling MAE / Brier over all workers and replicas (set through its flat "
        "variables).",
    )

    @model_validator(mode="after")
    def _channels_usable(self) -> Settings:
        """Refuse unusable channel settings, every problem at once, naming variables only."""
        from alerting.channels import channel_problems  # noqa: PLC0415 - it imports this module

        problems = channel_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def webhook_for(self, channel: str) -> SecretStr | None:
        """The webhook of Slack `channel` ("critical", "alerts", "data"), else the shared one."""
        specific = {
            "critical": self.slack_critical_webhook_url,
            "alerts": self.slack_alerts_webhook_url,
            "data": self.slack_data_webhook_url,
        }.get(channel)
        return specific or self.slack_webhook_url

    def recipients(self) -> list[str]:
        """The addresses of `AMF1_EMAIL_TO`."""
        return [a.strip() for a in (self.email_to or "").split(",") if a.strip()]
