"""A subscription's first order links the member's card and announces it with the card's expiry (read with
4MemRefM at the emulator), so the subscription service can warn before a renewal's card expires."""

from __future__ import annotations

import pytest

from contracts.events import CardLinked, PaymentAuthorized
from tests.integration.payment.support import SHOP, PaymentHarness, order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_the_card_linked_by_a_subscription_first_order_carries_the_cards_expiry(
        harness: PaymentHarness) -> None:
    order = order_placed(member_id="m-sub-1", token=await harness.token(exp="2711"), cart_type="subscription")
    await harness.publish(order)
    authorized = (await harness.outcome(order.order_id)).event_as(PaymentAuthorized)

    async def announced() -> list[CardLinked]:
        return [e.event_as(CardLinked) for e in harness.events_of(f"{SHOP}:m-sub-1")]
    [linked] = await eventually(announced, timeout=60, message="the CardLinked of m-sub-1")
    assert (linked.order_id, linked.card_expiry, linked.masked_card) == (order.order_id, "2027-11",
                                                                       "4111********1111")
    assert authorized.card_source == "member"
