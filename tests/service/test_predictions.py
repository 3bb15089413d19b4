"""Prediction responses, and that serving encodes features exactly as training did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.features import (
    STAGE1_FEATURES,
    STAGE1_NAME,
    STAGE2_FEATURES,
    STAGE2_NAME,
    encode_frame,
    with_race_features,
)
from service.metadata import ModelMetadata
from service.prediction import predict_qualifying, predict_race_winner
from service.registry import ModelRegistry
from service.schemas import QualifyingRequest, RaceEntry, RaceWinnerRequest
from tests.service.conftest import qualifying_body, race_body


def test_qualifying_response_names_model_and_prediction(
    client: TestClient, trained: tuple[Path, list[ModelMetadata]]
) -> None:
    """A qualifying prediction carries an id, the model name and version, and a lap time."""
    body = client.post("/predict/qualifying", json=qualifying_body()).json()
    version = {m.name: m.version for m in trained[1]}[STAGE1_NAME]
    assert body["model"] == {"name": STAGE1_NAME, "version": version}
    assert len(body["prediction_id"]) == 36
    assert 75.0 < body["lap_time_s"] < 86.0


def test_practice_lap_is_optional(client: TestClient) -> None:
    """Without a practice lap the circuit's reference lap is the starting point."""
    body = qualifying_body()
    del body["practice_best_lap_s"]
    response = client.post("/predict/qualifying", json=body)
    assert response.status_code == 200
    assert 70.0 < response.json()["lap_time_s"] < 90.0


def test_race_winner_probabilities_sum_to_one(client: TestClient) -> None:
    """The field's win probabilities sum to 1, highest first, one per driver."""
    response = client.post("/predict/race-winner", json=race_body())
    assert response.status_code == 200
    body = response.json()
    probabilities = [p["win_probability"] for p in body["probabilities"]]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)
    assert probabilities == sorted(probabilities, reverse=True)
    assert {p["driver"] for p in body["probabilities"]} == {
        entry["driver"] for entry in race_body()["entries"]
    }
    assert body["model"]["name"] == STAGE2_NAME


def test_pole_sitter_in_fastest_car_is_favourite(client: TestClient) -> None:
    """The model learned something: pole with a big margin beats the back of the grid."""
    entries = [
        {"driver": "varga", "grid_position": 1, "qualifying_lap_s": 80.0},
        {"driver": "quispe", "grid_position": 20, "qualifying_lap_s": 82.5},
    ]
    body = {"circuit": "monza", "rain_probability": 0.0, "entries": entries}
    ranked = client.post("/predict/race-winner", json=body).json()["probabilities"]
    assert ranked[0]["driver"] == "varga"


def test_serving_encodes_like_training(small_table: Any, loaded_registry: ModelRegistry) -> None:
    """Rows built by the serving path equal the training matrix rows, and so do predictions."""
    stage1 = loaded_registry.get(STAGE1_NAME)
    categories = {f.name: f.categories for f in stage1.metadata.features if f.categories}
    rows = small_table.head(40)
    matrix = encode_frame(rows, STAGE1_FEATURES, categories)
    for i, record in enumerate(rows.to_dict("records")):
        practice = record["practice_best_lap_s"]
        request = QualifyingRequest(
            driver=record["driver"],
            circuit=record["circuit"],
            air_temp_c=record["air_temp_c"],
            track_temp_c=record["track_temp_c"],
            humidity_pct=record["humidity_pct"],
            rain_probability=record["rain_probability"],
            practice_best_lap_s=None if np.isnan(practice) else practice,
        )
        served = predict_qualifying(stage1, request)
        np.testing.assert_array_equal(served.features[0], matrix[i])
        assert stage1.predictor.predict(served.features) == pytest.approx(
            stage1.booster.predict(matrix[i : i + 1])[0]
        )

    stage2 = loaded_registry.get(STAGE2_NAME)
    categories = {f.name: f.categories for f in stage2.metadata.features if f.categories}
    race = with_race_features(small_table).query("season == season.min() and round == 1")
    entries = [
        RaceEntry(
            driver=r["driver"],
            grid_position=r["grid_position"],
            qualifying_lap_s=r["qualifying_lap_s"],
        )
        for r in race.to_dict("records")
    ]
    request = RaceWinnerRequest(
        circuit=race["circuit"].iloc[0],
        rain_probability=race["rain_probability"].iloc[0],
        entries=entries,
    )
    served2 = predict_race_winner(stage2, request)
    np.testing.assert_allclose(served2.features, encode_frame(race, STAGE2_FEATURES, categories))
