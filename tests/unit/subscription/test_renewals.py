"""The scheduler's handler on fakes: one `RenewalOrderRequested` per due cycle, with the subscription's contents
as they are at generation, never two for one cycle, and ending subscriptions ended."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from contracts.events import RenewalOrderRequested, SubscriptionChanged
from services.subscription.domain.contents import Line
from services.subscription.domain.subscription import CancelWhen, Status, subscription_id_for
from services.subscription.handlers import managing
from services.subscription.handlers.common import Actor, Requester
from services.subscription.handlers.renewals import generate_due_renewals, next_due_at
from services.subscription.handlers.starting import start_subscription
from services.subscription.translate import first_order
from tests.fakes.subscription import SubscriptionFakes
from tests.unit.subscription import events

OPERATOR = Requester(shop_id="demo-shop", actor=Actor.OPERATOR)


async def fakes_with(*order_ids: str, on: date = date(2025, 1, 31), unit: str = "month") -> SubscriptionFakes:
    fakes = SubscriptionFakes()
    for order_id in order_ids:
        first = first_order(events.first_order(order_id, on=on, unit=unit))
        assert first is not None
        await start_subscription(fakes.deps, first)
    return fakes


def requests(fakes: SubscriptionFakes) -> list[RenewalOrderRequested]:
    return fakes.state.emitted(RenewalOrderRequested)  # type: ignore[return-value]


async def test_nothing_is_generated_before_the_generation_time():
    fakes = await fakes_with("ord-1")
    fakes.clock.at = datetime(2025, 2, 27, 14, 59, tzinfo=UTC)  # Feb 27 23:59 JST
    assert await generate_due_renewals(fakes.deps, limit=10) == 0 and requests(fakes) == []


async def test_a_due_cycle_is_requested_once_with_the_subscription_s_contents():
    fakes = await fakes_with("ord-1")
    fakes.clock.at = datetime(2025, 2, 27, 15, 0, tzinfo=UTC)  # Feb 28 00:00 JST
    assert await generate_due_renewals(fakes.deps, limit=10) == 1
    assert await generate_due_renewals(fakes.deps, limit=10) == 0
    [request] = requests(fakes)
    sub_id = subscription_id_for("demo-shop", "ord-1")
    assert (request.subscription_id, request.cycle_no, request.scheduled_for) == (sub_id, 2, date(2025, 2, 28))
    assert (request.first_order_id, request.buyer.member_id, len(request.lines)) == ("ord-1", "m-1001", 2)
    assert fakes.state.cycles[(sub_id, 2)].scheduled_for == date(2025, 2, 28)


async def test_twelve_monthly_cycles_on_a_moving_clock_make_twelve_requests_on_each_month_s_date():
    fakes = await fakes_with("ord-1")
    for _ in range(12):
        fakes.clock.advance(timedelta(days=31))
        await generate_due_renewals(fakes.deps, limit=10)
    assert [(r.cycle_no, r.scheduled_for) for r in requests(fakes)] == [
        (2, date(2025, 2, 28)), (3, date(2025, 3, 31)), (4, date(2025, 4, 30)), (5, date(2025, 5, 31)),
        (6, date(2025, 6, 30)), (7, date(2025, 7, 31)), (8, date(2025, 8, 31)), (9, date(2025, 9, 30)),
        (10, date(2025, 10, 31)), (11, date(2025, 11, 30)), (12, date(2025, 12, 31)), (13, date(2026, 1, 31))]


async def test_a_clock_a_year_ahead_catches_up_one_cycle_per_batch_never_two_for_one_cycle():
    fakes = await fakes_with("ord-1")
    fakes.clock.advance(timedelta(days=366))
    while await generate_due_renewals(fakes.deps, limit=10):
        pass
    cycles = [r.cycle_no for r in requests(fakes)]
    assert cycles == list(range(2, 14))


async def test_a_batch_takes_at_most_its_limit_earliest_first():
    fakes = await fakes_with("ord-1", "ord-2", "ord-3")
    fakes.clock.at = datetime(2025, 3, 1, tzinfo=UTC)
    assert await generate_due_renewals(fakes.deps, limit=2) == 2
    assert await generate_due_renewals(fakes.deps, limit=2) == 1
    assert len(requests(fakes)) == 3


async def test_changed_lines_go_into_the_next_generated_order():
    fakes = await fakes_with("ord-1")
    sub_id = subscription_id_for("demo-shop", "ord-1")
    tea = Line(sku="TEA-9", name="玉露", unit_price=3000, quantity=3)
    await managing.change_lines(fakes.deps, OPERATOR, sub_id, [tea])
    fakes.clock.at = datetime(2025, 3, 1, tzinfo=UTC)
    await generate_due_renewals(fakes.deps, limit=10)
    [request] = requests(fakes)
    assert [(x.sku, x.quantity) for x in request.lines] == [("TEA-9", 3)]


async def test_a_subscription_canceled_after_the_current_cycle_ends_the_day_after_its_last_delivery():
    fakes = await fakes_with("ord-1")
    sub_id = subscription_id_for("demo-shop", "ord-1")
    fakes.clock.at = datetime(2025, 2, 27, 15, 0, tzinfo=UTC)
    await generate_due_renewals(fakes.deps, limit=10)  # cycle 2, Feb 28
    await managing.cancel_subscription(fakes.deps, OPERATOR, sub_id, when=CancelWhen.AFTER_CURRENT_CYCLE)
    fakes.clock.at = datetime(2025, 2, 28, 15, 0, tzinfo=UTC)  # Mar 1 00:00 JST
    await generate_due_renewals(fakes.deps, limit=10)
    fakes.clock.advance(timedelta(days=60))
    await generate_due_renewals(fakes.deps, limit=10)
    assert len(requests(fakes)) == 1
    changes = [(e.change, e.status, e.changed_by) for e in fakes.state.emitted(SubscriptionChanged)]
    assert changes == [("canceled", "active", "operator"), ("ended", "canceled", "schedule")]
    assert fakes.state.subscriptions[sub_id].status is Status.CANCELED


async def test_the_scheduler_knows_when_it_has_work_next():
    fakes = await fakes_with("ord-1", on=date(2025, 1, 10))
    assert await next_due_at(fakes.deps) == datetime(2025, 2, 9, 15, 0, tzinfo=UTC)
    await managing.pause_subscription(fakes.deps, OPERATOR, subscription_id_for("demo-shop", "ord-1"))
    assert await next_due_at(fakes.deps) is None
