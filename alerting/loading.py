"""Load the alert rules and cross-check them with the saved searches and the field mapping.

Everything that can be wrong with the rules as the watcher will run them is found here, at load
time: an unknown saved search, a field the mapping does not have, a query that cannot be
translated, a saved search on another data view. `amf1 watch --once` turns these into a
non-zero exit. A saved search naming a field the mapping lacks still loads (Kibana runs it, and
that part matches nothing) but is logged as a warning naming the rule, the search and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from alerting.errors import ConfigurationError
from alerting.rules import MetricCondition, RatioCondition, Rule, load_rules
from kibana.errors import KibanaError
from kibana.mapping import FieldTypes
from kibana.saved_objects import SavedSearch, load_saved_searches
from kibana.translate import DEFAULT_TIME_ZONE, Query

_log = structlog.get_logger("amf1.alerting.loading")


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its saved search(es) translated to query DSL."""

    rule: Rule
    search: SavedSearch
    query: Query
    numerator_query: Query | None = None
    # Fields the searches query that the mapping lacks: those parts match nothing, as in Kibana.
    unknown_fields: tuple[str, ...] = ()

    @property
    def time_field(self) -> str:
        return self.search.time_field


def _check_field(rule: Rule, label: str, name: str, types: FieldTypes) -> None:
    if name not in types:
        raise ConfigurationError(f"rule {rule.id!r}: field {label}: {name!r} is not in the mapping")


def _translate(
    rule: Rule, label: str, search: SavedSearch, types: FieldTypes, time_zone: str
) -> tuple[Query, tuple[str, ...]]:
    """The search's DSL and the fields it names that the mapping lacks (each logged as a
    warning)."""
    try:
        translation = search.translate(types, time_zone=time_zone)
    except KibanaError as exc:
        raise ConfigurationError(f"rule {rule.id!r}: field {label}: {exc}") from exc
    for name in translation.unknown_fields:
        _log.warning(
            f"rule {rule.id}: saved search {search.id} queries {name!r}, a field the mapping "
            "does not have: that part of the query matches nothing",
            **{
                "amf1.alert.rule": rule.id,
                "amf1.kibana.search": search.id,
                "amf1.kibana.field": name,
            },
        )
    return translation.query, tuple(translation.unknown_fields)


def compile_rule(
    rule: Rule,
    searches: dict[str, SavedSearch],
    types: FieldTypes,
    index_prefix: str,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> CompiledRule:
    """Resolve and translate one rule's searches.

    Raises:
        ConfigurationError: naming the rule and the field at fault.
    """
    search = searches.get(rule.search)
    if search is None:
        raise ConfigurationError(f"rule {rule.id!r}: field search: no saved search {rule.search!r}")
    if search.index_pattern != f"{index_prefix}*":
        raise ConfigurationError(
            f"rule {rule.id!r}: field search: {rule.search!r} runs on {search.index_pattern!r}, "
            f"not on {index_prefix}*"
        )
    numerator_query = None
    unknown: tuple[str, ...] = ()
    condition = rule.condition
    if isinstance(condition, RatioCondition):
        numerator = searches.get(condition.numerator)
        if numerator is None:
            raise ConfigurationError(
                f"rule {rule.id!r}: field condition.numerator: no saved search "
                f"{condition.numerator!r}"
            )
        numerator_query, unknown = _translate(
            rule, "condition.numerator", numerator, types, time_zone
        )
    if isinstance(condition, MetricCondition):
        _check_field(rule, "condition.field", condition.field, types)
    if rule.group_by:
        _check_field(rule, "group_by", rule.group_by, types)
    query, unknown_in_search = _translate(rule, "search", search, types, time_zone)
    unknown_fields = tuple(dict.fromkeys((*unknown_in_search, *unknown)))
    return CompiledRule(rule, search, query, numerator_query, unknown_fields)


def load_compiled_rules(
    rules_file: Path,
    saved_objects_dir: Path,
    types: FieldTypes,
    index_prefix: str,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> list[CompiledRule]:
    """Every rule of `rules_file`, compiled against the saved searches and mapping.

    `time_zone` is the zone of query dates written without one (`AMF1_KQL_TIME_ZONE`).

    Raises:
        ConfigurationError: one message listing every problem found.
    """
    rules = load_rules(rules_file)
    try:
        searches = load_saved_searches(saved_objects_dir)
    except KibanaError as exc:
        raise ConfigurationError(str(exc)) from exc
    compiled: list[CompiledRule] = []
    problems: list[str] = []
    for rule in rules:
        try:
            compiled.append(compile_rule(rule, searches, types, index_prefix, time_zone=time_zone))
        except ConfigurationError as exc:
            problems.append(f"{rules_file}: {exc}")
    if problems:
        raise ConfigurationError("\n".join(problems))
    return compiled
