"""The pinned versions in elk.versions agree with the committed Go manifests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from elk import versions

ELK = Path(__file__).resolve().parents[3] / "elk"


def _gomods(manifest: dict[str, Any]) -> list[str]:
    kinds = ("receivers", "processors", "exporters", "extensions", "providers")
    entries = [entry for kind in kinds for entry in manifest.get(kind) or []]
    return [str(entry["gomod"]) for entry in entries]


def test_every_collector_module_is_at_the_pinned_release() -> None:
    """All collector components in the builder manifest share COLLECTOR_RELEASE (or its v1)."""
    manifest = yaml.safe_load((ELK / "collector" / "builder-config.yaml").read_text())
    allowed = {versions.COLLECTOR_RELEASE, versions.COLLECTOR_STABLE_RELEASE}
    found = {gomod.split()[1] for gomod in _gomods(manifest)}
    assert found <= allowed, found


def test_builder_tools_module_pins_the_same_release() -> None:
    """The builder we compile is the collector release the manifest targets."""
    gomod = (ELK / "go" / "builder" / "go.mod").read_text()
    assert f"{versions.COLLECTOR_BUILDER_PACKAGE} {versions.COLLECTOR_RELEASE}" in gomod


def test_collector_lock_requires_the_manifest_versions() -> None:
    """The committed collector go.mod requires exactly the manifest's component versions."""
    manifest = yaml.safe_load((ELK / "collector" / "builder-config.yaml").read_text())
    lock = (ELK / "collector" / "go.mod").read_text()
    for gomod in _gomods(manifest):
        module, version = gomod.split()
        assert re.search(rf"^\s*{re.escape(module)} {re.escape(version)}\b", lock, re.M), gomod


def test_jaeger_tools_module_pins_the_jaeger_version() -> None:
    """The Jaeger tools module requires JAEGER_VERSION and declares the jaeger tool."""
    gomod = (ELK / "go" / "jaeger" / "go.mod").read_text()
    assert f"tool {versions.JAEGER_PACKAGE}" in gomod
    assert f"{versions.JAEGER_MODULE} {versions.JAEGER_VERSION}" in gomod


def test_go_sums_are_committed() -> None:
    """Every Go build has a committed go.sum, so module checksums are pinned in the repo."""
    for path in ("go/jaeger/go.sum", "go/builder/go.sum", "collector/go.sum"):
        assert (ELK / path).stat().st_size > 0, path
