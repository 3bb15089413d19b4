"""The channels of a watcher, from settings: checked all at once, then built as notifiers.

`channel_problems` is the settings' own check (a `Settings` with an unusable channel is refused,
every problem listed, each naming its variable and never its value). `Channels` holds the
configured notifiers and answers which of them an alert goes to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import SecretStr

from alerting.notifiers.base import Notifier
from alerting.notifiers.email import EmailNotifier
from alerting.notifiers.pagerduty import PagerDutyNotifier
from alerting.notifiers.slack import SlackNotifier
from alerting.routing import CRITICAL_ROUTE, route
from alerting.rules import Category, Severity
from logshipping.settings_base import ENV_PREFIX

if TYPE_CHECKING:
    from alerting.settings import Settings

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
_ADDRESS = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+$")
_SLACK = {"slack-critical": "critical", "slack-alerts": "alerts", "slack-data": "data"}
PAGERDUTY_RETRIES = 2
PAGERDUTY_MAX_RETRY_AFTER_S = 30.0
EMAIL_RETRIES = 1


def _var(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _url_problem(field: str, value: str, what: str, *, https_only: bool = False) -> str | None:
    """Why `value` is not a usable URL for `what` (the text never quotes the value)."""
    try:
        parts = urlsplit(value)
        scheme, host, _port = parts.scheme, parts.hostname, parts.port
    except ValueError:
        scheme, host = "", None
    if any(c.isspace() for c in value) or scheme not in ("http", "https") or not host:
        return f"{_var(field)}: not a URL; {what} starts with https://"
    if scheme == "http" and https_only:
        return f"{_var(field)}: must use https://"
    if scheme == "http" and host not in _LOOPBACK:
        return f"{_var(field)}: http:// is only allowed to a loopback address; use https://"
    return None


def _secret_url_problem(field: str, value: SecretStr | None, what: str) -> str | None:
    return None if value is None else _url_problem(field, value.get_secret_value(), what)


def _email_problems(settings: Settings) -> list[str]:
    wanted = (
        settings.smtp_host,
        settings.email_to,
        settings.email_from,
        settings.smtp_username,
        settings.smtp_password,
    )
    if not any(value is not None for value in wanted):
        return []
    problems = [
        f"{_var(name)}: required to send email alerts"
        for name, value in (
            ("smtp_host", settings.smtp_host),
            ("email_from", settings.email_from),
            ("email_to", settings.email_to),
        )
        if not value
    ]
    if settings.email_from and not _ADDRESS.match(settings.email_from):
        problems.append(f"{_var('email_from')}: not an email address")
    if settings.email_to and not all(_ADDRESS.match(a) for a in settings.recipients()):
        problems.append(f"{_var('email_to')}: not a comma-separated list of email addresses")
    if (settings.smtp_username is None) != (settings.smtp_password is None):
        problems.append(
            f"{_var('smtp_username')} and {_var('smtp_password')}: set both (AUTH) or neither"
        )
    clear_text = settings.smtp_password is not None and not settings.smtp_starttls
    if clear_text and settings.smtp_host not in _LOOPBACK:
        problems.append(
            f"{_var('smtp_starttls')}: must be on when {_var('smtp_password')} is set "
            "(the password would cross the network in clear)"
        )
    if settings.smtp_ca_cert is not None and not settings.smtp_ca_cert.is_file():
        problems.append(f"{_var('smtp_ca_cert')}: no such file")
    return problems


def longest_sends_s(settings: Settings) -> dict[str, float]:
    """The longest one send can take, per kind of channel in use (claims must outlast each).

    A kind that is not configured never sends, so its timeouts do not bound the claim.
    """
    longest: dict[str, float] = {}
    slack_hooks = (settings.webhook_for(channel) for channel in ("critical", "alerts", "data"))
    if any(hook is not None for hook in slack_hooks):
        longest["slack"] = SlackNotifier.longest(
            settings.slack_timeout_s, settings.slack_max_retries, settings.slack_max_retry_after_s
        )
    if settings.pagerduty_routing_key is not None:
        longest["pagerduty"] = PagerDutyNotifier.longest(
            settings.pagerduty_timeout_s, PAGERDUTY_RETRIES, PAGERDUTY_MAX_RETRY_AFTER_S
        )
    if settings.smtp_host is not None:
        longest["email"] = EmailNotifier.longest(settings.smtp_timeout_s, EMAIL_RETRIES)
    return longest


def channel_problems(settings: Settings) -> list[str]:
    """Everything unusable in the channel settings, one line each, naming the variable."""
    problems: list[str] = []
    for field in (
        "slack_webhook_url",
        "slack_critical_webhook_url",
        "slack_alerts_webhook_url",
        "slack_data_webhook_url",
    ):
        problem = _secret_url_problem(
            field, getattr(settings, field), "a Slack incoming webhook (https://hooks.slack.com/…)"
        )
        problems.extend([problem] if problem else [])
    key = settings.pagerduty_routing_key
    if key is not None:
        if not _ROUTING_KEY.match(key.get_secret_value()):
            problems.append(
                f"{_var('pagerduty_routing_key')}: not an Events API v2 integration key "
                "(32 letters and digits)"
            )
        problem = _url_problem(
            "pagerduty_url", settings.pagerduty_url, "the Events API", https_only=True
        )
        problems.extend([problem] if problem else [])
        if settings.pagerduty_ca_cert is not None and not settings.pagerduty_ca_cert.is_file():
            problems.append(f"{_var('pagerduty_ca_cert')}: no such file")
    problems.extend(_email_problems(settings))
    for kind, longest in longest_sends_s(settings).items():
        if settings.claim_ttl_s <= longest:
            problems.append(
                f"{_var('claim_ttl_s')}: must exceed the longest {kind} send ({longest:g} s with "
                "these timeout and retry settings)"
            )
    return problems


class Channels:
    """The configured notifiers, by channel name, and the routing over them."""

    def __init__(self, notifiers: list[Notifier]) -> None:
        self._notifiers = {notifier.channel: notifier for notifier in notifiers}

    @classmethod
    def from_settings(cls, settings: Settings) -> Channels:
        """Every channel the settings configure (already checked by the settings)."""
        notifiers: list[Notifier] = []
        for channel, slack in _SLACK.items():
            webhook = settings.webhook_for(slack)
            if webhook is not None:
                notifiers.append(
                    SlackNotifier(
                        channel,
                        webhook,
                        timeout_s=settings.slack_timeout_s,
                        max_retries=settings.slack_max_retries,
                        max_retry_after_s=settings.slack_max_retry_after_s,
                    )
                )
        if settings.pagerduty_routing_key is not None:
            notifiers.append(
                PagerDutyNotifier(
                    settings.pagerduty_routing_key,
                    url=settings.pagerduty_url,
                    ca_cert=settings.pagerduty_ca_cert,
                    timeout_s=settings.pagerduty_timeout_s,
                    max_retries=PAGERDUTY_RETRIES,
                    max_retry_after_s=PAGERDUTY_MAX_RETRY_AFTER_S,
                )
            )
        if settings.smtp_host and settings.email_from:
            notifiers.append(
                EmailNotifier(
                    host=settings.smtp_host,
                    port=settings.smtp_port,
                    sender=settings.email_from,
                    recipients=settings.recipients(),
                    username=settings.smtp_username,
                    password=settings.smtp_password,
                    starttls=settings.smtp_starttls,
                    ca_cert=settings.smtp_ca_cert,
                    timeout_s=settings.smtp_timeout_s,
                    max_retries=EMAIL_RETRIES,
                )
            )
        return cls(notifiers)

    def __iter__(self) -> Iterator[Notifier]:
        return iter(self._notifiers.values())

    def __contains__(self, channel: object) -> bool:
        return channel in self._notifiers

    def get(self, channel: str) -> Notifier | None:
        return self._notifiers.get(channel)

    @property
    def names(self) -> list[str]:
        return list(self._notifiers)

    def routed(self, severity: Severity, category: Category) -> list[str]:
        """The configured channels of the alert's route (an unconfigured one is skipped)."""
        return [c for c in route(severity, category) if c in self._notifiers]

    def for_watcher(self, failing: set[str]) -> list[str]:
        """Where the watcher reports its own trouble: the critical route, else any channel;
        never a failing one."""
        healthy = [c for c in self._notifiers if c not in failing]
        critical: list[str] = [c for c in CRITICAL_ROUTE if c in healthy]
        return critical or healthy
