"""The member's card expiry and the warning before a renewal would charge an expired card (R18, R22), on fakes and
through the Kafka edge: each cycle is warned once, whoever finds it (the scheduler generating the cycle before, a
card event, a subscription starting); a replaced card with a later expiry stops the warnings; other payment events
are acknowledged and change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.events import Event, RenewalCardExpiring
from contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS
from delivery.envelopes import Inbound, Skipped
from delivery.errors import PermanentError
from services.subscription.domain.cards import ExpiryMonth
from services.subscription.domain.subscription import subscription_id_for
from services.subscription.entrypoints.subscribers import dispatch
from services.subscription.handlers import managing, queries
from services.subscription.handlers.common import Actor, Requester
from services.subscription.handlers.renewals import generate_due_renewals
from tests.fakes.subscription import START, SubscriptionFakes
from tests.unit.contracts import samples
from tests.unit.subscription import events

SUB = subscription_id_for("demo-shop", "ord-0001")
OPERATOR = Requester(shop_id="demo-shop", actor=Actor.OPERATOR)
CYCLE_2_DUE = datetime(2025, 2, 27, 15, 0, tzinfo=UTC)  # Feb 28 00:00 JST: cycle 2 (Feb 28) is generated
CYCLE_3_DUE = datetime(2025, 3, 30, 15, 0, tzinfo=UTC)  # Mar 31 00:00 JST: cycle 3 (Mar 31)


@dataclass
class Record:
    topic: str


async def deliver(fakes: SubscriptionFakes, item: Event | Inbound | Skipped, *, topic: str | None = None) -> None:
    """Through the consumer's handler, as the consumer hands it over (a fresh envelope for a bare event)."""
    message = events.inbound(item, occurred_at=fakes.clock.now()) if isinstance(item, Event) else item
    name = topic or (item.TOPIC if isinstance(item, Event) else PAYMENTS_EVENTS)
    await dispatch(fakes.deps)(message, Record(f"t1.{name}"))  # type: ignore[arg-type]


async def started() -> SubscriptionFakes:
    """ord-0001 (Jan 31, monthly) started: cycle 2 on Feb 28, cycle 3 on Mar 31, cycle 4 on Apr 30 ..."""
    fakes = SubscriptionFakes()
    await deliver(fakes, events.first_order())
    return fakes


async def generate_at(fakes: SubscriptionFakes, at: datetime) -> None:
    fakes.clock.at = at
    while await generate_due_renewals(fakes.deps, limit=10):
        pass


def warnings(fakes: SubscriptionFakes) -> list[tuple[int, date, str]]:
    found: list[RenewalCardExpiring] = fakes.state.emitted(RenewalCardExpiring)  # type: ignore[assignment]
    return [(w.cycle_no, w.next_cycle_on, w.card_expiry) for w in found]


def test_an_expiry_month_is_valid_through_its_last_day():
    march = ExpiryMonth.parse("2025-03")
    assert str(march) == "2025-03" and march < ExpiryMonth(2025, 4)
    assert not march.before_month_of(date(2025, 3, 31)) and march.before_month_of(date(2025, 4, 1))


async def test_a_card_expiring_before_the_following_cycle_is_warned_when_the_cycle_before_it_is_generated():
    fakes = await started()
    await deliver(fakes, events.card_linked("2025-03"))
    await generate_at(fakes, CYCLE_2_DUE)  # the following cycle (Mar 31) can still charge a card valid in March
    assert warnings(fakes) == []
    await generate_at(fakes, CYCLE_3_DUE)  # the following cycle (Apr 30) cannot
    assert warnings(fakes) == [(4, date(2025, 4, 30), "2025-03")]
    assert fakes.state.outbox[-1].correlation_id == f"{SUB}:4"


async def test_a_card_event_showing_an_expiry_before_the_next_scheduled_cycle_warns_for_it_at_once():
    fakes = await started()
    linked = events.inbound(events.card_linked("2025-01"), occurred_at=START)
    await deliver(fakes, linked)
    assert warnings(fakes) == [(2, date(2025, 2, 28), "2025-01")]
    assert fakes.state.outbox[-1].causation_id == str(linked.envelope.event_id)


async def test_a_cycle_is_warned_once_whoever_finds_it_and_however_often():
    fakes = await started()
    linked = events.inbound(events.card_linked("2025-01"), occurred_at=START)
    await deliver(fakes, linked)
    await deliver(fakes, linked)  # redelivered: the inbox
    await deliver(fakes, events.card_linked("2025-01"))  # re-emitted (a new event): the warning's unique record
    await generate_at(fakes, CYCLE_2_DUE)  # warns cycle 3
    fakes.clock.advance(timedelta(hours=1))
    await deliver(fakes, events.card_linked("2025-01"))  # finds cycle 3 warned already
    assert warnings(fakes) == [(2, date(2025, 2, 28), "2025-01"), (3, date(2025, 3, 31), "2025-01")]


async def test_a_replaced_card_with_a_later_expiry_stops_further_warnings():
    fakes = await started()
    await deliver(fakes, events.card_linked("2025-01"))
    fakes.clock.advance(timedelta(days=1))
    await deliver(fakes, events.card_replaced("2030-12"))
    await generate_at(fakes, CYCLE_2_DUE)
    await generate_at(fakes, CYCLE_3_DUE)
    assert warnings(fakes) == [(2, date(2025, 2, 28), "2025-01")]


async def test_an_older_card_event_arriving_after_a_newer_one_changes_nothing():
    fakes = await started()
    await deliver(fakes, events.inbound(events.card_replaced("2030-12"), occurred_at=START))
    await deliver(fakes, events.inbound(events.card_linked("2025-01"), occurred_at=START - timedelta(hours=1)))
    assert warnings(fakes) == []
    assert str(fakes.state.cards[("demo-shop", "m-1001")][0].expiry) == "2030-12"


async def test_an_unlinked_card_is_no_longer_checked():
    fakes = await started()
    await deliver(fakes, events.card_linked("2025-01"))
    fakes.clock.advance(timedelta(hours=1))
    await deliver(fakes, events.card_unlinked())
    await generate_at(fakes, CYCLE_2_DUE)
    assert [cycle for cycle, _, _ in warnings(fakes)] == [2]


async def test_a_card_known_before_the_subscription_starts_is_checked_when_it_starts():
    fakes = SubscriptionFakes()
    await deliver(fakes, events.card_linked("2025-01"))  # the link event of the first order came first
    assert warnings(fakes) == []
    await deliver(fakes, events.first_order())
    assert warnings(fakes) == [(2, date(2025, 2, 28), "2025-01")]


async def test_paused_subscriptions_and_other_members_cards_are_not_warned():
    fakes = await started()
    await deliver(fakes, events.card_linked("2025-01", member_id="m-other"))
    await managing.pause_subscription(fakes.deps, OPERATOR, SUB)
    await deliver(fakes, events.card_linked("2025-01"))
    assert warnings(fakes) == []


async def test_other_payment_events_are_acknowledged_without_a_transaction():
    fakes = await started()
    commits = fakes.uow.commits
    await deliver(fakes, Skipped("payment.authorized.v1"))
    await deliver(fakes, samples.payment_authorized())  # no type header: decoded, still not this service's
    assert fakes.uow.commits == commits and fakes.state.outbox[-1].type == "subscription.started.v1"


async def test_the_views_say_whether_the_card_expires_before_the_next_renewal():
    fakes = await started()
    assert not (await queries.subscription_detail(fakes.deps, OPERATOR, SUB)).card_expires_first
    await deliver(fakes, events.card_linked("2025-01"))
    sub = fakes.state.subscriptions[SUB]
    assert (await queries.subscription_detail(fakes.deps, OPERATOR, SUB)).card_expires_first
    assert await queries.cards_expiring_first(fakes.deps, [sub]) == {SUB}


async def test_a_card_event_on_another_topic_does_not_belong_there():
    fakes = await started()
    with pytest.raises(PermanentError, match="does not belong on"):
        await deliver(fakes, events.card_linked("2025-01"), topic=ORDERS_EVENTS)
    assert warnings(fakes) == []
