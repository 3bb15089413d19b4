"""Every saved search in the NDJSON, run on real Elasticsearch, finds exactly its documents.

The same translation the watcher uses (KQL and Lucene alike, with the saved filters), over
events planted with the real index template: what Discover shows is what the watcher counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import BadRequestError, Elasticsearch

from alerting.settings import Settings
from elk.installer import install
from kibana.mapping import load_template_file
from kibana.saved_objects import load_saved_searches
from kibana.translate import query_to_dsl
from tests.integration.watcher_support import event, incident_day, plant
from tests.kibana.test_saved_objects import vega_specs

pytestmark = pytest.mark.integration

SETTINGS = Settings()
SEARCHES = load_saved_searches(SETTINGS.saved_objects_dir)

# name -> (action, fields); the name becomes the event's id suffix.
PLANTED: dict[str, tuple[str, dict[str, Any]]] = {
    "load_failed": (
        "model-load-failed",
        {
            "amf1__model__name": "stage1-qualifying",
            "error__type": "ChecksumMismatch",
            "error__message": "sha256 differs",
            "log__level": "error",
            "tags": ["error", "model_load_failure"],
        },
    ),
    "status_true": (
        "model-status",
        {"amf1__model__name": "stage1-qualifying", "amf1__model__loaded": True},
    ),
    "status_false": (
        "model-status",
        {"amf1__model__name": "stage2-race-winner", "amf1__model__loaded": False},
    ),
    "pred_ok": ("prediction-succeeded", {"event__duration": 1_000_000, "amf1__driver": "VER"}),
    "pred_fail": (
        "prediction-failed",
        {
            "event__duration": 5_000_000,
            "tags": ["error", "prediction_error"],
            "error__type": "ValueError",
            "error__message": "bad feature",
        },
    ),
    "rejected": (
        "request-rejected",
        {"event__duration": 900_000, "http__response__status_code": 422},
    ),
    "drift": ("drift-detected", {"amf1__drift__feature": "track_temp", "amf1__drift__score": 0.4}),
    "drift_nofeature": ("drift-detected", {"amf1__drift__score": 0.4}),
    "mae": (
        "model-performance",
        {"amf1__performance__metric": "mae", "amf1__performance__value": 0.3},
    ),
    "brier": (
        "model-performance",
        {"amf1__performance__metric": "brier", "amf1__performance__value": 0.1},
    ),
    "missing": ("missing-data-rate", {"amf1__data__missing_rate": 0.02}),
    "fresh": ("data-freshness", {"amf1__data__age_s": 100.0}),
    "http": ("http-access", {"event__duration": 100_000, "url__path": "/health"}),
    "timeout": (
        "prediction-failed",
        {"error__type": "TimeoutError", "error__message": "model call timed out after 2 s"},
    ),
    "watcher_log": ("log", {"event__dataset": "amf1.watcher"}),
    # Multi-word values on text and keyword fields, a keyword as a value, escapes.
    "refused": (
        "request-rejected",
        {
            "message": "connection refused by the model server",
            "error__message": "upstream connection refused",
            "amf1__circuit": "Monte Carlo",
            "amf1__driver": "and",
            "amf1__model__version": "v1:2*",
            "amf1__model__sha256": "\\user",
        },
    ),
}

SERVICE = set(PLANTED) - {"watcher_log"}
EXPECTED: dict[str, set[str]] = {
    "amf1-search-model-load-failed": {"load_failed"},
    "amf1-search-model-status": {"status_true", "status_false"},
    "amf1-search-predictions": {"pred_ok", "pred_fail", "timeout"},
    "amf1-search-prediction-failed": {"pred_fail", "timeout"},
    "amf1-search-drift-detected": {"drift"},
    "amf1-search-stage1-mae": {"mae"},
    "amf1-search-stage2-brier": {"brier"},
    "amf1-search-prediction-latency": {"pred_ok", "pred_fail"},
    "amf1-search-missing-data": {"missing"},
    "amf1-search-data-freshness": {"fresh"},
    "amf1-search-service-events": SERVICE,
    "amf1-search-errors": {"load_failed", "pred_fail"},
}


def test_table_covers_every_saved_search() -> None:
    """No saved search ships without an expectation in this table."""
    assert set(EXPECTED) == set(SEARCHES)


@pytest.fixture(scope="module")
def planted(es: Elasticsearch) -> Iterator[tuple[str, dict[str, str]]]:
    """The planted events' index and {event id: name}."""
    install(es)
    day = incident_day() + timedelta(hours=1)
    ids: dict[str, str] = {}
    docs = []
    for offset, (name, (action, fields)) in enumerate(PLANTED.items()):
        doc = event(day + timedelta(seconds=offset), action, **fields)
        ids[doc["event.id"]] = name
        docs.append(doc)
    plant(es, docs)
    index = f"amf1-logs-{day:%Y.%m.%d}"
    yield index, ids
    es.indices.delete(index=index, ignore_unavailable=True)


@pytest.mark.parametrize("search_id", sorted(EXPECTED))
def test_saved_search_matches_exactly(
    es: Elasticsearch, planted: tuple[str, dict[str, str]], search_id: str
) -> None:
    """The saved search finds exactly the events it is meant to, no more, no fewer."""
    index, ids = planted
    types = load_template_file(SETTINGS.index_template_file)
    query = SEARCHES[search_id].compile(types)
    response = es.search(index=index, query=query, size=100)
    found = {ids[hit["_id"]] for hit in response["hits"]["hits"]}
    assert found == EXPECTED[search_id]


# Ad-hoc KQL over the same events: each form Kibana supports, with what Discover would show.
KQL_CASES: list[tuple[str, set[str]]] = [
    ('error.message: "timed out"', {"timeout"}),
    ("error.message: timed", {"timeout"}),
    ('error.message: "out timed"', set()),
    ("error.message: time*", {"timeout"}),
    ("error.type: *Error and not error.type: TimeoutError", {"pred_fail"}),
    ("event.duration >= 1000000 and event.duration < 5000000", {"pred_ok"}),
    ("amf1.model.loaded: false", {"status_false"}),
    (
        "event.action: (model-status or drift-detected) and not amf1.drift.score: *",
        {"status_true", "status_false"},
    ),
    ("amf1.drift.score > 0.3 and amf1.drift.feature: track*", {"drift"}),
    ("tags: error and error.type: ValueError", {"pred_fail"}),
    ("http.response.status_code >= 400", {"rejected"}),
    ("sha256", {"load_failed"}),
    # Unquoted multi-word values: match (any word) on text, the whole value on keyword.
    ("message: connection refused", {"refused"}),
    ("error.message: refused connection", {"refused"}),
    ('error.message: "refused connection"', set()),
    ("amf1.circuit: Monte Carlo", {"refused"}),
    ("amf1.circuit: Monte", set()),
    ("amf1.circuit: (Monaco or Monte Carlo)", {"refused"}),
    # Free text of two words: multi_match best_fields over every field.
    ("connection refused", {"refused"}),
    ("timed refused", {"refused", "timeout"}),
    # Keywords as values: `and` / `or` are keywords only between whitespace.
    ("amf1.driver: and", {"refused"}),
    ("amf1.driver: (VER or and)", {"pred_ok", "refused"}),
    # Escapes, unquoted and quoted.
    (r"amf1.model.version: v1\:2\*", {"refused"}),
    (r"amf1.model.version: v1\:*", {"refused"}),
    (r"amf1.model.version: v1\:2", set()),
    (r'amf1.model.sha256: "\user"', {"refused"}),
    (r'error.message: "\u0063onnection refused"', {"refused"}),
    (r"error.type: Timeout\u0045rror", {"timeout"}),
    # Field wildcards, and `*:*`.
    ("*.driver: VER", {"pred_ok"}),
    ("*:*", set(PLANTED)),
]


@pytest.mark.parametrize(("kql", "expected"), KQL_CASES, ids=[c[0] for c in KQL_CASES])
def test_kql_forms_match_like_discover(
    es: Elasticsearch, planted: tuple[str, dict[str, str]], kql: str, expected: set[str]
) -> None:
    """Phrases, terms, wildcards on text and keyword, ranges, value lists, not, free text."""
    index, ids = planted
    types = load_template_file(SETTINGS.index_template_file)
    response = es.search(index=index, query=query_to_dsl(kql, "kuery", types), size=100)
    assert {ids[hit["_id"]] for hit in response["hits"]["hits"]} == expected


def _found(es: Elasticsearch, index: str, ids: dict[str, str], query: dict[str, Any]) -> set[str]:
    """The names of the planted events `query` finds."""
    return {
        ids[hit["_id"]] for hit in es.search(index=index, query=query, size=100)["hits"]["hits"]
    }


def test_kql_on_every_field_fails_like_discover(
    es: Elasticsearch, planted: tuple[str, dict[str, str]]
) -> None:
    """`*: value` queries every field as Kibana does; the data view has date, numeric and boolean
    fields, which cannot parse the value, so Elasticsearch refuses it as it does in Discover."""
    index, _ = planted
    types = load_template_file(SETTINGS.index_template_file)
    with pytest.raises(BadRequestError, match="failed to"):
        es.search(index=index, query=query_to_dsl("*: VER", "kuery", types), size=100)


@pytest.mark.parametrize(
    ("time_zone", "hour", "offsets"),
    [("UTC", 1, (5, 7)), ("+02:00", 3, (5, 7)), ("America/New_York", 1, (0, 0))],
)
def test_kql_date_ranges_honour_the_time_zone(
    es: Elasticsearch,
    planted: tuple[str, dict[str, str]],
    time_zone: str,
    hour: int,
    offsets: tuple[int, int],
) -> None:
    """Dates written without a zone are read in AMF1_KQL_TIME_ZONE, as Kibana's dateFormat:tz."""
    index, ids = planted
    day = index.removeprefix("amf1-logs-").replace(".", "-")
    kql = f'@timestamp >= "{day}T{hour:02}:00:05" and @timestamp < "{day}T{hour:02}:00:07"'
    types = load_template_file(SETTINGS.index_template_file)
    query = query_to_dsl(kql, "kuery", types, time_zone=time_zone)
    found = {
        ids[hit["_id"]] for hit in es.search(index=index, query=query, size=100)["hits"]["hits"]
    }
    assert found == set(list(PLANTED)[offsets[0] : offsets[1]])


@pytest.mark.parametrize(("time_zone", "matches_all"), [("UTC", True), ("-02:00", False)])
def test_kql_date_value_is_the_whole_day_in_the_time_zone(
    es: Elasticsearch, planted: tuple[str, dict[str, str]], time_zone: str, matches_all: bool
) -> None:
    """`@timestamp: <day>` is that day in the time zone (events are at 01:00 UTC)."""
    index, ids = planted
    day = index.removeprefix("amf1-logs-").replace(".", "-")
    types = load_template_file(SETTINGS.index_template_file)
    query = query_to_dsl(f"@timestamp: {day}", "kuery", types, time_zone=time_zone)
    found = {
        ids[hit["_id"]] for hit in es.search(index=index, query=query, size=100)["hits"]["hits"]
    }
    assert found == (set(PLANTED) if matches_all else set())


def _concrete(node: Any, start_ms: int, end_ms: int) -> Any:
    """A Vega request body with Kibana's placeholders replaced as Kibana would fill them."""
    if isinstance(node, dict):
        if node.get("%timefilter%") is True:
            return {"gte": start_ms, "lte": end_ms, "format": "epoch_millis"}
        if node.get("%timefilter%") in {"min", "max"}:
            return start_ms if node["%timefilter%"] == "min" else end_ms
        return {k: _concrete(v, start_ms, end_ms) for k, v in node.items()}
    if isinstance(node, list):
        # The dashboard context clauses are empty when the dashboard has no query or filter.
        return [
            _concrete(v, start_ms, end_ms)
            for v in node
            if not (isinstance(v, str) and v.startswith("%dashboard_context"))
        ]
    return node


@pytest.mark.parametrize("vis_id", sorted(vega_specs()))
def test_dashboard_panel_queries_run(
    es: Elasticsearch, planted: tuple[str, dict[str, str]], vis_id: str
) -> None:
    """Each dashboard panel's request runs on real Elasticsearch and yields the data it plots."""
    index, _ = planted
    spec = vega_specs()[vis_id]
    day = datetime.strptime(index.removeprefix("amf1-logs-"), "%Y.%m.%d").replace(tzinfo=UTC)
    start_ms = int(day.timestamp() * 1000)
    body = _concrete(spec["data"]["url"]["body"], start_ms, start_ms + 86_400_000 - 1)
    response = es.search(index=index, **body)
    found: Any = dict(response)
    for key in spec["data"]["format"]["property"].split("."):
        found = found[key]
    assert found, vis_id
