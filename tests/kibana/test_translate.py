"""KQL and Lucene saved-search queries translate to the query DSL Kibana would run."""

from __future__ import annotations

from typing import Any

import pytest

from kibana.errors import QuerySyntaxError, UntranslatableQueryError
from kibana.translate import combine, query_to_dsl, translate_query

TYPES = {
    "event.action": "keyword",
    "message": "text",
    "message.keyword": "keyword",
    "@timestamp": "date",
    "event.duration": "long",
    "amf1.model.loaded": "boolean",
    "amf1.model.name": "keyword",
    "amf1.drift.score": "double",
    "service.tier": "constant_keyword",
    "spans": "nested",
    "spans.name": "keyword",
}


def term(field: str, value: object) -> dict[str, Any]:
    return {"term": {field: {"value": value}}}


def should(*queries: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"should": list(queries), "minimum_should_match": 1}}


UTC = "UTC"
# (id naming Kibana's `is` / `range` / `nested` / `and` / `or` / `not` branch, KQL, DSL)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("start: empty is match_all", "", {"match_all": {}}),
    ("is: *:* is match_all", "*:*", {"match_all": {}}),
    (
        "is: keyword term",
        "event.action: model-load-failed",
        term("event.action", "model-load-failed"),
    ),
    ("is: keyword term, quoted", 'event.action : "a b"', term("event.action", "a b")),
    ("is: keyword term keeps the spaces", "event.action: a  b", term("event.action", "a  b")),
    ("is: keyword as a value", "event.action: and", term("event.action", "and")),
    ("is: true literal", "event.action: true", term("event.action", True)),
    (
        "is: text match, multi-word",
        "message: connection refused",
        {"match": {"message": "connection refused"}},
    ),
    (
        "is: text match_phrase",
        'message: "model file missing"',
        {"match_phrase": {"message": "model file missing"}},
    ),
    ("is: numeric match", "event.duration: 5", {"match": {"event.duration": "5"}}),
    ("is: boolean match", "amf1.model.loaded: false", {"match": {"amf1.model.loaded": False}}),
    ("is: constant_keyword match", "service.tier: gold", {"match": {"service.tier": "gold"}}),
    ("is: exists", "event.action: *", {"exists": {"field": "event.action"}}),
    (
        "is: keyword wildcard, query_string escaping",
        "event.action: predict-*",
        {"wildcard": {"event.action": {"value": "predict\\-*"}}},
    ),
    (
        "is: text wildcard is query_string",
        "message: time*",
        {"query_string": {"fields": ["message"], "query": "time*"}},
    ),
    ("is: escaped star is not a wildcard", r"message: a\*b", {"match": {"message": "a*b"}}),
    (
        "is: escaped star inside a wildcard",
        r"event.action: a\**",
        {"wildcard": {"event.action": {"value": "a\\**"}}},
    ),
    (
        "is: date range with time zone",
        '@timestamp: "2026-01-01"',
        {"range": {"@timestamp": {"gte": "2026-01-01", "lte": "2026-01-01", "time_zone": UTC}}},
    ),
    (
        "is: epoch date without time zone",
        "@timestamp: 1767225600000",
        {"range": {"@timestamp": {"gte": "1767225600000", "lte": "1767225600000"}}},
    ),
    (
        "is: free text multi_match best_fields",
        "connection refused",
        {"multi_match": {"type": "best_fields", "query": "connection refused", "lenient": True}},
    ),
    (
        "is: free text multi_match phrase",
        '"a b"',
        {"multi_match": {"type": "phrase", "query": "a b", "lenient": True}},
    ),
    (
        "is: free text wildcard is query_string",
        "time* out",
        {"query_string": {"query": "time* out"}},
    ),
    (
        "is: null field is free text",
        "null: x",
        {"multi_match": {"type": "best_fields", "query": "x", "lenient": True}},
    ),
    (
        "is: field wildcard expands",
        "amf1.model.*: stage1",
        should({"match": {"amf1.model.loaded": "stage1"}}, term("amf1.model.name", "stage1")),
    ),
    (
        "is: *: value queries every field",
        "*: x",
        should(
            {"range": {"@timestamp": {"gte": "x", "lte": "x", "time_zone": UTC}}},
            {"match": {"amf1.drift.score": "x"}},
            {"match": {"amf1.model.loaded": "x"}},
            term("amf1.model.name", "x"),
            term("event.action", "x"),
            {"match": {"event.duration": "x"}},
            {"match": {"message": "x"}},
            term("message.keyword", "x"),
            {"match": {"service.tier": "x"}},
            {"nested": {"path": "spans", "query": term("spans.name", "x"), "score_mode": "none"}},
        ),
    ),
    (
        "range: numeric",
        "event.duration > 200000000",
        {"range": {"event.duration": {"gt": "200000000"}}},
    ),
    (
        "range: date with time zone",
        '@timestamp >= "2026-01-01T10:00"',
        {"range": {"@timestamp": {"gte": "2026-01-01T10:00", "time_zone": UTC}}},
    ),
    ("range: string", "event.action < m", {"range": {"event.action": {"lt": "m"}}}),
    ("range: text", "message > a", {"range": {"message": {"gt": "a"}}}),
    (
        "and: bool filter, not: must_not",
        "event.action: a and not amf1.model.loaded: true",
        {
            "bool": {
                "filter": [
                    term("event.action", "a"),
                    {"bool": {"must_not": [{"match": {"amf1.model.loaded": True}}]}},
                ]
            }
        },
    ),
    (
        "or: value list",
        "event.action: (a or b c)",
        should(term("event.action", "a"), term("event.action", "b c")),
    ),
    (
        "nested",
        "spans: { name: x }",
        {"nested": {"path": "spans", "query": term("spans.name", "x"), "score_mode": "none"}},
    ),
    (
        "nested: wildcard field wraps nested fields",
        "spans.*: x",
        {"nested": {"path": "spans", "query": term("spans.name", "x"), "score_mode": "none"}},
    ),
]


@pytest.mark.parametrize(("kql", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kql_translates_like_kibana(kql: str, expected: dict[str, Any]) -> None:
    """Each KQL form becomes the query Kibana's functions build for that field type."""
    assert query_to_dsl(kql, "kuery", TYPES) == expected


def test_time_zone_setting_reaches_date_queries() -> None:
    """The time zone (Kibana's dateFormat:tz) goes on date ranges, not on epoch values."""
    dsl = query_to_dsl("@timestamp < 2026-01-02", "kuery", TYPES, time_zone="Europe/Paris")
    assert dsl == {"range": {"@timestamp": {"lt": "2026-01-02", "time_zone": "Europe/Paris"}}}


def test_unknown_fields_run_as_kibana_runs_them_and_are_reported() -> None:
    """A field the mapping lacks is queried as written (matches nothing) and reported once."""
    result = translate_query("no.such: x or no.such > 3 or zz*: y*", "kuery", TYPES)
    assert result.query == should(
        {"match": {"no.such": "x"}},
        {"range": {"no.such": {"gt": "3"}}},
        {"query_string": {"fields": ["zz*"], "query": "y*"}},
    )
    assert result.unknown_fields == ("no.such", "zz*")


@pytest.mark.parametrize(
    "kql",
    ["event.action: a b:", "event.action: (a or", 'message: "open', "a:b and ", "a:)", "a: not b"],
)
def test_invalid_kql_is_a_syntax_error(kql: str) -> None:
    """A query Kibana's grammar refuses is refused with a syntax error, not guessed at."""
    with pytest.raises(QuerySyntaxError, match="position"):
        query_to_dsl(kql, "kuery", TYPES)


@pytest.mark.parametrize(
    "kql",
    [
        "event.duration: 12*",
        "@timestamp: 2026*",
        "*: x*",
        "f:{x:y}",
        "spans.name: x",
    ],
)
def test_queries_elasticsearch_or_kibana_refuse_are_refused_at_load(kql: str) -> None:
    """Wildcards on numeric/date fields and misused nested groups fail in Discover too."""
    with pytest.raises(UntranslatableQueryError):
        query_to_dsl(kql, "kuery", TYPES)


def test_lucene_runs_as_query_string_with_kibana_defaults() -> None:
    """A Lucene saved search is sent as query_string with analyze_wildcard and the time zone."""
    assert query_to_dsl("tags:error AND NOT x", "lucene", TYPES, time_zone="UTC") == {
        "query_string": {
            "query": "tags:error AND NOT x",
            "analyze_wildcard": True,
            "time_zone": "UTC",
        }
    }
    assert query_to_dsl(" \u00a0", "lucene", TYPES) == {"match_all": {}}


def test_filters_disabled_dropped_negated_must_not() -> None:
    """Disabled filters are ignored and negated ones exclude, like pinned filters in Discover."""
    q = {"match_all": {}}
    filters = [
        {"meta": {"disabled": False, "negate": False}, "query": {"term": {"a": 1}}},
        {"meta": {"disabled": True, "negate": False}, "query": {"term": {"b": 1}}},
        {"meta": {"disabled": False, "negate": True}, "query": {"term": {"c": 1}}},
        {"meta": {}, "exists": {"field": "d"}},
    ]
    assert combine(q, filters) == {
        "bool": {
            "filter": [q, {"term": {"a": 1}}, {"exists": {"field": "d"}}],
            "must_not": [{"term": {"c": 1}}],
        }
    }
