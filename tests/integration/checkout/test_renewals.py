"""Renewal orders over real Kafka and PostgreSQL (design §6.6, R20-R22, I4): `RenewalOrderRequested` on
subscriptions.commands makes exactly one order per cycle, an R21 skip is placed and completed with its reason, a
declined renewal fails (R22) or waits for payment's retry, and a command that can never apply is dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.events import OrderCompleted, OrderPlaced, RenewalPaymentFailed
from contracts.topics import SUBSCRIPTIONS_COMMANDS, dlq
from tests.integration.checkout.harness import (
    CARD_COMPANY_MESSAGE,
    Checkout,
    ShopAccess,
    authorized,
    declined,
    renewal_requested,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_a_cycle_requested_twice_and_again_under_a_new_event_id_makes_one_order(checkout):
    await checkout.configured_shop("tea")
    envelope = await checkout.publish(renewal_requested(cycle_no=2))
    await checkout.publish(renewal_requested(cycle_no=2), event_id=envelope.event_id)  # redelivered
    await checkout.publish(renewal_requested(cycle_no=2))  # the same cycle, a new event id
    await checkout.publish(renewal_requested(cycle_no=3))  # same key, so handled after the three above
    placed = sorted((e.event_as(OrderPlaced) for e in await _placed(checkout, at_least=2)), key=lambda p: p.cycle_no)
    assert [(p.subscription_id, p.cycle_no) for p in placed] == [("sub-1", 2), ("sub-1", 3)]  # keyed by order id
    assert all(p.origin == "renewal" and p.checkout_id is None and p.payment.use_registered_card for p in placed)
    assert placed[0].payment_number != placed[1].payment_number
    rows = await checkout.fetch("SELECT cycle_no FROM orders WHERE subscription_id = 'sub-1' ORDER BY cycle_no")
    assert [row["cycle_no"] for row in rows] == [2, 3]


async def test_a_skipped_renewal_is_placed_and_completed_with_its_reason_and_shown_without_a_number(checkout):
    shop = await checkout.configured_shop("tea", authorize_at_renewal=False)
    await checkout.publish(renewal_requested())
    placed, completed = await checkout.order_events(at_least=2)
    assert placed.event_as(OrderPlaced).payment_skip_reason == "authorize_at_renewal_off"
    done = completed.event_as(OrderCompleted)
    assert (done.payment_status, done.payment_skip_reason, done.cycle_no) == ("skipped", "authorize_at_renewal_off",
                                                                              2)
    assert (placed.subject_version, completed.subject_version) == (0, 1)
    operator = await _operator_view(checkout, shop, done.order_id)
    storefront = (await checkout.http.get(f"/v1/orders/{done.order_id}", headers=shop.storefront)).json()
    for view in (operator, storefront):
        assert view["status"] == "completed" and view["renewal"]["subscription_id"] == "sub-1"
        assert (view["payment"]["skipped_reason"], view["payment"]["payment_number"]) == ("authorize_at_renewal_off",
                                                                                          None)
    assert operator["payment"]["actions"] == []


async def test_a_declined_renewal_fails_visibly_and_a_retried_one_completes(checkout):
    shop = await checkout.configured_shop("tea")
    await checkout.publish(renewal_requested(cycle_no=2))
    await checkout.publish(renewal_requested(cycle_no=3))
    first, second = [_order(e) for e in await _placed(checkout, at_least=2)]
    retry_at = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    await checkout.publish(declined(first))
    await checkout.publish(declined(second, retry_at=retry_at))
    [failed] = [e.event_as(RenewalPaymentFailed) for e in await checkout.order_events(at_least=3)
                if e.type == RenewalPaymentFailed.TYPE]
    assert (failed.order_id, failed.reason_code, failed.buyer_message) == (first["order_id"], "card_declined",
                                                                           CARD_COMPANY_MESSAGE)
    view = await _operator_view(checkout, shop, first["order_id"])
    assert view["status"] == "payment_failed"
    assert view["payment"]["failed_operation"]["codes"] == [{"code": "G12", "description": "カード使用不可"}]
    await eventually(lambda: _retry_shown(checkout, shop, second["order_id"]), message="retry time shown")
    await checkout.publish(authorized(second, card_source="member"))
    [completed] = [e.event_as(OrderCompleted) for e in await checkout.order_events(at_least=4)
                   if e.type == OrderCompleted.TYPE]
    assert (completed.order_id, completed.payment_status, completed.origin) == (second["order_id"], "authorized",
                                                                                "renewal")
    found = await checkout.http.get("/v1/shops/tea/orders", params={"status": "payment_failed"}, headers=shop.operator)
    assert [o["order_id"] for o in found.json()["orders"]] == [first["order_id"]]


async def test_a_renewal_for_an_unknown_shop_is_dead_lettered_with_the_reason_and_the_partition_moves_on(checkout):
    await checkout.configured_shop("tea")
    await checkout.publish(renewal_requested(shop_id="no-such-shop"))
    await checkout.publish(renewal_requested(cycle_no=3))  # same key: behind the dead letter
    [dead] = await checkout.records(dlq(SUBSCRIPTIONS_COMMANDS), at_least=1)
    assert "no shop 'no-such-shop'" in dict(dead.headers)["dlq-reason"].decode()
    [placed] = await _placed(checkout, at_least=1)
    assert placed.event_as(OrderPlaced).cycle_no == 3


async def _placed(checkout: Checkout, *, at_least: int) -> list[Envelope]:
    return [e for e in await checkout.order_events(at_least=at_least) if e.type == OrderPlaced.TYPE]


def _order(envelope: Envelope) -> dict[str, Any]:
    """A placed order as the payment-event builders take it."""
    placed = envelope.event_as(OrderPlaced)
    return {"order_id": placed.order_id, "shop_id": placed.shop_id, "payment_number": placed.payment_number,
            "amount": placed.amount, "pay_type": placed.payment.pay_type}


async def _operator_view(checkout: Checkout, shop: ShopAccess, order_id: str) -> dict[str, Any]:
    response = await checkout.http.get(f"/v1/shops/{shop.shop_id}/orders/{order_id}", headers=shop.operator)
    assert response.status_code == 200, response.text
    return response.json()


async def _retry_shown(checkout: Checkout, shop: ShopAccess, order_id: str) -> bool:
    view = await _operator_view(checkout, shop, order_id)
    return view["status"] == "pending_payment" and view["payment"]["retry_at"] == "2025-06-02T03:00:00+00:00"
