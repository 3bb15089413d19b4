"""Tests of elk.stack.elasticsearch: the node settings written for the native Elasticsearch."""

from __future__ import annotations

from pathlib import Path

from elk.stack import elasticsearch


def test_single_node_on_loopback_with_relaxed_disk_thresholds(tmp_path: Path) -> None:
    """The local node binds 127.0.0.1 only and never turns read-only on a full-ish disk."""
    settings = elasticsearch.node_settings(tmp_path, tmp_path / "data", tmp_path / "logs")
    assert settings["network.host"] == "127.0.0.1"
    assert settings["discovery.type"] == "single-node"
    assert settings["cluster.routing.allocation.disk.threshold_enabled"] is False


def test_security_setting_only_when_the_module_exists(tmp_path: Path) -> None:
    """xpack.security.enabled is set only if the distribution ships x-pack-security."""
    assert "xpack.security.enabled" not in elasticsearch.node_settings(tmp_path, tmp_path, tmp_path)
    (tmp_path / "modules" / "x-pack-security").mkdir(parents=True)
    settings = elasticsearch.node_settings(tmp_path, tmp_path, tmp_path)
    assert settings["xpack.security.enabled"] is False


def test_runtime_config_is_reseeded_when_the_distribution_changes(tmp_path: Path) -> None:
    """A new pinned version brings its own jvm.options; elasticsearch.yml is always rewritten."""
    old, new = tmp_path / "elasticsearch-1", tmp_path / "elasticsearch-2"
    for home, heap in ((old, "-Xss1m"), (new, "-Xss2m")):
        (home / "config").mkdir(parents=True)
        (home / "config" / "jvm.options").write_text(heap)
    service_dir = tmp_path / "stack"
    config = elasticsearch._prepare_config(old, service_dir)
    assert (config / "jvm.options").read_text() == "-Xss1m"
    assert elasticsearch._prepare_config(new, service_dir) == config
    assert (config / "jvm.options").read_text() == "-Xss2m"
    assert "single-node" in (config / "elasticsearch.yml").read_text()
