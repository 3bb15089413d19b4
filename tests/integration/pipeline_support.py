"""Helpers of the pipeline tests: the two pipeline engines behind one face, sending and waiting."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import Elasticsearch, TransportError

from elk import pipeline_rules, rendered
from elk.certs import issue_pipeline_certs
from elk.security.credentials import StackUser, stack_credentials
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
LOGSTASH_IMAGE = "docker.elastic.co/logstash/logstash:9.3.0"
WAIT_S = 90.0


@dataclass
class Pipeline:
    """A running pipeline engine: where it listens, and how to stop and start it."""

    name: str
    host: str
    port: int
    stop: Callable[[], None]
    start: Callable[[], None]


def docker_engine_answers() -> bool:
    """Whether a Docker engine (not just the client) is reachable."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "info"], capture_output=True, timeout=20, check=False)
    return probe.returncode == 0


def _wait_port(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f} s")


def logstash_pipeline(es_url: str) -> Iterator[Pipeline]:
    """Run the real Logstash image with our pipeline (host network, so it reaches `es_url`)."""
    # Imported here: testcontainers is only needed (and only importable usefully) with Docker.
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415

    port = free_port()
    # The TCP input's TLS is off here (these tests send plain lines; test_pipeline_tls covers
    # TLS), but Logstash checks that its certificate paths exist even then.
    certs = Path(tempfile.mkdtemp(prefix="amf1-logstash-certs-"))
    issue_pipeline_certs(certs, ["127.0.0.1"])
    container = (
        DockerContainer(LOGSTASH_IMAGE)
        .with_kwargs(network_mode="host")
        .with_env("AMF1_ES_URL", es_url)
    )
    # The pipeline writer's own credentials when the native stack generated them (security on).
    writer = stack_credentials(es_url, StackUser.PIPELINE)
    container = (
        container.with_env("AMF1_ES_USERNAME", writer.username).with_env(
            "AMF1_ES_PASSWORD", writer.password.get_secret_value()
        )
        if writer is not None
        else container.with_env("AMF1_ES_PASSWORD", "")
    )
    container = (
        container.with_env("AMF1_LOGSTASH_TLS_ENABLED", "false")
        .with_env("AMF1_LOGSTASH_TLS_CERT", "/certs/server.crt")
        .with_env("AMF1_LOGSTASH_TLS_KEY", "/certs/server.key")
        .with_env("AMF1_LOGSTASH_TLS_CLIENT_CA", "/certs/ca.crt")
        .with_volume_mapping(str(certs / "pipeline"), "/certs")
        .with_env("AMF1_LOGSTASH_PORT", str(port))
        .with_env("AMF1_BEATS_PORT", str(free_port()))
        .with_volume_mapping(str(rendered.LOGSTASH_PIPELINE.parent), "/usr/share/logstash/pipeline")
        .with_volume_mapping(
            str(ROOT / "elk/logstash/config/pipelines.yml"),
            "/usr/share/logstash/config/pipelines.yml",
        )
        .with_volume_mapping(
            str(ROOT / "elk/logstash/config/logstash.yml"),
            "/usr/share/logstash/config/logstash.yml",
        )
    )
    container.start()
    try:
        _wait_port("127.0.0.1", port, 180)
        wrapped = container.get_wrapped_container()

        def restart() -> None:
            wrapped.start()
            _wait_port("127.0.0.1", port, 180)

        yield Pipeline(
            "logstash",
            "127.0.0.1",
            port,
            stop=lambda: wrapped.stop(timeout=30),
            start=restart,
        )
    finally:
        container.stop()


def now_iso() -> str:
    """The current time as our events write it (UTC, microseconds, Z)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_line(run_id: str, **fields: Any) -> tuple[str, str]:
    """Return (event id, JSON line) of a structured event tagged with this test run."""
    event_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "@timestamp": now_iso(),
        "log.level": "info",
        "message": f"pipeline test {run_id}",
        "event.id": event_id,
        "event.action": "http-access",
        "event.dataset": "amf1.service",
        "service.name": "amf1-test",
        "amf1.test_run": run_id,
    }
    event.update(fields)
    return event_id, orjson.dumps(event).decode()


def send_lines(pipeline: Pipeline, lines: Iterable[str]) -> None:
    """Write `lines` (newline-terminated) to the pipeline's TCP input and close."""
    payload = "".join(f"{line}\n" for line in lines).encode()
    with socket.create_connection((pipeline.host, pipeline.port), timeout=10) as sock:
        sock.sendall(payload)


def wait_for_hits(
    es: Elasticsearch, query: dict[str, Any], expected: int, timeout_s: float = WAIT_S
) -> list[dict[str, Any]]:
    """Poll `amf1-logs-*` until `query` matches at least `expected` documents; return the hits.

    Raises AssertionError with what was found when the deadline passes.
    """
    deadline = time.monotonic() + timeout_s
    hits: list[dict[str, Any]] = []
    while True:
        try:
            es.indices.refresh(index=pipeline_rules.INDEX_PATTERN)
            found = es.search(
                index=pipeline_rules.INDEX_PATTERN, query=query, size=max(expected, 10) + 10
            )
            hits = found["hits"]["hits"]
        except Exception:  # Elasticsearch may still be starting; keep polling until the deadline
            hits = []
        if len(hits) >= expected or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(hits) >= expected, f"{len(hits)} of {expected} documents after {timeout_s:.0f} s"
    return hits


def count_when_answering(
    es: Elasticsearch, query: dict[str, Any], timeout_s: float = WAIT_S
) -> int:
    """Count matching documents, waiting (bounded) while Elasticsearch does not answer.

    The stack is shared: another test may have Elasticsearch stopped for a while.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            es.indices.refresh(index=pipeline_rules.INDEX_PATTERN)
            count: int = es.count(index=pipeline_rules.INDEX_PATTERN, query=query)["count"]
        except TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
        else:
            return count


def by_run(run_id: str) -> dict[str, Any]:
    """Query for the structured events of one test run."""
    return {"term": {"amf1.test_run": run_id}}


def by_text(token: str) -> dict[str, Any]:
    """Query for documents whose message contains `token` (plain and malformed lines)."""
    return {"match_phrase": {"message": token}}
