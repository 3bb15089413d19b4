"""Tests of elk.stack.elasticsearch: the node settings written for the native Elasticsearch."""

from __future__ import annotations

from pathlib import Path

import pytest

from elk.security.credentials import CredentialStore
from elk.settings import Settings
from elk.stack import elasticsearch
from elk.stack.java import Jdk
from elk.stack.layout import Layout


def test_single_node_on_loopback_with_relaxed_disk_thresholds(tmp_path: Path) -> None:
    """The local node binds 127.0.0.1 only and never turns read-only on a full-ish disk."""
    settings = elasticsearch.node_settings(tmp_path, tmp_path / "data", tmp_path / "logs")
    assert settings["network.host"] == "127.0.0.1"
    assert settings["discovery.type"] == "single-node"
    assert settings["cluster.routing.allocation.disk.threshold_enabled"] is False


def test_security_is_on_when_the_module_exists(tmp_path: Path) -> None:
    """xpack.security.enabled is true if the distribution ships x-pack-security, else unset."""
    assert "xpack.security.enabled" not in elasticsearch.node_settings(tmp_path, tmp_path, tmp_path)
    (tmp_path / "modules" / "x-pack-security").mkdir(parents=True)
    settings = elasticsearch.node_settings(tmp_path, tmp_path, tmp_path)
    assert settings["xpack.security.enabled"] is True


def test_https_url_turns_on_tls_with_the_certificates_in_the_config_dir(tmp_path: Path) -> None:
    """HTTPS only with security and an https AMF1_ES_URL; the files are read from config/certs."""
    (tmp_path / "modules" / "x-pack-security").mkdir(parents=True)
    plain = elasticsearch.node_settings(tmp_path, tmp_path, tmp_path, 9200)
    assert plain["xpack.security.http.ssl.enabled"] is False
    https = elasticsearch.node_settings(tmp_path, tmp_path, tmp_path, 9200, https=True)
    assert https["xpack.security.http.ssl.enabled"] is True
    assert https["xpack.security.http.ssl.certificate"] == "certs/node.crt"
    assert https["xpack.security.http.ssl.key"] == "certs/node.key"


def test_ports_follow_the_es_url(tmp_path: Path) -> None:
    """AMF1_ES_URL's port is the HTTP port, the transport port 100 above: stacks side by side."""
    port = elasticsearch.http_port(Settings(es_url="http://127.0.0.1:9201"))
    assert port == 9201
    settings = elasticsearch.node_settings(tmp_path, tmp_path, tmp_path, port)
    assert (settings["http.port"], settings["transport.port"]) == (9201, 9301)
    assert elasticsearch.http_port(Settings(es_url="http://127.0.0.1")) == 9200


def test_launch_writes_the_realm_and_keeps_credentials_off_argv_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With security, the config dir gets roles and hashed users; no password on argv or env."""
    home = tmp_path / "elasticsearch-x"
    (home / "config").mkdir(parents=True)
    (home / "modules" / "x-pack-security").mkdir(parents=True)
    monkeypatch.setenv("AMF1_ES_PASSWORD", "an-operators-password")
    monkeypatch.setattr(elasticsearch, "find_jdk", lambda *_a: Jdk(tmp_path, 21))
    settings = Settings(stack_dir=tmp_path / "stack", cache_dir=tmp_path)
    launch = elasticsearch.launch(home, Layout.from_settings(settings), settings)
    config = tmp_path / "stack" / "elasticsearch" / "config"
    assert {"roles.yml", "users", "users_roles"} <= {p.name for p in config.iterdir()}
    passwords = CredentialStore(tmp_path / "stack").ensure()
    exposed = " ".join([*launch.argv, *launch.env.values()])
    for password in [*(p.get_secret_value() for p in passwords.values()), "an-operators-password"]:
        assert password not in exposed


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
