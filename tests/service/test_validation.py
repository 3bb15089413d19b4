"""Bad input gets a JSON 4xx that says what to fix; never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from fastapi.testclient import TestClient

from tests.service.conftest import qualifying_body, race_body


def test_out_of_bounds_value_names_field_and_bound(client: TestClient) -> None:
    """A temperature outside its range is a 422 naming the field and the limit."""
    response = client.post("/predict/qualifying", json=qualifying_body(air_temp_c=75.0))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "validation_error"
    assert "air_temp_c" in error["message"]
    assert "60" in error["message"]


def test_probability_must_be_between_0_and_1(client: TestClient) -> None:
    """rain_probability above 1 is refused."""
    response = client.post("/predict/qualifying", json=qualifying_body(rain_probability=1.5))
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "rain_probability"


def test_lap_time_must_be_positive(client: TestClient) -> None:
    """A non-positive practice lap time is refused."""
    response = client.post("/predict/qualifying", json=qualifying_body(practice_best_lap_s=-3))
    assert response.status_code == 422


def test_wrong_type_is_not_coerced(client: TestClient) -> None:
    """A number sent as a string is a 422, not silently converted."""
    response = client.post("/predict/qualifying", json=qualifying_body(humidity_pct="55"))
    assert response.status_code == 422
    assert "humidity_pct" in response.json()["error"]["message"]


def test_unknown_field_is_refused(client: TestClient) -> None:
    """An extra field is a 422 that says to remove it."""
    response = client.post("/predict/qualifying", json=qualifying_body(tyre="soft"))
    assert response.status_code == 422
    assert "tyre: unknown field; remove it" in response.json()["error"]["message"]


def test_non_finite_number_is_refused(client: TestClient) -> None:
    """NaN is not a temperature."""
    body = b'{"driver": "varga", "circuit": "monza", "air_temp_c": NaN, "track_temp_c": 30,'
    body += b' "humidity_pct": 50, "rain_probability": 0.1}'
    response = client.post(
        "/predict/qualifying", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_malformed_json_is_400(client: TestClient) -> None:
    """Broken JSON is a 400 pointing at the position of the problem."""
    response = client.post(
        "/predict/qualifying", content=b'{"driver": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "malformed_json"
    assert "character" in error["message"]


def test_missing_body_is_422(client: TestClient) -> None:
    """No body at all says a JSON body is required."""
    response = client.post("/predict/qualifying")
    assert response.status_code == 422
    assert "JSON body is required" in response.json()["error"]["message"]


def test_unknown_driver_lists_valid_drivers(client: TestClient) -> None:
    """An unknown driver is a 422 listing the valid ones and pointing to GET /drivers."""
    response = client.post("/predict/qualifying", json=qualifying_body(driver="schumacher"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "unknown_driver"
    assert "GET /drivers" in error["message"]
    assert "varga" in error["valid_values"]
    assert client.get("/drivers").json()["drivers"] == error["valid_values"]


def test_unknown_circuit_in_race_lists_valid_circuits(client: TestClient) -> None:
    """An unknown circuit is a 422 pointing to GET /circuits."""
    response = client.post("/predict/race-winner", json=race_body() | {"circuit": "brooklands"})
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "unknown_circuit"
    assert "monza" in client.get("/circuits").json()["circuits"]


def test_duplicate_driver_in_field_is_refused(client: TestClient) -> None:
    """A driver may appear only once in a race field."""
    body = race_body(("varga", "okafor", "varga"))
    response = client.post("/predict/race-winner", json=body)
    assert response.status_code == 422
    assert "only once" in response.json()["error"]["message"]


def test_oversized_body_is_413(client: TestClient) -> None:
    """A body over 64 KiB declared by Content-Length is refused with 413."""
    response = client.post(
        "/predict/qualifying", content=b" " * 70_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "body_too_large"


def test_oversized_chunked_body_is_413(client: TestClient) -> None:
    """A chunked body without Content-Length is counted as it arrives and refused at 64 KiB."""

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 4096

    response = client.post(
        "/predict/qualifying", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_small_chunked_body_is_accepted(client: TestClient) -> None:
    """A chunked body under the limit reaches the endpoint intact."""
    payload = orjson.dumps(qualifying_body())

    def chunks() -> Iterator[bytes]:
        yield payload[:10]
        yield payload[10:]

    response = client.post(
        "/predict/qualifying", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200


def test_unknown_path_and_method_are_json(client: TestClient) -> None:
    """404 and 405 answers are JSON errors too."""
    assert client.get("/nowhere").json()["error"]["type"] == "not_found"
    response = client.get("/predict/qualifying")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method_not_allowed"
