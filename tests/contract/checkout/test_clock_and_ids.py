"""`Clock` and `IdSource`: aware UTC time that never runs backwards (JST order dates and payment numbers are
derived from it), and order ids that never repeat and fit the contracts' `Identifier`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter

from contracts.types import Identifier
from delivery.clock import SystemClock
from services.checkout.adapters.ids import RandomIds
from tests.fakes.checkout import FixedClock, SequentialIds


@pytest.fixture(params=["fake", "real"])
def clock(request):
    return FixedClock() if request.param == "fake" else SystemClock()


@pytest.fixture(params=["fake", "real"])
def ids(request):
    return SequentialIds() if request.param == "fake" else RandomIds()


def test_the_time_is_aware_utc_and_never_runs_backwards(clock):
    first, second = clock.now(), clock.now()
    assert first.utcoffset() == timedelta(0) and second >= first


def test_order_ids_never_repeat_and_are_contract_identifiers(ids):
    made = [ids.order_id() for _ in range(200)]
    assert len(set(made)) == len(made)
    assert all(TypeAdapter(Identifier).validate_python(order_id) == order_id for order_id in made)
    assert all(order_id.startswith("ord_") for order_id in made)
