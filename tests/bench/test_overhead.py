"""The overhead benchmark's statistics and its open-loop load."""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from random import Random
from types import SimpleNamespace

from fastapi.testclient import TestClient

from amf1.loadgen.runner import run_sync
from bench.overhead import _capacity, _pair, bootstrap_median
from bench.predict import PATH, _scenario
from bench.predict_server import bare_app
from bench.service_load import COMMON_ENV
from bench.serving import PYTHON, models_dir, serve_command


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


def test_the_offered_load_keeps_the_bare_server_on_time() -> None:
    """The probed capacity is what the bare server's core can serve: at 0.6 x it, a real bare
    server answers every turn's requests within the turn (none fell behind), and its measured
    CPU per request is what the probe found, within the machine's noise."""
    args = SimpleNamespace(load=0.6, seconds=1.0, slice=0.5, concurrency=8)
    with ExitStack() as stack:
        models = models_dir(None, stack)
        scenario = _scenario(models)
        bare = [PYTHON, "-m", "bench.predict_server", "--models-dir", str(models)]
        bare += ["--variant", "bare"]
        probe = _capacity(stack, bare, scenario.next_request, args)
        rate = args.load * probe["bare_capacity_rps"]
        url, pid = serve_command(stack, bare, COMMON_ENV)
        result = run_sync(
            lambda: _pair({"bare": (url, pid)}, scenario.next_request, rate, args, Random(0))
        )["bare"]
    assert 50 < probe["bare_capacity_rps"] < 50_000, probe
    assert result["failures"] == 0
    assert result["turns_behind"] == 0, (rate, result)
    assert result["served"] == round(rate * args.slice) * 2
    cpu_ratio = result["cpu_us_per_request"] / probe["cpu_us_per_request_at_second_probe"]
    assert 0.5 < cpu_ratio < 2.0, (probe, result)
