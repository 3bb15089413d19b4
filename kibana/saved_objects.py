"""Read the Kibana saved objects (NDJSON, Kibana 8 export format) and compile saved searches.

The saved searches are the single source of truth: the watcher runs exactly the query and filters
an engineer sees in Discover, translated by `kibana.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kibana.errors import ConfigurationError, KibanaError
from kibana.mapping import FieldTypes
from kibana.translate import DEFAULT_TIME_ZONE, Query, Translation, combine, translate_query

_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """One `search` saved object, with its data view resolved."""

    id: str
    title: str
    query: str
    language: str
    filters: tuple[Mapping[str, Any], ...]
    index_pattern: str
    time_field: str

    def translate(self, types: FieldTypes, *, time_zone: str = DEFAULT_TIME_ZONE) -> Translation:
        """Query DSL of the search (query AND enabled filters), without the time range, and the
        fields it names that the mapping lacks.

        Raises:
            ConfigurationError: the query or a filter cannot be translated; names the search.
        """
        try:
            translation = translate_query(self.query, self.language, types, time_zone=time_zone)
            return Translation(combine(translation.query, self.filters), translation.unknown_fields)
        except KibanaError as exc:
            raise ConfigurationError(f"saved search {self.id!r}: {exc}") from exc

    def compile(self, types: FieldTypes, *, time_zone: str = DEFAULT_TIME_ZONE) -> Query:
        """The query DSL of `translate` alone."""
        return self.translate(types, time_zone=time_zone).query


def read_ndjson(directory: Path) -> list[dict[str, Any]]:
    """Every object of every `*.ndjson` file in `directory`, in file order.

    Raises:
        ConfigurationError: a line is not a JSON object (names the file and line) or an id repeats.
    """
    objects: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(directory.glob("*.ndjson")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise ConfigurationError(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(obj, dict) or "id" not in obj or "type" not in obj:
                raise ConfigurationError(f"{path}:{number}: not a saved object (id, type)")
            key = (obj["type"], obj["id"])
            if key in seen:
                raise ConfigurationError(f"{path}:{number}: duplicate {key[0]} id {key[1]!r}")
            seen.add(key)
            objects.append(obj)
    return objects


def _search(obj: Mapping[str, Any], data_views: Mapping[str, Mapping[str, Any]]) -> SavedSearch:
    attributes = obj.get("attributes") or {}
    try:
        source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"saved search {obj['id']!r}: bad searchSourceJSON") from exc
    refs = {ref.get("name"): ref.get("id") for ref in obj.get("references") or []}
    view = data_views.get(str(refs.get(_INDEX_REF)))
    if view is None:
        raise ConfigurationError(f"saved search {obj['id']!r}: its data view is not in the files")
    query = source.get("query") or {"query": "", "language": "kuery"}
    return SavedSearch(
        id=obj["id"],
        title=str(attributes.get("title", obj["id"])),
        query=str(query.get("query", "")),
        language=str(query.get("language", "kuery")),
        filters=tuple(source.get("filter") or ()),
        index_pattern=str(view["title"]),
        time_field=str(view.get("timeFieldName") or "@timestamp"),
    )


def load_saved_searches(directory: Path) -> dict[str, SavedSearch]:
    """The saved searches of `directory`, by id.

    Raises:
        ConfigurationError: a file, search or data view reference is malformed.
    """
    objects = read_ndjson(directory)
    data_views = {
        o["id"]: o.get("attributes") or {} for o in objects if o["type"] == "index-pattern"
    }
    return {o["id"]: _search(o, data_views) for o in objects if o["type"] == "search"}
