"""Request and response bodies of the HTTP API, with bounds and units.

Requests are strict (no string-to-number coercion), refuse unknown fields and non-finite
numbers, so a client learns about a mistake instead of getting a prediction from a guess.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

# Ids as in the training data: letters (any script), digits, space, dot, apostrophe, hyphen.
_NAME = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w .'\-]+$")]
Driver = Annotated[_NAME, Field(description="driver id; GET /drivers lists the valid ones")]
Circuit = Annotated[_NAME, Field(description="circuit id; GET /circuits lists the valid ones")]
LapTimeS = Annotated[float, Field(gt=20.0, le=300.0, description="lap time, seconds")]


def _whole_number(value: object) -> object:
    # JSON Schema counts 3.0 as an integer, and so does the published schema: accept it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The bounds before the validator, so that the JSON schema states them as minimum / maximum.
GridPosition = Annotated[
    int,
    Field(ge=1, le=30, description="starting position, 1 = pole"),
    BeforeValidator(_whole_number),
]
RainProbability = Annotated[
    float, Field(ge=0.0, le=1.0, description="forecast probability of rain, 0-1")
]
PredictionId = Annotated[
    str,
    Field(
        min_length=36,
        max_length=36,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="the prediction_id of an earlier prediction response",
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class QualifyingRequest(_Request):
    """One driver at one circuit in given session conditions."""

    driver: Driver
    circuit: Circuit
    air_temp_c: float = Field(ge=-20.0, le=60.0, description="air temperature, Celsius")
    track_temp_c: float = Field(ge=-10.0, le=80.0, description="track temperature, Celsius")
    humidity_pct: float = Field(ge=0.0, le=100.0, description="relative humidity, percent")
    rain_probability: RainProbability
    practice_best_lap_s: LapTimeS | None = Field(
        None, description="driver's best practice lap this weekend, seconds; omit if none"
    )


class RaceEntry(_Request):
    """One car on the grid."""

    driver: Driver
    grid_position: GridPosition
    qualifying_lap_s: LapTimeS


class RaceWinnerRequest(_Request):
    """A race field: the circuit, the forecast and every starter (each driver and each grid
    position at most once)."""

    circuit: Circuit
    rain_probability: RainProbability
    entries: list[RaceEntry] = Field(
        min_length=2,
        max_length=30,
        description="every starter, 2-30 entries; each driver at most once and each "
        "grid_position at most once (a repeat is refused with 422)",
        json_schema_extra={"uniqueItems": True},
    )

    @model_validator(mode="after")
    def _distinct(self) -> RaceWinnerRequest:
        drivers = [entry.driver for entry in self.entries]
        if len(set(drivers)) != len(drivers):
            raise ValueError("each driver may appear only once in entries")
        grid = [entry.grid_position for entry in self.entries]
        if len(set(grid)) != len(grid):
            raise ValueError("each grid_position may appear only once in entries")
        return self


class LapTimeFeedback(_Request):
    """The lap actually driven, for a qualifying prediction."""

    prediction_id: PredictionId
    actual_lap_time_s: LapTimeS = Field(description="the lap actually driven, seconds")


class WinnerFeedback(_Request):
    """The driver who won, for a race-winner prediction."""

    prediction_id: PredictionId
    actual_winner: Driver = Field(description="the driver who won")


_OUTCOMES: Final = ("actual_lap_time_s", "actual_winner")


def _outcome_given(body: Any) -> str | None:
    """Which outcome a feedback body gives; None when it gives both or neither."""
    if isinstance(body, dict):
        given = [name for name in _OUTCOMES if name in body]
    else:
        given = [name for name in _OUTCOMES if hasattr(body, name)]
    return given[0] if len(given) == 1 else None


# Two request models, each with one outcome: the OpenAPI schema says `oneOf`.
FeedbackRequest = Annotated[
    Annotated[LapTimeFeedback, Tag("actual_lap_time_s")]
    | Annotated[WinnerFeedback, Tag("actual_winner")],
    Discriminator(
        _outcome_given,
        custom_error_type="one_outcome",
        custom_error_message="give exactly one of actual_lap_time_s or actual_winner",
    ),
]


class ModelRef(BaseModel):
    """Which model answered."""

    name: str
    version: str


class QualifyingResponse(BaseModel):
    """A predicted qualifying lap."""

    prediction_id: str
    model: ModelRef
    driver: str
    circuit: str
    lap_time_s: float


class WinProbability(BaseModel):
    """One driver's chance to win."""

    driver: str
    win_probability: float


class RaceWinnerResponse(BaseModel):
    """Win probabilities of the field, highest first; they sum to 1."""

    prediction_id: str
    model: ModelRef
    circuit: str
    probabilities: list[WinProbability]


class FeedbackResponse(BaseModel):
    """The accepted outcome; the prediction's own error when this worker made the prediction.

    `matched_by` says who joins the outcome with its prediction: `service` (this worker held the
    prediction: `model` and the error are filled in) or `watcher` (another worker or replica made
    it: the watcher matches it from the logs, and `model` and the errors are null).
    """

    prediction_id: str
    model: ModelRef | None = None
    status: Literal["recorded"] = "recorded"
    matched_by: Literal["service", "watcher"] = "service"
    absolute_error_s: float | None = None
    brier: float | None = None


class ErrorDetail(BaseModel):
    """Machine-readable `type`, a `message` that says what to fix, optional specifics."""

    type: str
    message: str
    model: str | None = None
    reason: str | None = None
    fields: list[dict[str, str]] | None = None
    valid_values: list[str] | None = None


class ErrorResponse(BaseModel):
    """Every non-2xx answer of this service."""

    error: ErrorDetail
