"""The report's charts (matplotlib, Agg): traffic, latency, model quality, incidents, events.

One style for all of them: white background, light horizontal grid, no top/right frame, the
alert thresholds drawn where they apply so a reader sees at a glance whether a line crossed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from amf1.report.data import ReportData
    from amf1.watcher_state import AlertRecord

COLORS: Final = {
    "ok": "#2a9d8f",
    "fail": "#e63946",
    "reject": "#f4a261",
    "line": "#264653",
    "p50": "#8ecae6",
    "p95": "#219ebc",
    "p99": "#023047",
    "warning": "#f4a261",
    "critical": "#e63946",
    "muted": "#6c757d",
}
_STYLE: Final[dict[Any, Any]] = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#e9ecef",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
}


def _t(times: Sequence[datetime]) -> np.ndarray:
    """Times as numpy datetimes (UTC, naive), which matplotlib plots and its stubs accept."""
    return np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[ms]")


def _num(when: datetime) -> float:
    value: float = mdates.date2num(when)  # type: ignore[no-untyped-call]
    return value


def _time_axis(ax: Axes, times: Sequence[datetime]) -> None:
    # minticks=3: with the default 5, periods of 3.5-5 minutes (a quick demo) find no interval.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    if len(times) > 1:
        ax.set_xlim(_num(times[0]), _num(times[-1]))


def _span(data: ReportData) -> list[datetime]:
    """First and last bucket start (the charts' shared x range)."""
    if not data.buckets:
        return [data.start, data.end]
    return [data.buckets[0].start, data.buckets[-1].start]


def _bar_width_days(data: ReportData) -> float:
    if len(data.buckets) < 2:
        return 1 / 24 / 60
    step = data.buckets[1].start - data.buckets[0].start
    return step.total_seconds() / 86400 * 0.85


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return path


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color=COLORS["muted"], transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_traffic(data: ReportData, path: Path) -> Path:
    """Predictions per bucket, stacked by outcome, with the error ratio on a second axis."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(10, 4))
        times = [b.start for b in data.buckets]
        ok = [b.succeeded for b in data.buckets]
        failed = [b.failed for b in data.buckets]
        rejected = [b.rejected for b in data.buckets]
        width = _bar_width_days(data)
        ax.bar(_t(times), ok, width, color=COLORS["ok"], label="succeeded", align="edge")
        ax.bar(
            _t(times),
            failed,
            width,
            bottom=ok,
            color=COLORS["fail"],
            label="failed (5xx)",
            align="edge",
        )
        bottoms = [a + b for a, b in zip(ok, failed, strict=True)]
        ax.bar(
            _t(times),
            rejected,
            width,
            bottom=bottoms,
            color=COLORS["reject"],
            label="rejected (4xx)",
            align="edge",
            alpha=0.8,
        )
        ax.set_ylabel(f"requests per {data.interval}")
        ratio_ax = ax.twinx()
        ratios = [b.error_ratio for b in data.buckets]
        ratio_ax.plot(
            _t([t for t, r in zip(times, ratios, strict=True) if r is not None]),
            [100 * r for r in ratios if r is not None],
            color=COLORS["line"],
            marker="o",
            markersize=3,
            linewidth=1.5,
            label="error ratio",
        )
        threshold = data.thresholds.error_ratio
        ratio_ax.axhline(
            100 * threshold,
            color=COLORS["critical"],
            linestyle="--",
            linewidth=1,
            label=f"alert threshold ({_pct(threshold)})",
        )
        ratio_ax.set_ylabel("error ratio (%)")
        ratio_ax.set_ylim(bottom=0)
        ratio_ax.spines["right"].set_visible(True)
        ratio_ax.grid(visible=False)
        _time_axis(ax, times)
        handles = ax.get_legend_handles_labels()[0] + ratio_ax.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper left", ncols=5, fontsize=8, bbox_to_anchor=(0, -0.12))
        ax.set_title(
            f"Predictions: {data.predictions:,}  ·  error ratio "
            f"{_pct(data.error_ratio)}  ·  rejected {data.rejected:,}"
        )
        return _save(fig, path)


def plot_latency(data: ReportData, path: Path) -> Path:
    """Prediction latency p50/p95/p99 per bucket against the 200 ms p95 alert."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(10, 3.6))
        points = [(b.start, b.latency_ms) for b in data.buckets if b.latency_ms.get("p50")]
        if not points:
            _empty(ax, "no predictions in this period")
            return _save(fig, path)
        times = [t for t, _ in points]
        series = {name: [lat[name] or 0.0 for _, lat in points] for name in ("p50", "p95", "p99")}
        ax.fill_between(_t(times), series["p50"], series["p99"], color=COLORS["p95"], alpha=0.12)
        for name in ("p50", "p95", "p99"):
            ax.plot(
                _t(times),
                series[name],
                color=COLORS[name],
                linewidth=2 if name == "p95" else 1.2,
                marker="o" if len(times) < 30 else None,
                markersize=3,
                label=name,
            )
        threshold_ms = 1000 * data.thresholds.latency_p95_s
        top = max(*series["p99"], threshold_ms * 1.1)
        ax.axhline(
            threshold_ms,
            color=COLORS["warning"],
            linestyle="--",
            linewidth=1,
            label=f"p95 alert ({_ms(threshold_ms)})",
        )
        ax.set_yscale("log" if top / max(min(series["p50"]), 0.1) > 50 else "linear")
        ax.set_ylabel("milliseconds")
        _time_axis(ax, _span(data))
        ax.legend(loc="upper left", ncols=4, fontsize=8, bbox_to_anchor=(0, -0.12))
        ax.set_title(
            f"Prediction latency  ·  p95 over the period {_ms(data.latency_ms.get('p95'))}"
        )
        return _save(fig, path)


def _quality_panel(
    ax: Axes, data: ReportData, metric: str, label: str, thresholds: tuple[float, float]
) -> None:
    points = [(b.start, b.metrics[metric]) for b in data.buckets if metric in b.metrics]
    warning, critical = thresholds
    if not points:
        _empty(ax, f"no {label} reports (no feedback) in this period")
        ax.set_title(label)
        return
    times = [t for t, _ in points]
    values = [v for _, v in points]
    top = max(max(values) * 1.15, critical * 1.25)
    ax.axhspan(0, warning, color=COLORS["ok"], alpha=0.07)
    ax.axhspan(warning, critical, color=COLORS["warning"], alpha=0.12)
    ax.axhspan(critical, top, color=COLORS["critical"], alpha=0.08)
    ax.axhline(
        warning, color=COLORS["warning"], linestyle="--", linewidth=1, label=f"warning {warning:g}"
    )
    ax.axhline(
        critical,
        color=COLORS["critical"],
        linestyle="--",
        linewidth=1,
        label=f"critical {critical:g}",
    )
    ax.plot(
        _t(times), values, color=COLORS["line"], linewidth=2, marker="o", markersize=3, label=label
    )
    ax.set_ylim(0, top)
    # The whole period, like the other charts, so the panels line up (and one point has a range).
    _time_axis(ax, _span(data))
    ax.legend(loc="upper left", fontsize=8, ncols=3)
    last = data.metrics_last.get(metric)
    ax.set_title(f"{label}  ·  latest {last:.3f}" if last is not None else label)


def plot_model_quality(data: ReportData, path: Path) -> Path:
    """Rolling MAE (stage 1) and Brier score (stage 2) with their warning/critical zones."""
    with plt.rc_context(_STYLE):
        fig, (mae_ax, brier_ax) = plt.subplots(1, 2, figsize=(11, 3.6))
        levels = data.thresholds
        _quality_panel(mae_ax, data, "mae", "Stage-1 rolling MAE (s)", levels.mae_s)
        _quality_panel(brier_ax, data, "brier", "Stage-2 rolling Brier", levels.brier)
        fig.tight_layout()
        return _save(fig, path)


def _incident_bar(ax: Axes, y: int, alert: AlertRecord, data: ReportData, span_days: float) -> None:
    """One incident: a bar from firing to resolution (hatched while still firing), labelled."""
    assert alert.fired_at is not None  # the caller filters
    end = alert.resolved_at or data.end
    color = COLORS["critical"] if alert.severity == "critical" else COLORS["warning"]
    # Short incidents stay visible: at least 0.5 % of the period wide.
    width = max((end - alert.fired_at).total_seconds() / 86400, span_days * 0.005)
    left = _num(alert.fired_at)
    ax.barh(
        y,
        width,
        left=left,
        height=0.55,
        color=color,
        alpha=0.9 if alert.resolved_at else 0.45,
        hatch=None if alert.resolved_at else "//",
        edgecolor=color,
    )
    took = (end - alert.fired_at).total_seconds()
    label = _duration(took) if alert.resolved_at else f"firing for {_duration(took)}"
    ax.annotate(
        label,
        (left + width, y),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        fontsize=8,
        color=COLORS["muted"],
        annotation_clip=False,
    )


def plot_incidents(data: ReportData, path: Path) -> Path:
    """A timeline of alert incidents (fired -> resolved), one row per rule and group."""
    with plt.rc_context(_STYLE | {"axes.grid.axis": "x"}):
        rows = sorted({(a.rule, a.group) for a in data.alerts})
        fig, ax = plt.subplots(figsize=(10, max(2.2, 0.45 * len(rows) + 1.2)))
        if not rows:
            _empty(ax, "no alerts fired in this period")
            ax.set_title("Alerts and incidents")
            return _save(fig, path)
        first = min([_span(data)[0], *(a.fired_at for a in data.alerts if a.fired_at)])
        span_days = max((data.end - first).total_seconds() / 86400, 1 / 1440)
        for alert in data.alerts:
            if alert.fired_at is not None:
                _incident_bar(ax, rows.index((alert.rule, alert.group)), alert, data, span_days)
        ax.set_yticks(range(len(rows)), [f"{r}{' · ' + g if g else ''}" for r, g in rows])
        ax.set_ylim(len(rows) - 0.4, -0.6)
        ax.xaxis_date()
        # From the first data or incident, not the period's start: a young installation's
        # incidents would otherwise be slivers at the right edge of an empty month.
        fired = [a.fired_at for a in data.alerts if a.fired_at is not None]
        _time_axis(ax, [min([_span(data)[0], *fired]), data.end])
        handles = [
            mpl.patches.Patch(color=COLORS["critical"], label="critical"),
            mpl.patches.Patch(color=COLORS["warning"], label="warning"),
            mpl.patches.Patch(
                facecolor="white", edgecolor=COLORS["muted"], hatch="//", label="still firing"
            ),
        ]
        ax.legend(handles=handles, loc="upper left", fontsize=8, ncols=3, bbox_to_anchor=(0, -0.1))
        ax.set_title(f"Alerts and incidents  ·  MTTR {_duration(data.mttr_s)}")
        return _save(fig, path)


def plot_events(data: ReportData, path: Path) -> Path:
    """Events per level, per tag, and drift warnings per feature."""
    with plt.rc_context(_STYLE | {"axes.grid.axis": "x"}):
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
        level_colors = {
            "critical": "#9d0208",
            "error": COLORS["fail"],
            "warning": COLORS["warning"],
        }
        panels: list[tuple[str, dict[str, int], Any]] = [
            ("Events by level", data.levels, lambda k: level_colors.get(k, COLORS["ok"])),
            (
                "Events by tag",
                data.tags,
                lambda k: COLORS["fail"] if k != "drift_warning" else COLORS["warning"],
            ),
            ("Drift warnings by feature", data.drift_by_feature, lambda _k: COLORS["warning"]),
        ]
        for ax, (title, counts, color_of) in zip(axes, panels, strict=True):
            ax.set_title(title)
            if not counts:
                _empty(ax, "none")
                continue
            keys = sorted(counts, key=counts.__getitem__)
            bars = ax.barh(keys, [counts[k] for k in keys], color=[color_of(k) for k in keys])
            ax.bar_label(bars, labels=[f"{counts[k]:,}" for k in keys], padding=3, fontsize=8)
            if max(counts.values()) > 100 * max(1, min(counts.values())):
                ax.set_xscale("log")  # a few errors next to many info events stay visible
            ax.margins(x=0.2)
        fig.tight_layout()
        return _save(fig, path)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
