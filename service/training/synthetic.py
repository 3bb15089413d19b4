"""A deterministic synthetic championship in the training schema of `service.training.dataset`.

The structure is what makes real qualifying and race results learnable, in miniature:

* a lap is the circuit's base lap, slowed by the car's deficit (which drifts season to season and
  develops within a season) and the driver's skill, plus a small per-weekend form;
* weather: hot tracks away from about 35 Celsius, hot air and humid air cost time; the rain
  forecast is well calibrated, and a wet session costs up to ~9 % of a lap (drivers differ in the
  wet);
* practice laps carry the same pace with fuel/engine-mode offset and more noise, so practice pace
  correlates with qualifying;
* the race converts pace over ~55 laps into time, grid position costs time where overtaking is
  hard, and rain and retirements add chaos.

Same seed, season count and last race date: the same table, bit for bit.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from service.training.catalogue import CIRCUITS, DRIVERS, TEAMS, Circuit

if TYPE_CHECKING:
    import pandas as pd

_RACE_LAPS = 55
_PRACTICE_MISSING_RATE = 0.04


def generate(*, seasons: int = 8, seed: int = 7, last_race: dt.date | None = None) -> pd.DataFrame:
    """Return `seasons` seasons of every circuit in the catalogue, one row per driver.

    Args:
        seasons: number of championship years (each has one race per circuit, 10 days apart).
        seed: numpy seed; with the same arguments the table is identical.
        last_race: date of the final race, so the data is as fresh as a real feed would be;
            today (UTC) when None. Only the `season` and `date` columns depend on it.
    """
    import pandas as pd  # noqa: PLC0415 - training-only dependency

    if seasons < 1:
        raise ValueError("seasons must be >= 1")
    rng = np.random.default_rng(seed)
    wet_skill = rng.normal(0.0, 0.15, len(DRIVERS))
    team_pace = np.array([team.car_pace_pct for team in TEAMS])
    team_index = {team.name: i for i, team in enumerate(TEAMS)}
    driver_team = np.array([team_index[driver.team] for driver in DRIVERS])
    skill = np.array([driver.skill_pct for driver in DRIVERS])
    rows: list[dict[str, Any]] = []
    last = last_race or dt.datetime.now(dt.UTC).date()
    season_days = 10 * len(CIRCUITS)
    for season_offset in range(seasons):
        years_before_last = seasons - 1 - season_offset
        start = last - dt.timedelta(days=years_before_last * 365 + season_days - 10)
        season = start.year
        # Regulations shuffle the order a little each winter; development continues in-season.
        team_pace = team_pace + rng.normal(0.0, 0.3, len(TEAMS))
        development = np.zeros(len(TEAMS))
        for round_index, circuit in enumerate(CIRCUITS):
            development += rng.normal(-0.01, 0.04, len(TEAMS))
            car = (team_pace + development)[driver_team]
            # Lap times fall slowly across seasons as cars improve.
            base_lap_s = circuit.base_lap_s * (1.0 - 0.002 * season_offset)
            race = _Weekend(rng, circuit, base_lap_s, car + skill, wet_skill)
            rows.extend(
                race.rows(season, round_index + 1, start + dt.timedelta(days=10 * round_index))
            )
    return pd.DataFrame(rows)


class _Weekend:
    """One race weekend: weather, practice, qualifying and race for the whole field."""

    def __init__(
        self,
        rng: np.random.Generator,
        circuit: Circuit,
        base_lap_s: float,
        deficit_pct: np.ndarray,
        wet_skill: np.ndarray,
    ) -> None:
        self.rng = rng
        self.circuit = circuit
        self.base_lap_s = base_lap_s
        self.deficit_pct = deficit_pct
        self.wet_skill = wet_skill
        self._weather()

    def _weather(self) -> None:
        rng, circuit = self.rng, self.circuit
        unsettled = rng.random() < circuit.rain_rate
        self.rain_probability = float(rng.beta(2, 2) if unsettled else rng.beta(1, 20))
        self.air_temp_c = float(circuit.air_temp_c + rng.normal(0.0, 3.5))
        sun_gain_c = rng.uniform(4.0, 20.0) * (1.0 - 0.6 * self.rain_probability)
        self.track_temp_c = self.air_temp_c + sun_gain_c
        self.humidity_pct = float(
            np.clip(
                circuit.humidity_pct + rng.normal(0.0, 8.0) + 25 * self.rain_probability, 10, 100
            )
        )
        # The forecast is well calibrated: the session's wetness scatters around it.
        self.wetness = float(
            np.clip(self.rain_probability + rng.normal(0.0, 0.05), 0.0, 1.0) ** 1.5
        )

    def _conditions_s(self) -> float:
        """Lap time lost to temperature and humidity, seconds."""
        track = 0.03 * ((self.track_temp_c - 35.0) / 5.0) ** 2
        air = 0.012 * (self.air_temp_c - 20.0)
        humid = 0.003 * (self.humidity_pct - 50.0)
        return float(track + air + humid)

    def qualifying(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (qualifying laps, practice laps with NaN where a driver set none), seconds."""
        rng, n = self.rng, len(self.deficit_pct)
        form_pct = rng.normal(0.0, 0.08, n)
        dry = self.base_lap_s * (1.0 + (self.deficit_pct + form_pct) / 100.0)
        wet_pct = 9.0 * self.wetness * (1.0 + self.wet_skill)
        quali = dry + self.base_lap_s * wet_pct / 100.0 + self._conditions_s()
        quali = quali + rng.normal(0.0, 0.08, n)
        # Final practice runs on the morning of qualifying, in much the same weather.
        practice_wetness = np.clip(self.rain_probability + rng.normal(0.0, 0.05), 0.0, 1.0) ** 1.5
        practice_wet_pct = 9.0 * practice_wetness * (1.0 + self.wet_skill)
        practice = (
            self.base_lap_s * (1.0 + (self.deficit_pct + 0.7 * form_pct + practice_wet_pct) / 100.0)
            + 0.9
            + rng.normal(0.0, 0.15, n)
        )
        practice[rng.random(n) < _PRACTICE_MISSING_RATE] = np.nan
        return quali, practice

    def race(self, grid: np.ndarray) -> np.ndarray:
        """Return race time behind an ideal car per driver, seconds; +inf for a retirement."""
        rng, n = self.rng, len(self.deficit_pct)
        pace_pct = self.deficit_pct + rng.normal(0.0, 0.35, n)
        time_s = _RACE_LAPS * self.base_lap_s * pace_pct / 100.0
        time_s += (grid - 1) * (1.0 - self.circuit.overtaking) * 2.5
        time_s += rng.normal(0.0, 6.0, n) + rng.normal(0.0, 25.0 * self.wetness + 1e-9, n)
        retired = rng.random(n) < 0.05 + 0.10 * self.wetness
        if retired.all():
            retired[np.argmin(time_s)] = False
        return np.where(retired, np.inf, time_s)

    def rows(self, season: int, round_number: int, date: dt.date) -> list[dict[str, Any]]:
        """The weekend as schema rows, in grid order."""
        quali, practice = self.qualifying()
        grid = np.empty(len(quali), dtype=np.int64)
        grid[np.argsort(quali, kind="stable")] = np.arange(1, len(quali) + 1)
        race_s = self.race(grid)
        finish = np.empty(len(quali), dtype=np.int64)
        finish[np.argsort(race_s, kind="stable")] = np.arange(1, len(quali) + 1)
        winner = int(np.argmin(race_s))
        return [
            {
                "season": season,
                "round": round_number,
                "date": date.isoformat(),
                "circuit": self.circuit.name,
                "driver": driver.name,
                "team": driver.team,
                "air_temp_c": round(self.air_temp_c, 1),
                "track_temp_c": round(self.track_temp_c, 1),
                "humidity_pct": round(self.humidity_pct, 1),
                "rain_probability": round(self.rain_probability, 3),
                "practice_best_lap_s": None if np.isnan(practice[i]) else round(practice[i], 3),
                "qualifying_lap_s": round(float(quali[i]), 3),
                "grid_position": int(grid[i]),
                "finish_position": None if np.isinf(race_s[i]) else int(finish[i]),
                "won": int(i == winner),
            }
            for i, driver in enumerate(DRIVERS)
        ]
