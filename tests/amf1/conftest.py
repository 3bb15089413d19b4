"""Fixtures of the `amf1` tests: a real HTTP server on loopback to drive the load generator at."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > 1024:
            return JSONResponse({"detail": "too large"}, status_code=413)
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        return JSONResponse(
            {"prediction_id": "p-1", "lap_time_s": 80.0, "size": len(body)},
            headers={"traceresponse": f"00-{trace}-00f067aa0ba902b7-01"},
        )

    @app.get("/chunked")
    async def chunked() -> StreamingResponse:
        async def parts() -> Iterator[bytes]:  # type: ignore[misc]
            yield b'{"a": '
            yield b"1}"

        return StreamingResponse(parts(), media_type="application/json")

    @app.get("/status/{code}")
    async def status(code: int) -> JSONResponse:
        return JSONResponse({"code": code}, status_code=code)

    return app


@pytest.fixture(scope="session")
def echo_server() -> Iterator[str]:
    """A uvicorn server with a few test routes; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(_echo_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
