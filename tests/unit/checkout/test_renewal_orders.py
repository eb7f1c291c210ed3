"""Renewal orders in the domain (R20-R22, I4): a cycle always gets its order; R21 says when the gateway stays out
of it (the order is completed, payment `skipped`, with the reason); R22 says what a declined renewal becomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.checkout.domain.order import (
    Authorized,
    Declined,
    InvalidTransition,
    OrderStatus,
    OutcomeUnknown,
    PaymentStatus,
    decide_payment,
    place_order,
    transition,
)
from services.checkout.domain.renewal import place_renewal_order
from services.checkout.domain.values import CartType, Fee, Line, SalesMode
from tests.unit.checkout.builders import NOW, card, renewal, request, shipping, shop

NUMBER = "20250601000000000042"
RETRY_AT = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
DECLINED = Declined(operation="1Auth", codes=("G12",), descriptions=("カード使用不可",),
                    buyer_message="クレジットカード会社にお問い合わせください")
AUTHORIZED = Authorized(amount=3200, captured=False, transaction_id="T1")


def generated(the_renewal=None, the_shop=None, *, now: datetime = NOW):
    return place_renewal_order(the_renewal or renewal(), the_shop or shop(), order_id="ord-r", payment_number=NUMBER,
                               now=now)


def test_a_renewal_order_awaits_the_registered_card_in_one_payment_in_the_renewal_sales_mode():
    order = generated(the_shop=shop(card=card(sales_mode=SalesMode.AUTH, renewal_sales_mode=SalesMode.AUTH_CAPTURE)))
    assert (order.status, order.payment_status, order.version) == (OrderStatus.PENDING_PAYMENT,
                                                                    PaymentStatus.PENDING, 0)
    assert (order.checkout_id, order.origin, order.amount, order.payment_number) == (None, "renewal", 3200, NUMBER)
    assert (order.pay_type, order.sales_mode, order.payment_skip_reason) == ("01", SalesMode.AUTH_CAPTURE, None)
    payment = order.request.payment
    assert payment.use_registered_card and not payment.has_token
    assert order.request.cart_type is CartType.SUBSCRIPTION and order.request.buyer.member_id == "m-1"
    assert order.renewal is not None and (order.renewal.subscription_id, order.renewal.cycle_no) == ("sub-1", 2)
    assert order.correlation_id == "sub-1:2"


@pytest.mark.parametrize(("the_shop", "the_renewal", "reason"), [
    (shop(card=card(authorize_at_renewal=False)), renewal(), "authorize_at_renewal_off"),
    (shop(card=card(min_amount=5000)), renewal(), "amount_below_minimum"),
    (shop(card=card(max_amount=3000)), renewal(), "amount_above_maximum"),
    (shop(card=card(min_amount=None)), renewal(lines=(Line(sku="S", name="試供品", unit_price=0, quantity=1),),
                                               shipping=shipping(fee=0), fees=()), "amount_zero"),
    (shop(), renewal(shipping=shipping(fee=None)), "shipping_fee_unknown"),
    (shop(), renewal(fees=(Fee("代引手数料", None),)), "fee_unknown"),
    (shop(card=card(contract_end=date(2025, 5, 31))), renewal(), "outside_contract_period"),
    (shop(card=card(contract_start=date(2025, 6, 2))), renewal(), "outside_contract_period"),
    (shop(card=None), renewal(), "card_method_not_configured"),
    (shop(credentials_set=False), renewal(), "card_method_not_configured"),
    (shop(card=card(sales_mode=None)), renewal(), "card_method_not_configured"),
], ids=["authorize-off", "below-min", "above-max", "zero", "shipping-tba", "fee-tba", "after-contract",
        "before-contract", "no-card-method", "no-credentials", "no-sales-mode"])  # fmt: skip
def test_an_r21_reason_completes_the_order_at_once_with_its_payment_skipped(the_shop, the_renewal, reason):
    order = generated(the_renewal, the_shop)
    assert (order.status, order.payment_status, order.version) == (OrderStatus.COMPLETED, PaymentStatus.SKIPPED, 1)
    assert order.payment_skip_reason == reason and order.reason
    assert order.payment_number == NUMBER  # its own number, never sent to the gateway


def test_the_contract_period_is_judged_on_the_jst_order_date():
    last_day = shop(card=card(contract_end=date(2025, 6, 1)))
    assert generated(the_shop=last_day, now=datetime(2025, 6, 1, 14, 59, tzinfo=UTC)).payment_skip_reason is None
    late = generated(the_shop=last_day, now=datetime(2025, 6, 1, 15, 0, tzinfo=UTC))  # 00:00 JST on 6/2
    assert late.payment_skip_reason == "outside_contract_period"


def test_a_final_decline_flags_the_renewal_payment_failed_with_the_raw_codes_for_operators():
    decision = decide_payment(generated(), DECLINED)
    order = decision.order
    assert decision.status_changed and (order.status, order.payment_status) == (OrderStatus.PAYMENT_FAILED,
                                                                                 PaymentStatus.DECLINED)
    assert (order.reason_code, order.buyer_message, order.gateway_codes) == ("card_declined", DECLINED.buyer_message,
                                                                             ("G12",))
    failed = order.failed_operation
    assert failed is not None and (failed.operation, failed.outcome, failed.gateway_operation) == ("authorize",
                                                                                                   "declined", "1Auth")
    assert (failed.codes, failed.descriptions) == (("G12",), ("カード使用不可",))


def test_a_decline_without_a_card_reason_names_payments_reason():
    order = decide_payment(generated(), replace(DECLINED, reason="no_registered_card", codes=(),
                                                descriptions=())).order
    assert (order.status, order.reason_code) == (OrderStatus.PAYMENT_FAILED, "no_registered_card")


def test_a_decline_payment_will_retry_keeps_the_renewal_pending_with_the_retry_time():
    decision = decide_payment(generated(), replace(DECLINED, retry_at=RETRY_AT))
    order = decision.order
    assert decision.kind == "changed" and not decision.status_changed
    assert (order.status, order.payment_status, order.retry_at) == (OrderStatus.PENDING_PAYMENT,
                                                                    PaymentStatus.PENDING, RETRY_AT)
    assert order.failed_operation is not None and order.failed_operation.codes == ("G12",)
    assert decide_payment(order, replace(DECLINED, retry_at=RETRY_AT)).kind == "duplicate"


def test_an_authorization_after_a_retry_completes_the_renewal_and_clears_the_decline():
    waiting = decide_payment(generated(), replace(DECLINED, retry_at=RETRY_AT)).order
    decision = decide_payment(waiting, AUTHORIZED)
    order = decision.order
    assert decision.status_changed and (order.status, order.payment_status) == (OrderStatus.COMPLETED,
                                                                                 PaymentStatus.AUTHORIZED)
    assert (order.retry_at, order.failed_operation) == (None, None)


def test_retries_running_out_end_in_payment_failed():
    waiting = decide_payment(generated(), replace(DECLINED, retry_at=RETRY_AT)).order
    order = decide_payment(waiting, DECLINED).order
    assert (order.status, order.retry_at) == (OrderStatus.PAYMENT_FAILED, None)


def test_an_unknown_renewal_outcome_needs_review_and_a_decline_there_fails_the_renewal():
    review = decide_payment(generated(), OutcomeUnknown("att-1", "1Auth", "timeout")).order
    assert review.status is OrderStatus.NEEDS_REVIEW
    assert decide_payment(review, DECLINED).order.status is OrderStatus.PAYMENT_FAILED
    assert decide_payment(review, AUTHORIZED).order.status is OrderStatus.COMPLETED


def test_a_failed_renewal_is_final_a_repeat_is_a_duplicate_and_a_late_authorization_a_flagged_live_hold():
    failed = decide_payment(generated(), DECLINED).order
    assert decide_payment(failed, DECLINED).kind == "duplicate"
    late = decide_payment(failed, AUTHORIZED)
    assert late.kind == "conflict" and late.order.status is OrderStatus.PAYMENT_FAILED
    assert "live hold" in (late.order.anomaly or "")


def test_a_skipped_renewal_takes_no_payment_outcome():
    skipped = generated(the_shop=shop(card=card(authorize_at_renewal=False)))
    for outcome in (AUTHORIZED, DECLINED):
        decision = decide_payment(skipped, outcome)
        assert decision.kind == "conflict" and decision.order.payment_status is PaymentStatus.SKIPPED


def test_a_renewal_is_never_rejected_and_a_storefront_checkout_never_fails_as_a_renewal():
    with pytest.raises(InvalidTransition):
        transition(generated(), OrderStatus.REJECTED)
    checkout = place_order(request(), shop(), order_id="ord-c", payment_number=NUMBER, now=NOW)
    with pytest.raises(InvalidTransition):
        transition(checkout, OrderStatus.PAYMENT_FAILED)
    assert decide_payment(checkout, DECLINED).order.status is OrderStatus.REJECTED
