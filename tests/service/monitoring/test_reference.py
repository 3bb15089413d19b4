"""Checking the metadata reference and binning live values the way training binned them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from service.metadata import CategoricalReference, NumericReference, Reference
from service.monitoring.reference import (
    UNSEEN,
    ReferenceFormatError,
    check_reference,
    encoder,
    expected,
    labels,
    n_slots,
)
from service.training import reference as service_reference
from tests.service.monitoring import synthetic


def test_parse_keeps_feature_order_and_types() -> None:
    """Every reference entry parses, in the metadata's order, to its typed form."""
    parsed = synthetic.training_reference()
    check_reference(parsed)
    assert tuple(parsed) == synthetic.FEATURES
    refs = list(parsed.values())
    assert isinstance(refs[0], CategoricalReference)
    assert isinstance(refs[2], NumericReference)
    assert n_slots(refs[2]) == 10


@pytest.mark.parametrize("feature", ["air_temp_c", "humidity_pct"])
def test_numeric_binning_matches_numpy_histogram(feature: str) -> None:
    """Live values land in the same bins as numpy.histogram's, ties on edges included."""
    rng = np.random.default_rng(3)
    ref = synthetic.training_reference()[feature]
    assert isinstance(ref, NumericReference)
    values = synthetic.sample_columns(rng, 5_000)[feature]
    inside = values[(values >= ref.bin_edges[0]) & (values <= ref.bin_edges[-1])]
    encode = encoder(ref)
    ours = np.bincount([encode(v) for v in inside.tolist()], minlength=10)
    theirs, _ = np.histogram(inside, bins=np.asarray(ref.bin_edges))
    assert ours.tolist() == theirs.tolist()


def test_out_of_range_values_fall_into_the_end_bins() -> None:
    """Values below/above the training range count in the first/last bin."""
    encode = encoder(synthetic.training_reference()["air_temp_c"])
    assert encode(-1e9) == 0
    assert encode(1e9) == 9


@pytest.mark.parametrize("value", [None, math.nan, "fast", object()])
def test_numeric_missing_or_unparseable_values_are_missing(value: object) -> None:
    """None, NaN and values that are not numbers count as missing (-1)."""
    encode = encoder(synthetic.training_reference()["air_temp_c"])
    assert encode(value) == -1


def test_categorical_unseen_and_missing_values() -> None:
    """Known categories get their slot, new ones the unseen slot, None/NaN count as missing."""
    ref = CategoricalReference(frequencies={"a": 0.5, "b": 0.5}, missing_rate=0.0)
    encode = encoder(ref)
    assert [encode("a"), encode("b"), encode("zz"), encode(None), encode(math.nan)] == [
        0,
        1,
        2,
        -1,
        -1,
    ]
    assert labels(ref) == ("a", "b", UNSEEN)
    assert expected(ref).tolist() == [0.5, 0.5, 0.0]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        (NumericReference(bin_edges=[0, 1, 2], proportions=[1.0], missing_rate=0), "bin_edges"),
        (NumericReference(bin_edges=[2, 1], proportions=[1.0], missing_rate=0), "non-decreasing"),
        (NumericReference(bin_edges=[0, 1], proportions=[0.0], missing_rate=0), "proportions"),
        (CategoricalReference(frequencies={}, missing_rate=0), "frequencies"),
        (CategoricalReference(frequencies={"a": 1.0}, missing_rate=1.5), "missing_rate"),
    ],
)
def test_malformed_reference_names_the_feature(entry: Reference, fragment: str) -> None:
    """A malformed entry raises ReferenceFormatError naming the feature and the problem."""
    with pytest.raises(ReferenceFormatError, match=rf"'lap'.*{fragment}"):
        check_reference({"lap": entry})


def test_unknown_reference_type_is_refused_naming_the_feature() -> None:
    """An entry of an unknown type does not validate as the metadata's reference format."""
    with pytest.raises(ValidationError, match=r"(?s)lap.*histogram"):
        synthetic.REFERENCE.validate_python({"lap": {"type": "histogram"}})


@pytest.mark.parametrize("feature", ["air_temp_c", "humidity_pct", "rain_probability"])
def test_training_and_serving_bin_alike(feature: str) -> None:
    """The service's reference builder (training) and the monitor's encoder (serving) put the
    training values in the same bins: re-binning them reproduces the stored proportions."""
    values = synthetic.sample_columns(np.random.default_rng(9), 20_000)[feature]
    ref = service_reference.numeric_reference(values)
    encode = encoder(ref)
    counts = np.bincount([encode(v) for v in values.tolist()], minlength=10)
    # edges are stored rounded to 6 decimals, so a value on an edge may move one bin
    assert counts / values.size == pytest.approx(ref.proportions, abs=1e-3)


def test_training_and_serving_agree_on_categories_and_missing() -> None:
    """Category shares and the missing rate of the service's builder parse as the monitor's."""
    values = ["a", "b", "b", None, "c", "b", math.nan, "a"]
    ref = service_reference.categorical_reference(values)
    check_reference({"team": ref})
    assert ref.frequencies == pytest.approx(
        {"a": 2 / 6, "b": 3 / 6, "c": 1 / 6},
        abs=1e-6,  # stored rounded to 6 decimals
    )
    encode = encoder(ref)
    missing = sum(encode(v) == -1 for v in values) / len(values)
    assert missing == pytest.approx(ref.missing_rate, abs=1e-6)
