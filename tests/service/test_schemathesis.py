"""Property-based API test over the service's own OpenAPI schema: no input yields a 5xx.

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
from tests.service.conftest import ADMIN_TOKEN

EXAMPLES_PER_OPERATION_AND_MODE = 25


@pytest.fixture
def api_schema(loaded_registry: ModelRegistry) -> schemathesis.BaseSchema:
    """The schema of an app whose models are loaded."""
    app = create_app(
        Settings(models_dir=loaded_registry.models_dir, admin_token=ADMIN_TOKEN),
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
            case.call_and_validate(checks=[not_a_server_error])

        run()
