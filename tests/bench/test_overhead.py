"""The overhead benchmark's statistics and its open-loop load."""

from __future__ import annotations

import statistics
from contextlib import ExitStack

from fastapi.testclient import TestClient

from bench.overhead import bootstrap_median
from bench.predict import PATH, _scenario
from bench.predict_server import bare_app
from bench.serving import models_dir


def test_bootstrap_interval_contains_the_median_and_narrows_with_agreement() -> None:
    """The 95 % interval brackets the median; identical pairs give a zero-width interval."""
    values = [3.0, 4.5, 5.0, 2.0, 6.5, 4.0, 3.5, 5.5]
    result = bootstrap_median(values, seed=1, resamples=2000)
    assert result["median"] == statistics.median(values)
    assert result["ci95_low"] <= result["median"] <= result["ci95_high"]
    assert bootstrap_median([4.0] * 5, seed=1, resamples=200) == {
        "median": 4.0,
        "ci95_low": 4.0,
        "ci95_high": 4.0,
    }


def test_bootstrap_is_reproducible_by_seed() -> None:
    """The same seed gives the same interval (the report can be re-derived from `raw`)."""
    values = [1.0, 7.0, 3.0, 9.0, 4.0]
    assert bootstrap_median(values, 7, 500) == bootstrap_median(values, 7, 500)


def test_the_arms_serve_the_models_amf1_train_publishes() -> None:
    """The bare arm and the scenario read a model store as `amf1 train` writes it (a version
    directory behind `current`), and the bare arm answers a real prediction from it."""
    with ExitStack() as stack:
        models = models_dir(None, stack)  # models/ if trained, else small ones trained now
        request = _scenario(models).next_request()
        response = TestClient(bare_app(models)).post(
            PATH, content=request.body, headers={"content-type": request.content_type}
        )
    assert response.status_code == 200, response.text
    assert 40.0 < response.json()["lap_time_s"] < 200.0
