"""KQL and Lucene saved-search queries translate to the query DSL Kibana would run."""

from __future__ import annotations

from typing import Any

import pytest

from kibana.errors import QuerySyntaxError, UntranslatableQueryError
from kibana.translate import combine, query_to_dsl

TYPES = {
    "event.action": "keyword",
    "message": "text",
    "message.keyword": "keyword",
    "@timestamp": "date",
    "event.duration": "long",
    "amf1.model.loaded": "boolean",
    "amf1.model.name": "keyword",
    "amf1.drift.score": "double",
}

CASES: list[tuple[str, dict[str, Any]]] = [
    ("", {"match_all": {}}),
    ("event.action: model-load-failed", {"term": {"event.action": "model-load-failed"}}),
    ('event.action : "model-load-failed"', {"term": {"event.action": "model-load-failed"}}),
    ("message: timeout", {"match": {"message": "timeout"}}),
    ('message: "model file missing"', {"match_phrase": {"message": "model file missing"}}),
    ("event.action: *", {"exists": {"field": "event.action"}}),
    ("event.action: predict*", {"wildcard": {"event.action": {"value": "predict*"}}}),
    ("message: time*", {"query_string": {"fields": ["message"], "query": "time*"}}),
    ("event.duration > 200000000", {"range": {"event.duration": {"gt": "200000000"}}}),
    ("amf1.drift.score <= 0.5", {"range": {"amf1.drift.score": {"lte": "0.5"}}}),
    (
        '@timestamp: "2026-01-01"',
        {"range": {"@timestamp": {"gte": "2026-01-01", "lte": "2026-01-01"}}},
    ),
    ("amf1.model.loaded: false", {"term": {"amf1.model.loaded": "false"}}),
    (
        "event.action: a and not amf1.model.loaded: true",
        {
            "bool": {
                "filter": [
                    {"term": {"event.action": "a"}},
                    {"bool": {"must_not": [{"term": {"amf1.model.loaded": "true"}}]}},
                ]
            }
        },
    ),
    (
        "event.action: (prediction-succeeded OR prediction-failed)",
        {
            "bool": {
                "should": [
                    {"term": {"event.action": "prediction-succeeded"}},
                    {"term": {"event.action": "prediction-failed"}},
                ],
                "minimum_should_match": 1,
            }
        },
    ),
    (
        "(event.action: a or event.action: b) and message: x",
        {
            "bool": {
                "filter": [
                    {
                        "bool": {
                            "should": [
                                {"term": {"event.action": "a"}},
                                {"term": {"event.action": "b"}},
                            ],
                            "minimum_should_match": 1,
                        }
                    },
                    {"match": {"message": "x"}},
                ]
            }
        },
    ),
    (
        "amf1.model.*: stage1",
        {
            "bool": {
                "should": [
                    {"term": {"amf1.model.loaded": "stage1"}},
                    {"term": {"amf1.model.name": "stage1"}},
                ],
                "minimum_should_match": 1,
            }
        },
    ),
    ("timeout", {"multi_match": {"type": "best_fields", "query": "timeout", "lenient": True}}),
    ('"a b"', {"multi_match": {"type": "phrase", "query": "a b", "lenient": True}}),
    (r"message: a\*b", {"match": {"message": "a*b"}}),
    (r'message: "say \"hi\""', {"match_phrase": {"message": 'say "hi"'}}),
    ("event.action: android", {"term": {"event.action": "android"}}),
]


@pytest.mark.parametrize(("kql", "expected"), CASES)
def test_kql_translates_like_kibana(kql: str, expected: dict[str, Any]) -> None:
    """Each KQL form becomes the query Kibana would send for that field type."""
    assert query_to_dsl(kql, "kuery", TYPES) == expected


@pytest.mark.parametrize(
    "kql",
    ["event.action: a b", "event.action: (a or", 'message: "open', "a:b and", "f:{x:y}", "a:)"],
)
def test_invalid_kql_is_a_syntax_error(kql: str) -> None:
    """A query Kibana would reject is refused with a syntax error, not guessed at."""
    with pytest.raises(QuerySyntaxError):
        query_to_dsl(kql, "kuery", TYPES)


@pytest.mark.parametrize(
    "kql",
    ["no.such.field: x", "event.duration: 12*", "message > a", "event.duration > 1*", "zz*: x"],
)
def test_untranslatable_kql_is_refused(kql: str) -> None:
    """Unknown fields and wildcards/ranges a field type cannot answer are load-time errors."""
    with pytest.raises(UntranslatableQueryError):
        query_to_dsl(kql, "kuery", TYPES)


def test_lucene_runs_as_query_string() -> None:
    """A Lucene saved search is sent verbatim as query_string, as Kibana does."""
    assert query_to_dsl("tags:error AND NOT x", "lucene", TYPES) == {
        "query_string": {"query": "tags:error AND NOT x"}
    }


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
