"""取引更新 (design §6.5, R12) against the emulator: after an order edit the hold is moved to the new total with
exactly one live hold left; a capture before the update is refused, after it captures the new total; a failed
release of the old hold flags the payment with two live holds, none silently lost."""

from __future__ import annotations

import pytest

from contracts.events import PaymentAmountUpdated, PaymentHoldReleased, PaymentOperationFailed
from tests.integration.operations.support import Operations

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.mark.parametrize(("new_total", "operations_settings", "calls"), [
    (7200, {}, ["1Auth", "1Delete", "1ReAuth"]),
    (4300, {}, ["1Auth", "1Change"]),
    (4300, {"decrease_by_change": False}, ["1Auth", "1Delete", "1ReAuth"]),
], indirect=["operations_settings"], ids=["up", "down-1Change", "down-1ReAuth"])
async def test_an_update_keeps_exactly_one_live_hold_at_the_new_amount(
        ops: Operations, new_total: int, calls: list[str]) -> None:
    order = await ops.authorized(5500)
    await ops.edit_order(order, new_total)
    response = await ops.post(order.order_id, "update-amount", {"requested_by": "ops-1"})
    assert response.status_code == 200, response.text
    payment = response.json()["payment"]
    assert (payment["amount"], payment["held_amount"], payment["two_live_holds"]) == (new_total, new_total, False)

    assert await ops.live_holds(order) == [("authorized", new_total)]
    assert sorted(await ops.operate_ids(order)) == sorted(calls)
    [event] = await ops.event(order, "payment.amount_updated.v1")
    updated = event.event_as(PaymentAmountUpdated)
    assert (updated.previous_amount, updated.amount, updated.previous_hold_released) == (5500, new_total, True)
    [live] = [tx for tx in await ops.ledger(order) if tx["state"] == "authorized"]
    assert updated.transaction_id == payment["transaction_id"] == live["history"][0]["transaction_id"]  # its 1st


async def test_capture_after_an_edit_is_refused_until_the_update_then_captures_the_new_total(
        ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.edit_order(order, 6800)
    view = await ops.view(order.order_id)
    assert (view["update_required"], view["order_total"], view["amount"]) == (True, 6800, 5500)
    assert "hold differs from order total — update required" in view["notices"]
    assert view["refused_operations"]["capture"]["reason_code"] == "update_required"

    refused = await ops.post(order.order_id, "capture")
    assert (refused.status_code, refused.json()["reason_code"]) == (409, "update_required")
    assert "1Capture" not in await ops.operate_ids(order)

    assert (await ops.post(order.order_id, "update-amount", {"amount": 6800})).status_code == 200
    stale = await ops.post(order.order_id, "capture", {"amount": 5500})
    assert (stale.status_code, stale.json()["reason_code"]) == (409, "amount_mismatch")
    captured = await ops.post(order.order_id, "capture", {"amount": 6800})
    assert captured.status_code == 200, captured.text
    assert await ops.live_holds(order) == [("captured", 6800)]
    [event] = await ops.event(order, "payment.captured.v1")
    assert event.data["amount"] == 6800


async def test_a_failed_release_of_the_old_hold_is_flagged_with_two_live_holds_and_can_be_retried(
        ops: Operations) -> None:
    order = await ops.authorized(5500)
    await ops.edit_order(order, 7000)
    await ops.h.faults({"operations": {"1Delete": {"http_5xx": 1.0}}})
    response = await ops.post(order.order_id, "update-amount")
    assert response.status_code == 200, response.text
    payment = response.json()["payment"]
    assert (payment["amount"], payment["two_live_holds"]) == (7000, True)
    assert payment["previous_hold"]["amount"] == 5500 and payment["previous_hold"]["state"] == "release_failed"
    assert sorted(await ops.live_holds(order)) == [("authorized", 5500), ("authorized", 7000)]

    [updated] = await ops.event(order, "payment.amount_updated.v1")
    assert updated.event_as(PaymentAmountUpdated).previous_hold_released is False
    [failed] = await ops.event(order, "payment.operation_failed.v1")
    assert (failed.event_as(PaymentOperationFailed).operation, failed.data["outcome"]) == (
        "release_previous_hold", "unknown")
    assert any('"payment.two_live_holds"' in line for line in ops.h.logs.lines)  # the alert for ops
    view = await ops.view(order.order_id)
    assert "release_previous_hold" in view["allowed_operations"] and view["two_live_holds"]

    await ops.h.admin.delete("/_emulator/faults")
    released = await ops.post(order.order_id, "release-previous-hold")
    assert (released.status_code, released.json()["payment"]["two_live_holds"]) == (200, False)
    assert await ops.live_holds(order) == [("authorized", 7000)]
    [event] = await ops.event(order, "payment.hold_released.v1")
    assert event.event_as(PaymentHoldReleased).amount == 5500
