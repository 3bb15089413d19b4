"""Parsing the metadata reference and binning live values the way training binned them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.monitoring.reference import (
    UNSEEN,
    CategoricalReference,
    NumericReference,
    ReferenceFormatError,
    parse_reference,
)
from service.training import reference as service_reference
from tests.service.monitoring import synthetic


def test_parse_keeps_feature_order_and_types() -> None:
    """Every reference entry parses, in the metadata's order, to its typed form."""
    parsed = parse_reference(synthetic.training_reference())
    assert tuple(ref.feature for ref in parsed) == synthetic.FEATURES
    assert isinstance(parsed[0], CategoricalReference)
    assert isinstance(parsed[2], NumericReference)
    assert parsed[2].n_slots == 10


@pytest.mark.parametrize("feature", ["air_temp_c", "humidity_pct"])
def test_numeric_binning_matches_numpy_histogram(feature: str) -> None:
    """Live values land in the same bins as numpy.histogram's, ties on edges included."""
    rng = np.random.default_rng(3)
    reference = synthetic.training_reference()[feature]
    ref = parse_reference({feature: reference})[0]
    values = synthetic.sample_columns(rng, 5_000)[feature]
    inside = values[(values >= reference["bin_edges"][0]) & (values <= reference["bin_edges"][-1])]
    encode = ref.encoder()
    ours = np.bincount([encode(v) for v in inside.tolist()], minlength=10)
    theirs, _ = np.histogram(inside, bins=np.asarray(reference["bin_edges"]))
    assert ours.tolist() == theirs.tolist()


def test_out_of_range_values_fall_into_the_end_bins() -> None:
    """Values below/above the training range count in the first/last bin."""
    ref = parse_reference(synthetic.training_reference())[2]
    encode = ref.encoder()
    assert encode(-1e9) == 0
    assert encode(1e9) == 9


@pytest.mark.parametrize("value", [None, math.nan, "fast", object()])
def test_numeric_missing_or_unparseable_values_are_missing(value: object) -> None:
    """None, NaN and values that are not numbers count as missing (-1)."""
    encode = parse_reference(synthetic.training_reference())[2].encoder()
    assert encode(value) == -1


def test_categorical_unseen_and_missing_values() -> None:
    """Known categories get their slot, new ones the unseen slot, None/NaN count as missing."""
    ref = parse_reference({"c": {"type": "categorical", "frequencies": {"a": 0.5, "b": 0.5}}})[0]
    assert isinstance(ref, CategoricalReference)
    encode = ref.encoder()
    assert [encode("a"), encode("b"), encode("zz"), encode(None), encode(math.nan)] == [
        0,
        1,
        2,
        -1,
        -1,
    ]
    assert ref.labels() == ("a", "b", UNSEEN)
    assert ref.expected().tolist() == [0.5, 0.5, 0.0]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"type": "numeric", "bin_edges": [0, 1, 2], "proportions": [1.0]}, "bin_edges"),
        ({"type": "numeric", "bin_edges": [2, 1], "proportions": [1.0]}, "non-decreasing"),
        ({"type": "numeric", "bin_edges": [0, 1], "proportions": [0.0]}, "proportions"),
        ({"type": "categorical", "frequencies": {}}, "frequencies"),
        ({"type": "histogram"}, "unknown type"),
        (
            {"type": "categorical", "frequencies": {"a": 1.0}, "missing_rate": 1.5},
            "missing_rate",
        ),
    ],
)
def test_malformed_reference_names_the_feature(entry: dict[str, object], fragment: str) -> None:
    """A malformed entry raises ReferenceFormatError naming the feature and the problem."""
    with pytest.raises(ReferenceFormatError, match=rf"'lap'.*{fragment}"):
        parse_reference({"lap": entry})


@pytest.mark.parametrize("feature", ["air_temp_c", "humidity_pct", "rain_probability"])
def test_training_and_serving_bin_alike(feature: str) -> None:
    """The service's reference builder (training) and the monitor's encoder (serving) put the
    training values in the same bins: re-binning them reproduces the stored proportions."""
    values = synthetic.sample_columns(np.random.default_rng(9), 20_000)[feature]
    entry = service_reference.numeric_reference(values).model_dump()
    encode = parse_reference({feature: entry})[0].encoder()
    counts = np.bincount([encode(v) for v in values.tolist()], minlength=10)
    # edges are stored rounded to 6 decimals, so a value on an edge may move one bin
    assert counts / values.size == pytest.approx(entry["proportions"], abs=1e-3)


def test_training_and_serving_agree_on_categories_and_missing() -> None:
    """Category shares and the missing rate of the service's builder parse as the monitor's."""
    values = ["a", "b", "b", None, "c", "b", math.nan, "a"]
    entry = service_reference.categorical_reference(values).model_dump()
    ref = parse_reference({"team": entry})[0]
    assert isinstance(ref, CategoricalReference)
    assert dict(zip(ref.categories, ref.frequencies, strict=True)) == pytest.approx(
        {"a": 2 / 6, "b": 3 / 6, "c": 1 / 6},
        abs=1e-6,  # stored rounded to 6 decimals
    )
    encode = ref.encoder()
    missing = sum(encode(v) == -1 for v in values) / len(values)
    assert missing == pytest.approx(ref.missing_rate, abs=1e-6)
