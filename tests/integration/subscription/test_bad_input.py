"""Bad input on Kafka ends in the dead-letter topic with its reason, never in a stuck partition: the next record of
the same key is processed."""

from __future__ import annotations

import pytest

from contracts.envelope import Envelope
from contracts.topics import ORDERS_EVENTS, SHOPS_SETTINGS
from services.subscription.domain.subscription import subscription_id_for
from tests.integration.subscription.support import (
    dead_letters,
    publish,
    publish_raw,
    reason,
    running,
    start,
    subscriptions_started,
)
from tests.unit.subscription import events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_undecodable_bytes_are_dead_lettered_and_the_next_order_of_the_key_still_starts(
        database_url, isolated_kafka):
    async with running(start(database_url, isolated_kafka)):
        await publish_raw(isolated_kafka, ORDERS_EVENTS, b"{not json", key=b"ord-0001")
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        [letter] = await dead_letters(isolated_kafka, ORDERS_EVENTS, at_least=1)
    assert letter.value == b"{not json" and reason(letter).startswith("invalid message")


async def test_subscription_orders_nothing_can_start_from_are_dead_lettered_with_the_reason(
        database_url, isolated_kafka):
    guest = events.first_order("ord-guest", member_id=None)
    yearly_and_more = events.first_order("ord-13", every=13)
    async with running(start(database_url, isolated_kafka)):
        await publish(isolated_kafka, [guest, yearly_and_more, events.first_order("ord-ok")])
        await subscriptions_started(database_url, 1)
        letters = await dead_letters(isolated_kafka, ORDERS_EVENTS, at_least=2)
    reasons = {r.key.decode(): reason(r) for r in letters}
    assert "InvalidFirstOrder" in reasons["ord-guest"] and "member buyer (R19)" in reasons["ord-guest"]
    assert "InvalidCycle" in reasons["ord-13"] and "one year at most" in reasons["ord-13"]


async def test_renewal_order_events_of_unknown_cycles_and_a_second_order_for_a_cycle_are_dead_lettered(
        database_url, isolated_kafka):
    sub = subscription_id_for("demo-shop", "ord-0001")
    async with running(start(database_url, isolated_kafka)):
        await publish(isolated_kafka, [events.first_order()])
        await subscriptions_started(database_url, 1)
        await publish(isolated_kafka, [events.renewal_completed("sub-unknown", 2, order_id="ord-u"),
                      events.renewal_completed(sub, 7, order_id="ord-7")])
        letters = await dead_letters(isolated_kafka, ORDERS_EVENTS, at_least=2)
    assert all("UnknownCycle" in reason(r) for r in letters)
    assert {r.key.decode() for r in letters} == {"ord-u", "ord-7"}


async def test_an_event_that_does_not_belong_on_shops_settings_is_dead_lettered(database_url, isolated_kafka):
    envelope = Envelope.wrap(events.first_order(), producer="checkout", correlation_id="chk")
    async with running(start(database_url, isolated_kafka)):
        await publish_raw(isolated_kafka, SHOPS_SETTINGS, envelope.to_bytes(), key=b"demo-shop")
        [letter] = await dead_letters(isolated_kafka, SHOPS_SETTINGS, at_least=1)
    assert "order.completed.v1 does not belong on" in reason(letter)
