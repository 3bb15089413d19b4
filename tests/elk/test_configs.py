"""The Logstash and collector configs say what elk/pipeline_rules.py says, and nothing drifts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from elk import pipeline_rules, render_collector, rendered
from elk.settings import Settings
from elk.stack.layout import Layout
from tests.tls_pki import Authority


def _collector() -> dict[str, Any]:
    loaded = yaml.safe_load(rendered.COLLECTOR_CONFIG.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _logstash() -> str:
    return rendered.LOGSTASH_PIPELINE.read_text(encoding="utf-8")


def test_committed_configs_are_the_rendering_of_the_rules() -> None:
    """Editing the rules without `amf1 elk render` (or a config by hand) fails here."""
    assert rendered.stale() == []


@pytest.mark.parametrize(("action", "tag"), sorted(pipeline_rules.ACTION_TAGS.items()))
def test_both_engines_tag_each_domain_action(action: str, tag: str) -> None:
    """Each action -> tag pair of the table appears in Logstash and in the collector."""
    assert re.search(
        rf'\[event\.action\] == "{action}" \{{\s*mutate {{ add_tag => \["{tag}"\]', _logstash()
    )
    assert f'append(log.body["tags"], "{tag}") where log.body["event.action"] == "{action}"' in (
        render_collector.statements()
    )


@pytest.mark.parametrize(("spelling", "level"), sorted(pipeline_rules.LEVEL_SYNONYMS.items()))
def test_both_engines_know_each_level_synonym(spelling: str, level: str) -> None:
    """Every synonym of the table is normalised by both engines to the same level."""
    if spelling == level:
        return
    logstash_branch = re.search(
        rf'\[log\.level\] (?:== "{spelling}"|in \[[^\]]*"{spelling}"[^\]]*\]) \{{\s*'
        rf'mutate {{ replace => {{ "\[log\.level\]" => "(\w+)" }}',
        _logstash(),
    )
    assert logstash_branch is not None and logstash_branch.group(1) == level
    collector_rule = next(
        s for s in render_collector.statements() if f'log.body["log.level"] == "{spelling}"' in s
    )
    assert collector_rule.startswith(f'set(log.body["log.level"], "{level}")')


def test_both_engines_use_the_same_grok_and_failure_tag() -> None:
    """The plain-text grok and the parse-failure tag are the table's, verbatim, in both."""
    statements = "\n".join(render_collector.statements())
    for engine in (_logstash(), statements):
        assert pipeline_rules.PLAIN_TEXT_GROK in engine
        assert pipeline_rules.PARSE_FAILURE_TAG in engine
        assert pipeline_rules.TIMESTAMP_FIELD in engine


def test_logstash_indexes_by_utc_day_with_event_id_as_document_id() -> None:
    """Logstash writes amf1-logs-YYYY.MM.dd (its @timestamp is UTC) with _id = event.id."""
    text = _logstash()
    assert 'index => "amf1-logs-%{+YYYY.MM.dd}"' in text
    assert 'document_id => "%{[event.id]}"' in text
    assert "json_lines" in text
    assert "beats {" in text


def test_collector_listens_parses_and_exports_as_agreed() -> None:
    """tcp_log on the Logstash port, JSON parsing with a fallback, bodymap, _id and disk queue."""
    config = _collector()
    receiver = config["receivers"]["tcp_log"]
    assert receiver["listen_address"].endswith("${env:AMF1_LOGSTASH_PORT:-5000}")
    operators = {op["id"]: op for op in receiver["operators"]}
    assert operators["parse_json"]["on_error"] == "send_quiet"
    assert operators["route_by_shape"]["default"] == "parsed"
    exporter = config["exporters"]["elasticsearch"]
    assert exporter["mapping"]["allowed_modes"] == ["bodymap"]
    assert exporter["logs_dynamic_id"]["enabled"] is True
    assert "logs_index" not in exporter
    assert exporter["sending_queue"]["storage"] in config["extensions"]
    assert config["service"]["pipelines"]["logs"]["processors"] == [
        "memory_limiter",
        "transform/amf1",
        "batch",
    ]


def test_collector_names_the_daily_index_from_the_event_time() -> None:
    """The index comes from the record's time (set from @timestamp), not the collector clock."""
    statements = render_collector.statements()
    assert any(s.startswith('set(log.time, Time(log.body["@timestamp"]') for s in statements)
    assert statements[-2] == (
        'set(log.attributes["elasticsearch.index"], '
        'Concat(["amf1-logs-", FormatTime(log.time, "%Y.%m.%d")], ""))'
    )


@pytest.mark.parametrize("tls", [False, True], ids=["plain-tcp", "mutual-tls"])
def test_the_built_collector_accepts_the_config(tmp_path: Path, tls: bool) -> None:
    """`otelcol validate` of our own collector build loads every component and OTTL statement
    of config.yaml, and of config-tls.yaml given a certificate, its key and a client CA."""
    binary = Layout.from_settings(Settings()).collector_binary
    if not binary.exists():
        pytest.skip(f"collector not built yet ({binary}); `amf1 stack up` builds it")
    env = {
        "PATH": "/usr/bin:/bin",
        "AMF1_COLLECTOR_STORAGE_DIR": str(tmp_path / "queue"),
    }
    config = rendered.COLLECTOR_CONFIG
    if tls:
        authority = Authority.create(tmp_path / "pki", "amf1")
        server = authority.server()
        env |= {
            "AMF1_COLLECTOR_TLS_CERT": str(server.cert),
            "AMF1_COLLECTOR_TLS_KEY": str(server.key),
            "AMF1_COLLECTOR_TLS_CLIENT_CA": str(authority.cert_file),
        }
        config = rendered.COLLECTOR_TLS_CONFIG
    result = subprocess.run(
        [str(binary), "validate", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr


def test_the_tls_config_requires_client_certificates() -> None:
    """config-tls.yaml is config.yaml plus a TLS server block with a client CA (mutual TLS)."""
    plain = yaml.safe_load(rendered.COLLECTOR_CONFIG.read_text(encoding="utf-8"))
    tls = yaml.safe_load(rendered.COLLECTOR_TLS_CONFIG.read_text(encoding="utf-8"))
    block = tls["receivers"]["tcp_log"].pop("tls")
    assert block["client_ca_file"] == "${env:AMF1_COLLECTOR_TLS_CLIENT_CA}"
    assert {"cert_file", "key_file"} <= set(block)
    assert "tls" not in plain["receivers"]["tcp_log"]
    assert tls == plain
