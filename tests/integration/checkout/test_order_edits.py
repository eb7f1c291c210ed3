"""Operator order edits (R12) and the payment events of operator operations on the order view."""

from __future__ import annotations

import pytest

from contracts.events import OrderAmountChanged, PaymentAmountUpdated, PaymentCanceled, PaymentCaptured
from tests.integration.checkout.harness import authorized, checkout_body
from tests.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def completed_order(checkout, shop, checkout_id: str) -> dict:
    order = await checkout.placed(shop, checkout_body(checkout_id))
    await checkout.publish(authorized(order))

    async def done() -> dict | None:
        view = await _view(checkout, shop, order["order_id"])
        return view if view["status"] == "completed" else None

    return await eventually(done, message="order completed")


async def _view(checkout, shop, order_id: str) -> dict:
    response = await checkout.http.get(f"/v1/shops/{shop.shop_id}/orders/{order_id}", headers=shop.operator)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_edit_announces_the_new_total_and_the_view_follows_the_payment(checkout) -> None:
    shop = await checkout.configured_shop("tea")
    order = await completed_order(checkout, shop, "chk-e1")
    edit = {"lines": [{"sku": "TEA-1", "name": "煎茶 100g", "unit_price": 1200, "quantity": 3}], "shipping_fee": 0,
            "edited_by": "ops-1"}
    response = await checkout.http.patch(f"/v1/shops/tea/orders/{order['order_id']}", json=edit,
                                         headers=shop.operator)
    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["amount"], view["payment"]["amount"], view["payment"]["update_required"]) == (3900, 3200, True)
    assert view["payment"]["notices"] == ["hold differs from order total — update required"]
    [changed] = [e for e in await checkout.order_events(at_least=3) if e.type == "order.amount_changed.v1"]
    event = changed.event_as(OrderAmountChanged)
    assert (event.previous_amount, event.amount, event.edited_by) == (3200, 3900, "ops-1")
    assert (event.payment_number, event.lines[0].quantity, event.shipping.fee) == (order["payment_number"], 3, 0)

    ids = {"order_id": order["order_id"], "shop_id": "tea", "payment_number": order["payment_number"]}
    await checkout.publish(PaymentAmountUpdated(**ids, previous_amount=3200, amount=3900, transaction_id="T2",
                                                previous_transaction_id="T1", previous_hold_released=True))
    await eventually(lambda: _payment_is(checkout, shop, order, amount=3900, update_required=False),
                     message="amount updated")
    await checkout.publish(PaymentCaptured(**ids, amount=3900, transaction_id="T3", sales_date="2025-06-01"))
    await eventually(lambda: _payment_is(checkout, shop, order, status="captured"), message="captured")
    refused = await checkout.http.patch(f"/v1/shops/tea/orders/{order['order_id']}", json={"shipping_fee": 500},
                                        headers=shop.operator)
    assert (refused.status_code, refused.json()["reason_code"]) == (409, "order_not_editable")
    assert (await _view(checkout, shop, order["order_id"]))["status"] == "completed"


async def test_a_canceled_payment_shows_on_the_order_and_bad_edits_are_refused(checkout) -> None:
    shop = await checkout.configured_shop("tea")
    order = await completed_order(checkout, shop, "chk-e2")
    path = f"/v1/shops/tea/orders/{order['order_id']}"
    for body, status, code in (({}, 422, "edit_empty"),
                               ({"lines": [{"sku": "X", "name": "x", "unit_price": 0, "quantity": 1}],
                                 "shipping_fee": 0, "fees": []}, 422, "amount_zero")):
        response = await checkout.http.patch(path, json=body, headers=shop.operator)
        assert (response.status_code, response.json()["reason_code"]) == (status, code)
    other = await checkout.create_shop("other")
    assert (await checkout.http.patch(f"/v1/shops/other/orders/{order['order_id']}", json={"shipping_fee": 0},
                                      headers=other.operator)).status_code == 404
    await checkout.publish(PaymentCanceled(order_id=order["order_id"], shop_id="tea",
                                           payment_number=order["payment_number"], amount=3200,
                                           transaction_id="T4"))
    await eventually(lambda: _payment_is(checkout, shop, order, status="canceled"), message="canceled")


async def _payment_is(checkout, shop, order: dict, **expected) -> bool:
    payment = (await _view(checkout, shop, order["order_id"]))["payment"]
    return all(payment[key] == value for key, value in expected.items())
