"""Design §6.2: an outcome that may have happened is never retried; an operator records the truth."""

from __future__ import annotations

import pytest

from contracts.events import PaymentAuthorized, PaymentDeclined, PaymentOutcomeUnknown
from services.payment.domain.codes import BUYER_SHOP
from tests.integration.payment.support import OPERATOR_KEY, PaymentHarness, order_placed
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def unknown_order(harness: PaymentHarness, fault: str = "reset_after", **kwargs):
    await harness.faults({"seed": 1, "operations": {"1Auth": {fault: 1.0}}})
    order = order_placed(token=await harness.token(), **kwargs)
    await harness.publish(order)
    event = (await harness.outcome(order.order_id)).event_as(PaymentOutcomeUnknown)
    (await harness.admin.delete("/_emulator/faults")).raise_for_status()
    return order, event


async def resolve(harness: PaymentHarness, order_id: str, body: dict, key: str = OPERATOR_KEY, shop: str = "shop-1"):
    return await harness.api.post(f"/v1/shops/{shop}/payments/{order_id}/resolve", json=body,
                                  headers={"X-Operator-Key": key})


async def test_a_reset_after_processing_is_unknown_never_retried_and_resolved_as_authorized(
        harness: PaymentHarness) -> None:
    order, event = await unknown_order(harness)
    assert (event.operation, event.reason, event.amount) == ("1Auth", "connection_reset", order.amount)
    await harness.consumed(await harness.publish(order))  # a copy of the order must not send it again either
    view = await eventually(lambda: _view_with_state(harness, order.order_id, "unknown"))
    [tx] = await harness.ledger(MerchantFree1=order.payment_number)
    assert tx["state"] == "authorized"
    assert [(a["operation"], a["status"], a["reason"]) for a in view["history"]] == [
        ("1Auth", "unknown", "connection_reset"), ("1TokenSearch", "declined", None)]  # the token was spent: KI2

    assert await _needing_operator(harness) == [(order.order_id, "unknown")]  # the console's review queue

    response = await resolve(harness, order.order_id, {"outcome": "authorized", "transaction_id": "1000000000077",
                                                       "approval_number": "1234567", "process_id": tx["process_id"]})
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["history"][0]["resolution"]) == ("authorized", "authorized")
    authorized = await eventually(lambda: _event(harness, order.order_id, "payment.authorized.v1"))
    assert (authorized.resolution, authorized.transaction_id) == ("operator", "1000000000077")
    assert len(await harness.ledger(MerchantFree1=order.payment_number)) == 1
    again = await resolve(harness, order.order_id, {"outcome": "not_authorized"})
    assert again.status_code == 409
    assert await _needing_operator(harness) == []


async def _needing_operator(harness: PaymentHarness) -> list[tuple[str, str]]:
    response = await harness.api.get("/v1/shops/shop-1/payments", headers={"X-Operator-Key": OPERATOR_KEY})
    assert response.status_code == 200, response.text
    return [(p["order_id"], p["state"]) for p in response.json()["payments"]]


async def test_an_unknown_outcome_resolved_as_not_authorized_declines_with_the_shop_message(
        harness: PaymentHarness) -> None:
    order, _ = await unknown_order(harness, fault="garbage")
    response = await resolve(harness, order.order_id, {"outcome": "not_authorized"})
    assert response.status_code == 200, response.text
    declined = await eventually(lambda: _event(harness, order.order_id, "payment.declined.v1"))
    assert isinstance(declined, PaymentDeclined)
    assert (declined.resolution, declined.codes, declined.buyer_message) == ("operator", [], BUYER_SHOP)


async def test_a_token_charge_the_gateway_never_processed_is_probed_and_sent_again_never_reviewed(
        harness: PaymentHarness) -> None:
    """5xx without processing: 1TokenSearch finds the token unspent, so the charge counts as not sent; sent again
    within the budget (here refused each time) and then declined as not sent, without an operator."""
    await harness.faults({"seed": 1, "operations": {"1Auth": {"http_5xx": 1.0}}})
    order = order_placed(token=await harness.token())
    await harness.publish(order)
    declined = (await harness.outcome(order.order_id)).event_as(PaymentDeclined)
    (await harness.admin.delete("/_emulator/faults")).raise_for_status()
    assert declined.reason == "gateway_unreachable"
    assert await harness.ledger(MerchantFree1=order.payment_number) == []
    view = (await harness.api.get(f"/v1/shops/shop-1/payments/{order.order_id}",
                                  headers={"X-Operator-Key": OPERATOR_KEY})).json()
    assert [(a["operation"], a["status"], a["reason"]) for a in view["history"]] == [
        ("1Auth", "not_sent", "token_unused"), ("1TokenSearch", "ok", None)] * 3
    assert await _needing_operator(harness) == []


async def test_resolving_needs_the_shops_own_operator_key_and_a_transaction_id(harness: PaymentHarness) -> None:
    order, _ = await unknown_order(harness)
    await harness.put_operator_key("shop-2", "key-of-another-shop")
    assert (await resolve(harness, order.order_id, {"outcome": "not_authorized"}, key="wrong")).status_code == 404
    other = await resolve(harness, order.order_id, {"outcome": "not_authorized"}, key="key-of-another-shop",
                          shop="shop-2")
    assert other.status_code == 404
    missing = await harness.api.post(f"/v1/shops/shop-1/payments/{order.order_id}/resolve",
                                     json={"outcome": "not_authorized"})
    assert missing.status_code == 401
    assert (await resolve(harness, order.order_id, {"outcome": "authorized"})).status_code == 422
    assert (await harness.payment(order.order_id)).json()["state"] == "unknown"


async def _view_with_state(harness: PaymentHarness, order_id: str, state: str) -> dict | None:
    view = (await harness.payment(order_id)).json()
    return view if view["state"] == state else None


async def _event(harness: PaymentHarness, order_id: str, type_name: str) -> PaymentAuthorized | PaymentDeclined | None:
    found = [e.event() for e in harness.events_of(order_id) if e.type == type_name]
    return found[0] if found else None  # type: ignore[return-value]
