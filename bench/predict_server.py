"""One uvicorn server for `bench.predict`: the bare baseline or the service without observability.

`python -m bench.predict_server --variant bare|service --port N --models-dir DIR`

* bare: the smallest honest FastAPI + LightGBM endpoint: a pydantic body, a numpy row,
  `Booster.predict(row, num_threads=1)`, a JSON answer. No middleware, no logging.
* service: `service.app.create_app` as served, with log events dropped at the logger (the
  "service without observability" of the issue): validation, body limit, access middleware,
  prediction ids, the feedback store, monitoring observe, all still run.

The service with its logging and tracing on is `bench.service_load`'s observed arm.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import structlog
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from service.app import create_app
from service.metadata import METADATA_FILE, MODEL_FILE, ModelMetadata
from service.model_store import model_directory
from service.settings import Settings


class _Body(BaseModel):
    driver: str
    circuit: str
    air_temp_c: float
    track_temp_c: float
    humidity_pct: float
    rain_probability: float
    practice_best_lap_s: float | None = None


def bare_app(models_dir: Path) -> FastAPI:
    """FastAPI + LightGBM and nothing else (same model file, same categorical codes)."""
    directory = model_directory(models_dir, "stage1-qualifying")
    booster = lgb.Booster(model_file=str(directory / MODEL_FILE))
    metadata = ModelMetadata.model_validate_json((directory / METADATA_FILE).read_bytes())
    codes = {
        f.name: {value: float(i) for i, value in enumerate(f.categories or [])}
        for f in metadata.features
    }
    app = FastAPI()

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict/qualifying")
    async def predict(body: _Body) -> dict[str, Any]:
        practice = body.practice_best_lap_s
        row = np.array(
            [
                [
                    codes["driver"][body.driver],
                    codes["circuit"][body.circuit],
                    body.air_temp_c,
                    body.track_temp_c,
                    body.humidity_pct,
                    body.rain_probability,
                    np.nan if practice is None else practice,
                ]
            ]
        )
        offset = practice if practice is not None else 80.0
        lap = offset + float(booster.predict(row, num_threads=1)[0])
        return {"driver": body.driver, "circuit": body.circuit, "lap_time_s": round(lap, 3)}

    return app


def service_app(models_dir: Path) -> FastAPI:
    """The service with its log events dropped at the logger and no tracing configured."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=True,
    )
    return create_app(Settings(models_dir=models_dir))


def main() -> None:
    """Parse arguments and serve until terminated."""
    parser = argparse.ArgumentParser(prog="python -m bench.predict_server")
    parser.add_argument("--variant", choices=["bare", "service"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--models-dir", type=Path, required=True)
    args = parser.parse_args()
    app = bare_app(args.models_dir) if args.variant == "bare" else service_app(args.models_dir)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
