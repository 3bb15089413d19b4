"""A rule whose saved search names a field the mapping lacks can never fire on that part: the
watcher says so at its first cycle, as a configuration alert naming the rule and the field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from alerting.settings import Settings
from elk.installer import install
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.watcher_support import Harness, cleanup, harness, incident_day

pytestmark = pytest.mark.integration
__all__ = ["slack_fixture"]

RULE = "model-load-failure"
SEARCH = "amf1-search-model-load-failed"
TYPO = "amf1.modle.name"  # the kind of field a person mistypes in Kibana


def _with_a_typo(source: Path, target: Path) -> Path:
    """The shipped saved objects, with the model-load-failure search querying a mistyped field."""
    shutil.copytree(source, target)
    searches = target / "01-searches.ndjson"
    objects = [json.loads(line) for line in searches.read_text().splitlines() if line.strip()]
    for item in objects:
        if item["id"] == SEARCH:
            meta = item["attributes"]["kibanaSavedObjectMeta"]
            source_json = json.loads(meta["searchSourceJSON"])
            source_json["query"]["query"] += f" and {TYPO} : stage1-qualifying"
            meta["searchSourceJSON"] = json.dumps(source_json)
    searches.write_text("".join(json.dumps(item) + "\n" for item in objects))
    return target


@pytest.fixture
def typo(es: Elasticsearch, stack: Any, slack: SlackServer, tmp_path: Path) -> Iterator[Harness]:
    install(es)
    objects = _with_a_typo(Settings().saved_objects_dir, tmp_path / "saved_objects")
    h = harness(stack.es_url, slack, incident_day(), RULE, saved_objects_dir=objects)
    yield h
    cleanup(es, h)


def test_an_unknown_field_is_a_configuration_alert_at_the_first_cycle(
    typo: Harness, slack: SlackServer
) -> None:
    """One "watcher degraded" message on #critical names the rule, the search and the field."""
    watcher = typo.new_watcher()
    watcher.run_once()
    degraded = [t for t in slack.texts("critical") if "Watcher degraded" in t]
    assert len(degraded) == 1
    assert f"rule {RULE} configuration" in degraded[0]
    assert TYPO in degraded[0] and SEARCH in degraded[0]
    typo.clock.advance(typo.settings.watch_interval_s)
    watcher.run_once()
    assert len([t for t in slack.texts("critical") if "Watcher degraded" in t]) == 1  # once
