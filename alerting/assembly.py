"""Assemble a watcher from settings: client, field types, rules, Slack notifier, signals."""

from __future__ import annotations

from alerting.backend import field_types, make_client
from alerting.loading import load_compiled_rules
from alerting.notify import SlackNotifier
from alerting.settings import Settings
from alerting.signals import Signal
from alerting.signals.drift import drift_signals
from alerting.signals.performance import PerformanceSignal
from alerting.watcher import Watcher


def build_signals(settings: Settings) -> list[Signal]:
    """The whole-service signals the watcher runs (see `alerting.signals`)."""
    return [
        *drift_signals(settings.drift, settings.index_prefix),
        PerformanceSignal(settings.performance, index_prefix=settings.index_prefix),
    ]


def build_watcher(settings: Settings) -> Watcher:
    """A ready watcher.

    Raises:
        ConfigurationError: the rules, saved searches or mapping are unusable.
        BackendUnavailableError: no template file and Elasticsearch cannot give the mapping.
    """
    es = make_client(settings)
    rules = load_compiled_rules(
        settings.rules_file,
        settings.saved_objects_dir,
        field_types(settings, es),
        settings.index_prefix,
        time_zone=settings.kql_time_zone,
    )
    notifier = SlackNotifier(
        {channel: settings.webhook_for(channel) for channel in ("critical", "alerts")},
        timeout_s=settings.slack_timeout_s,
        max_retries=settings.slack_max_retries,
        max_retry_after_s=settings.slack_max_retry_after_s,
    )
    return Watcher(settings, rules, es, notifier, signals=build_signals(settings))
