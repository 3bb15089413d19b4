"""`amf1 stack up | down | status | logs | build`: the local services the tests run against."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from elk.stack import docker

if TYPE_CHECKING:
    from elk.stack.control import StackControl

_SERVICES = ("elasticsearch", "jaeger", "collector", "alertmanager", "prometheus")
_COMPOSE_NAMES = {
    "elasticsearch": "elasticsearch",
    "jaeger": "jaeger",
    "collector": "logstash",
    "alertmanager": "alertmanager",
    "prometheus": "prometheus",
}


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `amf1 stack ...`."""
    stack = subparsers.add_parser("stack", help="the local Elasticsearch, Jaeger and log pipeline")
    commands = stack.add_subparsers(dest="stack_command", required=True, metavar="STACK_COMMAND")
    up = commands.add_parser("up", help="fetch/build once, start, wait for health (idempotent)")
    up.add_argument("services", nargs="*", type=_service_name, metavar="SERVICE")
    up.add_argument("--started-file", help="write the names of the services this run started")
    up.set_defaults(func=_up)
    down = commands.add_parser("down", help="stop what `stack up` started (by pid), nothing else")
    down.add_argument("services", nargs="*", type=_service_name, metavar="SERVICE")
    down.set_defaults(func=_down)
    status = commands.add_parser("status", help="service, port, health, version, pid")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=_status)
    logs = commands.add_parser("logs", help="print (or follow) a service's log file")
    logs.add_argument("service", choices=_SERVICES)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("-n", "--lines", type=int, default=50, help="lines to show (default 50)")
    logs.set_defaults(func=_logs)
    build = commands.add_parser(
        "build", help="only fetch/build the artifacts (services, the compose tool) into the cache"
    )
    build.add_argument("services", nargs="*", type=_buildable_name, metavar="SERVICE_OR_TOOL")
    build.set_defaults(func=_build)


def _service_name(text: str) -> str:
    if text not in _SERVICES:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(_SERVICES)}")
    return text


def _buildable_name(text: str) -> str:
    from elk.stack.control import TOOLS  # noqa: PLC0415 - keep `amf1 --help` fast

    if text in TOOLS:
        return text
    if text not in _SERVICES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not one of {', '.join([*_SERVICES, *TOOLS])}"
        )
    return text


def _progress(line: str) -> None:
    print(f"amf1 stack: {line}", file=sys.stderr, flush=True)


def _docker_mode() -> bool:
    from elk.settings import Settings  # noqa: PLC0415 - keep `amf1 --help` fast

    mode = Settings().stack_mode
    return mode == "docker" or (mode == "auto" and docker.engine_answers())


def _control() -> StackControl:
    from elk.stack.control import StackControl  # noqa: PLC0415 - keep `amf1 --help` fast

    return StackControl(report=_progress)


def _fail(exc: Exception) -> int:
    print(f"amf1 stack: error: {exc}", file=sys.stderr)
    return 1


def _up(args: argparse.Namespace) -> int:
    if _docker_mode():
        names = [_COMPOSE_NAMES[name] for name in args.services]
        return docker.compose("up", "-d", "--wait", *names)
    started: list[str] = []
    try:
        _control().up(args.services or None, started=started)
    except (OSError, RuntimeError) as exc:  # StackError, BuildError, FetchError among them
        return _fail(exc)
    finally:
        if args.started_file:
            Path(args.started_file).write_text(" ".join(started), encoding="utf-8")
    print(f"started: {' '.join(started) or 'nothing (all already up)'}")
    return 0


def _down(args: argparse.Namespace) -> int:
    if _docker_mode():
        if args.services:
            return docker.compose("stop", *[_COMPOSE_NAMES[name] for name in args.services])
        return docker.compose("down")
    stopped = _control().down(args.services or None)
    print(f"stopped: {' '.join(stopped) or 'nothing (none started by amf1 stack up)'}")
    return 0


def _build(args: argparse.Namespace) -> int:
    try:
        _control().build(args.services or None)
    except (OSError, RuntimeError) as exc:
        return _fail(exc)
    return 0


def _status(args: argparse.Namespace) -> int:
    if _docker_mode():
        return docker.compose("ps", *(["--format", "json"] if args.json else []))
    rows = _control().status()
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        header = f"{'SERVICE':<14}{'PORT':>6}  {'HEALTH':<9}{'VERSION':<10}{'PID':>8}"
        print(header)
        for row in rows:
            pid = str(row.pid) if row.pid else "-"
            print(f"{row.name:<14}{row.port:>6}  {row.health:<9}{row.version:<10}{pid:>8}")
    return 0 if all(row.health in {"healthy", "external"} for row in rows) else 3


def _logs(args: argparse.Namespace) -> int:
    if _docker_mode():
        follow = ["-f"] if args.follow else []
        return docker.compose("logs", "-n", str(args.lines), *follow, _COMPOSE_NAMES[args.service])
    log = _control().layout.log_file(args.service)
    if not log.exists():
        return _fail(FileNotFoundError(f"no log yet at {log}"))
    argv = ["tail", "-n", str(args.lines), *(["-F"] if args.follow else []), str(log)]
    try:
        return subprocess.run(argv, check=False).returncode  # noqa: S603
    except KeyboardInterrupt:
        return 0
