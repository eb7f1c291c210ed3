"""The Kafka edge on fakes: a first order starts one subscription, renewal orders settle their cycles once, shop
settings reschedule, and input that can never apply is refused as permanent (dead-lettered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from contracts.events import RenewalCycleSettled, SubscriptionStarted
from contracts.topics import ORDERS_EVENTS, SHOPS_SETTINGS
from delivery.errors import PermanentError
from services.subscription.domain.cycles import CycleStatus
from services.subscription.domain.subscription import subscription_id_for
from services.subscription.entrypoints.subscribers import dispatch
from services.subscription.handlers.renewals import generate_due_renewals
from tests.fakes.subscription import SubscriptionFakes
from tests.unit.contracts import samples
from tests.unit.subscription import events


@dataclass
class Record:
    topic: str


async def deliver(fakes: SubscriptionFakes, event, *, topic: str = ORDERS_EVENTS, **inbound) -> None:
    await dispatch(fakes.deps)(events.inbound(event, **inbound), Record(f"t1.{topic}"))  # type: ignore[arg-type]


SUB = subscription_id_for("demo-shop", "ord-0001")


async def started() -> SubscriptionFakes:
    """A subscription started from ord-0001 (Jan 31) with cycle 2 (Feb 28) generated."""
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order())
    fakes.clock.at = datetime(2025, 2, 28, tzinfo=UTC)
    await generate_due_renewals(fakes.deps, limit=10)
    return fakes


async def test_a_completed_first_order_starts_one_subscription_with_cycle_one_and_its_next_date():
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order())
    [event] = fakes.state.emitted(SubscriptionStarted)
    assert (event.subscription_id, event.next_cycle_on, event.first_order_id) == (SUB, date(2025, 2, 28), "ord-0001")
    assert fakes.state.cycles[(SUB, 1)].order_id == "ord-0001"
    assert fakes.state.due[SUB] == datetime(2025, 2, 27, 15, 0, tzinfo=UTC)  # Feb 28 00:00 JST


async def test_a_redelivered_or_re_emitted_first_order_starts_nothing_more():
    fakes = SubscriptionFakes()
    delivered = events.inbound(events.first_order())
    for inbound in (delivered, delivered, events.inbound(events.first_order())):
        await dispatch(fakes.deps)(inbound, Record(ORDERS_EVENTS))  # type: ignore[arg-type]
    assert len(fakes.state.emitted(SubscriptionStarted)) == 1 and len(fakes.state.subscriptions) == 1


async def test_a_first_order_naming_the_subscription_id_of_another_first_order_is_refused_as_permanent():
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order(subscription_id="sub-named"))
    with pytest.raises(PermanentError, match="SubscriptionIdTaken"):
        await deliver(fakes, events.first_order("ord-2", subscription_id="sub-named"))
    assert [s.first_order_id for s in fakes.state.subscriptions.values()] == ["ord-0001"]


async def test_orders_of_other_carts_and_renewal_orders_start_nothing():
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order(cart_type="three_step"))
    assert fakes.state.subscriptions == {} and fakes.state.outbox == []


@pytest.mark.parametrize(("changes", "reason"), [({"member_id": None}, "member buyer"), ({"every": 13}, "every 13"),
                                                  ({"subscription": None}, "without a cycle")])
async def test_a_subscription_order_nothing_can_start_from_is_refused_as_permanent(changes, reason):
    fakes = SubscriptionFakes()
    with pytest.raises(PermanentError, match=reason):
        await deliver(fakes, events.first_order(**changes))
    assert fakes.state.subscriptions == {} and fakes.state.inbox == set()


async def test_a_renewal_order_is_recorded_on_its_cycle_and_its_outcome_settled_once():
    fakes = await started()
    await deliver(fakes, events.renewal_placed(SUB, 2))
    assert (fakes.state.cycles[(SUB, 2)].order_id, fakes.state.emitted(RenewalCycleSettled)) == (f"ord-{SUB}-2", [])
    completed = events.inbound(events.renewal_completed(SUB, 2))
    for _ in range(2):
        await dispatch(fakes.deps)(completed, Record(ORDERS_EVENTS))  # type: ignore[arg-type]
    await deliver(fakes, events.renewal_completed(SUB, 2))  # re-emitted: same outcome, nothing new
    [settled] = fakes.state.emitted(RenewalCycleSettled)
    assert (settled.cycle_no, settled.order_id, settled.outcome) == (2, f"ord-{SUB}-2", "completed")


@pytest.mark.parametrize(("event", "outcome", "reason_code"), [
    (lambda: events.renewal_completed(SUB, 2, skipped_because="authorize_at_renewal_off"), "skipped",
     "authorize_at_renewal_off"),
    (lambda: events.renewal_failed(SUB, 2), "payment_failed", "card_declined"),
    (lambda: events.renewal_needs_review(SUB, 2), "needs_review", "payment_outcome_unknown"),
])
async def test_skipped_failed_and_unknown_renewals_settle_with_their_reason(event, outcome, reason_code):
    fakes = await started()
    await deliver(fakes, event())
    [settled] = fakes.state.emitted(RenewalCycleSettled)
    assert (settled.outcome, settled.reason_code) == (outcome, reason_code)
    assert fakes.state.cycles[(SUB, 2)].status is CycleStatus(outcome)


@pytest.mark.parametrize("event", [lambda: events.renewal_completed(SUB, 3), lambda: events.renewal_placed("sub-x", 2),
                                   lambda: events.renewal_completed(SUB, 2, shop_id="other-shop")])
async def test_a_renewal_order_of_a_cycle_never_requested_is_refused_as_permanent(event):
    fakes = await started()
    with pytest.raises(PermanentError, match="UnknownCycle"):
        await deliver(fakes, event())


async def test_a_second_order_for_one_cycle_is_refused_as_permanent():
    fakes = await started()
    await deliver(fakes, events.renewal_placed(SUB, 2))
    with pytest.raises(PermanentError, match="CycleOrderConflict"):
        await deliver(fakes, events.renewal_completed(SUB, 2, order_id="ord-other"))
    assert fakes.state.cycles[(SUB, 2)].status is CycleStatus.PLACED


@pytest.mark.parametrize(("event", "topic"), [(events.first_order, SHOPS_SETTINGS),
                                              (samples.payment_authorized, ORDERS_EVENTS)])
async def test_an_event_type_that_does_not_belong_on_the_topic_is_refused_as_permanent(event, topic):
    with pytest.raises(PermanentError, match="does not belong"):
        await deliver(SubscriptionFakes(), event(), topic=topic)


async def test_a_shop_s_new_generation_hour_moves_its_subscriptions_due_time():
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order())
    await deliver(fakes, events.shop_settings(lead_days=3, hour_jst=10), topic=SHOPS_SETTINGS,
                  occurred_at=datetime(2025, 2, 1, tzinfo=UTC))
    assert fakes.state.due[SUB] == datetime(2025, 2, 25, 1, 0, tzinfo=UTC)  # Feb 25 10:00 JST


async def test_an_older_shop_snapshot_does_not_replace_a_newer_one():
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order())
    await deliver(fakes, events.shop_settings(hour_jst=10), topic=SHOPS_SETTINGS,
                  occurred_at=datetime(2025, 2, 2, tzinfo=UTC))
    await deliver(fakes, events.shop_settings(hour_jst=20), topic=SHOPS_SETTINGS,
                  occurred_at=datetime(2025, 2, 1, tzinfo=UTC))
    assert fakes.state.due[SUB] == datetime(2025, 2, 28, 1, 0, tzinfo=UTC)  # 10:00 JST kept
