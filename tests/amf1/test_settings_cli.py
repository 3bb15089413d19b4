"""`amf1 settings` prints the effective values, secrets masked, with where each came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from amf1.cli import main


def _line(out: str, name: str) -> str:
    (line,) = [line for line in out.splitlines() if line.split()[:1] == [name]]
    return line


def test_values_and_their_origins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A default, an environment variable and a `*_FILE` secret are told apart; secrets masked."""
    secret = tmp_path / "es-password"
    secret.write_text("s3cret-from-file\n", encoding="utf-8")
    monkeypatch.setenv("AMF1_ES_PASSWORD_FILE", str(secret))
    monkeypatch.delenv("AMF1_ES_PASSWORD", raising=False)
    monkeypatch.setenv("AMF1_ES_URL", "http://es.example:9200")
    monkeypatch.delenv("AMF1_ES_TIMEOUT_S", raising=False)
    assert main(["settings", "--package", "elk"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[elk]\n")
    assert "s3cret-from-file" not in out
    assert _line(out, "AMF1_ES_PASSWORD").split()[1:] == ["********", "(file)"]
    assert _line(out, "AMF1_ES_URL").split()[1:] == ["http://es.example:9200", "(environment)"]
    assert _line(out, "AMF1_ES_TIMEOUT_S").split()[1:] == ["10.0", "(default)"]


def test_every_package_by_default_with_flat_monitoring_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --package every package is printed; a nested knob shows under its variable."""
    monkeypatch.setenv("AMF1_DRIFT_WINDOW_SIZE", "400")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    for package in ("logshipping", "tracing", "elk", "kibana", "alerting", "service", "amf1"):
        assert f"[{package}]" in out
    assert _line(out, "AMF1_DRIFT_WINDOW_SIZE").split()[1:] == ["400", "(environment)"]


def test_invalid_settings_are_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A package whose settings do not validate is reported on stderr by the variable to fix,
    never its value; exit code 2."""
    monkeypatch.setenv("AMF1_TRACING_SAMPLER_RATIO", "7")
    assert main(["settings", "--package", "tracing"]) == 2
    err = capsys.readouterr().err
    assert "AMF1_TRACING_SAMPLER_RATIO" in err
    assert "7" not in err
