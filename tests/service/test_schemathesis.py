"""Property-based API tests over the service's own OpenAPI schema: no input yields a 5xx, and
no request the schema calls valid yields a 422.

Runs in-process over ASGI, valid and invalid (negative) generated requests for every
operation. (The `schemathesis.pytest.from_fixture` loader does not work with this pytest, so
the test drives hypothesis itself.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from service.app import create_app
from service.feedback import PredictionStore
from service.registry import ModelRegistry
from service.settings import Settings
from tests.service.conftest import ADMIN_TOKEN, FEEDBACK_AUTH, FEEDBACK_TOKEN

EXAMPLES_PER_OPERATION_AND_MODE = 25
# The feedback engineer owns /feedback and its schema.
ACCEPTANCE_PATHS = ("/predict/qualifying", "/predict/race-winner")


@pytest.fixture
def api_schema(loaded_registry: ModelRegistry) -> schemathesis.BaseSchema:
    """The schema of an app whose models are loaded."""
    app = create_app(
        Settings(
            models_dir=loaded_registry.models_dir,
            admin_token=ADMIN_TOKEN,
            feedback_token=FEEDBACK_TOKEN,
        ),
        registry=loaded_registry,
        predictions=PredictionStore(1000, 60.0),
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_causes_a_server_error(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    """Generated requests to every operation never get a 5xx."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/predict/qualifying",
        "/predict/race-winner",
        "/feedback",
    }
    for operation in operations:
        if operation.path == "/ready":
            continue  # 503 there means "not ready", by design (models are loaded here anyway)
        if mode is GenerationMode.NEGATIVE and not list(operation.body):
            continue  # nothing to get wrong in a request without a body or parameters

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            # With the feedback token, so generated bodies reach the /feedback handler.
            case.call_and_validate(headers=FEEDBACK_AUTH, checks=[not_a_server_error])

        run()


def _respects_descriptions(case: schemathesis.Case) -> bool:
    """What the schema states in words only (JSON Schema cannot say "each driver once")."""
    entries = case.body.get("entries") if isinstance(case.body, dict) else None
    if not isinstance(entries, list):
        return True
    drivers = [entry.get("driver") for entry in entries if isinstance(entry, dict)]
    grid = [entry.get("grid_position") for entry in entries if isinstance(entry, dict)]
    return len(set(drivers)) == len(drivers) and len(set(grid)) == len(grid)


def test_the_schema_lists_the_models_catalogue(api_schema: schemathesis.BaseSchema) -> None:
    """Drivers and circuits are enums of the loaded models' values; entries say each driver
    once."""
    document = api_schema.raw_schema
    components = document["components"]["schemas"]
    stage1 = components["QualifyingRequest"]["properties"]
    assert "varga" in stage1["driver"]["enum"]
    assert "monza" in stage1["circuit"]["enum"]
    assert components["RaceEntry"]["properties"]["driver"]["enum"]
    entries = components["RaceWinnerRequest"]["properties"]["entries"]
    assert entries["uniqueItems"] is True
    assert entries["maxItems"] <= len(components["RaceEntry"]["properties"]["driver"]["enum"])
    assert "each driver at most once" in entries["description"]


def test_no_schema_valid_request_is_refused(api_schema: schemathesis.BaseSchema) -> None:
    """Generated valid requests to the prediction endpoints never get a 422 (or 400)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    checked = [op for op in operations if op.path in ACCEPTANCE_PATHS]
    assert len(checked) == len(ACCEPTANCE_PATHS)
    for operation in checked:
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)

        @given(case=strategy.filter(_respects_descriptions))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION_AND_MODE * 2,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code == 200, (case.body, response.text)

        run()
