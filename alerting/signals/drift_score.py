"""Scoring the merged counts: which features drifted, and a few words on how.

A feature drifts when its PSI against the training reference exceeds `psi_threshold` (the
shift is large enough to matter) AND the chi-square goodness-of-fit p-value is below
`significance` (the shift is not window noise). A feature with fewer than `min_samples` present
values is not scored. The p-value is only computed for features over the PSI threshold, so a
quiet evaluation costs one PSI per feature. Pure functions of the counts: no Elasticsearch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from alerting.signals import drift_stats
from alerting.signals.drift_counts import CountsReport, FeatureCounts, MergedCounts, merge, window


class DriftScoring(BaseModel):
    """Window, thresholds and cadence of the watcher's drift and missing-data signals (the one
    place of their defaults; `alerting.settings` reads them from `AMF1_DRIFT_*` and
    `AMF1_MISSING_*`)."""

    model_config = ConfigDict(frozen=True)

    window_size: int = Field(
        1000, ge=10, description="Newest rows of all workers that drift and missing data are over."
    )
    window_max_age_s: float = Field(
        3600.0, gt=0, description="Counts reported longer ago than this are left out, seconds."
    )
    min_samples: int = Field(
        200, ge=10, description="Present values a feature needs before it is scored."
    )
    score_interval_s: float = Field(
        60.0, gt=0, description="How often the watcher scores drift over all workers, seconds."
    )
    psi_threshold: float = Field(0.2, gt=0, description="PSI above which a feature drifts.")
    significance: float = Field(
        0.001, gt=0, lt=1, description="Chi-square p-value below which the shift is not noise."
    )
    psi_epsilon: float = Field(
        drift_stats.PSI_EPSILON, gt=0, description="Floor of a bin's share in the PSI sum."
    )
    cooldown_s: float = Field(
        600.0,
        ge=0,
        description="Least time between two drift events of one feature, seconds; keep it "
        "under the drift-warning rule's window (15 min) by more than a score interval.",
    )
    # Features whose live mix legitimately differs from training (e.g. `circuit` when traffic
    # comes one race weekend at a time) would drift forever; they can be left out.
    ignore_features: frozenset[str] = Field(
        frozenset(), description='Features never scored (JSON list, e.g. ["circuit"]).'
    )
    missing_rate_threshold: float = Field(
        0.05, ge=0, le=1, description="Missing-value share above which missing-data-rate warns."
    )
    missing_report_interval_s: float = Field(
        60.0, gt=0, description="Interval of the missing-data-rate series, seconds."
    )


@dataclass(frozen=True, slots=True)
class FeatureScore:
    """One feature's drift score over a window; `score` is None below `min_samples`.

    `p_value` is only computed when the score is over the PSI threshold (else None).
    """

    feature: str
    score: float | None
    present: int
    missing: int
    p_value: float | None = None

    def drifted(self, scoring: DriftScoring) -> bool:
        """PSI over the threshold with a p-value below the significance."""
        return (
            self.score is not None
            and self.score > scoring.psi_threshold
            and self.p_value is not None
            and self.p_value < scoring.significance
        )


def score_feature(name: str, counts: FeatureCounts, scoring: DriftScoring) -> FeatureScore:
    """Score one feature's merged counts against its reference."""
    present = int(counts.bins.sum())
    if present < scoring.min_samples:
        return FeatureScore(name, None, present, counts.missing)
    score = drift_stats.psi(counts.expected, counts.bins, scoring.psi_epsilon)
    p_value = None
    if score > scoring.psi_threshold:
        p_value = drift_stats.chi_square_p_value(counts.expected, counts.bins)
    return FeatureScore(name, score, present, counts.missing, p_value)


def score_all(merged: MergedCounts, scoring: DriftScoring) -> tuple[FeatureScore, ...]:
    """Every feature's score, in the order the reports list them."""
    return tuple(score_feature(name, counts, scoring) for name, counts in merged.features.items())


def summary(counts: FeatureCounts) -> str:
    """Reference versus current window, in a few words, from the bins."""
    if counts.edges is not None:
        return drift_stats.numeric_summary(counts.edges, counts.expected, counts.bins)
    labels = counts.categories or tuple(str(i) for i in range(counts.bins.size))
    return drift_stats.categorical_summary(labels, counts.expected, counts.bins)


def drifted(
    newest_first: Iterable[CountsReport], scoring: DriftScoring
) -> tuple[MergedCounts, list[FeatureScore]]:
    """Merge one model version's reports over the drift window and return its drifted features.

    Raises:
        CountsFormatError: the reports' bins do not line up (see `drift_counts.merge`).
    """
    merged = merge(window(newest_first, scoring.window_size), scoring.ignore_features)
    return merged, [score for score in score_all(merged, scoring) if score.drifted(scoring)]


def past_cooldown(
    scores: Iterable[FeatureScore],
    last_reported: Mapping[str, datetime],
    now: datetime,
    cooldown_s: float,
) -> list[FeatureScore]:
    """The drifted features to report now: never reported, or last reported `cooldown_s` ago.

    Args:
        last_reported: feature -> the time of its newest `drift-detected` event.
    """
    return [
        score
        for score in scores
        if (last := last_reported.get(score.feature)) is None
        or (now - last).total_seconds() >= cooldown_s
    ]
