"""Subcommands of `amf1` that belong to the `service` package: `train` and `serve`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register this package's subcommands."""
    train = subparsers.add_parser(
        "train", help="train both models (synthetic data unless --data) into the models dir"
    )
    train.add_argument("--data", type=Path, help="training table (.csv or .parquet)")
    train.add_argument("--out", type=Path, help="models directory (default: AMF1_MODELS_DIR)")
    train.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    train.add_argument(
        "--seasons", type=int, default=8, help="synthetic seasons when no --data (default 8)"
    )
    train.add_argument(
        "--last-race",
        type=dt.date.fromisoformat,
        help="synthetic data: date of the final race, YYYY-MM-DD (default today)",
    )
    train.add_argument("--save-data", type=Path, help="also write the synthetic table here")
    train.set_defaults(func=_train)

    serve = subparsers.add_parser("serve", help="run the prediction API on uvicorn")
    serve.add_argument("--host", help="bind address (default: AMF1_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: AMF1_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: AMF1_WORKERS or 1)")
    serve.add_argument("--models-dir", type=Path, help="default: AMF1_MODELS_DIR or models/")
    serve.set_defaults(func=_serve)


def _train(args: argparse.Namespace) -> int:
    from service.settings import Settings  # noqa: PLC0415
    from service.training.dataset import DatasetError, read_dataset, validate_dataset  # noqa: PLC0415
    from service.training.synthetic import generate  # noqa: PLC0415
    from service.training.train import train_all  # noqa: PLC0415

    out = args.out or Settings().models_dir
    try:
        if args.data:
            frame, source = read_dataset(args.data), str(args.data)
        else:
            raw = generate(seasons=args.seasons, seed=args.seed, last_race=args.last_race)
            frame = validate_dataset(raw, source="synthetic")
            source = f"synthetic(seasons={args.seasons}, seed={args.seed})"
            if args.save_data:
                _save_table(raw, args.save_data)
    except (DatasetError, ValueError) as exc:
        print(f"amf1 train: {exc}", file=sys.stderr)
        return 2
    for metadata in train_all(frame, out, seed=args.seed, source=source):
        summary = {"model": metadata.name, "version": metadata.version, **metadata.metrics}
        print(json.dumps(summary))
    print(f"models written to {out}/", file=sys.stderr)
    return 0


def _save_table(frame: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def _serve(args: argparse.Namespace) -> int:
    from service.metrics.multiproc import multiproc_dir_for_run  # noqa: PLC0415

    # Before the app (and prometheus-client) is imported: every worker's metrics in one place.
    with multiproc_dir_for_run():
        return _serve_run(args)


def _serve_run(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from service.model_store import has_models  # noqa: PLC0415
    from service.protocol import http_protocol, set_header_timeout  # noqa: PLC0415
    from service.settings import Settings  # noqa: PLC0415

    overrides = {
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "models_dir": args.models_dir,
    }
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    if not has_models(settings.models_dir):
        print(
            f"amf1 serve: no models in {settings.models_dir}/ (run `amf1 train`); "
            "starting degraded",
            file=sys.stderr,
        )
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,  # logging is configured by logshipping, not by uvicorn
        "access_log": False,  # the service logs one access event per request itself
        # 408 to headers not complete within AMF1_HEADER_TIMEOUT_S (uvicorn has no such limit).
        "http": http_protocol(),
    }
    if settings.workers == 1:
        # Imported only here: a supervisor that imported the app would write metric files of
        # its own (a live process that serves nothing) into the run's directory.
        from service.app import create_app  # noqa: PLC0415
        from service.observability import configure_process  # noqa: PLC0415

        configure_process()
        set_header_timeout(settings.header_timeout_s)
        uvicorn.run(create_app(settings), **common)
        return 0
    # Worker processes build their own app from the environment: pass the overrides there.
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"AMF1_{key.upper()}"] = str(value)
    # Each worker sets up its own logging and tracing, then builds the app.
    uvicorn.run(
        "service.observability:create_served_app",
        factory=True,
        workers=settings.workers,
        **common,
    )
    return 0
