"""Translate Kibana queries and filters into Elasticsearch query DSL, the way Kibana does.

KQL follows `@kbn/es-query`'s `is`/`range`/`and`/`or`/`not` functions, with the field type
from the data view deciding the query:

| KQL | field type | query |
| --- | --- | --- |
| `f: *` | any | `exists` |
| `f: v` / `f: "v"` | keyword, numeric, boolean, ip | `term` (*) |
| `f: v` | text | `match` |
| `f: "v w"` | text | `match_phrase` |
| `f: v` | date | `range` gte=lte=v |
| `f: v*` | keyword | `wildcard` |
| `f: v*` | text | `query_string` on `f` |
| `f > v` | any orderable | `range` |
| `v` / `"v w"` | (no field) | `multi_match` best_fields / phrase, lenient |

(*) Kibana sends `match`/`match_phrase` here; on these field types both reduce to one term query,
so `term` is the same search, stated plainly.

An unknown field, a wildcard on a numeric or date field, or a range with a wildcard raise
`UntranslatableQueryError`: a query is either translated faithfully or refused at load time.
Lucene queries run as `query_string`, exactly as Kibana sends them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from kibana import kql
from kibana.errors import UntranslatableQueryError
from kibana.mapping import DATE_TYPES, EXACT_TYPES, KEYWORD_TYPES, TEXT_TYPES, FieldTypes

Query = dict[str, Any]

_LUCENE_SPECIAL = frozenset('+-=&|><!(){}[]^"~*?:\\/ ')


def _lucene_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in _LUCENE_SPECIAL else c for c in text)


def _wildcard_pattern(value: kql.Value) -> str:
    """The `wildcard` query pattern: literal `*`, `?` and `\\` escaped, wildcards kept."""
    out: list[str] = []
    for part in value.parts:
        if isinstance(part, kql.Wildcard):
            out.append("*")
        else:
            out.append("".join(f"\\{c}" if c in "*?\\" else c for c in part))
    return "".join(out)


def _query_string_pattern(value: kql.Value) -> str:
    return "".join(
        "*" if isinstance(part, kql.Wildcard) else _lucene_escape(part) for part in value.parts
    )


def _fields(field: kql.Value, types: FieldTypes) -> list[str]:
    """The mapped fields a KQL field name designates (a wildcard name may expand to several)."""
    if field.has_wildcard:
        glob = _wildcard_glob(field)
        matched = sorted(name for name in types if fnmatch.fnmatchcase(name, glob))
        if not matched:
            raise UntranslatableQueryError(f"field pattern {field.parts!r} matches no field")
        return matched
    if field.text not in types:
        raise UntranslatableQueryError(f"unknown field {field.text!r} (not in the index mapping)")
    return [field.text]


def _wildcard_glob(field: kql.Value) -> str:
    return "".join(
        "*" if isinstance(p, kql.Wildcard) else p.replace("[", "[[]").replace("?", "[?]")
        for p in field.parts
    )


def _any_of(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _is_on_field(name: str, field_type: str, value: kql.Value) -> Query:
    if value.is_match_all:
        return {"exists": {"field": name}}
    if value.has_wildcard:
        if field_type in KEYWORD_TYPES:
            return {"wildcard": {name: {"value": _wildcard_pattern(value)}}}
        if field_type in TEXT_TYPES:
            return {"query_string": {"fields": [name], "query": _query_string_pattern(value)}}
        raise UntranslatableQueryError(f"a wildcard value on {field_type} field {name!r}")
    if field_type in DATE_TYPES:
        return {"range": {name: {"gte": value.text, "lte": value.text}}}
    if field_type in EXACT_TYPES:
        return {"term": {name: value.text}}
    if field_type in TEXT_TYPES:
        return {"match_phrase" if value.quoted else "match": {name: value.text}}
    raise UntranslatableQueryError(f"cannot query {field_type} field {name!r}")


def _is(node: kql.Is, types: FieldTypes) -> Query:
    if node.field is None:
        if node.value.has_wildcard:
            return {"query_string": {"query": _query_string_pattern(node.value)}}
        kind = "phrase" if node.value.quoted else "best_fields"
        return {"multi_match": {"type": kind, "query": node.value.text, "lenient": True}}
    if node.field.is_match_all:
        raise UntranslatableQueryError("`*:` field-less wildcard queries are not supported")
    names = _fields(node.field, types)
    return _any_of([_is_on_field(name, types[name], node.value) for name in names])


def _range(node: kql.Range, types: FieldTypes) -> Query:
    if node.value.has_wildcard:
        raise UntranslatableQueryError("a range bound cannot contain a wildcard")
    queries = []
    for name in _fields(node.field, types):
        if types[name] in TEXT_TYPES:
            raise UntranslatableQueryError(f"a range on text field {name!r}")
        queries.append({"range": {name: {node.op: node.value.text}}})
    return _any_of(queries)


def kql_to_dsl(node: kql.Node | None, types: FieldTypes) -> Query:
    """Translate a parsed KQL query (None: match all) into query DSL."""
    if node is None:
        return {"match_all": {}}
    if isinstance(node, kql.Is):
        return _is(node, types)
    if isinstance(node, kql.Range):
        return _range(node, types)
    if isinstance(node, kql.And):
        return {"bool": {"filter": [kql_to_dsl(child, types) for child in node.children]}}
    if isinstance(node, kql.Or):
        return _any_of([kql_to_dsl(child, types) for child in node.children])
    return {"bool": {"must_not": [kql_to_dsl(node.child, types)]}}


def query_to_dsl(query: str, language: str, types: FieldTypes) -> Query:
    """Translate a saved search's `query` object (`kuery` or `lucene`) into query DSL.

    Raises:
        QuerySyntaxError, UntranslatableQueryError: the query cannot be run faithfully.
    """
    if language == "kuery":
        return kql_to_dsl(kql.parse(query), types)
    if language == "lucene":
        if not query.strip():
            return {"match_all": {}}
        return {"query_string": {"query": query}}
    raise UntranslatableQueryError(f"unknown query language {language!r}")


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
