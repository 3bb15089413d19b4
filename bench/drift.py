"""Amortised drift-monitoring cost per prediction, against building the feature row itself.

Per request the service builds the model's feature row (`Encoder.row`, the baseline) and hands
it to the monitoring hub (`observe`: the row binned into the drift counts). Every K requests the
background task reports the counts (`report`: one drift-counts event; the watcher scores them).
Here both run on the request thread so the amortised figure holds everything:

    drift_update_us = (time of row + observe + report every K) / n  -  (time of row alone) / n

The headline `drift_update_us` is measured in the thread's CPU time: on a shared machine (load
average far above the core count) wall time mostly measures waiting for a core, for the baseline
as much as for the drift work. Wall-clock figures are reported next to it (`wall_*`).

Rows are drawn from the synthetic training table with the real stage-1 / stage-2 features,
reference and category codes, shuffled. The report's event is built and then dropped by the
first processor (rendering and shipping are the logging benchmark's). Rounds alternate baseline
and drift and medians are reported, as wall time (what a request waits) and as the thread's CPU
time (steadier when the machine is shared).

    python -m bench.drift [--requests 20000] [--rounds 7] [--every 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from service.features import (
    FEATURES,
    STAGE1_NAME,
    STAGE2_NAME,
    Encoder,
    categories_of,
    with_race_features,
)
from service.monitoring.drift import DriftConfig
from service.monitoring.hub import MonitoringConfig, MonitoringHub
from service.training.reference import references
from service.training.synthetic import generate


def _drop_events(*_: Any) -> Any:
    raise structlog.DropEvent


def _setup(name: str, every: int) -> tuple[Encoder, MonitoringHub, list[dict[str, Any]]]:
    table = with_race_features(generate(seasons=3, seed=3))
    features = FEATURES[name]
    categories = categories_of(table, features)
    raw = {f.name: table[f.name].to_numpy() for f in features}
    reference = references(raw, features)
    hub = MonitoringHub(MonitoringConfig(drift=DriftConfig(evaluate_every_requests=every)))
    hub.register_model(
        name,
        "bench",
        reference,
        None,
        columns=[f.name for f in features],
        categories=categories,
    )
    # Shuffled: requests arrive as an i.i.d. mix, not race by race as the table is ordered.
    shuffled = table.sample(frac=1.0, random_state=4)
    records = shuffled[[f.name for f in features]].to_dict("records")
    values = [{k: (None if v != v else v) for k, v in r.items()} for r in records]
    return Encoder(features, categories), hub, values


def _time(run: Callable[[], None]) -> tuple[float, float]:
    """(wall, thread CPU) seconds of one call."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    run()
    return time.perf_counter() - start, time.thread_time() - start_cpu


def measure(name: str, n: int, rounds: int, every: int) -> dict[str, Any]:
    """Medians over `rounds` of the per-request baseline and drift cost, microseconds."""
    encoder, hub, pool = _setup(name, every)
    rows: Sequence[Mapping[str, Any]] = [pool[i % len(pool)] for i in range(n)]
    monitor = hub.get(name)
    assert monitor is not None and monitor.drift is not None
    drift = monitor.drift

    def baseline() -> None:
        for values in rows:
            encoder.row(values)

    def observed() -> None:
        # The service's background task checks `due()` once per tick, not per request.
        for i, values in enumerate(rows, 1):
            hub.observe(name, encoder.row(values)[0].tolist())
            if i % every == 0:
                drift.report()

    matrix_rows = [encoder.row(values)[0].tolist() for values in rows[:every]]

    def report_cpu_us() -> float:
        """Thread CPU time of one report of `every` rows (the counting itself not timed)."""
        spent = 0.0
        for _ in range(200):
            for row in matrix_rows:
                drift.update(row)
            start = time.thread_time()
            drift.report()
            spent += time.thread_time() - start
        return spent / 200 * 1e6

    observed()  # warm caches and the allocator
    base: list[tuple[float, float]] = []
    full: list[tuple[float, float]] = []
    for _ in range(rounds):
        base.append(_time(baseline))
        full.append(_time(observed))

    def per_request_us(runs: list[tuple[float, float]], which: int) -> float:
        return statistics.median(run[which] for run in runs) / n * 1e6

    report_us = report_cpu_us()
    out: dict[str, Any] = {"features": len(drift.features)}
    for label, which in (("wall_", 0), ("cpu_", 1)):
        base_us, full_us = per_request_us(base, which), per_request_us(full, which)
        out[f"{label}baseline_row_us"] = round(base_us, 2)
        out[f"{label}row_plus_drift_us"] = round(full_us, 2)
        out[f"{label}drift_us"] = round(full_us - base_us, 2)
    out["cpu_report_us"] = round(report_us, 1)
    out["cpu_report_amortised_us"] = round(report_us / every, 2)
    return out


def main() -> None:
    """Measure both models' shapes and print one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.drift", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--every", type=int, default=100, help="K: a report every K requests")
    args = parser.parse_args()
    structlog.configure(processors=[_drop_events])
    stage1 = measure(STAGE1_NAME, args.requests, args.rounds, args.every)
    stage2 = measure(STAGE2_NAME, args.requests, args.rounds, args.every)
    result = {
        "drift_update_us": stage1["cpu_drift_us"],
        "drift_update_wall_us": stage1["wall_drift_us"],
        "goal_us": 20,
        "requests": args.requests,
        "rounds": args.rounds,
        "report_every": args.every,
        STAGE1_NAME: stage1,
        STAGE2_NAME: stage2,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
