"""Build Jaeger, Prometheus, Alertmanager, the collector and the compose CLI from Go modules
into the cache.

Only the Go module proxy is contacted (GOPROXY as configured, GOTOOLCHAIN=local). Module and
build caches live under the stack's Go directory (AMF1_GO_CACHE_DIR), so nothing outside the
repository and the registries feeds a build. Our committed go.mod/go.sum files pin every module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from elk import versions
from elk.stack.layout import Layout
from elk.stack.locking import file_lock
from elk.stack.progress import Reporter

ELK_DIR = Path(__file__).resolve().parents[1]
JAEGER_TOOLS_DIR = ELK_DIR / "go" / "jaeger"
PROMETHEUS_TOOLS_DIR = ELK_DIR / "go" / "prometheus"
ALERTMANAGER_TOOLS_DIR = ELK_DIR / "go" / "alertmanager"
BUILDER_TOOLS_DIR = ELK_DIR / "go" / "builder"
COMPOSE_TOOLS_DIR = ELK_DIR / "go" / "compose"
COLLECTOR_DIR = ELK_DIR / "collector"
_BUILD_TIMEOUT_S = 3600.0
_LOCK_TIMEOUT_S = 3900.0
_PROGRESS_EVERY_S = 30.0
_FALLBACK_GO = Path("/usr/local/go/bin/go")


class BuildError(RuntimeError):
    """A Go build failed; the message carries the tail of its output."""


def _go_binary() -> Path | None:
    """`go` on PATH, else the official tarball's place (non-login shells often miss it)."""
    found = shutil.which("go")
    if found is not None:
        return Path(found)
    return _FALLBACK_GO if _FALLBACK_GO.exists() else None


def go_env(layout: Layout) -> dict[str, str]:
    """Environment for every `go` command of the stack: private caches, pinned modules."""
    env = dict(os.environ)
    go = _go_binary()
    if go is not None:
        env["PATH"] = os.pathsep.join([str(go.parent), env.get("PATH", "")])
    env.update(
        GOMODCACHE=str(layout.go_dir / "mod"),
        GOCACHE=str(layout.go_dir / "build"),
        GOPATH=str(layout.go_dir / "path"),
        # Never fetch a toolchain, never touch a VCS host: modules come from the proxy only.
        GOTOOLCHAIN="local",
        GOFLAGS="-mod=readonly -buildvcs=false -trimpath",
        CGO_ENABLED="0",
    )
    return env


def check_go(report: Reporter) -> str:
    """Return `go version` output, failing early with a clear message when Go is unusable."""
    go = _go_binary()
    if go is None:
        raise BuildError("the `go` command is not on PATH (Go 1.26+ is needed to build the stack)")
    output = subprocess.run(  # noqa: S603 - fixed argv
        [go, "version"], capture_output=True, text=True, check=False, timeout=60
    ).stdout.strip()
    match = re.search(r"go(\d+)\.(\d+)", output)
    if match is None or (int(match.group(1)), int(match.group(2))) < versions.GO_MIN_VERSION:
        raise BuildError(f"need Go {'.'.join(map(str, versions.GO_MIN_VERSION))}+, got {output!r}")
    report(f"go: {output}")
    return output


def _wait_reporting(process: subprocess.Popen[bytes], log: Path, report: Reporter) -> int:
    """Wait for a build, telling `report` every so often how far its log has grown."""
    started = time.monotonic()
    while True:
        try:
            return process.wait(timeout=_PROGRESS_EVERY_S)
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - started
            if elapsed > _BUILD_TIMEOUT_S:
                process.kill()
                raise BuildError(f"build timed out after {_BUILD_TIMEOUT_S:.0f} s") from None
            lines = log.read_bytes().count(b"\n") if log.exists() else 0
            report(f"  ... still building ({elapsed / 60:.1f} min, {lines} log lines)")


def _run(argv: list[str], cwd: Path, env: dict[str, str], log: Path, report: Reporter) -> None:
    """Run one build command, output to `log`; raise BuildError with the log's tail on failure."""
    report(f"  $ {' '.join(argv)}   (log: {log})")
    with log.open("a", encoding="utf-8") as out:
        process = subprocess.Popen(  # noqa: S603 - argv built from constants and paths
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        returncode = _wait_reporting(process, log, report)
    if returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:])
        raise BuildError(f"`{' '.join(argv)}` failed (exit {returncode}):\n{tail}")


def _ensure_binary(
    binary: Path, package: str, *, version: str, tools_dir: Path, layout: Layout, report: Reporter
) -> Path:
    """Return `binary`, building `package` through the tools module `tools_dir` if missing."""
    if binary.exists():
        return binary
    name = binary.parent.name
    with file_lock(layout.locks_dir / f"{binary.name}.lock", _LOCK_TIMEOUT_S, report):
        if binary.exists():
            return binary
        check_go(report)
        binary.parent.mkdir(parents=True, exist_ok=True)
        report(f"{name}: building {package}@{version} (several minutes the first time)")
        partial = binary.with_name(f".{binary.name}.partial")
        # -v names each package as it compiles, so the log grows visibly during the build.
        argv = ["go", "build", "-v", "-ldflags=-s -w", "-o", str(partial), package]
        _run(argv, tools_dir, go_env(layout), binary.with_name("build.log"), report)
        partial.replace(binary)
        report(f"{name}: built {binary}")
    return binary


def ensure_jaeger(layout: Layout, report: Reporter) -> Path:
    """Return the Jaeger binary, building it from elk/go/jaeger (go.mod + go.sum) if missing."""
    return _ensure_binary(
        layout.jaeger_binary,
        versions.JAEGER_PACKAGE,
        version=versions.JAEGER_VERSION,
        tools_dir=JAEGER_TOOLS_DIR,
        layout=layout,
        report=report,
    )


def ensure_compose(layout: Layout, report: Reporter) -> Path:
    """Return the compose CLI, building it from elk/go/compose (go.mod + go.sum) if missing."""
    return _ensure_binary(
        layout.compose_binary,
        versions.COMPOSE_PACKAGE,
        version=versions.COMPOSE_VERSION,
        tools_dir=COMPOSE_TOOLS_DIR,
        layout=layout,
        report=report,
    )


@dataclass(frozen=True)
class _GoTools:
    """A tools module building several commands of one Go module into one cache directory."""

    module: str
    version: str
    tools_dir: Path
    commands: tuple[str, ...]  # the first is the service's own binary
    # Files that `//go:embed` needs but the module does not ship (built by npm in the project's
    # release process): a placeholder page is written there in a copy of the module's source.
    missing_assets: tuple[str, ...] = ()


_PROMETHEUS = _GoTools(
    versions.PROMETHEUS_MODULE,
    versions.PROMETHEUS_VERSION,
    PROMETHEUS_TOOLS_DIR,
    ("prometheus", "promtool"),
)
_ALERTMANAGER = _GoTools(
    versions.ALERTMANAGER_MODULE,
    versions.ALERTMANAGER_VERSION,
    ALERTMANAGER_TOOLS_DIR,
    ("alertmanager", "amtool"),
    ("ui/app/dist/elm/index.html", "ui/app/dist/mantine/index.html"),
)
_PLACEHOLDER_PAGE = (
    "<!doctype html><title>{name}</title><p>The web UI is not part of the {name} Go module, so "
    "this build has none: use its HTTP API or its command-line tool.</p>\n"
)


def _ensure_commands(tools: _GoTools, directory: Path, layout: Layout, report: Reporter) -> Path:
    """Build every command of `tools` that `directory` lacks; return the first one's path."""
    name = tools.commands[0]
    with file_lock(layout.locks_dir / f"{name}.lock", _LOCK_TIMEOUT_S, report):
        missing = [cmd for cmd in tools.commands if not (directory / cmd).exists()]
        if not missing:
            return directory / name
        check_go(report)
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as scratch:
            tools_dir = tools.tools_dir
            if tools.missing_assets:
                tools_dir = _with_assets(tools, Path(scratch), layout, directory / "build.log")
            for command in missing:
                package = f"{tools.module}/cmd/{command}"
                report(f"{name}: building {package}@{tools.version} (minutes the first time)")
                partial = directory / f".{command}.partial"
                argv = ["go", "build", "-v", "-ldflags=-s -w", "-o", str(partial), package]
                _run(argv, tools_dir, go_env(layout), directory / "build.log", report)
                partial.replace(directory / command)
                report(f"{name}: built {directory / command}")
    return directory / name


def _with_assets(tools: _GoTools, scratch: Path, layout: Layout, log: Path) -> Path:
    """A copy of the tools module whose `tools.module` is a copy of the pinned source (checked
    against our go.sum by `go mod download`) plus placeholders for the missing embedded assets;
    returns the copy's directory. The module cache is read-only and `go build -overlay` may not
    replace files there, hence the copy and a local `replace`."""
    env = go_env(layout)
    argv = ["go", "mod", "download", "-json", f"{tools.module}@{tools.version}"]
    with log.open("a", encoding="utf-8") as out:
        done = subprocess.run(  # noqa: S603 - argv built from constants
            argv,
            cwd=tools.tools_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=_BUILD_TIMEOUT_S,
        )
        out.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise BuildError(f"`{' '.join(argv)}` failed:\n{done.stderr[-2000:]}")
    source = scratch / "module"
    # The module cache is read-only: copy the files' contents, then make the tree writable (so
    # the assets can be added and the scratch directory removed).
    shutil.copytree(json.loads(done.stdout)["Dir"], source, copy_function=shutil.copyfile)
    for folder, _, _ in os.walk(source):
        Path(folder).chmod(0o755)
    for relative in tools.missing_assets:
        asset = source / relative
        asset.parent.mkdir(parents=True, exist_ok=True)
        asset.write_text(_PLACEHOLDER_PAGE.format(name=tools.commands[0]), encoding="utf-8")
    tools_copy = scratch / "tools"
    tools_copy.mkdir()
    for manifest in ("go.mod", "go.sum"):
        shutil.copyfile(tools.tools_dir / manifest, tools_copy / manifest)
    with (tools_copy / "go.mod").open("a", encoding="utf-8") as gomod:
        gomod.write(f"\nreplace {tools.module} => ../module\n")
    return tools_copy


def ensure_prometheus(layout: Layout, report: Reporter) -> Path:
    """Return the Prometheus binary, building it and promtool (elk/go/prometheus) if missing."""
    return _ensure_commands(_PROMETHEUS, layout.prometheus_dir, layout, report)


def ensure_alertmanager(layout: Layout, report: Reporter) -> Path:
    """Return the Alertmanager binary, building it and amtool (elk/go/alertmanager) if missing."""
    return _ensure_commands(_ALERTMANAGER, layout.alertmanager_dir, layout, report)


def _write_manifest(source_dir: Path) -> Path:
    """Our builder manifest with `output_path` pointing into the cache."""
    manifest = yaml.safe_load((COLLECTOR_DIR / "builder-config.yaml").read_text(encoding="utf-8"))
    manifest["dist"]["output_path"] = str(source_dir)
    path = source_dir.parent / "builder-config.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return path


def _ensure_builder(layout: Layout, report: Reporter) -> Path:
    """The collector builder binary, compiled from elk/go/builder (go.mod + go.sum)."""
    binary = layout.cache_dir / f"otelcol-builder-{versions.COLLECTOR_RELEASE}" / "builder"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_name(".builder.partial")
        argv = ["go", "build", "-o", str(partial), versions.COLLECTOR_BUILDER_PACKAGE]
        _run(argv, BUILDER_TOOLS_DIR, go_env(layout), binary.with_name("build.log"), report)
        partial.replace(binary)
    return binary


def ensure_collector(layout: Layout, report: Reporter) -> Path:
    """Return the collector binary, building it with the collector builder if missing.

    The builder generates the sources; our committed go.mod/go.sum are laid over them (so module
    resolution is exactly the locked one); the builder resolves and checks the modules; `go
    build` compiles.
    """
    binary = layout.collector_binary
    if binary.exists():
        return binary
    with file_lock(layout.locks_dir / "collector.lock", _LOCK_TIMEOUT_S, report):
        if binary.exists():
            return binary
        check_go(report)
        layout.collector_dir.mkdir(parents=True, exist_ok=True)
        report(
            f"collector: building {versions.COLLECTOR_BINARY} at collector "
            f"{versions.COLLECTOR_RELEASE} (several minutes the first time)"
        )
        builder = [str(_ensure_builder(layout, report))]
        with tempfile.TemporaryDirectory(dir=layout.collector_dir, prefix=".build-") as scratch:
            source_dir = Path(scratch) / "src"
            source_dir.mkdir()
            builder.append(f"--config={_write_manifest(source_dir)}")
            env = go_env(layout)
            env["GOFLAGS"] = "-mod=mod -buildvcs=false"  # the builder runs `go mod tidy`
            log = layout.collector_dir / "build.log"
            _run(
                [*builder, "--skip-get-modules", "--skip-compilation"], source_dir, env, log, report
            )
            for name in ("go.mod", "go.sum"):
                shutil.copyfile(COLLECTOR_DIR / name, source_dir / name)
            _run([*builder, "--skip-generate", "--skip-compilation"], source_dir, env, log, report)
            # Compiled here rather than by the builder (same flags), which buffers go's output:
            # with -v the log names each package as it compiles, and the ticker reports that.
            partial = source_dir / versions.COLLECTOR_BINARY
            compile_argv = ["go", "build", "-v", "-trimpath", "-ldflags=-s -w", "-o", str(partial)]
            _run([*compile_argv, "."], source_dir, env, log, report)
            partial.replace(binary)
        report(f"collector: built {binary}")
    return binary
