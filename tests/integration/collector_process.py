"""A private OpenTelemetry Collector for one test: the real binary, a rendered config, free
loopback ports and its own queue directory, exporting to the stack's Elasticsearch as the
pipeline writer (the stack's generated credentials and CA, through the environment as
`amf1 stack up` gives them to its collector). The shared collector (port 5000) is never
touched."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from elk.security import tls
from elk.security.credentials import StackUser, stack_credentials
from elk.settings import Settings
from elk.stack.layout import Layout
from tests.ports import free_port
from tests.stack_fixtures import skip_or_fail

START_WITHIN_S = 90.0
STOP_WITHIN_S = 20.0


@dataclass(frozen=True, slots=True)
class PrivateCollector:
    """Where the private collector takes JSON lines, and its log file."""

    host: str
    port: int
    log_file: Path


def collector_binary() -> Path:
    """The collector built by `amf1 stack up`; skips (or fails in CI) when it is not built."""
    binary: Path = Layout.from_settings(Settings()).collector_binary
    if not binary.exists():
        skip_or_fail(f"collector not built ({binary}); `amf1 stack up` builds it")
    return binary


@contextmanager
def private_collector(
    config: Path, es_url: str, work_dir: Path, env: Mapping[str, str]
) -> Iterator[PrivateCollector]:
    """Run the collector with `config` and `env` until the block ends; stop it and wait."""
    binary = collector_binary()
    port, health = free_port(), free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    log_file = work_dir / "collector.log"
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GOMAXPROCS": "1",
        "AMF1_ES_URL": es_url,
        "AMF1_LOGSTASH_HOST": "127.0.0.1",
        "AMF1_LOGSTASH_PORT": str(port),
        "AMF1_COLLECTOR_STORAGE_DIR": str(work_dir / "queue"),
        "AMF1_COLLECTOR_HEALTH_PORT": str(health),
        "AMF1_COLLECTOR_METRICS_PORT": str(free_port()),
        **_elasticsearch_access(es_url),
        **env,
    }
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [str(binary), "--config", str(config)],
            env=full_env,
            cwd=work_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(process, health, log_file)
        yield PrivateCollector("127.0.0.1", port, log_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _elasticsearch_access(es_url: str) -> dict[str, str]:
    """The pipeline writer's user, password and CA for `es_url`, where the stack made them."""
    settings = Settings(es_url=es_url)
    access: dict[str, str] = {}
    writer = stack_credentials(es_url, StackUser.PIPELINE, settings.runtime_dir)
    if writer is not None:
        access |= {"AMF1_ES_USERNAME": writer.username, "AMF1_ES_PASSWORD": writer.basic_auth[1]}
    ca = tls.ca_for(settings)
    if ca is not None:
        access["AMF1_ES_CA_CERT"] = str(ca)
    return access


def _wait_healthy(process: subprocess.Popen[bytes], port: int, log_file: Path) -> None:
    deadline = time.monotonic() + START_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise AssertionError(f"private collector exited ({process.returncode}): {tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"private collector not healthy within {START_WITHIN_S:.0f} s")
