"""`amf1 elk setup` and `amf1 elk prune` against the real Elasticsearch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from elk import installer

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_indices(es: Elasticsearch) -> Iterator[list[str]]:
    """Names of indices a test creates; deleted afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        es.indices.delete(index=name, ignore_unavailable=True)


def test_setup_is_idempotent(es: Elasticsearch) -> None:
    """A second run changes nothing and says so."""
    installer.install(es)
    report = installer.install(es)
    assert any(action.endswith("unchanged") for action in report.actions)


def test_lifecycle_policy_follows_what_the_server_supports(es: Elasticsearch) -> None:
    """With ILM the template names the 30-day policy; without it, it does not (and setup works)."""
    report = installer.install(es)
    template = es.indices.get_index_template(name=installer.TEMPLATE_NAME)["index_templates"][0]
    settings = template["index_template"]["template"]["settings"]["index"]
    assert ("lifecycle" in settings) is report.ilm_supported


def test_new_daily_index_gets_the_deliberate_mappings(
    es: Elasticsearch, scratch_indices: list[str]
) -> None:
    """An amf1-logs-* index is created with our types; a new amf1.* string becomes keyword."""
    installer.install(es)
    name = f"amf1-logs-test-{uuid.uuid4().hex[:8]}"
    scratch_indices.append(name)
    es.index(
        index=name,
        document={
            "@timestamp": "2026-11-27T10:00:00.000001Z",
            "message": "model load failed",
            "log.level": "error",
            "event.duration": 1_234_567,
            "amf1.brand_new": "value",
            "tags": ["error"],
        },
        refresh=True,
    )
    properties = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert properties["message"]["type"] == "text"
    assert properties["log"]["properties"]["level"]["type"] == "keyword"
    assert properties["event"]["properties"]["duration"]["type"] == "long"
    assert properties["amf1"]["properties"]["brand_new"]["type"] == "keyword"
    assert properties["@timestamp"]["type"] == "date"
    settings = es.indices.get_settings(index=name)[name]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("1", "0")


def test_prune_deletes_only_days_past_the_retention(
    es: Elasticsearch, scratch_indices: list[str]
) -> None:
    """A day older than 30 days is deleted; a recent day and undated names are kept."""
    # Days before 2001: the watcher tests plant their events on random days of 2001-2003.
    old, recent, undated = "amf1-logs-2000.01.01", "amf1-logs-2000.03.01", "amf1-logs-keepme"
    scratch_indices.extend([old, recent, undated])
    for name in scratch_indices:
        es.indices.delete(index=name, ignore_unavailable=True)  # an interrupted run's leftover
        es.indices.create(index=name)
    deleted = installer.prune(es, now=datetime(2000, 3, 10, tzinfo=UTC))
    assert old in deleted
    assert recent not in deleted
    assert undated not in deleted
    assert not es.indices.exists(index=old)
    assert es.indices.exists(index=recent)
