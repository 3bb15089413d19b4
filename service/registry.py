"""Loading the models from `AMF1_MODELS_DIR`, once at start-up and on demand (hot reload).

Every load failure is a `ModelLoadError` subclass recorded in the model's status. A failed
reload never loses a working model: the last good version keeps serving and the status carries
the failure beside it. Only a model that never loaded answers 503. A reload swaps the whole status
map at once, so a request sees either the old models or the new ones, never a mix.

Each load resolves the model's `current` pointer once (`service.model_store`) and reads both
files from that version directory, so a concurrent `amf1 train` never hands it half a pair.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from logshipping.events import Action, emit
from service.errors import (
    ModelChecksumMismatchError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelLoadError,
    ModelSchemaMismatchError,
    ModelUnavailableError,
)
from service.features import FEATURES, MODEL_NAMES, STAGE1_NAME, Encoder, Feature
from service.metadata import METADATA_FILE, MODEL_FILE, ModelMetadata
from service.model_store import model_directory
from service.predictor import SingleRowPredictor


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model ready to serve: booster, encoder, fast single-row predictor, metadata."""

    name: str
    metadata: ModelMetadata
    booster: Any
    encoder: Encoder
    predictor: SingleRowPredictor

    @property
    def version(self) -> str:
        """The metadata's version string."""
        return self.metadata.version


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """Outcome of the latest load attempt of one model.

    `model` is what serves (None: nothing); `error` is why the latest attempt failed. Both set:
    the reload failed and the previous version keeps serving.
    """

    name: str
    model: LoadedModel | None
    error: ModelLoadError | None
    attempted_at: dt.datetime

    @property
    def reload_failed(self) -> bool:
        """Whether the latest load failed while an earlier version keeps serving."""
        return self.model is not None and self.error is not None


class ModelRegistry:
    """The loaded models by name; `load_all` (re)loads every model from `models_dir`."""

    def __init__(self, models_dir: Path, names: tuple[str, ...] = MODEL_NAMES) -> None:
        self.models_dir = models_dir
        self.names = names
        self._statuses: Mapping[str, ModelStatus] = {}
        self._reload_lock = threading.Lock()

    @property
    def attempted(self) -> bool:
        """Whether a load has run at least once."""
        return bool(self._statuses)

    def load_all(self, fields: Mapping[str, Any] | None = None) -> Mapping[str, ModelStatus]:
        """Load every model, log one load event per model, and swap them in atomically.

        Args:
            fields: added to every load event (e.g. which reload generation this load serves).
        """
        with self._reload_lock:
            previous = self._statuses
            statuses = {
                name: _load_status(self.models_dir, name, fields or {}, previous.get(name))
                for name in self.names
            }
            self._statuses = statuses
        return statuses

    def statuses(self) -> Mapping[str, ModelStatus]:
        """The latest status of every model (empty before the first load)."""
        return self._statuses

    def get(self, name: str) -> LoadedModel:
        """The loaded model `name`; raises `ModelUnavailableError` with the load error otherwise."""
        status = self._statuses.get(name)
        if status is None or status.model is None:
            raise ModelUnavailableError(name, status.error if status else None)
        return status.model


def _load_status(
    models_dir: Path, name: str, fields: Mapping[str, Any], previous: ModelStatus | None
) -> ModelStatus:
    now = dt.datetime.now(dt.UTC)
    try:
        model = load_model(model_directory(models_dir, name), name)
    except ModelLoadError as exc:
        kept = previous.model if previous is not None else None
        failure = {
            **fields,
            "amf1.model.name": name,
            "amf1.model.loaded": kept is not None,
            "error.type": type(exc).__name__,
            "error.message": str(exc),
            "file.path": str(exc.path),
        }
        outcome = "nothing to serve"
        if kept is not None:
            failure["amf1.model.version"] = kept.version
            failure["amf1.model.previous_version_serving"] = True
            outcome = f"the previous version {kept.version} keeps serving"
        message = f"model {name} failed to load: {exc.reason}: {exc.detail}; {outcome}"
        emit(Action.MODEL_LOAD_FAILED, message, failure)
        return ModelStatus(name, kept, exc, now)
    emit(
        Action.MODEL_LOAD_SUCCEEDED,
        f"model {name} {model.version} loaded",
        {
            **fields,
            "amf1.model.name": name,
            "amf1.model.version": model.version,
            "amf1.model.sha256": model.metadata.model_sha256,
            "amf1.model.loaded": True,
        },
    )
    return ModelStatus(name, model, None, now)


def load_model(directory: Path, name: str) -> LoadedModel:
    """Load and verify one model directory.

    Raises:
        ModelFileMissingError: `metadata.json` or `model.txt` is absent.
        ModelFileCorruptError: either file cannot be parsed.
        ModelChecksumMismatchError: `model.txt` is not the file the metadata describes.
        ModelSchemaMismatchError: the features differ between this service, metadata and model.
    """
    metadata = _read_metadata(directory / METADATA_FILE, name)
    model_path = directory / MODEL_FILE
    try:
        content = model_path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelFileMissingError(
            name, model_path, "model file not found; run `amf1 train`"
        ) from exc
    except OSError as exc:
        raise ModelFileCorruptError(name, model_path, f"model file unreadable: {exc}") from exc
    digest = hashlib.sha256(content).hexdigest()
    if digest != metadata.model_sha256:
        raise ModelChecksumMismatchError(
            name,
            model_path,
            f"sha256 {digest[:12]}... differs from metadata {metadata.model_sha256[:12]}...; "
            "the file changed after training: retrain or restore it",
        )
    booster = _parse_booster(content, name, model_path)
    _check_schema(booster, metadata, FEATURES[name], name, directory)
    categories = {f.name: f.categories or [] for f in metadata.features if f.categories}
    encoder = Encoder(FEATURES[name], categories)
    return LoadedModel(name, metadata, booster, encoder, SingleRowPredictor(booster))


def _read_metadata(path: Path, name: str) -> ModelMetadata:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelFileMissingError(
            name, path, "metadata file not found; run `amf1 train`"
        ) from exc
    except OSError as exc:
        raise ModelFileCorruptError(name, path, f"metadata file unreadable: {exc}") from exc
    try:
        metadata = ModelMetadata.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise ModelFileCorruptError(
            name, path, f"metadata invalid at {where}: {first['msg']}"
        ) from exc
    if metadata.name != name:
        raise ModelSchemaMismatchError(name, path, f"metadata is for model {metadata.name!r}")
    return metadata


def _parse_booster(content: bytes, name: str, path: Path) -> Any:
    import lightgbm as lgb  # noqa: PLC0415 - heavy import, load time only

    try:
        return lgb.Booster(model_str=content.decode("utf-8"))
    except (lgb.basic.LightGBMError, UnicodeDecodeError, ValueError) as exc:
        raise ModelFileCorruptError(name, path, f"not a LightGBM text model: {exc}") from exc


def _check_schema(
    booster: Any,
    metadata: ModelMetadata,
    expected: tuple[Feature, ...],
    name: str,
    directory: Path,
) -> None:
    declared = [(f.name, f.type) for f in metadata.features]
    wanted = [(f.name, f.kind) for f in expected]
    if declared != wanted:
        raise ModelSchemaMismatchError(
            name, directory / METADATA_FILE, f"metadata features {declared} != service's {wanted}"
        )
    in_model = list(booster.feature_name())
    if in_model != [f.name for f in expected]:
        raise ModelSchemaMismatchError(
            name, directory / MODEL_FILE, f"model features {in_model} != metadata's features"
        )
    for feature in metadata.features:
        if feature.type == "categorical" and not feature.categories:
            raise ModelSchemaMismatchError(
                name, directory / METADATA_FILE, f"categorical {feature.name!r} has no categories"
            )
    if name == STAGE1_NAME and not metadata.target.circuit_reference_lap_s:
        raise ModelSchemaMismatchError(
            name, directory / METADATA_FILE, "target.circuit_reference_lap_s is missing"
        )
