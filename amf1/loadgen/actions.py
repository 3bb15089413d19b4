"""State-changing steps around a load run: corrupting a model file, hot reload, restore.

The corrupt-model scenario overwrites the served `model.txt` (`models/<name>/current/model.txt`,
or `models/<name>/model.txt` for models trained before versioned publishing) with garbage
(after copying it aside), asks the service to reload, drives traffic while the reload has failed
(the service keeps serving the previous version and says so), then puts the file back and
reloads again. The copy is kept next to the file, so a run killed half-way is repaired by the
next run (`restore_model` first thing).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from amf1.loadgen.client import Connection, LoadgenError, Request, Target

BACKUP_SUFFIX = ".loadgen-backup"
_GARBAGE = b"tree\nversion=v4\nthis is not a LightGBM model: corrupted by amf1 loadgen\n"


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """The service's answer to `POST /admin/models/reload`: HTTP status and model -> loaded."""

    status: int
    loaded: dict[str, bool]
    errors: dict[str, str]


def model_file(models_dir: Path, model: str) -> Path:
    """The LightGBM text file `model` serves (`<models_dir>/<model>/current/model.txt`, or the
    flat `<models_dir>/<model>/model.txt` of models trained before versioned publishing)."""
    from service.model_store import model_directory  # noqa: PLC0415 - the layout's one owner

    return model_directory(models_dir, model) / "model.txt"


def corrupt_model(models_dir: Path, model: str) -> Path:
    """Copy the model file aside and overwrite it with garbage; returns the file's path.

    Raises:
        LoadgenError: the model file does not exist (the scenario needs a local service).
    """
    path = model_file(models_dir, model)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if not path.exists() and not backup.exists():
        raise LoadgenError(f"{path} does not exist: corrupt-model needs the service's models dir")
    if not backup.exists():
        shutil.copy2(path, backup)
    path.write_bytes(_GARBAGE)
    return path


def restore_model(models_dir: Path, model: str) -> bool:
    """Put the copied-aside model file back; returns whether there was one to restore."""
    path = model_file(models_dir, model)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if not backup.exists():
        return False
    backup.replace(path)
    return True


async def reload_models(target: Target, token: str | None, timeout_s: float = 30.0) -> ReloadResult:
    """Call `POST /admin/models/reload` with the bearer token."""
    headers = (("Authorization", f"Bearer {token}"),) if token else ()
    connection = Connection(target, timeout_s)
    try:
        response = await connection.send(
            Request("POST", "/admin/models/reload", headers=headers, label="admin-reload")
        )
    finally:
        await connection.close()
    loaded: dict[str, bool] = {}
    errors: dict[str, str] = {}
    try:
        body: Any = orjson.loads(response.body) if response.body else {}
    except orjson.JSONDecodeError:
        body = {}
    for entry in body.get("models", []) if isinstance(body, dict) else []:
        name = str(entry.get("name"))
        loaded[name] = bool(entry.get("loaded"))
        # `reload_error`: the reload failed and the previous version keeps serving.
        if entry.get("error") or entry.get("reload_error"):
            error = entry.get("error") or entry["reload_error"]
            errors[name] = str(error.get("type", error) if isinstance(error, dict) else error)
    return ReloadResult(response.status, loaded, errors)
