"""Tests of elk.stack.services: how the collector process is launched."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from elk import rendered
from elk.settings import Settings
from elk.stack import services
from elk.stack.layout import Layout

_MIB = {"MiB": 1, "GiB": 1024}


def _launch_env(tmp_path: Path) -> dict[str, str]:
    settings = Settings(cache_dir=tmp_path)
    launch = services.service("collector").launch(
        Path("otelcol-amf1"), Layout.from_settings(settings), settings
    )
    return launch.env


def test_collector_runs_with_the_tuned_go_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOGC and GOMEMLIMIT are set for the collector when the environment does not set them."""
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    env = _launch_env(tmp_path)
    assert env["GOGC"] == services.COLLECTOR_GO_RUNTIME["GOGC"]
    assert env["GOMEMLIMIT"] == services.COLLECTOR_GO_RUNTIME["GOMEMLIMIT"]


def test_an_operators_go_runtime_settings_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOGC / GOMEMLIMIT already in the environment are passed on unchanged."""
    monkeypatch.setenv("GOGC", "100")
    monkeypatch.setenv("GOMEMLIMIT", "1GiB")
    env = _launch_env(tmp_path)
    assert (env["GOGC"], env["GOMEMLIMIT"]) == ("100", "1GiB")


def test_go_soft_limit_is_below_the_memory_limiters_soft_limit() -> None:
    """The GC tightens before the memory_limiter would refuse data (limit - spike)."""
    config = yaml.safe_load(rendered.COLLECTOR_CONFIG.read_text(encoding="utf-8"))
    limiter = config["processors"]["memory_limiter"]
    soft_limit_mib = limiter["limit_mib"] - limiter["spike_limit_mib"]
    text = services.COLLECTOR_GO_RUNTIME["GOMEMLIMIT"]
    go_limit_mib = int(text[:-3]) * _MIB[text[-3:]]
    assert go_limit_mib < soft_limit_mib


def test_the_collector_listens_with_mutual_tls_when_its_certificates_are_set(
    tmp_path: Path,
) -> None:
    """With AMF1_COLLECTOR_TLS_CERT/KEY/CLIENT_CA the native collector runs config-tls.yaml and
    is given the paths; without them, the plain config.yaml."""
    layout_settings = Settings(cache_dir=tmp_path)
    plain = services.service("collector").launch(
        Path("otelcol-amf1"), Layout.from_settings(layout_settings), layout_settings
    )
    assert plain.argv[-1] == str(rendered.COLLECTOR_CONFIG)
    assert "AMF1_COLLECTOR_TLS_CERT" not in plain.env
    tls_settings = Settings(
        cache_dir=tmp_path,
        collector_tls_cert=tmp_path / "server.crt",
        collector_tls_key=tmp_path / "server.key",
        collector_tls_client_ca=tmp_path / "ca.crt",
    )
    tls = services.service("collector").launch(
        Path("otelcol-amf1"), Layout.from_settings(tls_settings), tls_settings
    )
    assert tls.argv[-1] == str(rendered.COLLECTOR_TLS_CONFIG)
    assert tls.env["AMF1_COLLECTOR_TLS_CLIENT_CA"] == str(tmp_path / "ca.crt")
