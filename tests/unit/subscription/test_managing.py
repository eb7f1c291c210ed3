"""Operator and buyer changes on fakes: each change is saved with its new due time and announced once; other
shops' and members' subscriptions are not found; a refused change leaves everything as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts.events import SubscriptionChanged
from services.subscription.domain.errors import SubscriptionCanceled, SubscriptionNotFound
from services.subscription.domain.schedule import Terms, Unit
from services.subscription.domain.subscription import CancelWhen, Status, subscription_id_for
from services.subscription.handlers import managing, queries
from services.subscription.handlers.common import Actor, Requester
from services.subscription.handlers.starting import start_subscription
from services.subscription.ports import SubscriptionQuery
from services.subscription.translate import first_order
from tests.fakes.subscription import SubscriptionFakes
from tests.unit.subscription import events

OPERATOR = Requester(shop_id="demo-shop", actor=Actor.OPERATOR)
BUYER = Requester(shop_id="demo-shop", actor=Actor.BUYER, member_id="m-1001")
SUB = subscription_id_for("demo-shop", "ord-0001")


@pytest.fixture
async def fakes() -> SubscriptionFakes:
    fakes = SubscriptionFakes()
    first = first_order(events.first_order())
    assert first is not None
    await start_subscription(fakes.deps, first)
    return fakes


def changes(fakes: SubscriptionFakes) -> list[SubscriptionChanged]:
    return fakes.state.emitted(SubscriptionChanged)  # type: ignore[return-value]


async def test_pausing_clears_the_due_time_and_announces_no_next_date(fakes):
    await managing.pause_subscription(fakes.deps, BUYER, SUB, reason="travelling")
    [event] = changes(fakes)
    assert (event.change, event.status, event.next_cycle_on, event.changed_by, event.reason) == (
        "paused", "paused", None, "buyer", "travelling")
    assert fakes.state.due[SUB] is None


async def test_resuming_schedules_the_first_cycle_date_from_today(fakes):
    await managing.pause_subscription(fakes.deps, OPERATOR, SUB)
    fakes.clock.at = datetime(2025, 4, 10, 3, 0, tzinfo=UTC)
    resumed = await managing.resume_subscription(fakes.deps, OPERATOR, SUB)
    assert resumed.next_due_on == date(2025, 4, 30)
    assert fakes.state.due[SUB] == datetime(2025, 4, 29, 15, 0, tzinfo=UTC)
    assert changes(fakes)[-1].next_cycle_on == date(2025, 4, 30)


async def test_a_request_that_changes_nothing_announces_nothing(fakes):
    await managing.resume_subscription(fakes.deps, OPERATOR, SUB)
    assert changes(fakes) == []


async def test_a_new_cycle_is_announced_with_the_new_terms(fakes):
    await managing.change_schedule(fakes.deps, OPERATOR, SUB, terms=Terms(2, Unit.WEEK))
    [event] = changes(fakes)
    assert (event.change, event.terms.every, event.terms.unit, event.next_cycle_on) == (
        "schedule_changed", 2, "week", date(2025, 2, 28))


@pytest.mark.parametrize("who", [Requester(shop_id="other-shop", actor=Actor.OPERATOR),
                                 Requester(shop_id="demo-shop", actor=Actor.BUYER, member_id="m-other")])
async def test_another_shop_s_or_member_s_subscription_is_not_found(fakes, who):
    with pytest.raises(SubscriptionNotFound):
        await managing.pause_subscription(fakes.deps, who, SUB)
    with pytest.raises(SubscriptionNotFound):
        await queries.subscription_detail(fakes.deps, who, SUB)
    assert changes(fakes) == [] and fakes.state.subscriptions[SUB].status is Status.ACTIVE


async def test_a_change_to_a_canceled_subscription_is_refused_and_nothing_is_saved(fakes):
    await managing.cancel_subscription(fakes.deps, BUYER, SUB, when=CancelWhen.AT_ONCE)
    commits = fakes.uow.commits
    with pytest.raises(SubscriptionCanceled):
        await managing.skip_next_cycle(fakes.deps, OPERATOR, SUB)
    assert (fakes.uow.commits, fakes.uow.rollbacks) == (commits, 1)
    assert [e.change for e in changes(fakes)] == ["canceled"]


async def test_the_operator_searches_by_status_and_member_and_sees_the_cycles(fakes):
    second = first_order(events.first_order("ord-2", member_id="m-2"))
    assert second is not None
    await start_subscription(fakes.deps, second)
    await managing.pause_subscription(fakes.deps, OPERATOR, SUB)
    paused = await queries.search_subscriptions(fakes.deps, "demo-shop", SubscriptionQuery(status=Status.PAUSED))
    of_member = await queries.search_subscriptions(fakes.deps, "demo-shop", SubscriptionQuery(member_id="m-2"))
    assert [s.subscription_id for s in paused] == [SUB]
    assert [s.first_order_id for s in of_member] == ["ord-2"]
    detail = await queries.subscription_detail(fakes.deps, OPERATOR, SUB)
    assert [(c.cycle_no, c.order_id) for c in detail.cycles] == [(1, "ord-0001")]
