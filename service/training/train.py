"""Training both models with a chronological held-out evaluation, and saving them with metadata.

The newest 20 % of races (by date) are held out; the shipped model is the one fitted on the
other 80 %, so the metrics in its metadata describe exactly the file that is served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from service.features import (
    STAGE1_FEATURES,
    STAGE1_NAME,
    STAGE2_FEATURES,
    STAGE2_NAME,
    Feature,
    categorical_indices,
    categories_of,
    encode_frame,
    with_race_features,
)
from service.metadata import (
    FeatureInfo,
    ModelMetadata,
    Target,
    TrainingData,
)
from service.model_store import publish
from service.training.dataset import fingerprint
from service.training.reference import references

if TYPE_CHECKING:
    import lightgbm as lgb
    import pandas as pd

HELDOUT_SHARE = 0.2
_RACE = ["season", "round"]

STAGE1_PARAMS: dict[str, Any] = {
    "objective": "huber",
    "alpha": 2.0,
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_data_in_leaf": 60,
    "min_data_per_group": 100,
    "cat_smooth": 200,
    "cat_l2": 50,
    "lambda_l2": 1.0,
    "num_boost_round": 400,
}
STAGE2_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 20,
    "min_data_per_group": 20,
    "num_boost_round": 150,
}


@dataclass(frozen=True, slots=True)
class _Fitted:
    booster: lgb.Booster
    metrics: dict[str, float]
    target: Target
    categories: dict[str, list[str]]


def train_all(frame: pd.DataFrame, out_dir: Path, *, seed: int, source: str) -> list[ModelMetadata]:
    """Train, evaluate and save both models under `out_dir/<name>/`; return their metadata.

    Args:
        frame: a table validated by `service.training.dataset.validate_dataset`.
        out_dir: the models directory (`AMF1_MODELS_DIR`).
        seed: LightGBM seed (training is deterministic: one thread, `deterministic=True`).
        source: where the data came from, recorded in the metadata.
    """
    frame = with_race_features(frame)
    train, heldout = split_races(frame)
    data = _training_data(frame, train, heldout, source)
    fitted = {
        STAGE1_NAME: _fit_stage1(train, heldout, seed),
        STAGE2_NAME: _fit_stage2(train, heldout, seed),
    }
    features = {STAGE1_NAME: STAGE1_FEATURES, STAGE2_NAME: STAGE2_FEATURES}
    params = {STAGE1_NAME: STAGE1_PARAMS, STAGE2_NAME: STAGE2_PARAMS}
    return [
        _save(
            name,
            fit=fit,
            features=features[name],
            params=params[name],
            train=train,
            data=data,
            seed=seed,
            out_dir=out_dir,
        )
        for name, fit in fitted.items()
    ]


def split_races(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by whole races: the newest `HELDOUT_SHARE` of races (at least one) are held out."""
    races = frame[[*_RACE, "date"]].drop_duplicates(_RACE).sort_values(["date", *_RACE])
    if len(races) < 2:
        raise ValueError("training needs at least two races (one is held out)")
    n_heldout = max(1, round(HELDOUT_SHARE * len(races)))
    held = races.tail(n_heldout).set_index(_RACE).index
    is_held = frame.set_index(_RACE).index.isin(held)
    return frame[~is_held], frame[is_held]


def _booster(
    params: dict[str, Any], features: tuple[Feature, ...], x: np.ndarray, y: np.ndarray, seed: int
) -> lgb.Booster:
    import lightgbm as lgb  # noqa: PLC0415 - heavy import, training only

    rounds = int(params["num_boost_round"])
    lgb_params = {k: v for k, v in params.items() if k != "num_boost_round"}
    lgb_params |= {"seed": seed, "deterministic": True, "num_threads": 1, "verbose": -1}
    lgb_params["force_col_wise"] = True
    dataset = lgb.Dataset(
        x,
        y,
        feature_name=[feature.name for feature in features],
        categorical_feature=categorical_indices(features),
        free_raw_data=True,
    )
    return lgb.train(lgb_params, dataset, num_boost_round=rounds)


def _stage1_offset(frame: pd.DataFrame, circuit_lap_s: dict[str, float]) -> np.ndarray:
    fallback = frame["circuit"].map(circuit_lap_s)
    return frame["practice_best_lap_s"].fillna(fallback).to_numpy(dtype=np.float64)


def _fit_stage1(train: pd.DataFrame, heldout: pd.DataFrame, seed: int) -> _Fitted:
    # The circuit's reference lap is the median practice lap there (median qualifying lap
    # where no practice lap was recorded at all).
    practice = train.groupby("circuit")["practice_best_lap_s"].median()
    quali = train.groupby("circuit")["qualifying_lap_s"].median()
    circuit_lap_s = {str(k): round(float(v), 3) for k, v in practice.fillna(quali).items()}
    categories = categories_of(train, STAGE1_FEATURES)
    offset = _stage1_offset(train, circuit_lap_s)
    y = train["qualifying_lap_s"].to_numpy() - offset
    booster = _booster(
        STAGE1_PARAMS, STAGE1_FEATURES, encode_frame(train, STAGE1_FEATURES, categories), y, seed
    )
    held_offset = _stage1_offset(heldout, circuit_lap_s)
    predicted = held_offset + booster.predict(encode_frame(heldout, STAGE1_FEATURES, categories))
    actual = heldout["qualifying_lap_s"].to_numpy()
    # Baseline: the offset plus the median training residual (e.g. "practice lap minus 0.8 s").
    baseline = held_offset + float(np.median(y))
    metrics = {
        "mae_s": float(np.mean(np.abs(predicted - actual))),
        "rmse_s": float(np.sqrt(np.mean((predicted - actual) ** 2))),
        "baseline_mae_s": float(np.mean(np.abs(baseline - actual))),
        "heldout_rows": float(len(heldout)),
    }
    target = Target(
        name="qualifying_lap_s",
        unit="s",
        offset="practice_or_circuit_reference",
        circuit_reference_lap_s=circuit_lap_s,
    )
    return _Fitted(booster, metrics, target, categories)


def _fit_stage2(train: pd.DataFrame, heldout: pd.DataFrame, seed: int) -> _Fitted:
    categories = categories_of(train, STAGE2_FEATURES)
    x = encode_frame(train, STAGE2_FEATURES, categories)
    booster = _booster(STAGE2_PARAMS, STAGE2_FEATURES, x, train["won"].to_numpy(), seed)
    raw = np.asarray(booster.predict(encode_frame(heldout, STAGE2_FEATURES, categories)))
    scored = heldout.assign(raw=raw)
    probability = (scored["raw"] / scored.groupby(_RACE)["raw"].transform("sum")).to_numpy()
    won = heldout["won"].to_numpy(dtype=np.float64)
    field_size = heldout.groupby(_RACE)["driver"].transform("size").to_numpy()
    favourite = scored.assign(p=probability).groupby(_RACE)["p"].idxmax()
    clipped = np.clip(probability, 1e-12, 1.0)
    metrics = {
        "brier": float(np.mean((probability - won) ** 2)),
        "brier_uniform_baseline": float(np.mean((1.0 / field_size - won) ** 2)),
        "log_loss_winner": float(-np.mean(np.log(clipped[won == 1.0]))),
        "favourite_won_share": float(heldout.loc[favourite, "won"].mean()),
        "heldout_races": float(len(favourite)),
    }
    target = Target(name="won", unit="probability", normalisation="per_race_sum")
    return _Fitted(booster, metrics, target, categories)


def _training_data(
    frame: pd.DataFrame, train: pd.DataFrame, heldout: pd.DataFrame, source: str
) -> TrainingData:
    def races(part: pd.DataFrame) -> int:
        return len(part[_RACE].drop_duplicates())

    return TrainingData(
        source=source,
        fingerprint=fingerprint(frame),
        rows=len(frame),
        races=races(frame),
        oldest_date=frame["date"].min().date(),
        newest_date=frame["date"].max().date(),
        train_races=races(train),
        heldout_races=races(heldout),
    )


def _save(
    name: str,
    *,
    fit: _Fitted,
    features: tuple[Feature, ...],
    params: dict[str, Any],
    train: pd.DataFrame,
    data: TrainingData,
    seed: int,
    out_dir: Path,
) -> ModelMetadata:
    import lightgbm as lgb  # noqa: PLC0415 - heavy import, training only

    text = fit.booster.model_to_string().encode()
    sha256 = hashlib.sha256(text).hexdigest()
    trained_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    metadata = ModelMetadata(
        name=name,
        version=f"{trained_at:%Y%m%d.%H%M%S}-{sha256[:8]}",
        trained_at=trained_at,
        lightgbm_version=lgb.__version__,
        seed=seed,
        model_sha256=sha256,
        features=[
            FeatureInfo(name=f.name, type=f.kind, categories=fit.categories.get(f.name))
            for f in features
        ],
        target=fit.target,
        training_data=data,
        metrics={key: round(value, 6) for key, value in fit.metrics.items()},
        params=params,
        reference=references({f.name: train[f.name].to_numpy() for f in features}, features),
    )
    # A complete version directory, then one pointer swap: a reader never sees half a pair.
    publish(out_dir, name, metadata.version, text, metadata.model_dump_json(indent=2).encode())
    return metadata
