"""Models are never lost to a reload: a failed reload keeps the last good version serving and
says so; `amf1 train` publishes a version atomically, so no reader sees half a pair."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from structlog.testing import capture_logs

from service.errors import ModelLoadError
from service.features import STAGE1_NAME
from service.metadata import METADATA_FILE, MODEL_FILE
from service.model_store import CURRENT_LINK, model_directory, publish
from service.registry import load_model
from tests.service.conftest import ADMIN_TOKEN, make_client, qualifying_body

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_a_failed_reload_keeps_serving_the_previous_version(models_dir: Path) -> None:
    """Corrupt file + reload: predictions still 200 from the old version; /models shows
    loaded with `reload_error`, /health is degraded with the reason, /ready stays 200, and
    the model-load-failed event says the previous version keeps serving."""
    with make_client(models_dir) as client:
        version = client.get("/models").json()["models"][0]["version"]
        (model_directory(models_dir, STAGE1_NAME) / MODEL_FILE).write_bytes(b"garbage\n")
        with capture_logs() as logs:
            assert client.post("/admin/models/reload", headers=AUTH).status_code == 200
        (failed,) = [e for e in logs if e.get("event.action") == "model-load-failed"]
        assert failed["amf1.model.version"] == version
        assert f"previous version {version} keeps serving" in failed["event"]

        answer = client.post("/predict/qualifying", json=qualifying_body())
        assert answer.status_code == 200
        assert answer.json()["model"]["version"] == version
        [listed] = [m for m in client.get("/models").json()["models"] if m["name"] == STAGE1_NAME]
        assert listed["loaded"] is True
        assert listed["version"] == version
        assert listed["reload_error"]["reason"] == "checksum_mismatch"
        health = client.get("/health").json()
        assert health["status"] == "degraded"
        assert any("reload failed (checksum_mismatch)" in r for r in health["reasons"])
        assert client.get("/ready").status_code == 200


def test_train_layout_is_versions_and_a_current_symlink(models_dir: Path) -> None:
    """Each model is `versions/<version>/` with both files and a relative `current` link."""
    link = models_dir / STAGE1_NAME / CURRENT_LINK
    assert link.is_symlink()
    assert str(link.readlink()).startswith("versions/")
    assert {p.name for p in link.resolve().iterdir()} == {MODEL_FILE, METADATA_FILE}


def test_publish_is_private(tmp_path: Path) -> None:
    """Version folders are 0700 and model files 0600 whatever the umask."""
    previous = os.umask(0o022)
    try:
        final = publish(tmp_path, "m", "v1", b"model", b"{}")
    finally:
        os.umask(previous)
    for path in (tmp_path / "m", tmp_path / "m" / "versions", final):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in final.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_no_reader_sees_half_a_pair_while_versions_are_published(models_dir: Path) -> None:
    """One thread publishes new versions in a loop while another loads in a loop: every load
    succeeds (never a checksum mismatch from a new model beside old metadata)."""
    served = model_directory(models_dir, STAGE1_NAME)
    model = (served / MODEL_FILE).read_bytes()
    metadata = (served / METADATA_FILE).read_text()
    original = load_model(served, STAGE1_NAME).version
    stop = threading.Event()
    published: list[str] = []

    def publisher() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            version = f"v{number}"
            text = metadata.replace(original, version)
            publish(models_dir, STAGE1_NAME, version, model, text.encode())
            published.append(version)

    failures: list[ModelLoadError] = []
    seen: set[str] = set()
    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        for _ in range(150):
            try:
                seen.add(load_model(model_directory(models_dir, STAGE1_NAME), STAGE1_NAME).version)
            except ModelLoadError as exc:
                failures.append(exc)
    finally:
        stop.set()
        thread.join(10)
    assert failures == []
    assert len(published) > 5
    assert len(seen) > 1  # the loads really raced the publisher
