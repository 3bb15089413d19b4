"""The watcher's /metrics: the whole-service gauges the signals set, served on loopback."""

from __future__ import annotations

import argparse

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from alerting import metrics
from alerting.cli import _settings
from tests.ports import free_port


def _values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_signals_set_the_guide_metrics_and_the_endpoint_serves_them() -> None:
    """MAE, Brier, missing-data rate and drift PSI under the guide's names and labels, plus the
    process metrics."""
    metrics.record_performance("stage1-qualifying", "mae", 0.37)
    metrics.record_performance("stage2-race-winner", "brier", 0.041)
    metrics.record_missing_rate("stage1-qualifying", 0.02)
    metrics.record_drift("stage1-qualifying", "air_temp_c", 0.31)
    port = free_port()
    server, _ = metrics.serve(port)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
        server.server_close()
    values = _values(text)
    assert values["amf1_model_mae", (("model", "stage1-qualifying"),)] == 0.37
    assert values["amf1_model_brier_score", (("model", "stage2-race-winner"),)] == 0.041
    assert values["amf1_data_missing_rate", (("model", "stage1-qualifying"),)] == 0.02
    drift = ("amf1_drift_psi", (("feature", "air_temp_c"), ("model", "stage1-qualifying")))
    assert values[drift] == 0.31
    assert any(name == "process_resident_memory_bytes" for name, _ in values)


def test_an_unknown_performance_metric_is_refused() -> None:
    """Only "mae" and "brier" have a gauge."""
    with pytest.raises(KeyError):
        metrics.record_performance("stage1-qualifying", "rmse", 1.0)  # type: ignore[arg-type]


def test_metrics_port_option_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--metrics-port` overrides AMF1_WATCHER_METRICS_PORT; unset means not served."""
    monkeypatch.setenv("AMF1_WATCHER_METRICS_PORT", "9109")
    args = argparse.Namespace(rules=None, interval=None, metrics_port=9200)
    assert _settings(args).watcher_metrics_port == 9200
    args.metrics_port = None
    assert _settings(args).watcher_metrics_port == 9109
    monkeypatch.delenv("AMF1_WATCHER_METRICS_PORT")
    assert _settings(args).watcher_metrics_port is None
