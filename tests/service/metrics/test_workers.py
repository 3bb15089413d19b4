"""`amf1 serve --workers 3` for real: a scrape of any worker sums every worker's counts, and a
killed worker's counts stay while its live gauges go."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from service.features import STAGE1_NAME
from tests.service.conftest import qualifying_body
from tests.service.test_serve_workers import _serve

REQUESTS = 30
FLUSH_S = 1.0
SUCCESS = {"model": STAGE1_NAME, "status": "success"}


def _scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    # A new connection per call: the kernel hands it to any of the workers.
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())


def _worker_pids(samples: list[tuple[str, dict[str, str], float]]) -> set[int]:
    return {int(lab["pid"]) for n, lab, _ in samples if n == "process_start_time_seconds"}


def _per_worker_successes(directory: Path) -> dict[int, float]:
    """What each worker's own counter file holds (the files a scrape merges)."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        merged = MultiProcessCollector.merge([str(path)], accumulate=False)  # type: ignore[no-untyped-call]
        for family in merged:
            for sample in family.samples:
                if sample.name == "amf1_predictions_total" and sample.labels == SUCCESS:
                    counts[int(path.stem.split("_")[1])] = sample.value
    return counts


@pytest.mark.timeout(300)
def test_scrapes_sum_all_workers_and_survive_a_killed_worker(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 predictions spread over 3 workers: every scrape a second later, whichever worker
    answers, says 30;
    after one worker is killed and replaced, still 30, and only live workers' gauges remain."""
    directory = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    (directory).mkdir()
    (directory / "counter_1.db").write_bytes(b"")  # a previous run's file: emptied at start
    with _serve(models_dir, tmp_path / "serve.log", workers=3) as (url, _):
        for _ in range(REQUESTS):
            response = httpx.post(f"{url}/predict/qualifying", json=qualifying_body(), timeout=30)
            assert response.status_code == 200
        # Each worker moves its tally into the shared files every second (FLUSH_S).
        time.sleep(FLUSH_S + 0.5)
        per_worker = _per_worker_successes(directory)
        assert sum(per_worker.values()) == REQUESTS
        assert len(per_worker) >= 2, f"the kernel sent every request to one worker: {per_worker}"
        for _ in range(12):
            samples = _scrape(url)
            assert _value(samples, "amf1_predictions_total", **SUCCESS) == REQUESTS
            assert _value(samples, "amf1_prediction_latency_seconds_count") == REQUESTS
            assert _value(samples, "amf1_model_loaded", model=STAGE1_NAME) == 1
        pids = _worker_pids(samples)
        assert len(pids) == 3

        victim = max(per_worker, key=lambda pid: per_worker[pid])
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pids = _worker_pids(_scrape(url))
            if len(pids) == 3 and victim not in pids:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"killed worker {victim} not replaced (live pids: {pids})")
        samples = _scrape(url)
        assert _value(samples, "amf1_predictions_total", **SUCCESS) == REQUESTS
        assert _value(samples, "amf1_model_loaded", model=STAGE1_NAME) == 1
        assert not list(directory.glob(f"gauge_live*_{victim}.db"))
    assert not list(directory.glob("counter_1.db")), "a previous run's file was summed"
