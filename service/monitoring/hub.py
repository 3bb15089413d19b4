"""The one monitoring object the app holds: per-model drift counts and freshness.

Request path: `observe()` (one row binned into the drift counts). Everything periodic
(drift-counts reports and freshness events) happens in `tick()`, which the background task
started by `running()` calls every `tick_interval_s`. Model performance is the watcher's
(`alerting.signals.performance`). Monitoring never breaks the service: every failure is logged
and swallowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from pydantic import BaseModel, ConfigDict, Field

from logshipping.events import Action, emit
from service.metadata import Reference
from service.monitoring.drift import DriftConfig, DriftCounter
from service.monitoring.freshness import FreshnessConfig, report_freshness
from service.monitoring.reference import ReferenceFormatError, check_reference
from tracing.spans import drift_span

_log = structlog.get_logger("amf1.monitoring")


class MonitoringConfig(BaseModel):
    """All monitoring knobs; the service settings hold one, read from `AMF1_*` variables."""

    model_config = ConfigDict(frozen=True)

    drift: DriftConfig = Field(
        default_factory=DriftConfig, description="Drift counts (the watcher scores them)."
    )
    freshness: FreshnessConfig = Field(
        default_factory=FreshnessConfig, description="Data freshness."
    )
    tick_interval_s: float = Field(
        1.0, gt=0, description="How often the background task looks for due work, seconds."
    )


@dataclass(slots=True)
class ModelMonitors:
    """The monitors of one loaded model version."""

    name: str
    version: str
    drift: DriftCounter | None
    data_time: datetime | None
    identity: str | None = None
    last_freshness: float | None = None


class MonitoringHub:
    """Registry of per-model monitors plus the periodic work that reports them."""

    def __init__(
        self,
        config: MonitoringConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config or MonitoringConfig()
        self._clock = clock
        self._wall_clock = wall_clock
        self._models: dict[str, ModelMonitors] = {}

    def get(self, model_name: str) -> ModelMonitors | None:
        """The monitors of a registered model, if any."""
        return self._models.get(model_name)

    def register_model(
        self,
        name: str,
        version: str,
        reference: Mapping[str, Reference] | None,
        data_time: datetime | None,
        *,
        columns: Sequence[str] | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
        identity: str | None = None,
    ) -> ModelMonitors:
        """Start monitoring a freshly loaded model version (replacing an earlier version).

        Args:
            name, version: the model.
            reference: the metadata's `reference`, feature -> its training distribution (None:
                no drift detection).
            data_time: when the newest training data was recorded (None: no freshness report).
            columns, categories: the layout of the rows `observe` gets (see `DriftCounter`).
            identity: what tells two loads of one version apart (the model file's sha256).

        A malformed reference disables drift detection for the model and is logged; it never
        stops the model from serving. Reports data freshness at once when `data_time` is known.
        """
        drift = None
        if reference:
            try:
                check_reference(reference)
                drift = DriftCounter(
                    name,
                    version,
                    reference,
                    self.config.drift,
                    self._clock,
                    columns=columns,
                    categories=categories,
                )
            except (ReferenceFormatError, ValueError) as exc:
                emit(
                    Action.LOG,
                    f"Drift detection disabled for {name} {version}: {exc}",
                    {"amf1.model.name": name, "error.type": type(exc).__name__},
                    level="warning",
                )
        monitors = ModelMonitors(name, version, drift, data_time, identity)
        self._report_pending(self._models.get(name))
        self._models[name] = monitors
        self._report_freshness(monitors, self._clock())
        return monitors

    def unregister_model(self, name: str) -> None:
        """Stop monitoring a model (it was unloaded), reporting its pending drift counts."""
        self._report_pending(self._models.pop(name, None))

    def _report_pending(self, monitors: ModelMonitors | None) -> None:
        """Report the rows counted since the last report: a replaced model's last rows count."""
        if monitors is None or monitors.drift is None:
            return
        try:
            monitors.drift.report()
        except Exception:  # noqa: BLE001 - the new version is monitored all the same
            _log.exception("drift counts report failed", **{"amf1.model.name": monitors.name})

    def observe(self, model_name: str, row: Sequence[object]) -> None:
        """Bin one prediction request's model input row into the model's drift counts."""
        monitors = self._models.get(model_name)
        if monitors is None or monitors.drift is None:
            return
        try:
            monitors.drift.update(row)
        except Exception:  # noqa: BLE001 - a monitoring bug must not fail the prediction
            _log.exception("drift update failed", **{"amf1.model.name": model_name})

    def tick(self, now: float | None = None) -> None:
        """Run whatever periodic work is due, for every model; never raises."""
        at = self._clock() if now is None else now
        for monitors in list(self._models.values()):
            try:
                self._tick_model(monitors, at)
            except Exception:  # noqa: BLE001 - keep reporting the other models and ticks
                _log.exception("monitoring tick failed", **{"amf1.model.name": monitors.name})

    def _tick_model(self, monitors: ModelMonitors, now: float) -> None:
        if monitors.drift is not None and monitors.drift.due(now):
            # Its own trace (the tick runs outside any request), findable in Jaeger.
            with drift_span(monitors.name, monitors.version, window_size=len(monitors.drift)):
                monitors.drift.report(now)
        last = monitors.last_freshness
        if last is None or now - last >= self.config.freshness.interval_s:
            self._report_freshness(monitors, now)

    def _report_freshness(self, monitors: ModelMonitors, now: float) -> None:
        if monitors.data_time is None:
            return
        monitors.last_freshness = now
        report_freshness(
            monitors.name,
            monitors.version,
            monitors.data_time,
            self.config.freshness,
            self._wall_clock(),
        )

    async def run(self, refresh: Callable[[], None] | None = None) -> None:
        """Tick forever (until cancelled), calling `refresh` first each time."""
        while True:
            await asyncio.sleep(self.config.tick_interval_s)
            if refresh is not None:
                try:
                    refresh()
                except Exception:  # noqa: BLE001 - keep ticking with the models we know
                    _log.exception("monitoring refresh failed")
            self.tick()

    @contextlib.asynccontextmanager
    async def running(
        self, refresh: Callable[[], None] | None = None
    ) -> AsyncIterator[MonitoringHub]:
        """Run the periodic work as a background task for the duration (app lifespan).

        Args:
            refresh: called before each tick, e.g. to pick up hot-reloaded models.
        """
        task = asyncio.create_task(self.run(refresh), name="amf1-monitoring")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for monitors in list(self._models.values()):
                self._report_pending(monitors)
