"""Where a model's files live on disk, and how `amf1 train` publishes a new version atomically.

Layout (per model):

    <models_dir>/<name>/versions/<version>/model.txt
    <models_dir>/<name>/versions/<version>/metadata.json
    <models_dir>/<name>/current -> versions/<version>      (a relative symlink)

A version directory is complete before it gets its final name, and `current` is swapped by
`os.replace` of a temporary symlink, so a reader that resolves `current` once and reads both
files from the resolved directory never sees half a pair. Models trained before this layout
(`<models_dir>/<name>/model.txt` directly) are still read when `current` is absent.

Everything created here is private: folders 0700, files 0600.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from service.metadata import METADATA_FILE, MODEL_FILE

CURRENT_LINK = "current"
VERSIONS_FOLDER = "versions"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
_TEMP_PREFIX = ".tmp-"


def model_directory(models_dir: Path, name: str) -> Path:
    """The directory holding `name`'s files right now: `current` resolved, else the old flat
    layout `<models_dir>/<name>/`. Resolve it once per load and read both files from it."""
    base = models_dir / name
    link = base / CURRENT_LINK
    try:
        target = link.readlink()
    except OSError:
        # A copy made without preserving symlinks (`cp -r`, `shutil.copytree`) has a folder.
        return link if link.is_dir() else base
    return base / target


def has_models(models_dir: Path) -> bool:
    """Whether any model was ever published (new or old layout) under `models_dir`."""
    return any(models_dir.glob(f"*/{CURRENT_LINK}/{MODEL_FILE}")) or any(
        models_dir.glob(f"*/{MODEL_FILE}")
    )


def private_folder(path: Path) -> None:
    """Create `path` and its missing parents as 0700 (an existing folder is made 0700 too)."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    # mkdir's mode passes through the umask and leaves an existing folder as it was.
    if path.stat().st_mode & 0o777 != FOLDER_MODE:
        path.chmod(FOLDER_MODE)


def write_private(path: Path, content: bytes) -> None:
    """Write `content` to a new file `path`, mode 0600 whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as out:
        os.fchmod(out.fileno(), FILE_MODE)
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def publish(models_dir: Path, name: str, version: str, model: bytes, metadata: bytes) -> Path:
    """Publish one model version: write a complete version directory, then swap `current`.

    Returns the version directory. Publishing a version that already exists re-points
    `current` at it without rewriting it.

    Raises:
        OSError: the models directory cannot be written; `current` still names the old version.
    """
    base = models_dir / name
    versions = base / VERSIONS_FOLDER
    if not models_dir.exists():
        private_folder(models_dir)
    private_folder(base)
    private_folder(versions)
    final = versions / version
    if not final.exists():
        staging = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=versions))
        try:
            staging.chmod(FOLDER_MODE)
            write_private(staging / MODEL_FILE, model)
            write_private(staging / METADATA_FILE, metadata)
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    link = base / f"{_TEMP_PREFIX}{CURRENT_LINK}-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(Path(VERSIONS_FOLDER) / version)
    link.replace(base / CURRENT_LINK)  # os.replace: atomic
    _drop_flat_files(base)
    return final


def _drop_flat_files(base: Path) -> None:
    """Remove files of the old flat layout: `current` now wins, and they would only mislead."""
    for stale in (base / MODEL_FILE, base / METADATA_FILE):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
