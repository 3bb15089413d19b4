"""What the HTTP API says about the other workers: reload wait, /models, /health."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from fastapi.testclient import TestClient

from service.workers.files import write_json_atomic
from tests.service.conftest import ADMIN_TOKEN, make_client

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _fake_worker(
    models_dir: Path, worker_id: str, generation: int, versions: dict[str, str]
) -> None:
    """A status file as another live worker would publish it."""
    now = dt.datetime.now(dt.UTC).isoformat()
    models = {name: {"loaded": True, "version": version} for name, version in versions.items()}
    write_json_atomic(
        models_dir / ".workers" / f"{worker_id.replace(':', '-')}.json",
        {
            "id": worker_id,
            "generation": generation,
            "started_at": now,
            "heartbeat_at": now,
            "models": models,
        },
    )


def _versions(client: TestClient) -> dict[str, str]:
    return {m["name"]: m["version"] for m in client.get("/models").json()["models"]}


def test_reload_names_a_worker_that_did_not_follow(models_dir: Path) -> None:
    """A live worker still on the old generation: still 200 (this worker reloaded), but
    `all_workers_reloaded` is false and names it, after waiting AMF1_RELOAD_WAIT_S."""
    with make_client(models_dir, reload_wait_s=0.3) as client:
        _fake_worker(models_dir, "other:99", 0, _versions(client))
        started = time.monotonic()
        response = client.post("/admin/models/reload", headers=AUTH)
        waited_s = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["all_workers_reloaded"] is False
    assert body["workers_not_reloaded"] == ["other:99"]
    assert body["generation"] == 1
    assert len(body["workers"]) == 2
    assert [m["loaded"] for m in body["models"]] == [True, True]
    assert 0.3 <= waited_s < 5


def test_reload_reports_all_workers_when_every_one_follows(models_dir: Path) -> None:
    """Every live worker on the new generation: true, with the workers listed."""
    with make_client(models_dir) as client:
        _fake_worker(models_dir, "other:99", 5, _versions(client))  # ahead: already reloaded
        body = client.post("/admin/models/reload", headers=AUTH).json()
    assert body["all_workers_reloaded"] is True
    assert body["workers_not_reloaded"] == []
    assert body["generation"] == 1
    assert {w["id"] for w in body["workers"]} >= {"other:99"}


def test_models_and_health_list_every_live_worker(client: TestClient) -> None:
    """One worker: /models and /health keep this worker's view and add the workers list."""
    models = client.get("/models").json()
    health = client.get("/health").json()
    for body in (models, health):
        assert [w["id"] for w in body["workers"]] == [body["worker"]["id"]]
        assert body["workers_agree"] is True
    assert {m["name"] for m in models["models"]} == set(health["models"])
    assert health["status"] == "ok"


def test_health_is_degraded_when_workers_serve_different_versions(models_dir: Path) -> None:
    """Another worker on an older version: /health says degraded and which worker serves what;
    /models says the workers disagree."""
    with make_client(models_dir) as client:
        versions = _versions(client)
        _fake_worker(models_dir, "old:7", 0, versions | {"stage1-qualifying": "v-old"})
        health = client.get("/health").json()
        models = client.get("/models").json()
    assert health["status"] == "degraded"
    [reason] = health["reasons"]
    assert reason.startswith("workers serve different versions: stage1-qualifying: ")
    assert "v-old on old:7" in reason
    assert versions["stage1-qualifying"] in reason
    assert models["workers_agree"] is False
    assert models["differences"] == [reason.removeprefix("workers serve different versions: ")]


def test_status_file_exists_while_serving_and_goes_at_shutdown(models_dir: Path) -> None:
    """The worker's own status file is there while it serves and removed on clean shutdown."""
    with make_client(models_dir) as client:
        worker_id = client.get("/health").json()["worker"]["id"]
        files = sorted(p.name for p in (models_dir / ".workers").glob("*.json"))
        assert files == [f"{worker_id.replace(':', '-')}.json"]
    assert list((models_dir / ".workers").glob("*.json")) == []
