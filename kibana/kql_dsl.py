"""Turn a parsed KQL query into query DSL the way Kibana's `kuery/functions/` do.

The field type from the data view (here the index mapping) decides what `is` builds:

| KQL | field type | query |
| --- | --- | --- |
| `*: *` / empty query | - | `match_all` |
| `f: *` | any | `exists` |
| `f: v w` / `f: "v w"` | keyword | `term` (value kept whole, spaces included) |
| `f: v w` | date | `range` gte = lte = value, with `time_zone` unless the value is epoch digits |
| `f: v w` / `f: "v w"` | any other (text, numeric, boolean, ip...) | `match` / `match_phrase` |
| `f: v*` | keyword | `wildcard` |
| `f: v*` | any other | `query_string` on `f` |
| `f > v` | any | `range` (`time_zone` on dates, as above) |
| `v w` / `"v w"` | (no field) | `multi_match` best_fields / phrase, lenient |
| `v*` | (no field) | `query_string` |
| `p: { q }` | nested `p` | `nested` query, score_mode none |

A field name with `*` (`*: v` included) stands for every mapped field it matches; where a name
designates several fields, Kibana joins their queries with `bool.should` (one field: the query
itself here, the same search). A field the mapping lacks is queried as written, as Kibana does (it
matches nothing), and is reported in `unknown_fields`. Two things Kibana would send but
Elasticsearch always refuses are refused here at load time instead: a wildcard value on a
numeric, date, boolean or ip field, and a nested query on a field that is not nested (with the
field errors Kibana itself raises for nested groups).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Final

from kibana.errors import UntranslatableQueryError
from kibana.kql_nodes import And, Is, LiteralValue, Nested, Node, Or, Range, Value, Wildcard
from kibana.mapping import DATE_TYPES, NO_WILDCARD_TYPES, FieldTypes

Query = dict[str, Any]

# Reserved characters of query_string, escaped by Kibana's `wildcard.toQueryStringQuery`.
_QUERY_STRING_RESERVED: Final = frozenset('+-=&|><!(){}[]^"~*?:\\/')
_EPOCH: Final = re.compile(r"[0-9]+")


@dataclass(slots=True)
class _Context:
    types: FieldTypes
    time_zone: str
    unknown: list[str] = field(default_factory=list)
    nested_path: str | None = None


def _query_string_pattern(value: Value) -> str:
    return "".join(
        "*"
        if isinstance(part, Wildcard)
        else "".join(f"\\{c}" if c in _QUERY_STRING_RESERVED else c for c in part)
        for part in value.parts
    )


def _nested_parent(name: str, types: FieldTypes) -> str | None:
    """The path of the nested object holding `name`, if any."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:end])
        if types.get(prefix) == "nested":
            return prefix
    return None


def _check_nested_group(name: str, ctx: _Context) -> None:
    """Kibana's own errors for a field used inside / outside the wrong nested group."""
    parent = _nested_parent(name, ctx.types)
    if ctx.nested_path and not parent:
        problem = f"{name} is not a nested field but is in nested group {ctx.nested_path!r}"
    elif parent and not ctx.nested_path:
        problem = f"{name} is a nested field, but is not in a nested group"
    elif parent != ctx.nested_path:
        problem = f"nested field {name} is queried with the path {ctx.nested_path}, not {parent}"
    else:
        return
    raise UntranslatableQueryError(f"{problem} in the KQL expression")


def _fields(name: Value, ctx: _Context) -> list[tuple[str, str]]:
    """The (field, type) pairs a KQL field name designates; unknown: the name as written."""
    full = f"{ctx.nested_path}.{name.text}" if ctx.nested_path else name.text
    # A data view lists the fields inside a nested object, not the object itself.
    fields = {n: t for n, t in ctx.types.items() if t != "nested"}
    if name.has_wildcard:
        regex = "".join(
            "[\\s\\S]*" if isinstance(part, Wildcard) else re.escape(part) for part in name.parts
        )
        prefix = re.escape(f"{ctx.nested_path}.") if ctx.nested_path else ""
        pattern = re.compile(prefix + regex)
        found = [(n, t) for n, t in sorted(fields.items()) if pattern.fullmatch(n)]
    else:
        found = [(full, fields[full])] if full in fields else []
    if not name.has_wildcard or ctx.nested_path:
        for field_name, _ in found:
            _check_nested_group(field_name, ctx)
    if not found:
        if full not in ctx.unknown:
            ctx.unknown.append(full)
        return [(full, "")]
    return found


def _wrap_nested(query: Query, name: str, wildcard_name: bool, ctx: _Context) -> Query:
    """A field reached through a wildcard name inside a nested object gets its nested query."""
    parent = _nested_parent(name, ctx.types)
    if not wildcard_name or parent is None or ctx.nested_path:
        return query
    return {"nested": {"path": parent, "query": query, "score_mode": "none"}}


def _time_zone(value: LiteralValue, ctx: _Context) -> dict[str, str]:
    """Epoch values are absolute instants: Kibana adds the time zone to anything else."""
    if isinstance(value, str) and _EPOCH.fullmatch(value):
        return {}
    return {"time_zone": ctx.time_zone}


def _any_of(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _is_on_field(name: str, field_type: str, value: Value, ctx: _Context) -> Query:
    if value.is_lone_wildcard:
        return {"exists": {"field": name}}
    if value.has_wildcard:
        if field_type in NO_WILDCARD_TYPES:
            raise UntranslatableQueryError(
                f"a wildcard value on {field_type} field {name!r}: Elasticsearch refuses it"
            )
        pattern = _query_string_pattern(value)
        if field_type == "keyword":
            return {"wildcard": {name: {"value": pattern}}}
        return {"query_string": {"fields": [name], "query": pattern}}
    literal = value.literal
    if field_type in DATE_TYPES:
        return {"range": {name: {"gte": literal, "lte": literal, **_time_zone(literal, ctx)}}}
    if field_type == "keyword":
        return {"term": {name: {"value": literal}}}
    return {"match_phrase" if value.quoted else "match": {name: literal}}


def _free_text(value: Value) -> Query:
    if value.has_wildcard:
        return {"query_string": {"query": _query_string_pattern(value)}}
    kind = "phrase" if value.quoted else "best_fields"
    return {"multi_match": {"type": kind, "query": value.literal, "lenient": True}}


def _is(node: Is, ctx: _Context) -> Query:
    if node.field is None:
        return _free_text(node.value)
    if node.field.is_lone_wildcard and node.value.is_lone_wildcard:
        return {"match_all": {}}
    queries = [
        _wrap_nested(_is_on_field(name, ftype, node.value, ctx), name, node.field.has_wildcard, ctx)
        for name, ftype in _fields(node.field, ctx)
    ]
    return _any_of(queries)


def _range(node: Range, ctx: _Context) -> Query:
    value = node.value.literal
    queries = []
    for name, field_type in _fields(node.field, ctx):
        params: dict[str, Any] = {node.op: value}
        if field_type in DATE_TYPES:
            params.update(_time_zone(value, ctx))
        queries.append(_wrap_nested({"range": {name: params}}, name, node.field.has_wildcard, ctx))
    return _any_of(queries)


def _nested(node: Nested, ctx: _Context) -> Query:
    path = f"{ctx.nested_path}.{node.path.text}" if ctx.nested_path else node.path.text
    if ctx.types.get(path) != "nested":
        raise UntranslatableQueryError(
            f"nested query on {path!r}, which is not a nested field: Elasticsearch refuses it"
        )
    child = _to_dsl(node.child, replace(ctx, nested_path=path))
    return {"nested": {"path": path, "query": child, "score_mode": "none"}}


def _to_dsl(node: Node, ctx: _Context) -> Query:
    if isinstance(node, Is):
        return _is(node, ctx)
    if isinstance(node, Range):
        return _range(node, ctx)
    if isinstance(node, Nested):
        return _nested(node, ctx)
    if isinstance(node, And):
        return {"bool": {"filter": [_to_dsl(child, ctx) for child in node.children]}}
    if isinstance(node, Or):
        return _any_of([_to_dsl(child, ctx) for child in node.children])
    return {"bool": {"must_not": [_to_dsl(node.child, ctx)]}}


def kql_to_dsl(
    node: Node | None, types: FieldTypes, time_zone: str
) -> tuple[Query, tuple[str, ...]]:
    """The query DSL of a parsed KQL query (None: match all) and the unknown fields it names.

    Raises:
        UntranslatableQueryError: Elasticsearch (or Kibana) would refuse the query.
    """
    if node is None:
        return {"match_all": {}}, ()
    ctx = _Context(types, time_zone)
    return _to_dsl(node, ctx), tuple(ctx.unknown)
