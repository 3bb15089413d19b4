"""Every resource a client can hold is bounded: header and body read deadlines (408), requests
in progress (503 with Retry-After), client strings in events (truncated), and every file a
short run creates is private (0600 files, 0700 folders)."""

from __future__ import annotations

import asyncio
import io
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient

import logshipping
from logshipping.settings import Settings as LogSettings
from service.app import create_app
from service.feedback import PredictionStore
from service.predict_flow import TEST_DELAY_HEADER
from service.protocol import DeadlineH11Protocol, DeadlineHttpToolsProtocol
from service.registry import ModelRegistry
from service.settings import Settings
from tests.ports import free_port
from tests.service.conftest import ADMIN_TOKEN, qualifying_body

DEADLINE_S = 0.5


class _FastHttpTools(DeadlineHttpToolsProtocol):
    header_timeout_s = DEADLINE_S


class _FastH11(DeadlineH11Protocol):
    header_timeout_s = DEADLINE_S


@pytest.fixture(params=[_FastHttpTools, _FastH11], ids=["httptools", "h11"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The service (no models: fast) on uvicorn with a 0.5 s header and body deadline."""
    port = free_port()
    app = create_app(Settings(models_dir=tmp_path, body_timeout_s=DEADLINE_S))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=request.param, log_config=None, lifespan="off"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    instance.should_exit = True
    thread.join(10)


def _answer_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    sock.settimeout(seconds)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received, time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [b"", b"POST /predict/qualifying HTTP/1.1\r\nHost: x\r\nContent-Ty"],
    ids=["nothing", "partial-headers"],
)
def test_incomplete_headers_get_408_within_the_deadline(
    server: tuple[str, int], sent: bytes
) -> None:
    """A connection that never completes its headers is answered 408 and closed."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(sent)
        answer, took = _answer_within(sock, DEADLINE_S + 4)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"request_timeout"' in answer
    assert took < DEADLINE_S + 2


def test_partial_headers_after_a_keep_alive_request_get_408(server: tuple[str, int]) -> None:
    """The deadline is armed again for the next request on a kept-alive connection."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        time.sleep(DEADLINE_S + 0.2)  # idle between requests is the keep-alive timer's job
        sock.sendall(b"GET /health HTTP/1.1\r\nHo")
        answer, took = _answer_within(sock, DEADLINE_S + 4)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert took < DEADLINE_S + 2


def test_an_incomplete_body_gets_408_within_the_deadline(server: tuple[str, int]) -> None:
    """Headers complete, body stalled: 408 and the connection closes."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(
            b"POST /predict/qualifying HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 200\r\n\r\n{"driver": '
        )
        answer, took = _answer_within(sock, DEADLINE_S + 4)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert took < DEADLINE_S + 2


def test_requests_beyond_the_concurrency_limit_get_503_with_retry_after(
    loaded_registry: ModelRegistry,
) -> None:
    """With 2 requests in progress allowed, a third at once is a 503 with Retry-After; /health
    still answers."""
    settings = Settings(
        models_dir=loaded_registry.models_dir,
        max_concurrent_requests=2,
        test_delay_enabled=True,
    )
    app = create_app(settings, registry=loaded_registry, predictions=PredictionStore(10, 60.0))

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            slow = {TEST_DELAY_HEADER: "500"}
            body = qualifying_body()
            tasks = [
                asyncio.create_task(client.post("/predict/qualifying", json=body, headers=slow))
                for _ in range(2)
            ]
            await asyncio.sleep(0.2)
            extra = await client.post("/predict/qualifying", json=body)
            health = await client.get("/health")
            return [*await asyncio.gather(*tasks), extra], health

    answers, health = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200, 200, 503]
    assert answers[2].headers["retry-after"] == "1"
    assert answers[2].json()["error"]["type"] == "overloaded"
    assert health.status_code == 200


def _events(stream: Any) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_client_strings_are_truncated_in_events(models_dir: Path, tmp_path: Path) -> None:
    """A 60 KB path and a 60 KB field name reach the events as ~1 KiB with a marker."""
    stream = io.BytesIO()
    logshipping.configure(LogSettings(log_ship=False), stream=stream)
    config = Settings(models_dir=models_dir, admin_token=ADMIN_TOKEN)
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        client.get("/" + "a" * 60_000)  # the client's own URL limit is 64 KiB
        client.post("/predict/qualifying", json=qualifying_body() | {"f" * 60_000: 1})
    events = [e for e in _events(stream) if e.get("http.response.status_code") in (404, 422)]
    assert len(events) == 2
    for event in events:
        for key, value in event.items():
            assert len(str(value)) < 1200, key
    assert events[0]["url.path"].endswith(f"…[truncated {60_001 - 1024:,} bytes]")
    assert "[truncated" in events[1]["error.message"]


def test_a_short_run_creates_only_private_files(models_dir: Path, tmp_path: Path) -> None:
    """Buffer, journal, lock, worker state and model files: 0600; their folders: 0700 (the
    receiver is down, so the events stay buffered on disk)."""
    buffer_dir = tmp_path / "buffer"
    logshipping.configure(
        LogSettings(
            log_ship=True,
            log_buffer_dir=buffer_dir,
            logstash_port=free_port(),
            log_connect_timeout_s=0.2,
            log_retry_max_s=0.1,
        ),
        stream=io.BytesIO(),
    )
    config = Settings(models_dir=models_dir, admin_token=ADMIN_TOKEN, reload_poll_s=0.1)
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        for _ in range(20):
            client.post("/predict/qualifying", json=qualifying_body())
        client.post("/admin/models/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        time.sleep(1.5)  # the shipper buffers what it could not send
        found = _modes(buffer_dir) | _modes(models_dir)
    assert any(name.endswith(".sqlite3") for name in found)
    assert any(".journal." in name for name in found)
    assert any("/.workers/" in name for name in found)
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if Path(name).is_dir() else 0o600)
    }
    assert wrong == {}


def _modes(root: Path) -> dict[str, int]:
    modes = {str(root): stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.is_symlink():
            continue  # a symlink's own mode means nothing; its target is listed
        modes[str(path)] = stat.S_IMODE(path.stat().st_mode)
    return modes
