"""The statistics behind the drift signal: PSI, a goodness-of-fit p-value, short summaries.

PSI (population stability index) over the reference bins is
`sum((a_i - e_i) * ln(a_i / e_i))` = `KL(a||e) + KL(e||a)`, computed with `scipy.special.rel_entr`.
Empty bins would make it infinite, so both shares are clipped below at `epsilon` (default 1e-4,
the usual choice): an empty bin then adds at most `e_i * ln(e_i / epsilon)`, e.g. 0.69 for a
decile bin, which is why the monitor waits for a minimum window before it scores a feature.

PSI is an effect size, but its noise grows with the number of bins (about `(bins - 1) / n` for a
window of n): a 24-category feature over 200 requests passes 0.2 by chance ~2 % of the time. The
detector therefore also asks `scipy.stats.chisquare` whether the shift is significant, which
accounts for the degrees of freedom; see `chi_square_p_value`.

The summaries work from the bin counts alone (the workers report counts, not values): numeric
quantiles are interpolated inside the training bins.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

PSI_EPSILON = 1e-4

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def psi(expected: FloatArray, observed_counts: FloatArray, epsilon: float = PSI_EPSILON) -> float:
    """PSI between reference shares `expected` and the shares of `observed_counts`.

    Args:
        expected: reference share per bin (sums to 1).
        observed_counts: live count per bin, same length.
        epsilon: floor for both shares so an empty bin stays finite.

    Returns:
        PSI >= 0; 0.0 when nothing was observed.
    """
    total = float(observed_counts.sum())
    if total <= 0:
        return 0.0
    actual = np.clip(observed_counts / total, epsilon, None)
    reference = np.clip(expected, epsilon, None)
    return float(np.sum(special.rel_entr(actual, reference) + special.rel_entr(reference, actual)))


def chi_square_p_value(
    expected: FloatArray, observed_counts: FloatArray, min_expected: float = 5.0
) -> float:
    """Pearson goodness-of-fit p-value of `observed_counts` against reference shares `expected`.

    Bins expected to hold fewer than `min_expected` values (rare categories, the unseen-category
    slot, zero-width quantile bins) are pooled into one, as the chi-square approximation needs.
    Values in a bin the reference says is impossible (expected share 0) give p = 0.
    """
    total = float(observed_counts.sum())
    if total <= 0:
        return 1.0
    expected_counts = expected * total
    rare = expected_counts < min_expected
    pooled_expected = float(expected_counts[rare].sum())
    pooled_observed = float(observed_counts[rare].sum())
    if pooled_expected == 0.0 and pooled_observed > 0:
        return 0.0
    f_exp = expected_counts[~rare]
    f_obs = observed_counts[~rare]
    if pooled_expected > 0.0:
        f_exp = np.append(f_exp, pooled_expected)
        f_obs = np.append(f_obs, pooled_observed)
    if f_exp.size < 2:
        return 1.0
    return float(stats.chisquare(f_obs, f_exp).pvalue)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def binned_quantiles(edges: FloatArray, counts: FloatArray, qs: FloatArray) -> FloatArray:
    """Quantiles `qs` of values known only by their bin counts, linear inside each bin.

    Values outside the training range were counted in the outer bins, so the result never leaves
    `[edges[0], edges[-1]]`.
    """
    cumulative = np.concatenate(([0.0], np.cumsum(counts)))
    quantiles: FloatArray = np.interp(qs * cumulative[-1], cumulative, edges)
    return quantiles


def numeric_summary(edges: FloatArray, expected: FloatArray, counts: FloatArray) -> str:
    """`p10/p50/p90 reference a/b/c, current ~x/y/z; most moved: [lo, hi) e% -> a%`."""
    total = float(counts.sum())
    if total <= 0:
        return "no present values in the window"
    qs = np.array([0.1, 0.5, 0.9])
    reference = binned_quantiles(edges, expected, qs)
    current = binned_quantiles(edges, counts, qs)
    actual = counts / total
    moved = int(np.argmax(np.abs(actual - expected)))
    return (
        f"p10/p50/p90 reference {'/'.join(_fmt(float(q)) for q in reference)}, "
        f"current ~{'/'.join(_fmt(float(q)) for q in current)}; most moved: "
        f"[{_fmt(float(edges[moved]))}, {_fmt(float(edges[moved + 1]))}) "
        f"{expected[moved]:.1%} -> {actual[moved]:.1%}"
    )


def categorical_summary(
    labels: tuple[str, ...], expected: FloatArray, counts: FloatArray, top: int = 3
) -> str:
    """The `top` categories whose share moved most: `value ref% -> now%`."""
    total = float(counts.sum())
    if total <= 0:
        return "no present values in the window"
    actual = counts / total
    order = np.argsort(-np.abs(actual - expected))[:top]
    moved = (i for i in order if actual[i] != expected[i])
    return ", ".join(f"{labels[i]} {expected[i]:.1%} -> {actual[i]:.1%}" for i in moved)
