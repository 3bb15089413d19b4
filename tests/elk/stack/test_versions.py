"""The pinned versions in elk.versions agree with the committed Go manifests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
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


@pytest.mark.parametrize(
    ("tools", "module", "version", "commands"),
    [
        (
            "prometheus",
            versions.PROMETHEUS_MODULE,
            versions.PROMETHEUS_VERSION,
            ("prometheus", "promtool"),
        ),
        (
            "alertmanager",
            versions.ALERTMANAGER_MODULE,
            versions.ALERTMANAGER_VERSION,
            ("alertmanager", "amtool"),
        ),
    ],
)
def test_prometheus_tools_modules_pin_their_versions(
    tools: str, module: str, version: str, commands: tuple[str, ...]
) -> None:
    """The Prometheus and Alertmanager tools modules require the pinned version and declare
    every command the stack builds."""
    gomod = (ELK / "go" / tools / "go.mod").read_text()
    assert re.search(rf"^\s*{re.escape(module)} {re.escape(version)}\b", gomod, re.M), gomod[:400]
    for command in commands:
        assert f"{module}/cmd/{command}" in gomod


def test_compose_tools_module_pins_the_compose_version() -> None:
    """The compose tools module requires COMPOSE_VERSION and declares the compose CLI as a tool."""
    gomod = (ELK / "go" / "compose" / "go.mod").read_text()
    assert f"tool {versions.COMPOSE_PACKAGE}" in gomod
    assert re.search(
        rf"^\s*{re.escape(versions.COMPOSE_MODULE)} {re.escape(versions.COMPOSE_VERSION)}\b",
        gomod,
        re.M,
    )


def test_go_sums_are_committed() -> None:
    """Every Go build has a committed go.sum, so module checksums are pinned in the repo."""
    paths = ("go/jaeger/go.sum", "go/builder/go.sum", "go/prometheus/go.sum")
    for path in (*paths, "go/alertmanager/go.sum", "go/compose/go.sum", "collector/go.sum"):
        assert (ELK / path).stat().st_size > 0, path
