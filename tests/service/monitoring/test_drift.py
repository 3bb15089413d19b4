"""Drift counting in one worker: rows binned against the reference, reported as deltas.

Scoring is the watcher's (`alerting.signals.drift_score`); these tests run the worker's reports
through it where the behaviour is the end-to-end answer (no drift for reference-like rows).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from alerting.signals.drift_counts import parse_report
from alerting.signals.drift_score import DriftScoring, drifted
from logshipping.events import CATALOGUE, Action
from service.monitoring.drift import DriftConfig, DriftCounter
from tests.service.monitoring import synthetic

MODEL = "stage1-qualifying"
# Documented false-positive level: at most 0.1 % of (feature, evaluation) pairs flag drift when
# the inputs follow the reference (the chi-square significance level bounds it).
FALSE_POSITIVE_LEVEL = 0.001


def counter(config: DriftConfig | None = None) -> DriftCounter:
    return DriftCounter(MODEL, "1", synthetic.training_reference(), config or DriftConfig())


def reports(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [log for log in logs if log.get("event.action") == Action.DRIFT_COUNTS.value]


def report_of(c: DriftCounter, rows: list[list[object]]) -> dict[str, Any]:
    """Count `rows` and return the one report that follows."""
    for row in rows:
        c.update(row)
    with capture_logs() as logs:
        c.report()
    (event,) = reports(logs)
    return event


def test_a_report_holds_the_rows_since_the_previous_one() -> None:
    """Each report counts only the rows added since the last; nothing pending, no event."""
    c = counter()
    rng = np.random.default_rng(1)
    first = report_of(c, synthetic.rows(synthetic.sample_columns(rng, 120)))
    second = report_of(c, synthetic.rows(synthetic.sample_columns(rng, 30)))
    assert (first["amf1.drift.rows"], second["amf1.drift.rows"]) == (120, 30)
    assert CATALOGUE[Action.DRIFT_COUNTS].required <= second.keys()
    for entry in second["amf1.drift.counts"].values():
        assert sum(entry["bins"]) + entry["missing"] == 30
    with capture_logs() as logs:
        assert c.report() == 0
    assert logs == []


def test_the_service_logs_no_drift_or_missing_data_events_itself() -> None:
    """A shifted feature with missing values gives counts only: the watcher decides."""
    c = counter(DriftConfig(evaluate_every_requests=100))
    rows = synthetic.rows(
        synthetic.sample_columns(np.random.default_rng(2), 500, shift={"air_temp_c": 20.0})
    )
    rows[0][2] = None
    with capture_logs() as logs:
        for row in rows:
            c.update(row)
            if c.due():
                c.report()
    assert {log["event.action"] for log in logs} == {Action.DRIFT_COUNTS.value}
    assert len(logs) == 5


def test_inputs_from_the_reference_raise_no_drift() -> None:
    """3,000 requests drawn like the training data, binned and scored: no feature drifts."""
    c = counter()
    rng = np.random.default_rng(11)
    events = [report_of(c, synthetic.rows(synthetic.sample_columns(rng, 100))) for _ in range(30)]
    merged, found = drifted([parse_report(e) for e in reversed(events)], DriftScoring())
    assert merged.rows == 1_000
    assert found == []


def test_false_positive_rate_stays_under_the_documented_level() -> None:
    """Over 1,000 disjoint reference-drawn windows of the smallest scored size (200), the share
    of (feature, window) pairs flagged as drift stays under 0.1 %."""
    scoring = DriftScoring(window_size=200, min_samples=200)
    c = counter()
    rng = np.random.default_rng(12)
    flagged = evaluations = 0
    for _ in range(1_000):
        event = report_of(c, synthetic.rows(synthetic.sample_columns(rng, 200)))
        merged, found = drifted([parse_report(event)], scoring)
        flagged += len(found)
        evaluations += len(merged.features)
    assert evaluations == 7_000
    assert flagged / evaluations <= FALSE_POSITIVE_LEVEL


def test_a_shifted_category_mix_drifts_alone() -> None:
    """When most requests come from three circuits, `circuit` drifts and nothing else does."""
    rng = np.random.default_rng(14)
    columns = synthetic.sample_columns(rng, 1_000)
    columns["circuit"] = rng.choice(np.array(synthetic.CIRCUITS[:3], dtype=object), 1_000)
    event = report_of(counter(), synthetic.rows(columns))
    _, found = drifted([parse_report(event)], DriftScoring())
    assert [score.feature for score in found] == ["circuit"]


def test_evaluation_is_due_every_k_requests_or_after_the_interval() -> None:
    """`due` turns true after K new requests, or after the interval when requests are pending."""
    clock = {"now": 1.0}
    c = DriftCounter(
        MODEL,
        "1",
        synthetic.training_reference(),
        DriftConfig(evaluate_every_requests=100, evaluate_interval_s=60.0),
        lambda: clock["now"],
    )
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(25), 100))
    for row in rows[:99]:
        c.update(row)
    assert not c.due(2.0)
    c.update(rows[99])
    assert c.due(2.0)
    with capture_logs():
        c.report(2.0)
    assert not c.due(100.0)
    c.update(rows[0])
    assert not c.due(61.0)
    assert c.due(62.0)


def test_rows_of_the_model_matrix_are_read_by_column_and_category_code() -> None:
    """Rows laid out like the model matrix (other column order, categories as float codes, NaN
    for missing) are binned like named values: same counts as the plain rows."""
    references = synthetic.training_reference()
    plain = DriftCounter(MODEL, "1", references)
    codes = {"driver": sorted(synthetic.DRIVERS), "circuit": sorted(synthetic.CIRCUITS)}
    columns = list(reversed(synthetic.FEATURES))
    matrix = DriftCounter(MODEL, "1", references, columns=columns, categories=codes)
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(26), 300))
    rows[0][2] = None
    encoded_rows = []
    for row in rows:
        named = dict(zip(synthetic.FEATURES, row, strict=True))
        encoded = [
            float(codes[name].index(str(named[name]))) if name in codes else named[name]
            for name in columns
        ]
        encoded_rows.append([math.nan if value is None else value for value in encoded])
    assert (
        report_of(plain, rows)["amf1.drift.counts"]
        == report_of(matrix, encoded_rows)["amf1.drift.counts"]
    )


def test_a_reference_feature_missing_from_the_columns_is_refused() -> None:
    """Constructing a counter whose rows lack a referenced feature raises ValueError."""
    references = synthetic.training_reference()
    with pytest.raises(ValueError, match="air_temp_c"):
        DriftCounter(MODEL, "1", references, columns=["driver"])
