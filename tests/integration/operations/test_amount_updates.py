"""取引更新 (design §6.5, R12) against the emulator, under both readings of 1ReAuth (`--reauth-pairs new|same`):
after an order edit the hold is moved to the new total with exactly one live hold left; a capture before the
update is refused, after it captures the new total; an update after capture is refused; a failed release of the
old hold flags the payment with two live holds, none silently lost, and the hold just secured is never cancelled."""

from __future__ import annotations

import pytest

from contracts.events import PaymentAmountUpdated, PaymentHoldReleased, PaymentOperationFailed
from emulator.config import ReauthPairs
from services.payment.settings import OperationSettings
from tests.integration.operations.support import Operations

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


MODES = [ReauthPairs.NEW, ReauthPairs.SAME]


@pytest.mark.parametrize("reauth_pairs", MODES, indirect=True, ids=lambda m: f"reauth-{m}")
@pytest.mark.parametrize("operations_settings", [{}, {"decrease_by_change": False}], indirect=True,
                         ids=["down-1Change", "down-1ReAuth"])
async def test_the_amount_update_matrix_keeps_exactly_one_live_hold_under_both_1reauth_readings(
        ops: Operations, reauth_pairs: ReauthPairs, operations_settings: OperationSettings) -> None:
    """Increase and decrease of an authorized payment, then its capture; and the refusal once captured; under
    both readings of what 1ReAuth does to the old pair (emulator `--reauth-pairs`): never the hold just secured
    cancelled, never two live holds left."""
    for new_total in (7200, 4300):
        order = await ops.authorized(5500)
        await ops.edit_order(order, new_total)
        response = await ops.post(order.order_id, "update-amount", {"requested_by": "ops-1"})
        assert response.status_code == 200, response.text
        payment = response.json()["payment"]
        assert (payment["amount"], payment["held_amount"], payment["two_live_holds"]) == (new_total, new_total, False)
        assert await ops.live_holds(order) == [("authorized", new_total)]
        by_change = new_total < 5500 and operations_settings.decrease_by_change
        released = not by_change and reauth_pairs is ReauthPairs.NEW
        assert sorted(await ops.operate_ids(order)) == sorted(
            ["1Auth", "1Change"] if by_change else ["1Auth", "1ReAuth", *(["1Delete"] if released else [])])
        [event] = await ops.event(order, "payment.amount_updated.v1")
        updated = event.event_as(PaymentAmountUpdated)
        assert (updated.previous_amount, updated.amount, updated.previous_hold_released) == (5500, new_total, True)
        [live] = [tx for tx in await ops.ledger(order) if tx["state"] == "authorized"]
        last = [op for op in live["history"] if op["operate_id"] in ("1Auth", "1ReAuth", "1Change")][-1]
        assert updated.transaction_id == payment["transaction_id"] == (
            live["history"][0] if by_change else last)["transaction_id"]

        captured = await ops.post(order.order_id, "capture", {"amount": new_total})
        assert captured.status_code == 200, captured.text
        assert await ops.live_holds(order) == [("captured", new_total)]
        [event] = await ops.event(order, "payment.captured.v1")
        assert event.data["amount"] == new_total

        # captured before the update: refused, nothing sent, the captured sale untouched
        sold = await ops.authorized(5500)
        assert (await ops.post(sold.order_id, "capture")).status_code == 200
        await ops.edit_order(sold, new_total)
        refused = await ops.post(sold.order_id, "update-amount")
        assert (refused.status_code, refused.json()["reason_code"]) == (409, "already_captured")
        assert await ops.live_holds(sold) == [("captured", 5500)]
        assert sorted(await ops.operate_ids(sold)) == ["1Auth", "1Capture"]


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


@pytest.mark.parametrize("reauth_pairs", MODES, indirect=True, ids=lambda m: f"reauth-{m}")
async def test_a_failed_release_of_the_old_hold_is_flagged_with_two_live_holds_and_can_be_retried(
        ops: Operations, reauth_pairs: ReauthPairs) -> None:
    """`new`: the old hold's 1Delete fails. `same`: the check of the old pair (1Search) fails, so payment cannot
    tell whether it names a second hold: it flags (conservatively) and never cancels the pair blindly; the
    operator's retry checks again and finds nothing separate to release."""
    separate = reauth_pairs is ReauthPairs.NEW
    failing = "1Delete" if separate else "1Search"
    order = await ops.authorized(5500)
    await ops.edit_order(order, 7000)
    await ops.h.faults({"operations": {failing: {"http_5xx": 1.0}}})
    response = await ops.post(order.order_id, "update-amount")
    assert response.status_code == 200, response.text
    payment = response.json()["payment"]
    assert (payment["amount"], payment["two_live_holds"]) == (7000, True)
    assert payment["previous_hold"]["amount"] == 5500 and payment["previous_hold"]["state"] == "release_failed"
    assert sorted(await ops.live_holds(order)) == (
        [("authorized", 5500), ("authorized", 7000)] if separate else [("authorized", 7000)])

    [updated] = await ops.event(order, "payment.amount_updated.v1")
    assert updated.event_as(PaymentAmountUpdated).previous_hold_released is False
    [failed] = await ops.event(order, "payment.operation_failed.v1")
    assert (failed.event_as(PaymentOperationFailed).operation, failed.data["outcome"],
            failed.data["gateway_operation"]) == ("release_previous_hold", "unknown", failing)
    assert any('"payment.two_live_holds"' in line for line in ops.h.logs.lines)  # the alert for ops
    view = await ops.view(order.order_id)
    assert "release_previous_hold" in view["allowed_operations"] and view["two_live_holds"]

    await ops.h.admin.delete("/_emulator/faults")
    released = await ops.post(order.order_id, "release-previous-hold")
    assert (released.status_code, released.json()["payment"]["two_live_holds"]) == (200, False)
    assert await ops.live_holds(order) == [("authorized", 7000)]
    assert ("1Delete" in await ops.operate_ids(order)) is separate
    [event] = await ops.event(order, "payment.hold_released.v1")
    assert event.event_as(PaymentHoldReleased).amount == 5500
