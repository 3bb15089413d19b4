"""Translate Kibana queries and filters into Elasticsearch query DSL, the way Kibana does.

KQL is parsed by `kibana.kql` and translated by `kibana.kql_dsl` (Kibana's `kuery/functions/`);
Lucene runs as `query_string` with Kibana's default `query:queryString:options`
(`analyze_wildcard: true`) and its `dateFormat:tz` as `time_zone`, as `buildEsQuery` sends it.
Saved filters carry their own DSL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kibana import kql
from kibana.errors import UntranslatableQueryError
from kibana.kql_dsl import Query, kql_to_dsl
from kibana.mapping import FieldTypes

__all__ = ["Query", "Translation", "combine", "filter_to_dsl", "query_to_dsl", "translate_query"]

DEFAULT_TIME_ZONE = "UTC"
# Kibana's default `query:queryString:options` advanced setting.
_QUERY_STRING_OPTIONS: dict[str, Any] = {"analyze_wildcard": True}


@dataclass(frozen=True, slots=True)
class Translation:
    """A query's DSL, and the fields it names that the mapping lacks (they match nothing)."""

    query: Query
    unknown_fields: tuple[str, ...] = ()


def translate_query(
    query: str, language: str, types: FieldTypes, *, time_zone: str = DEFAULT_TIME_ZONE
) -> Translation:
    """Translate a saved search's `query` object (`kuery` or `lucene`) into query DSL.

    `time_zone` is Kibana's `dateFormat:tz`: the zone of dates written without one.

    Raises:
        QuerySyntaxError: the KQL does not parse (the message names the position).
        UntranslatableQueryError: unknown language, or a query Elasticsearch would refuse.
    """
    if language == "kuery":
        dsl, unknown = kql_to_dsl(kql.parse(query), types, time_zone)
        return Translation(dsl, unknown)
    if language == "lucene":
        if not kql.js_trim(query):
            return Translation({"match_all": {}})
        options = {**_QUERY_STRING_OPTIONS, "time_zone": time_zone}
        return Translation({"query_string": {"query": query, **options}})
    raise UntranslatableQueryError(f"unknown query language {language!r}")


def query_to_dsl(
    query: str, language: str, types: FieldTypes, *, time_zone: str = DEFAULT_TIME_ZONE
) -> Query:
    """The query DSL of `translate_query` alone (unknown fields not reported)."""
    return translate_query(query, language, types, time_zone=time_zone).query


def filter_to_dsl(saved_filter: Mapping[str, Any]) -> Query:
    """The query DSL of one saved (pinned or app) filter, as Kibana sends it.

    Kibana 8 stores the DSL under `query`; older filters keep it at top level next to `meta`.
    """
    if "query" in saved_filter:
        return dict(saved_filter["query"])
    body = {k: v for k, v in saved_filter.items() if k not in {"meta", "$state"}}
    if len(body) != 1:
        raise UntranslatableQueryError(f"a filter without a query: {sorted(body)}")
    return body


def combine(query: Query, filters: Sequence[Mapping[str, Any]]) -> Query:
    """The query plus its filters: disabled filters dropped, negated ones under `must_not`."""
    must: list[Query] = [query]
    must_not: list[Query] = []
    for saved_filter in filters:
        meta = saved_filter.get("meta") or {}
        if meta.get("disabled"):
            continue
        (must_not if meta.get("negate") else must).append(filter_to_dsl(saved_filter))
    if len(must) == 1 and not must_not:
        return query
    combined: Query = {"bool": {"filter": must}}
    if must_not:
        combined["bool"]["must_not"] = must_not
    return combined
