"""Prediction ids are UUIDv7: their embedded time says whether feedback can still match one."""

from __future__ import annotations

import uuid

import pytest
import uuid_utils

from service.errors import UnknownPredictionError
from service.prediction_id import CLOCK_SKEW_S, check_prediction_id, issued_at_s
from tests.service.test_feedback import uuid7_at

NOW_S = 1_800_000_000.0
TTL_S = 86_400.0


def test_an_issued_id_carries_its_creation_time() -> None:
    """The ids the service issues (uuid_utils.uuid7) embed the time, in milliseconds."""
    issued = uuid_utils.uuid7()
    assert issued_at_s(str(issued)) == pytest.approx(issued.timestamp / 1000)


def test_an_id_within_the_time_to_live_passes() -> None:
    """Made an hour ago, with a day to live: accepted, and its time returned."""
    assert check_prediction_id(uuid7_at(NOW_S - 3600), TTL_S, NOW_S) == pytest.approx(NOW_S - 3600)


def test_a_little_clock_skew_is_tolerated() -> None:
    """An id slightly ahead of this worker's clock (another replica's) passes."""
    check_prediction_id(uuid7_at(NOW_S + CLOCK_SKEW_S - 1), TTL_S, NOW_S)


@pytest.mark.parametrize(
    ("prediction_id", "reason"),
    [
        (str(uuid.uuid4()), "not_uuid7"),
        ("not-a-uuid", "not_uuid7"),
        (uuid7_at(NOW_S - TTL_S - 1), "expired"),
        (uuid7_at(NOW_S + CLOCK_SKEW_S + 1), "from_the_future"),
    ],
)
def test_ids_no_prediction_can_have_are_refused_with_the_reason(
    prediction_id: str, reason: str
) -> None:
    """Not a UUIDv7, older than the time-to-live, or beyond the skew in the future."""
    with pytest.raises(UnknownPredictionError) as raised:
        check_prediction_id(prediction_id, TTL_S, NOW_S)
    assert raised.value.reason == reason
    assert raised.value.status == 404
