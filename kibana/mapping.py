"""Field types of the log indices, the way Kibana's data view sees them.

Read from the index template file the `elk` package ships (a JSON document with
`template.mappings`), or from a live `GET amf1-logs-*/_mapping`. Object properties and dotted
names both flatten to dotted field names; multi-fields (`message.keyword`) and aliases count as
fields of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kibana.errors import ConfigurationError

FieldTypes = Mapping[str, str]

NUMERIC_TYPES = frozenset(
    {
        "long",
        "integer",
        "short",
        "byte",
        "double",
        "float",
        "half_float",
        "scaled_float",
        "unsigned_long",
    }
)
DATE_TYPES = frozenset({"date", "date_nanos"})
# Field types on which Elasticsearch refuses wildcard and prefix queries (the query_string Kibana
# sends for `f: v*` fails the whole search).
NO_WILDCARD_TYPES = NUMERIC_TYPES | DATE_TYPES | {"boolean", "ip"}


def _walk(properties: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    for name, spec in properties.items():
        full = f"{prefix}{name}"
        if not isinstance(spec, Mapping):
            continue
        field_type = spec.get("type")
        if field_type == "alias":
            yield full, "alias:" + str(spec.get("path", ""))
        elif isinstance(field_type, str) and field_type != "object":
            yield full, field_type
        if isinstance(spec.get("properties"), Mapping):
            yield from _walk(spec["properties"], f"{full}.")
        for sub_name, sub_spec in (spec.get("fields") or {}).items():
            if isinstance(sub_spec, Mapping) and isinstance(sub_spec.get("type"), str):
                yield f"{full}.{sub_name}", sub_spec["type"]


def field_types_from_mappings(mappings: Mapping[str, Any]) -> dict[str, str]:
    """Flatten one index's `mappings` object into `{dotted field name: type}`."""
    raw = dict(_walk(mappings.get("properties") or {}, ""))
    resolved: dict[str, str] = {}
    for name, field_type in raw.items():
        if field_type.startswith("alias:"):
            target = raw.get(field_type.removeprefix("alias:"), "")
            if target and not target.startswith("alias:"):
                resolved[name] = target
        else:
            resolved[name] = field_type
    return resolved


def load_template_file(path: Path) -> dict[str, str]:
    """Field types from an index (or component) template JSON file.

    Raises:
        ConfigurationError: the file is missing, is not JSON, or holds no mappings.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read the index template: {exc}") from exc
    template = document.get("template", document) if isinstance(document, dict) else {}
    mappings = template.get("mappings") if isinstance(template, dict) else None
    if not isinstance(mappings, dict) or not mappings.get("properties"):
        raise ConfigurationError(f"{path}: no template.mappings.properties in the index template")
    return field_types_from_mappings(mappings)


def merge_index_mappings(response: Mapping[str, Any]) -> dict[str, str]:
    """Union of the field types of every index in a `GET <pattern>/_mapping` response.

    Raises:
        ConfigurationError: two indices disagree on a field's type (Kibana shows a conflict).
    """
    merged: dict[str, str] = {}
    for index_name, body in response.items():
        for name, field_type in field_types_from_mappings(body.get("mappings") or {}).items():
            if merged.setdefault(name, field_type) != field_type:
                raise ConfigurationError(
                    f"field {name!r} is {merged[name]} in one index and {field_type} in "
                    f"{index_name}: a mapping conflict"
                )
    return merged
