"""The shipped saved objects are well-formed Kibana 8 objects whose references all resolve."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from elk.installer import TEMPLATE_FILE
from kibana.mapping import load_template_file
from kibana.saved_objects import load_saved_searches, read_ndjson
from kibana.settings import Settings

SETTINGS = Settings()
OBJECTS = read_ndjson(SETTINGS.saved_objects_dir)
BY_ID = {(o["type"], o["id"]): o for o in OBJECTS}
TYPES = load_template_file(TEMPLATE_FILE)


def _fields(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "field" and isinstance(value, str):
                yield value
            yield from _fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from _fields(item)


def vega_specs() -> dict[str, dict[str, Any]]:
    """The Vega-Lite spec of every vega visualization, by id."""
    specs = {}
    for obj in OBJECTS:
        if obj["type"] == "visualization":
            vis = json.loads(obj["attributes"]["visState"])
            assert vis["type"] == "vega"
            specs[obj["id"]] = json.loads(vis["params"]["spec"])
    return specs


def test_every_reference_resolves() -> None:
    """Each object's references name objects shipped in the same files (import succeeds)."""
    for obj in OBJECTS:
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in BY_ID, (obj["id"], ref)


def test_data_view_links_trace_ids_to_jaeger() -> None:
    """The data view's time field is @timestamp and trace.id renders as a Jaeger link."""
    view = BY_ID[("index-pattern", "amf1-logs")]["attributes"]
    assert view["title"] == "amf1-logs-*"
    assert view["timeFieldName"] == "@timestamp"
    trace_format = json.loads(view["fieldFormatMap"])["trace.id"]
    assert trace_format["id"] == "url"
    assert trace_format["params"]["urlTemplate"].endswith("/trace/{{value}}")


def test_dashboard_has_the_five_panels() -> None:
    """Predictions per minute, error ratio, latency p95, drift by feature, MAE/Brier."""
    dashboard = BY_ID[("dashboard", "amf1-dashboard")]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r["id"] for r in dashboard["references"]}
    ids = [refs[f"{p['panelIndex']}:{p['panelRefName']}"] for p in panels]
    assert ids == list(vega_specs())
    assert len(ids) == 5


def test_visualizations_only_use_mapped_fields() -> None:
    """Every field a dashboard query or aggregation names exists in the index template."""
    for vis_id, spec in vega_specs().items():
        assert spec["data"]["url"]["index"] == "amf1-logs-*", vis_id
        for field in _fields(spec["data"]["url"]["body"]):
            assert field in TYPES, (vis_id, field)


def test_every_saved_search_compiles() -> None:
    """All saved searches translate against the template mapping (no load-time error)."""
    searches = load_saved_searches(SETTINGS.saved_objects_dir)
    assert len(searches) == 12
    for search in searches.values():
        assert search.compile(TYPES)


# The newest migration version each type had in Kibana 8.8, from its source
# (src/plugins/*/server/saved_objects): search's own migrations end at 7.9.3 and index-pattern,
# search, visualization and dashboard were all converted to multi-namespace types at 8.0.0, so
# 8.8 knows 8.0.0 for each; a document declaring a newer version is refused ("belongs to a more
# recent version of Kibana").
KIBANA_8_8_ACCEPTS = {
    "index-pattern": "8.0.0",
    "search": "8.0.0",
    "visualization": "8.0.0",
    "dashboard": "8.0.0",
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_every_object_imports_into_kibana_8_8_and_later() -> None:
    """Migration versions are at most what Kibana 8.8 knows, and at least the 8.0.0 conversion
    (below it, Kibana would convert the object again and could give it a new id)."""
    for obj in OBJECTS:
        assert "migrationVersion" not in obj, obj["id"]
        declared = _version(obj["typeMigrationVersion"])
        assert declared == _version(KIBANA_8_8_ACCEPTS[obj["type"]]), obj["id"]
        assert _version(obj["coreMigrationVersion"]) <= _version("8.8.0"), obj["id"]
