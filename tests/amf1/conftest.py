"""Fixtures of the `amf1` tests: real HTTP servers on loopback for the load generator to drive.

`echo_server` is a tiny uvicorn app for the client's own behaviour; `service` is the real
prediction service (trained once per session on a small synthetic table) served by uvicorn.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from elasticsearch import Elasticsearch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from alerting.state_machine import AlertState
from alerting.state_store import StateStore
from amf1.settings import Settings as OpsSettings
from service.app import create_app
from service.settings import Settings
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all
from tests.ports import free_port

ADMIN_TOKEN = "amf1-tests-admin-token-5c1e"
FEEDBACK_TOKEN = "amf1-tests-feedback-token-8d2f"
TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "elk" / "index" / "amf1-logs.template.json"


class ThreadedServer:
    """A uvicorn server running an app in a daemon thread, on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self._server.started, "uvicorn did not start within 30 s"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        return JSONResponse(
            {"prediction_id": "p-1", "lap_time_s": 80.0, "size": len(body)},
            headers={"traceresponse": f"00-{trace}-00f067aa0ba902b7-01"},
        )

    @app.get("/chunked")
    async def chunked() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
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
    with ThreadedServer(_echo_app()) as server:
        yield server.url


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models trained once on three synthetic seasons (read-only; copy before breaking)."""
    table = generate(seasons=3, seed=11, last_race=dt.date(2026, 6, 30))
    out = tmp_path_factory.mktemp("models")
    train_all(validate_dataset(table, source="test"), out, seed=11, source="test")
    return out


@dataclass(frozen=True)
class RunningService:
    """The real prediction service over HTTP, with its own copy of the models."""

    url: str
    models_dir: Path


@pytest.fixture
def service(trained_models: Path, tmp_path: Path) -> Iterator[RunningService]:
    """The prediction service on a free loopback port, over a private models copy.

    Its test-only delay header is honoured (`test_delay_enabled`), as in the demo.
    """
    models_dir = tmp_path / "models"
    shutil.copytree(trained_models, models_dir)
    settings = Settings(
        models_dir=models_dir,
        admin_token=ADMIN_TOKEN,
        feedback_token=FEEDBACK_TOKEN,
        test_delay_enabled=True,
    )
    with ThreadedServer(create_app(settings)) as server:
        yield RunningService(server.url, models_dir)


@dataclass(frozen=True)
class IsolatedIndices:
    """Index names private to one test, with the product's log mappings."""

    settings: OpsSettings
    es: Elasticsearch

    def log_index(self, day: dt.date) -> str:
        return f"{self.settings.index_prefix}{day:%Y.%m.%d}"

    def plant(self, documents: list[dict[str, object]]) -> None:
        """Index documents into their UTC day's index (created with the template's mappings)."""
        template = json.loads(TEMPLATE_FILE.read_text(encoding="utf-8"))["template"]
        operations: list[dict[str, object]] = []
        for doc in documents:
            day = dt.datetime.fromisoformat(str(doc["@timestamp"]).replace("Z", "+00:00")).date()
            index = self.log_index(day)
            if not self.es.indices.exists(index=index):
                self.es.indices.create(
                    index=index, mappings=template["mappings"], settings=template["settings"]
                )
            operations += [{"index": {"_index": index, "_id": doc["event.id"]}}, doc]
        result = self.es.bulk(operations=operations, refresh=True)
        assert not result["errors"], result

    def plant_alert_states(self, states: list[dict[str, object]]) -> None:
        """Write alert states through the watcher's own store and model, then make them
        searchable."""
        store = StateStore(self.es, self.settings.state_index)
        store.ensure_index()
        for state in states:
            doc = AlertState.model_validate(state)
            store.put_alert(store.get_alert(doc.rule, doc.group), doc)
        self.es.indices.refresh(index=self.settings.state_index)


@pytest.fixture
def isolated(es: Elasticsearch) -> Iterator[IsolatedIndices]:
    """Private log indices and state index on the real cluster, deleted afterwards.

    Named inside the roles' index patterns (`amf1-logs-*`, `amf1-watcher-state*`), so that the
    commands under test read them as their own users do.
    """
    tag = uuid.uuid4().hex[:10]
    settings = OpsSettings(
        index_prefix=f"amf1-logs-test-{tag}-", state_index=f"amf1-watcher-state-test-{tag}"
    )
    yield IsolatedIndices(settings, es)
    # Deleting by wildcard is refused by default (destructive_requires_name): resolve names first.
    pattern = f"{settings.index_prefix}*,{settings.state_index}*"
    names = list(es.indices.get(index=pattern, allow_no_indices=True))
    if names:
        es.indices.delete(index=",".join(names))
