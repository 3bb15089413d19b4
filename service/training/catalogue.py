"""The synthetic championship: fictional teams and drivers, and circuits with their characteristics.

All names are invented except the circuits' place names. The numbers are what the synthetic
generator draws from; the service itself never reads them (it learns its valid values from the
model metadata, so real data with other drivers and circuits works unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Team:
    """A constructor; `car_pace_pct` is the car's lap-time deficit to an ideal car, in percent."""

    name: str
    car_pace_pct: float


@dataclass(frozen=True, slots=True)
class Driver:
    """A driver; `skill_pct` adds to the car's deficit (negative is faster), in percent."""

    name: str
    team: str
    skill_pct: float


@dataclass(frozen=True, slots=True)
class Circuit:
    """A circuit and its climate.

    Attributes:
        name: identifier used in the data and the API.
        base_lap_s: a dry pole-position lap of an ideal car, seconds.
        overtaking: 0 (processional, grid order sticks) to 1 (easy to pass).
        air_temp_c: typical air temperature, Celsius.
        humidity_pct: typical relative humidity, percent.
        rain_rate: long-run share of wet sessions, 0..1.
    """

    name: str
    base_lap_s: float
    overtaking: float
    air_temp_c: float
    humidity_pct: float
    rain_rate: float


TEAMS: Final[tuple[Team, ...]] = (
    Team("meridian", 0.00),
    Team("vortex", 0.15),
    Team("halcyon", 0.35),
    Team("ardent", 0.50),
    Team("lumen", 0.70),
    Team("corsair", 0.85),
    Team("tessera", 1.00),
    Team("brightwater", 1.15),
    Team("kestrel", 1.30),
    Team("ostrava", 1.50),
)

DRIVERS: Final[tuple[Driver, ...]] = (
    Driver("varga", "meridian", -0.10),
    Driver("okafor", "meridian", 0.05),
    Driver("lindqvist", "vortex", -0.15),
    Driver("moreau", "vortex", 0.10),
    Driver("tanaka", "halcyon", -0.30),
    Driver("ribeiro", "halcyon", 0.15),
    Driver("novak", "ardent", -0.05),
    Driver("castellan", "ardent", 0.20),
    Driver("adeyemi", "lumen", -0.10),
    Driver("kowalczyk", "lumen", 0.25),
    Driver("haddad", "corsair", 0.00),
    Driver("petrov", "corsair", 0.30),
    Driver("oyelaran", "tessera", -0.05),
    Driver("fontaine", "tessera", 0.20),
    Driver("delgado", "brightwater", 0.10),
    Driver("mcallister", "brightwater", 0.35),
    Driver("sorensen", "kestrel", 0.05),
    Driver("iwasaki", "kestrel", 0.30),
    Driver("brandt", "ostrava", 0.15),
    Driver("quispe", "ostrava", 0.40),
)

CIRCUITS: Final[tuple[Circuit, ...]] = (
    Circuit("sakhir", 89.5, 0.7, 27.0, 45.0, 0.02),
    Circuit("jeddah", 87.5, 0.6, 28.0, 60.0, 0.02),
    Circuit("melbourne", 76.5, 0.5, 20.0, 55.0, 0.15),
    Circuit("suzuka", 88.5, 0.35, 19.0, 65.0, 0.25),
    Circuit("shanghai", 92.5, 0.65, 18.0, 65.0, 0.2),
    Circuit("miami", 86.5, 0.55, 29.0, 70.0, 0.15),
    Circuit("imola", 75.5, 0.25, 20.0, 60.0, 0.2),
    Circuit("monaco", 70.5, 0.05, 22.0, 65.0, 0.12),
    Circuit("montreal", 71.5, 0.6, 22.0, 60.0, 0.25),
    Circuit("barcelona", 71.8, 0.35, 24.0, 55.0, 0.1),
    Circuit("spielberg", 63.5, 0.65, 23.0, 55.0, 0.25),
    Circuit("silverstone", 85.5, 0.6, 18.0, 65.0, 0.35),
    Circuit("budapest", 76.0, 0.2, 27.0, 45.0, 0.15),
    Circuit("spa", 103.5, 0.75, 17.0, 75.0, 0.45),
    Circuit("zandvoort", 70.0, 0.2, 18.0, 75.0, 0.3),
    Circuit("monza", 79.5, 0.75, 25.0, 55.0, 0.12),
    Circuit("baku", 100.5, 0.7, 22.0, 55.0, 0.05),
    Circuit("marina-bay", 89.5, 0.25, 29.0, 80.0, 0.2),
    Circuit("austin", 93.5, 0.6, 24.0, 55.0, 0.1),
    Circuit("mexico-city", 76.0, 0.45, 20.0, 50.0, 0.1),
    Circuit("interlagos", 69.5, 0.7, 22.0, 70.0, 0.4),
    Circuit("las-vegas", 92.5, 0.65, 14.0, 40.0, 0.03),
    Circuit("lusail", 81.0, 0.5, 26.0, 55.0, 0.02),
    Circuit("yas-marina", 83.5, 0.55, 27.0, 55.0, 0.02),
)
