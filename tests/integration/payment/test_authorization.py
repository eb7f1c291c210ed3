"""OrderPlaced -> one gateway authorization -> the payment event (real Kafka, PostgreSQL, emulator)."""

from __future__ import annotations

import uuid

import pytest

from contracts.events import PaymentAuthorized, PaymentDeclined
from services.payment.domain.codes import BUYER_CARD_COMPANY, BUYER_K99, BUYER_SHOP
from tests.integration.payment.support import PaymentHarness, order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.mark.parametrize(("sales_mode", "operation", "state", "captured"), [
    ("auth", "1Auth", "authorized", False),
    ("auth_capture", "1Gathering", "captured", True),
])
async def test_an_order_is_authorized_once_with_the_sales_mode_operation_and_r14_references(
        harness: PaymentHarness, sales_mode, operation, state, captured) -> None:
    order = order_placed(token=await harness.token(), sales_mode=sales_mode, amount=7610)
    await harness.publish(order)
    event = (await harness.outcome(order.order_id)).event_as(PaymentAuthorized)
    [tx] = await harness.ledger(MerchantFree1=order.payment_number)
    assert (tx["kind"], tx["state"], tx["amount"]) == (operation, state, 7610)
    assert (tx["merchant_free1"], tx["merchant_free2"]) == (order.payment_number, "山田 太郎")
    assert (event.amount, event.pay_type, event.captured, event.card_source) == (7610, "01", captured, "token")
    assert event.transaction_id and event.approval_number and event.resolution == "gateway"
    view = (await harness.payment(order.order_id)).json()
    assert (view["state"], view["transaction_id"]) == (state, event.transaction_id)
    assert [(a["operation"], a["status"]) for a in view["history"]] == [(operation, "ok")]


@pytest.mark.parametrize(("pan", "codes", "message"), [
    ("4000000000000002", ["G12"], BUYER_CARD_COMPANY),
    ("4000000000000101", ["K99"], BUYER_K99),
])
async def test_a_declined_card_reports_raw_codes_with_descriptions_and_the_r16_message(
        harness: PaymentHarness, pan, codes, message) -> None:
    order = order_placed(token=await harness.token(pan))
    await harness.publish(order)
    event = (await harness.outcome(order.order_id)).event_as(PaymentDeclined)
    assert (event.codes, event.buyer_message, event.operation) == (codes, message, "1Auth")
    assert len(event.descriptions) == 1 and event.descriptions[0]
    view = (await harness.payment(order.order_id)).json()
    assert (view["state"], view["codes"]) == ("declined", codes)


async def test_a_token_used_twice_is_declined_with_ki2_and_the_contact_the_shop_message(
        harness: PaymentHarness) -> None:
    token = await harness.token()
    first, second = order_placed(token=token), order_placed(token=token)
    await harness.publish(first)
    await harness.outcome(first.order_id)
    await harness.publish(second)
    event = (await harness.outcome(second.order_id)).event_as(PaymentDeclined)
    assert (event.codes, event.buyer_message) == (["KI2"], BUYER_SHOP)


async def test_a_duplicated_order_placed_never_authorizes_twice(harness: PaymentHarness) -> None:
    order = order_placed(token=await harness.token())
    first = await harness.publish(order, event_id=uuid.uuid4())
    await harness.publish(order, event_id=first.event_id)  # redelivery of the same event
    copy = await harness.publish(order)  # the same order under a new event id
    await harness.outcome(order.order_id)

    await harness.consumed(first, copy)
    assert len(await harness.ledger(MerchantFree1=order.payment_number)) == 1
    assert [e.type for e in harness.events_of(order.order_id)] == ["payment.authorized.v1"]


async def test_a_shop_without_credentials_is_declined_with_an_operator_visible_reason(
        harness: PaymentHarness) -> None:
    await harness.put_operator_key("shop-2")
    order = order_placed(token=await harness.token(), shop_id="shop-2")
    await harness.publish(order)
    event = (await harness.outcome(order.order_id)).event_as(PaymentDeclined)
    assert (event.codes, event.buyer_message) == ([], BUYER_SHOP)
    view = (await harness.payment(order.order_id, shop_id="shop-2")).json()
    assert (view["state"], view["reason"], view["history"]) == ("declined", "gateway_credentials_missing", [])
    assert await harness.ledger() == []


async def test_a_k40_decline_voids_the_live_hold_it_left_at_the_gateway(harness: PaymentHarness) -> None:
    order = order_placed(token=await harness.token("4000000000000036"))
    await harness.publish(order)
    event = (await harness.outcome(order.order_id)).event_as(PaymentDeclined)
    assert event.codes == ["K40"]

    async def voided() -> list:
        return [tx for tx in await harness.ledger(MerchantFree1=order.payment_number) if tx["state"] == "deleted"]

    await eventually(voided, timeout=60, message="K40 hold voided")

    async def cleaned_up() -> dict | None:  # the gateway voids the hold before payment records that it did
        view = (await harness.payment(order.order_id)).json()
        return view if view["cleanup"] == "done" else None

    view = await eventually(cleaned_up, timeout=60, message="the void recorded")
    assert [(a["operation"], a["status"]) for a in view["history"]] == [("1Auth", "declined"), ("1Delete", "ok")]
    assert view["cleanup"] == "done"
