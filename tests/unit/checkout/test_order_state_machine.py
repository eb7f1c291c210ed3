"""I1: an accepted checkout reaches exactly one terminal state; duplicates are no-ops, contradictions flagged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.checkout.domain.order import (
    ALLOWED,
    Authorized,
    Canceled,
    Captured,
    Declined,
    InvalidTransition,
    Order,
    OrderStatus,
    OutcomeUnknown,
    PaymentStatus,
    decide_payment,
    place_order,
    reject_checkout,
    transition,
)
from services.checkout.domain.rules import validate_checkout
from services.checkout.domain.values import PaymentChoice
from tests.unit.checkout.builders import NOW, TODAY, request, shop, subscription_request

NUMBER = "20250601000000000007"
AUTHORIZED = Authorized(amount=3200, captured=False, transaction_id="T1", approval_number="0012345")
DECLINED = Declined(operation="1Auth", codes=("G12",), buyer_message="クレジットカード会社にお問い合わせください")
UNKNOWN = OutcomeUnknown(attempt_id="att-1", operation="1Auth", reason="connection_reset")


def pending():
    return place_order(request(), shop(), order_id="ord-1", payment_number=NUMBER, now=NOW)


def test_a_placed_order_awaits_payment_with_the_shop_settings_snapshotted():
    order = pending()
    assert (order.status, order.payment_status, order.version) == (OrderStatus.PENDING_PAYMENT,
                                                                    PaymentStatus.PENDING, 0)
    assert (order.amount, order.payment_number, order.order_date) == (3200, NUMBER, TODAY)
    assert (order.sales_mode, order.card_link_mode) == ("auth", "always")
    assert order.payment_method_name == "クレジットカード決済"


def test_a_subscription_order_is_placed_as_lump_sum():
    the_request = subscription_request(payment=PaymentChoice(has_token=True, pay_type="03"))
    order = place_order(the_request, shop(), order_id="ord-2", payment_number=NUMBER, now=NOW)
    assert order.pay_type == "01"


def test_a_refused_checkout_is_a_rejected_order_without_a_payment_number():
    the_request = request(payment=PaymentChoice(has_token=False))
    [rejection] = validate_checkout(shop(), the_request, TODAY)
    order = reject_checkout(the_request, rejection, order_id="ord-3", now=NOW)
    assert (order.status, order.payment_status, order.payment_number) == (OrderStatus.REJECTED, PaymentStatus.NONE,
                                                                          None)
    assert order.reason_code == "card_missing" and order.buyer_message


@pytest.mark.parametrize(("outcome", "status", "payment_status"), [
    (AUTHORIZED, OrderStatus.COMPLETED, PaymentStatus.AUTHORIZED),
    (replace(AUTHORIZED, captured=True), OrderStatus.COMPLETED, PaymentStatus.CAPTURED),
    (DECLINED, OrderStatus.REJECTED, PaymentStatus.DECLINED),
    (UNKNOWN, OrderStatus.NEEDS_REVIEW, PaymentStatus.UNKNOWN),
])  # fmt: skip
def test_a_payment_outcome_moves_a_pending_order_to_its_terminal_state(outcome, status, payment_status):
    decision = decide_payment(pending(), outcome)
    assert (decision.kind, decision.status_changed) == ("changed", True)
    assert (decision.order.status, decision.order.payment_status, decision.order.version) == (status, payment_status, 1)


def test_a_decline_keeps_raw_codes_for_operators_and_the_buyer_message():
    order = decide_payment(pending(), DECLINED).order
    assert order.gateway_codes == ("G12",)
    assert order.buyer_message == "クレジットカード会社にお問い合わせください"
    assert "G12" not in (order.reason or "")  # storefronts read the reason: no raw codes (R16)


@pytest.mark.parametrize(("resolution", "status"), [(AUTHORIZED, OrderStatus.COMPLETED),
                                                    (DECLINED, OrderStatus.REJECTED)])
def test_a_resolution_after_review_completes_or_rejects_the_order(resolution, status):
    review = decide_payment(pending(), UNKNOWN).order
    decision = decide_payment(review, resolution)
    assert (decision.order.status, decision.order.version, decision.status_changed) == (status, 2, True)


@pytest.mark.parametrize("outcome", [AUTHORIZED, DECLINED, UNKNOWN])
def test_the_same_outcome_twice_is_a_no_op(outcome):
    once = decide_payment(pending(), outcome).order
    again = decide_payment(once, outcome)
    assert (again.kind, again.order) == ("duplicate", once)


@pytest.mark.parametrize(("first", "then"), [
    (DECLINED, AUTHORIZED),  # an orphan hold: ops must cancel it
    (AUTHORIZED, DECLINED),
    (AUTHORIZED, replace(AUTHORIZED, transaction_id="T2")),  # a second authorization: two holds
    (AUTHORIZED, UNKNOWN),
])  # fmt: skip
def test_an_outcome_contradicting_a_final_state_never_changes_it_and_is_flagged(first, then):
    final = decide_payment(pending(), first).order
    decision = decide_payment(final, then)
    assert decision.kind == "conflict" and not decision.status_changed
    assert (decision.order.status, decision.order.version) == (final.status, final.version)
    assert decision.order.anomaly == decision.note and decision.note


def test_an_authorized_amount_other_than_the_total_completes_but_is_flagged():
    decision = decide_payment(pending(), replace(AUTHORIZED, amount=9999))
    assert decision.order.status is OrderStatus.COMPLETED
    assert "¥9,999" in (decision.order.anomaly or "")


def test_capture_and_cancel_only_move_the_payment_status_of_a_completed_order():
    completed = decide_payment(pending(), AUTHORIZED).order
    captured = decide_payment(completed, Captured("T1"))
    assert (captured.order.payment_status, captured.status_changed) == (PaymentStatus.CAPTURED, False)
    assert decide_payment(captured.order, Canceled("T1")).order.payment_status is PaymentStatus.CANCELED
    assert decide_payment(pending(), Captured("T1")).kind == "conflict"


def test_the_transition_table_has_exactly_three_ways_out_of_pending_and_none_out_of_final_states():
    def ways_out(order: Order) -> set[OrderStatus]:
        return {target for target in ALLOWED[order.status] if order.can_become(target)}

    assert ways_out(pending()) == {OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.NEEDS_REVIEW}
    assert ways_out(decide_payment(pending(), UNKNOWN).order) == {OrderStatus.COMPLETED, OrderStatus.REJECTED}
    completed = decide_payment(pending(), AUTHORIZED).order
    with pytest.raises(InvalidTransition):
        transition(completed, OrderStatus.REJECTED)
    with pytest.raises(InvalidTransition):
        transition(pending(), OrderStatus.PENDING_PAYMENT)
