"""Tests of `amf1 stack ...` argument handling and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amf1.cli import main


def test_unknown_service_is_refused_with_the_valid_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`amf1 stack up bogus` exits 2 and names the services it knows."""
    with pytest.raises(SystemExit) as exc:
        main(["stack", "up", "bogus"])
    assert exc.value.code == 2
    assert "elasticsearch, jaeger, collector, alertmanager, prometheus" in capsys.readouterr().err


def test_status_json_lists_every_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stack status --json` has one row per service with port, health, version and pid."""
    monkeypatch.setenv("AMF1_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("AMF1_STACK_MODE", "native")
    main(["stack", "status", "--json"])
    rows = json.loads(capsys.readouterr().out)
    names = [row["name"] for row in rows]
    assert names == ["elasticsearch", "jaeger", "collector", "alertmanager", "prometheus"]
    assert {row["port"] for row in rows} == {9200, 16686, 5000, 9093, 9090}
    # Nothing was started from this empty runtime dir: no pid, whatever else answers the port.
    assert all(row["pid"] is None for row in rows)
    assert all(row["health"] in {"down", "external"} for row in rows)
