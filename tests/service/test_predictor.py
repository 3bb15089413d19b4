"""The fast single-row predictor gives LightGBM's own answer."""

from __future__ import annotations

import numpy as np
import pytest

from service.features import MODEL_NAMES
from service.registry import ModelRegistry


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fast_path_equals_booster_predict(loaded_registry: ModelRegistry, name: str) -> None:
    """For random rows (with missing values) both paths agree to float precision."""
    model = loaded_registry.get(name)
    rng = np.random.default_rng(0)
    rows = rng.uniform(0, 30, size=(50, model.predictor.num_features))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    expected = model.booster.predict(rows, num_threads=1)
    for row, want in zip(rows, expected, strict=True):
        assert model.predictor.predict(np.ascontiguousarray(row)) == pytest.approx(want, rel=1e-12)


def test_wrong_shape_is_refused(loaded_registry: ModelRegistry) -> None:
    """A row of the wrong length raises instead of reading past the buffer."""
    model = loaded_registry.get(MODEL_NAMES[0])
    with pytest.raises(ValueError, match="float64"):
        model.predictor.predict(np.zeros(2))
