"""The OpenAPI document as the service enforces it: the valid drivers and circuits are enums
taken from the loaded models' catalogue (their trained category codes).

FastAPI builds its document once, from the request models alone; those cannot know which ids
the models accept. `install` replaces `app.openapi` with a builder that adds them, rebuilt
whenever the registry's status map changes (start-up, every reload), so `/openapi.json` and
`/docs` always describe the models this worker serves. Before the models load, or for a model
that failed to load, the fields keep their plain string schema.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from service.features import STAGE1_NAME, STAGE2_NAME
from service.registry import ModelStatus
from service.state import services_of

# (schema component, property) -> (model, categorical feature) whose codes are the valid values.
_CATALOGUE_FIELDS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("QualifyingRequest", "driver"): (STAGE1_NAME, "driver"),
    ("QualifyingRequest", "circuit"): (STAGE1_NAME, "circuit"),
    ("RaceWinnerRequest", "circuit"): (STAGE2_NAME, "circuit"),
    ("RaceEntry", "driver"): (STAGE2_NAME, "driver"),
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) carry the loaded models' catalogue."""
    base = app.openapi  # FastAPI's own builder, which caches the static document
    built: list[tuple[Mapping[str, ModelStatus], dict[str, Any]]] = []

    def openapi() -> dict[str, Any]:
        statuses = services_of(app).registry.statuses()
        # The registry replaces its map on every load: identity says whether anything changed.
        if built and built[0][0] is statuses:
            return built[0][1]
        document = with_catalogue(base(), statuses)
        built[:] = [(statuses, document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def with_catalogue(document: dict[str, Any], statuses: Mapping[str, ModelStatus]) -> dict[str, Any]:
    """A copy of `document` whose driver and circuit fields list the loaded models' values."""
    result = copy.deepcopy(document)
    components = result.get("components", {}).get("schemas", {})
    for (component, field), (model_name, feature) in _CATALOGUE_FIELDS.items():
        status = statuses.get(model_name)
        prop = components.get(component, {}).get("properties", {}).get(field)
        if status is None or status.model is None or prop is None:
            continue
        valid = sorted(status.model.encoder.valid_values(feature))
        prop["enum"] = valid
        prop["description"] = (
            f"{prop.get('description', feature)}; one of the {len(valid)} {feature}s the "
            f"{model_name} model ({status.model.version}) knows"
        )
    entries = components.get("RaceWinnerRequest", {}).get("properties", {}).get("entries")
    drivers = statuses.get(STAGE2_NAME)
    if entries is not None and drivers is not None and drivers.model is not None:
        # A driver at most once: never more entries than there are drivers.
        known = len(drivers.model.encoder.valid_values("driver"))
        entries["maxItems"] = min(entries.get("maxItems", known), known)
    return result
