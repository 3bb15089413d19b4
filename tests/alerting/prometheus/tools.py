"""The Prometheus and Alertmanager binaries the stack built (`amf1 stack build prometheus
alertmanager`), or a skip (a failure under CI=true) naming how to get them."""

from __future__ import annotations

from pathlib import Path

from elk.settings import Settings
from elk.stack.layout import Layout
from tests.stack_fixtures import skip_or_fail

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = ROOT / "prometheus"


def binary(name: str) -> Path:
    """`prometheus`, `promtool`, `alertmanager` or `amtool` from the stack's cache."""
    layout = Layout.from_settings(Settings())
    directory = (
        layout.alertmanager_dir if name in {"alertmanager", "amtool"} else layout.prometheus_dir
    )
    path = directory / name
    if not path.exists():
        skip_or_fail(f"{path} not built; run `amf1 stack build prometheus alertmanager`")
    return path
