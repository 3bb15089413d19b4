"""The service's exceptions. Model-load failures are a small hierarchy, one type per cause."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class ServiceError(Exception):
    """Base of every exception this package raises on purpose."""


class ModelLoadError(ServiceError):
    """A model could not be loaded; `reason` is the stable machine-readable cause.

    Attributes:
        model: the model name, e.g. `stage1-qualifying`.
        path: the file that failed.
        detail: what is wrong, in words that say what to fix.
    """

    reason: ClassVar[str] = "load_failed"

    def __init__(self, model: str, path: Path, detail: str) -> None:
        super().__init__(f"{model}: {detail} ({path})")
        self.model = model
        self.path = path
        self.detail = detail


class ModelFileMissingError(ModelLoadError):
    """The model file or its metadata file does not exist."""

    reason = "missing_file"


class ModelFileCorruptError(ModelLoadError):
    """The model file or its metadata cannot be parsed."""

    reason = "corrupt_file"


class ModelChecksumMismatchError(ModelLoadError):
    """The model file's sha256 differs from the one recorded in its metadata."""

    reason = "checksum_mismatch"


class ModelSchemaMismatchError(ModelLoadError):
    """The model's features differ from what its metadata or this service expects."""

    reason = "schema_mismatch"


class ModelUnavailableError(ServiceError):
    """A request needs a model that is not loaded; carries the load error when there was one."""

    def __init__(self, model: str, cause: ModelLoadError | None) -> None:
        reason = cause.reason if cause else "not_loaded"
        super().__init__(f"model {model} is unavailable: {reason}")
        self.model = model
        self.cause = cause
        self.reason = reason


class UnknownValueError(ServiceError):
    """A categorical input (driver, circuit) the model was not trained on."""

    def __init__(self, field: str, value: str, valid: list[str], listing: str) -> None:
        super().__init__(f"unknown {field} {value!r}; valid values are listed at GET {listing}")
        self.field = field
        self.value = value
        self.valid = valid
        self.listing = listing


class FeedbackError(ServiceError):
    """Feedback that cannot be recorded; `status` is the HTTP status to answer with.

    Attributes:
        reason: a stable machine-readable cause, when the type alone does not say it.
    """

    status: ClassVar[int] = 422
    kind: ClassVar[str] = "feedback_invalid"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class UnknownPredictionError(FeedbackError):
    """No prediction can have this id (not a UUIDv7, expired, from the future)."""

    status = 404
    kind = "unknown_prediction"


class FeedbackAlreadyRecordedError(FeedbackError):
    """This prediction already has its outcome; a second one would count twice."""

    status = 409
    kind = "feedback_already_recorded"


class FeedbackMismatchError(FeedbackError):
    """The outcome does not fit the prediction (a winner for a lap-time prediction, a winner
    who is no driver of the stage-2 model or was not in the predicted field)."""

    status = 422
    kind = "feedback_mismatch"
