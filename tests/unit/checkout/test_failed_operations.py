"""`PaymentOperationFailed` on the order view (issue 6): the last operation that did not happen is shown with its
raw codes, never moves a status, and is cleared when the same operation succeeds or the payment ends."""

from __future__ import annotations

from services.checkout.domain.order import (
    AmountUpdated,
    Authorized,
    Canceled,
    Captured,
    HoldReleased,
    OperationFailed,
    PaymentStatus,
    decide_payment,
    place_order,
)
from tests.unit.checkout.builders import NOW, request, shop

K14 = OperationFailed(operation="capture", outcome="declined", reason="gateway_declined",
                      gateway_operation="1Capture", codes=("K14",), descriptions=("状態遷移エラー",))


def completed():
    order = place_order(request(), shop(), order_id="ord-1", payment_number="2" * 20, now=NOW)
    return decide_payment(order, Authorized(amount=3200, captured=False, transaction_id="T1")).order


def test_a_failed_operation_is_recorded_without_moving_any_status() -> None:
    order = completed()
    decision = decide_payment(order, K14)
    assert (decision.kind, decision.status_changed) == ("changed", False)
    failed = decision.order
    assert failed.failed_operation == K14
    assert (failed.status, failed.payment_status, failed.version) == (order.status, PaymentStatus.AUTHORIZED,
                                                                      order.version)


def test_the_same_failure_again_is_a_duplicate_and_a_newer_one_replaces_it() -> None:
    failed = decide_payment(completed(), K14).order
    assert decide_payment(failed, K14).kind == "duplicate"
    refused = OperationFailed(operation="cancel", outcome="refused", reason="operation_in_progress")
    assert decide_payment(failed, refused).order.failed_operation == refused


def test_a_capture_or_cancel_that_succeeds_clears_any_failure() -> None:
    failed = decide_payment(completed(), K14).order
    assert decide_payment(failed, Captured(transaction_id="T1", amount=3200)).order.failed_operation is None
    update_failed = decide_payment(completed(), OperationFailed(
        operation="update_amount", outcome="declined", reason="gateway_declined", gateway_operation="1ReAuth",
        codes=("K23",), descriptions=("金額エラー",))).order
    assert decide_payment(update_failed, Canceled(transaction_id="T1")).order.failed_operation is None


def test_an_amount_update_clears_only_an_update_failure() -> None:
    failed_capture = decide_payment(completed(), K14).order
    updated = decide_payment(failed_capture, AmountUpdated(amount=3900, transaction_id="T2")).order
    assert updated.failed_operation == K14  # the capture still has not happened
    failed_update = decide_payment(updated, OperationFailed(operation="update_amount", outcome="unknown",
                                                            reason="timeout", gateway_operation="1ReAuth")).order
    assert decide_payment(failed_update, AmountUpdated(amount=4000, transaction_id="T3")).order.failed_operation \
        is None


def test_a_release_of_the_previous_hold_clears_its_own_failure() -> None:
    two_holds = decide_payment(completed(), AmountUpdated(amount=3900, transaction_id="T2",
                                                          previous_hold_released=False)).order
    release_failed = OperationFailed(operation="release_previous_hold", outcome="declined", reason="gateway_declined",
                                     gateway_operation="1Delete", codes=("K12",), descriptions=("有効期限切れ",))
    flagged = decide_payment(two_holds, release_failed).order
    assert flagged.failed_operation == release_failed and flagged.anomaly
    released = decide_payment(flagged, HoldReleased(transaction_id="T1")).order
    assert (released.failed_operation, released.anomaly) == (None, None)
