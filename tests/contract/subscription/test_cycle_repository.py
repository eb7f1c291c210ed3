"""`CycleRepository`: one row per (subscription, cycle) (I4): a cycle recorded twice is recorded once; one order
belongs to one cycle; cycles read back as saved, by number (fake and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.subscription.domain import subscription as s
from services.subscription.domain.cycles import Cycle, CycleStatus, first_cycle
from services.subscription.ports import Scheduled
from tests.unit.subscription.builders import first_order

AT = datetime(2025, 2, 27, 15, 0, tzinfo=UTC)
SUB = s.start(first_order())


def cycle(n: int) -> Cycle:
    return Cycle(subscription_id=SUB.subscription_id, cycle_no=n, scheduled_for=date(2025, n, 28), requested_at=AT)


@pytest.fixture
async def with_subscription(store):
    async with store.uow() as uow:
        await uow.subscriptions.add(Scheduled(SUB, AT))
        await uow.cycles.add([first_cycle(SUB, at=AT)])
    return store


async def test_new_cycles_are_recorded_and_a_recorded_one_is_not_recorded_again(with_subscription):
    store = with_subscription
    async with store.uow() as uow:
        assert await uow.cycles.add([cycle(2), cycle(3)]) == {(SUB.subscription_id, 2), (SUB.subscription_id, 3)}
    async with store.uow() as uow:
        assert await uow.cycles.add([replace(cycle(3), scheduled_for=date(2025, 12, 1)), cycle(4)]) == {
            (SUB.subscription_id, 4)}
        assert await uow.cycles.add([]) == set()
        assert (await uow.cycles.get(SUB.subscription_id, 3)) == cycle(3)


async def test_cycles_read_back_as_saved_by_number(with_subscription):
    store = with_subscription
    settled = replace(cycle(2), order_id="ord-2", status=CycleStatus.PAYMENT_FAILED, reason_code="card_declined",
                      settled_at=AT)
    async with store.uow() as uow:
        await uow.cycles.add([cycle(2)])
        await uow.cycles.save(settled)
    async with store.uow() as uow:
        assert await uow.cycles.get(SUB.subscription_id, 2, for_update=True) == settled
        assert [c.cycle_no for c in await uow.cycles.of_subscription(SUB.subscription_id)] == [1, 2]
        assert (await uow.cycles.of_subscription(SUB.subscription_id))[0].order_id == SUB.first_order_id
        assert await uow.cycles.get(SUB.subscription_id, 9) is None


async def test_one_order_never_belongs_to_two_cycles(with_subscription):
    store = with_subscription
    with pytest.raises(Exception):  # noqa: B017 - a unique violation: asyncpg's or the fake's
        async with store.uow() as uow:
            await uow.cycles.add([cycle(2)])
            await uow.cycles.save(replace(cycle(2), order_id=SUB.first_order_id, status=CycleStatus.PLACED))
