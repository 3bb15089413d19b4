"""Assemble a watcher from settings: client, field types, rules, channels, signals."""

from __future__ import annotations

from collections.abc import Iterable

from alerting.backend import field_types, make_client
from alerting.channels import Channels
from alerting.loading import load_compiled_rules
from alerting.rules import Rule
from alerting.settings import Settings
from alerting.signals import Signal
from alerting.signals.drift import drift_signals
from alerting.signals.performance import PerformanceSignal, level_rules
from alerting.watcher import Watcher


def build_signals(settings: Settings, rules: Iterable[Rule]) -> list[Signal]:
    """The whole-service signals the watcher runs (see `alerting.signals`)."""
    return [
        *drift_signals(settings.drift, settings.index_prefix),
        PerformanceSignal(
            settings.performance, index_prefix=settings.index_prefix, levels=level_rules(rules)
        ),
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
    notifier = Channels.from_settings(settings)
    return Watcher(
        settings,
        rules,
        es,
        notifier,
        signals=build_signals(settings, (compiled.rule for compiled in rules)),
    )
