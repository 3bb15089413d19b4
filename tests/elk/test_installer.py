"""The index template and retention policy bodies that `amf1 elk setup` installs."""

from __future__ import annotations

from typing import Any

from elk import installer, pipeline_rules
from logshipping.events import CATALOGUE


def _properties() -> dict[str, Any]:
    body = installer.template_body(with_ilm=False)
    properties = body["template"]["mappings"]["properties"]
    assert isinstance(properties, dict)
    return properties


def test_template_covers_the_daily_indices_with_one_shard_and_no_replica() -> None:
    """amf1-logs-* on a single local node: 1 shard, 0 replicas, so the index turns green."""
    body = installer.template_body(with_ilm=False)
    assert body["index_patterns"] == [pipeline_rules.INDEX_PATTERN]
    index_settings = body["template"]["settings"]["index"]
    assert index_settings["number_of_shards"] == 1
    assert index_settings["number_of_replicas"] == 0
    assert "lifecycle" not in index_settings


def test_lifecycle_policy_is_named_only_where_the_server_has_ilm() -> None:
    """With ILM the template points at the 30-day policy; the policy deletes at 30 d."""
    body = installer.template_body(with_ilm=True)
    assert body["template"]["settings"]["index"]["lifecycle"] == {"name": installer.POLICY_NAME}
    policy = installer.load_json(installer.POLICY_FILE)["policy"]
    assert policy["phases"]["delete"] == {"min_age": "30d", "actions": {"delete": {}}}


def test_every_catalogue_field_has_a_deliberate_mapping() -> None:
    """Each field the event catalogue requires is mapped explicitly, not guessed."""
    required = set().union(*(spec.required for spec in CATALOGUE.values()))
    missing = sorted(required - set(_properties()))
    assert missing == []


def test_text_and_keyword_are_chosen_on_purpose() -> None:
    """Prose is text (searchable by word); ids, levels, names and tags are exact keywords."""
    properties = _properties()
    for prose in ("message", "error.message", "error.stack_trace"):
        assert properties[prose]["type"] == "text"
    for exact in ("log.level", "event.id", "event.action", "tags", "trace.id", "amf1.model.name"):
        assert properties[exact]["type"] == "keyword"
    assert properties["@timestamp"]["type"] == "date"
    assert properties["event.duration"]["type"] == "long"
    assert properties["http.response.status_code"]["type"] == "long"


def test_new_amf1_strings_become_keywords() -> None:
    """A new amf1.* string field is mapped keyword by the dynamic template, not text."""
    templates = installer.template_body(with_ilm=False)["template"]["mappings"]["dynamic_templates"]
    first = templates[0]["amf1_strings_as_keyword"]
    assert first["path_match"] == "amf1.*"
    assert first["mapping"]["type"] == "keyword"
