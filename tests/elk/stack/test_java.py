"""Tests of elk.stack.java: finding a JDK new enough for Elasticsearch."""

from __future__ import annotations

from pathlib import Path

import pytest

from elk.stack import java


def _fake_jdk(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    (home / "release").write_text(f'IMPLEMENTOR="test"\nJAVA_VERSION="{version}"\n')
    return home


def test_feature_release_is_read_from_the_release_file(tmp_path: Path) -> None:
    """JAVA_VERSION 21.0.4 is feature release 21; a directory without `release` is no JDK."""
    assert java.jdk_feature(_fake_jdk(tmp_path, "j21", "21.0.4")) == 21
    assert java.jdk_feature(tmp_path) is None


def test_explicit_home_must_be_new_enough(tmp_path: Path) -> None:
    """AMF1_JAVA_HOME pointing at a too-old JDK is an error naming it, not a silent fallback."""
    old = _fake_jdk(tmp_path, "j11", "11.0.2")
    with pytest.raises(java.JavaNotFoundError, match="j11"):
        java.find_jdk(17, explicit=old)


def test_newest_installed_jdk_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without explicit or environment choices, the newest JDK under the JVM roots is used."""
    _fake_jdk(tmp_path, "j17", "17.0.15")
    newest = _fake_jdk(tmp_path, "j25", "25.0.3")
    monkeypatch.delenv("ES_JAVA_HOME", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(java, "_JVM_ROOTS", (tmp_path,))
    assert java.find_jdk(21) == java.Jdk(newest, 25)


def test_environment_jdk_is_preferred_when_new_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ES_JAVA_HOME is honoured when it qualifies, skipped when it is too old."""
    j17 = _fake_jdk(tmp_path, "j17", "17.0.15")
    j21 = _fake_jdk(tmp_path, "j21", "21.0.1")
    monkeypatch.setattr(java, "_JVM_ROOTS", (tmp_path,))
    monkeypatch.setenv("ES_JAVA_HOME", str(j17))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert java.find_jdk(17).home == j17
    assert java.find_jdk(21).home == j21
