"""Builds the C hot paths when the project is installed, so `uv sync` on a fresh machine compiles
them with no extra step: `tracing/_hotpath.c` (the lean tracer's per-request work) and
`logshipping/_hotpath.c` (the log event's redaction check).

Editable installs (what `uv sync` makes) build them next to their sources; a wheel carries them.
Without a C compiler (the slim Docker image) the build goes on without them and both packages run
their pure-Python paths (`tracing.native.AVAILABLE` is False,
`logshipping.redaction.native_event_hint_free` None; `AMF1_TRACING_NATIVE=false` chooses the
tracer's on purpose).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

EXTENSIONS = {
    "tracing._hotpath": "tracing/_hotpath.c",
    "logshipping._hotpath": "logshipping/_hotpath.c",
}
"""Module name -> C source."""


def compile_extensions(root: Path, build_dir: Path | None) -> list[Path]:
    """Compile the extensions into the source tree (`build_dir` None) or into `build_dir`;
    returns the shared libraries' paths."""
    from setuptools import Distribution, Extension  # noqa: PLC0415 - build-time only
    from setuptools.command.build_ext import build_ext  # noqa: PLC0415

    extensions = [
        Extension(name, [source], extra_compile_args=["-O2"]) for name, source in EXTENSIONS.items()
    ]
    distribution = Distribution({"name": "amf1-hotpath", "ext_modules": extensions})
    command = build_ext(distribution)
    scratch = tempfile.mkdtemp(prefix="amf1-hotpath-")
    command.inplace = build_dir is None  # built in `scratch`, then copied next to the source
    command.build_lib = str(build_dir) if build_dir is not None else scratch
    command.build_temp = scratch
    previous = Path.cwd()
    os.chdir(root)
    try:
        command.ensure_finalized()
        command.run()
        return [
            (root if build_dir is None else build_dir) / command.get_ext_filename(name)
            for name in EXTENSIONS
        ]
    finally:
        os.chdir(previous)
        shutil.rmtree(scratch, ignore_errors=True)


class HotPathBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles the C hot paths; a failure leaves the pure-Python paths."""

    PLUGIN_NAME = "custom"

    _wheel_dir: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the extensions for this install (in place for an editable one); an sdist
        carries the C source only."""
        if self.target_name != "wheel":
            return
        editable = version == "editable"
        if not editable:
            self._wheel_dir = tempfile.mkdtemp(prefix="amf1-hotpath-wheel-")
        try:
            built = compile_extensions(
                Path(self.root), None if editable else Path(self._wheel_dir or "")
            )
        except Exception as exc:  # noqa: BLE001 - no compiler: the pure-Python path runs
            self.app.display_warning(
                f"{', '.join(EXTENSIONS.values())} were not built ({type(exc).__name__}: {exc}); "
                "the tracer and the log redaction run their pure-Python paths"
            )
            return
        if not editable:
            for path, name in zip(built, EXTENSIONS, strict=True):
                package = name.partition(".")[0]
                build_data["force_include"][str(path)] = f"{package}/{path.name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove what a wheel build compiled (the wheel has it now)."""
        if self._wheel_dir is not None:
            shutil.rmtree(self._wheel_dir, ignore_errors=True)
