"""Builds `tracing/_hotpath.c` (the lean tracer's per-request work in C) when the project is
installed, so `uv sync` on a fresh machine compiles it with no extra step.

Editable installs (what `uv sync` makes) build it next to its source; a wheel carries it. Without
a C compiler (the slim Docker image) the build goes on without it and the tracer runs its
pure-Python path (`tracing.hotpath.AVAILABLE` is False; `AMF1_TRACING_NATIVE=false` chooses that
path on purpose).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "tracing/_hotpath.c"


def compile_extension(root: Path, build_dir: Path | None) -> Path:
    """Compile the extension into the source tree (`build_dir` None) or into `build_dir`;
    returns the shared library's path."""
    from setuptools import Distribution, Extension  # noqa: PLC0415 - build-time only
    from setuptools.command.build_ext import build_ext  # noqa: PLC0415

    extension = Extension("tracing._hotpath", [SOURCE], extra_compile_args=["-O2"])
    distribution = Distribution({"name": "amf1-hotpath", "ext_modules": [extension]})
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
        return (root if build_dir is None else build_dir) / command.get_ext_filename(
            "tracing._hotpath"
        )
    finally:
        os.chdir(previous)
        shutil.rmtree(scratch, ignore_errors=True)


class HotPathBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles the tracer's C hot path; a failure leaves the pure-Python path."""

    PLUGIN_NAME = "custom"

    _wheel_dir: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the extension for this install (in place for an editable one); an sdist
        carries the C source only."""
        if self.target_name != "wheel":
            return
        editable = version == "editable"
        if not editable:
            self._wheel_dir = tempfile.mkdtemp(prefix="amf1-hotpath-wheel-")
        try:
            built = compile_extension(
                Path(self.root), None if editable else Path(self._wheel_dir or "")
            )
        except Exception as exc:  # noqa: BLE001 - no compiler: the pure-Python path runs
            self.app.display_warning(
                f"{SOURCE} was not built ({type(exc).__name__}: {exc}); "
                "the tracer runs its pure-Python path"
            )
            return
        if not editable:
            build_data["force_include"][str(built)] = f"tracing/{built.name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove what a wheel build compiled (the wheel has it now)."""
        if self._wheel_dir is not None:
            shutil.rmtree(self._wheel_dir, ignore_errors=True)
