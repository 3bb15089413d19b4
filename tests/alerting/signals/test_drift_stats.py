"""PSI and the goodness-of-fit p-value behind the drift decision."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats

from alerting.signals import drift_stats as stats


def test_psi_matches_its_definition() -> None:
    """PSI = sum((a - e) * ln(a / e)) over the bins."""
    expected = np.array([0.25, 0.25, 0.5])
    counts = np.array([10.0, 30.0, 60.0])
    actual = counts / counts.sum()
    by_hand = sum((a - e) * math.log(a / e) for a, e in zip(actual, expected, strict=True))
    assert math.isclose(stats.psi(expected, counts), by_hand)


def test_psi_is_zero_for_identical_shares_and_without_data() -> None:
    """No shift gives 0, and an empty window gives 0 rather than NaN."""
    expected = np.full(10, 0.1)
    assert stats.psi(expected, np.full(10, 7.0)) == 0.0
    assert stats.psi(expected, np.zeros(10)) == 0.0


def test_psi_stays_finite_with_empty_bins() -> None:
    """An empty bin adds e * ln(e / epsilon) instead of infinity."""
    expected = np.array([0.5, 0.5])
    value = stats.psi(expected, np.array([10.0, 0.0]), epsilon=1e-4)
    assert math.isfinite(value)
    assert math.isclose(value, (1 - 0.5) * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5))


def test_p_value_is_scipys_chisquare_when_no_bin_is_rare() -> None:
    """With every expected count >= 5 the p-value is scipy.stats.chisquare's."""
    expected = np.full(4, 0.25)
    counts = np.array([30.0, 20.0, 25.0, 25.0])
    want = scipy_stats.chisquare(counts, expected * counts.sum()).pvalue
    assert math.isclose(stats.chi_square_p_value(expected, counts), want)


def test_rare_bins_are_pooled() -> None:
    """Bins expected to hold < 5 values are tested as one pooled bin."""
    expected = np.array([0.49, 0.49, 0.01, 0.01])
    counts = np.array([50.0, 46.0, 3.0, 1.0])
    pooled = scipy_stats.chisquare([50.0, 46.0, 4.0], [49.0, 49.0, 2.0]).pvalue
    assert math.isclose(stats.chi_square_p_value(expected, counts), pooled)


def test_values_in_an_impossible_bin_are_significant() -> None:
    """A category never seen in training (expected share 0) gives p = 0."""
    expected = np.array([0.5, 0.5, 0.0])
    assert stats.chi_square_p_value(expected, np.array([50.0, 49.0, 1.0])) == 0.0
    assert stats.chi_square_p_value(expected, np.array([50.0, 50.0, 0.0])) > 0.5


def test_binned_quantiles_interpolate_inside_the_bins() -> None:
    """Uniform counts over [0, 10) in 10 bins give the quantiles of a uniform distribution."""
    edges = np.arange(11.0)
    quantiles = stats.binned_quantiles(edges, np.full(10, 5.0), np.array([0.1, 0.5, 0.9]))
    assert np.allclose(quantiles, [1.0, 5.0, 9.0])


def test_summaries_name_the_bin_or_category_that_moved_most() -> None:
    """Numeric: reference and current quantiles and the most moved bin; categorical: top moves."""
    expected = np.full(4, 0.25)
    numeric = stats.numeric_summary(np.arange(5.0), expected, np.array([0.0, 0.0, 10.0, 90.0]))
    assert numeric.startswith("p10/p50/p90 reference 0.4/2/3.6, current ~")
    assert numeric.endswith("most moved: [3, 4) 25.0% -> 90.0%")
    text = stats.categorical_summary(
        ("a", "b", "__unseen__"), np.array([0.5, 0.5, 0.0]), np.array([20.0, 70.0, 10.0])
    )
    assert text.split(", ")[0] == "a 50.0% -> 20.0%"
