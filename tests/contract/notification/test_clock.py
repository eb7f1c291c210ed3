"""The `Clock` port against the fixed test clock and `delivery.clock.SystemClock`: aware UTC time that never
runs backwards (the mail log compares it with `timestamptz` columns)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from delivery.clock import SystemClock
from tests.fakes.notification import FixedClock


@pytest.fixture(params=["fake", "real"])
def clock(request):
    return FixedClock() if request.param == "fake" else SystemClock()


def test_the_time_is_aware_utc_and_never_runs_backwards(clock):
    first, second = clock.now(), clock.now()
    assert first.utcoffset() == timedelta(0) and second >= first
