"""`amf1 serve` for real (subprocesses on loopback ports): one reload reaches every worker of
`--workers 3`, and every replica sharing the models directory. No stack needed: logs are not
shipped and tracing is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.metadata import METADATA_FILE
from service.model_store import model_directory
from tests.ports import free_port
from tests.service.conftest import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
START_S = 120.0  # three workers importing pandas and LightGBM on two shared cores
POLL_S = 1.0
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@contextmanager
def _serve(
    models_dir: Path, log: Path, workers: int
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`amf1 serve` until the block ends; yields its URL and process once its `workers`
    workers are live."""
    port = free_port()
    env = os.environ | {
        "AMF1_ADMIN_TOKEN": ADMIN_TOKEN,
        "AMF1_LOG_SHIP": "false",
        "AMF1_TRACING_ENABLED": "false",
        "AMF1_RELOAD_POLL_S": str(POLL_S),
    }
    args = [sys.executable, "-m", "amf1.cli", "serve", "--port", str(port)]
    args += ["--workers", str(workers), "--models-dir", str(models_dir)]
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_workers(url, workers, process, log)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for_workers(url: str, count: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait (bounded) until /health lists `count` live workers; fail early if `process` exits."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"amf1 serve exited with {process.returncode}: {tail}")
        try:
            if len(httpx.get(f"{url}/health", timeout=2).json()["workers"]) >= count:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{count} workers behind {url} not live within {START_S:.0f} s")


def _rename_version(models_dir: Path, name: str, version: str) -> None:
    """A changed model: the same booster under a new version (its checksum still matches)."""
    path = model_directory(models_dir, name) / METADATA_FILE
    document = json.loads(path.read_text())
    path.write_text(json.dumps(document | {"version": version}))


def _reload(url: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    response = httpx.post(f"{url}/admin/models/reload", headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    return response.json(), time.monotonic() - started


def _served_versions(body: dict[str, Any], name: str) -> set[str | None]:
    """Every version of `name` that a /models or reload answer shows, over all its workers."""
    versions = {worker["models"][name].get("version") for worker in body["workers"]}
    versions |= {m.get("version") for m in body["models"] if m["name"] == name}
    return versions


@pytest.mark.timeout(300)
def test_one_reload_reaches_all_three_workers(models_dir: Path, tmp_path: Path) -> None:
    """After one reload every worker serves the new version within poll + load time, the
    answer says all three reloaded, and no later /models shows a second version."""
    with _serve(models_dir, tmp_path / "serve.log", workers=3) as (url, _):
        _rename_version(models_dir, "stage1-qualifying", "v-next")
        body, took_s = _reload(url)
        assert body["all_workers_reloaded"] is True, body["workers_not_reloaded"]
        assert len(body["workers"]) == 3
        assert {w["generation"] for w in body["workers"]} == {body["generation"]}
        assert _served_versions(body, "stage1-qualifying") == {"v-next"}
        # Bound: the default wait (10 s) is never used up; ~poll + load time is.
        assert took_s < POLL_S + 5, f"reload took {took_s:.2f} s"
        for _ in range(60):
            seen = httpx.get(f"{url}/models", timeout=10).json()
            assert seen["workers_agree"] is True, seen["differences"]
            assert _served_versions(seen, "stage1-qualifying") == {"v-next"}
    assert list((models_dir / ".workers").glob("*.json")) == [], "status files left at shutdown"


@pytest.mark.timeout(300)
def test_a_reload_on_one_instance_reaches_another_sharing_the_models_dir(
    models_dir: Path, tmp_path: Path
) -> None:
    """Two instances on two ports over one models directory: a reload on the first (here to a
    corrupt model) is followed by the second, and the first's answer says so."""
    with (
        _serve(models_dir, tmp_path / "a.log", workers=1) as (first, first_process),
        _serve(models_dir, tmp_path / "b.log", workers=1) as (second, _),
    ):
        _wait_for_workers(first, 2, first_process, tmp_path / "a.log")
        model = model_directory(models_dir, "stage2-race-winner") / "model.txt"
        model.write_bytes(model.read_bytes() + b"\ncorrupted")
        body, _ = _reload(first)
        assert body["all_workers_reloaded"] is True, body["workers_not_reloaded"]
        assert len(body["workers"]) == 2
        seen = httpx.get(f"{second}/models", timeout=10).json()
        [stage2] = [m for m in seen["models"] if m["name"] == "stage2-race-winner"]
        # The failed reload keeps the previous version serving, and says why.
        assert stage2["loaded"] is True
        assert stage2["reload_error"]["reason"] == "checksum_mismatch"
        assert seen["worker"]["generation"] == body["generation"]
        assert seen["workers_agree"] is True
