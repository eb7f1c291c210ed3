"""R12/R13 over HTTP against the emulator: every allowed and refused transition in both sales modes, checked in
the gateway's ledger (state, amount, live holds), the payment view and payments.events."""

from __future__ import annotations

import pytest

from contracts.events import PaymentCanceled, PaymentCaptured
from tests.integration.operations.support import Operations
from tests.integration.payment.support import OPERATOR_KEY, order_placed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_capture_records_the_sale_once_and_then_nothing_else_is_allowed(ops: Operations) -> None:
    order = await ops.authorized(5500)
    view = await ops.view(order.order_id)
    assert (view["state"], view["held_amount"], view["allowed_operations"]) == (
        "authorized", 5500, ["capture", "cancel", "update_amount"])

    response = await ops.post(order.order_id, "capture", {"requested_by": "ops-1"})
    assert response.status_code == 200, response.text
    assert response.json()["payment"]["state"] == "captured"
    assert await ops.live_holds(order) == [("captured", 5500)]
    [event] = await ops.event(order, "payment.captured.v1")
    captured = event.event_as(PaymentCaptured)
    assert (captured.amount, captured.requested_by) == (5500, "ops-1")
    assert captured.sales_date.strftime("%Y%m%d") == (await ops.ledger(order))[0]["sales_date"]

    for operation, body in (("capture", {}), ("cancel", {}), ("update-amount", {"amount": 6000})):
        refused = await ops.post(order.order_id, operation, body)
        assert (refused.status_code, refused.json()["reason_code"]) == (409, "already_captured"), operation
        assert refused.json()["payment"]["state"] == "captured"
    assert await ops.operate_ids(order) == ["1Auth", "1Capture"]
    view = await ops.view(order.order_id)
    assert (view["captured_amount"], view["allowed_operations"]) == (5500, [])
    assert [(a["operation"], a["action"], a["status"]) for a in view["history"]] == [
        ("1Auth", None, "ok"), ("1Capture", "capture", "ok")]


async def test_cancel_voids_the_hold_and_then_nothing_else_is_allowed(ops: Operations) -> None:
    order = await ops.authorized(5500)
    response = await ops.post(order.order_id, "cancel")
    assert (response.status_code, response.json()["payment"]["state"]) == (200, "canceled")
    assert await ops.live_holds(order) == []
    [event] = await ops.event(order, "payment.canceled.v1")
    assert event.event_as(PaymentCanceled).amount == 5500
    for operation in ("capture", "cancel", "update-amount"):
        refused = await ops.post(order.order_id, operation)
        assert (refused.status_code, refused.json()["reason_code"]) == (409, "already_canceled"), operation
    assert await ops.operate_ids(order) == ["1Auth", "1Delete"]


async def test_auth_capture_mode_refuses_every_operation_r13(ops: Operations) -> None:
    order = await ops.authorized(5500, sales_mode="auth_capture")
    for operation, body in (("capture", {}), ("cancel", {}), ("update-amount", {"amount": 6000})):
        refused = await ops.post(order.order_id, operation, body)
        assert (refused.status_code, refused.json()["reason_code"]) == (409, "sales_mode_auth_capture"), operation
        assert "R13" in refused.json()["detail"]
        assert (refused.headers["content-type"], refused.json()["result"]) == ("application/problem+json", "refused")
    assert await ops.live_holds(order) == [("captured", 5500)]
    assert await ops.operate_ids(order) == ["1Gathering"]
    view = await ops.view(order.order_id)
    assert (view["captured_amount"], view["held_amount"], view["allowed_operations"]) == (5500, 0, [])


async def test_a_declined_payment_has_nothing_to_operate(ops: Operations) -> None:
    order = order_placed(token=await ops.h.token("4000000000000002"))
    await ops.h.publish(order)
    await ops.h.outcome(order.order_id)
    refused = await ops.post(order.order_id, "capture")
    assert (refused.status_code, refused.json()["reason_code"]) == (409, "not_authorized")


async def test_an_update_to_zero_or_to_the_same_amount_is_refused_r12(ops: Operations) -> None:
    order = await ops.authorized(5500)
    zero = await ops.post(order.order_id, "update-amount", {"amount": 0})
    assert (zero.status_code, zero.json()["reason_code"]) == (422, "amount_zero")
    same = await ops.post(order.order_id, "update-amount", {"amount": 5500})
    assert (same.status_code, same.json()["reason_code"]) == (422, "amount_unchanged")
    unedited = await ops.post(order.order_id, "update-amount", {"amount": 6000})
    assert (unedited.status_code, unedited.json()["reason_code"]) == (409, "amount_mismatch")
    assert await ops.operate_ids(order) == ["1Auth"]


async def test_operations_on_another_shops_or_an_unknown_order_answer_404(ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.h.put_operator_key("shop-2", "key-of-shop-2")
    other = await ops.post(order.order_id, "capture", key="key-of-shop-2", shop_id="shop-2")
    assert other.status_code == 404
    assert (await ops.post("ord-none", "capture")).status_code == 404
    assert (await ops.post(order.order_id, "capture", key="wrong")).status_code == 404
    assert await ops.operate_ids(order) == ["1Auth"]


@pytest.mark.parametrize(("operation", "state"), [("capture", "captured"), ("cancel", "canceled")])
async def test_an_operation_without_options_is_asked_with_no_body_at_all(ops: Operations, operation: str,
                                                                          state: str) -> None:
    order = await ops.authorized(5500)
    answer = await ops.h.api.post(f"/v1/shops/{order.shop_id}/payments/{order.order_id}/{operation}",
                                  headers={"X-Operator-Key": OPERATOR_KEY})
    assert (answer.status_code, answer.json()["payment"]["state"]) == (200, state), answer.text
