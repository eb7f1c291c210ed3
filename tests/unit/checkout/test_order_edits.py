"""Order edits (R12): a completed, uncaptured order gets a new total; captured or unfinished orders cannot; the
payment events of operator operations move the payment shown on the order, never its status."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.checkout.domain.edits import EditRefused, OrderEdit, edit_order
from services.checkout.domain.order import (
    AmountUpdated,
    Authorized,
    Canceled,
    Captured,
    HoldReleased,
    OrderStatus,
    PaymentStatus,
    decide_payment,
    place_order,
)
from services.checkout.domain.values import Fee, Line
from tests.unit.checkout.builders import NOW, request, shop


def completed():
    order = place_order(request(), shop(), order_id="ord-1", payment_number="2" * 20, now=NOW)
    return decide_payment(order, Authorized(amount=3200, captured=False, transaction_id="T1")).order


def test_an_edit_changes_the_total_and_payment_must_then_be_updated() -> None:
    order = completed()
    assert (order.amount, order.payment_amount, order.update_required) == (3200, 3200, False)
    three = Line(sku="TEA-1", name="煎茶", unit_price=1200, quantity=3)
    edited = edit_order(order, OrderEdit(lines=(three,), shipping_fee=0))
    assert (edited.amount, edited.version, edited.status) == (3900, order.version + 1, OrderStatus.COMPLETED)
    assert edited.update_required and edited.request.fees == order.request.fees
    updated = decide_payment(edited, AmountUpdated(amount=3900, transaction_id="T2")).order
    assert (updated.payment_amount, updated.transaction_id, updated.update_required) == (3900, "T2", False)


@pytest.mark.parametrize(("payment_status", "status"), [
    (PaymentStatus.CAPTURED, OrderStatus.COMPLETED), (PaymentStatus.CANCELED, OrderStatus.COMPLETED),
    (PaymentStatus.PENDING, OrderStatus.PENDING_PAYMENT), (PaymentStatus.DECLINED, OrderStatus.REJECTED),
])
def test_only_a_completed_order_with_an_uncaptured_authorization_is_editable(payment_status, status) -> None:
    order = replace(completed(), payment_status=payment_status, status=status)
    with pytest.raises(EditRefused) as refused:
        edit_order(order, OrderEdit(shipping_fee=0))
    assert (refused.value.code, refused.value.conflict) == ("order_not_editable", True)


FREE = Line(sku="FREE", name="試供品", unit_price=0, quantity=1)


@pytest.mark.parametrize(("edit", "code"), [
    (OrderEdit(lines=(FREE,), shipping_fee=0, fees=()), "amount_zero"),
    (OrderEdit(lines=()), "cart_empty"),
    (OrderEdit(fees=(Fee("代引手数料", None),)), "fee_unknown"),
    (OrderEdit(shipping_fee=16_007_135_482_489_978_880), "amount_above_card_limit"),  # found by fuzzing (a 500)
])
def test_an_edit_to_nothing_payable_is_refused(edit, code) -> None:
    with pytest.raises(EditRefused) as refused:
        edit_order(completed(), edit)
    assert (refused.value.code, refused.value.conflict) == (code, False)


def test_capture_and_cancel_move_the_payment_status_of_a_completed_order() -> None:
    captured = decide_payment(completed(), Captured(transaction_id="T9", amount=3200))
    assert (captured.order.payment_status, captured.order.status, captured.status_changed) == (
        PaymentStatus.CAPTURED, OrderStatus.COMPLETED, False)
    assert decide_payment(captured.order, Captured(transaction_id="T9")).kind == "duplicate"
    canceled = decide_payment(completed(), Canceled(transaction_id="T9")).order
    assert canceled.payment_status is PaymentStatus.CANCELED


def test_two_live_holds_are_an_anomaly_until_the_old_hold_is_released() -> None:
    flagged = decide_payment(completed(), AmountUpdated(amount=4000, transaction_id="T2",
                                                        previous_hold_released=False)).order
    assert flagged.anomaly is not None and flagged.anomaly.startswith("two live holds")
    assert decide_payment(flagged, HoldReleased(transaction_id="T1")).order.anomaly is None
