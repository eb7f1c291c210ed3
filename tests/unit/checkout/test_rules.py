"""R1-R10: which checkouts are refused before payment, with which reason, and when the method is offered."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.checkout.domain.rules import (
    LUMP_SUM,
    PAY_TYPES,
    CartSummary,
    check_availability,
    effective_pay_type,
    installment_options,
    validate_checkout,
)
from services.checkout.domain.values import CartType, Fee, Line, PaymentChoice, SubscriptionTerms
from tests.unit.checkout.builders import TODAY, card, request, shipping, shop, subscription_request

GOLD = Line(sku="GOLD", name="金塊", unit_price=100_000_000, quantity=1)
FREE = Line(sku="FREE", name="試供品", unit_price=0, quantity=1)
NO_CARD = replace(shop(), card=None)

REFUSED = [
    # (why, shop, request, code, rule)
    ("the shop does not exist", None, request(), "shop_unknown", "R1"),
    ("the card method is not added", NO_CARD, request(), "card_method_not_configured", "R1"),
    ("credentials missing: not 設定済み", shop(credentials_set=False), request(), "card_method_not_configured", "R1"),
    ("sales mode never chosen", shop(card=card(sales_mode=None)), request(), "card_method_not_configured", "R1"),
    ("the carrier is not the shop's", shop(), request(shipping=shipping(carrier_id="sagawa")), "carrier_unknown",
     "R1"),
    ("the carrier does not take cards", shop(), request(shipping=shipping(carrier_id="cod")), "carrier_excludes_card",
     "R1"),
    ("shipping to be advised", shop(), request(shipping=shipping(fee=None)), "shipping_fee_unknown", "R2"),
    ("a fee to be advised", shop(), request(fees=(Fee("代引手数料", None),)), "fee_unknown", "R2"),
    ("below the minimum", shop(card=card(min_amount=10_000)), request(), "amount_below_minimum", "R3"),
    ("above the maximum", shop(card=card(max_amount=2_000)), request(), "amount_above_maximum", "R3"),
    ("above any card payment", shop(card=card(max_amount=None)),
     request(lines=(GOLD,)), "amount_above_card_limit", "gateway"),
    ("¥0", shop(card=card(min_amount=None)),
     request(lines=(FREE,), shipping=shipping(fee=0), fees=()), "amount_zero", "R4"),
    ("a subscription at ¥0", shop(card=card(min_amount=None)),
     subscription_request(lines=(FREE,), shipping=shipping(fee=0), fees=()), "amount_zero",
     "R4"),
    ("zero_step with a subscription", shop(),
     request(cart_type=CartType.ZERO_STEP, subscription=SubscriptionTerms(1, "month")), "subscription_in_zero_step",
     "R5"),
    ("subscription terms in a three_step cart", shop(), request(subscription=SubscriptionTerms(2, "week")),
     "subscription_terms_unexpected", "R5"),
    ("subscriptions not enabled", shop(card=card(subscriptions_enabled=False)), subscription_request(),
     "subscriptions_disabled", "R11"),
    ("a guest subscription", shop(), subscription_request(buyer=replace(request().buyer, member_id=None)),
     "subscription_requires_member", "R10"),
    ("installments when disabled", shop(), request(payment=PaymentChoice(has_token=True, pay_type="03")),
     "installments_not_offered", "R6"),
    ("a pay type e-SCOTT does not know", shop(card=card(show_installments=True)),
     request(payment=PaymentChoice(has_token=True, pay_type="04")), "pay_type_invalid", "R6"),
    ("no card at all", shop(), request(payment=PaymentChoice(has_token=False)), "card_missing", "R7"),
    ("token and registered card", shop(), request(payment=PaymentChoice(has_token=True, use_registered_card=True)),
     "card_source_ambiguous", "R7"),
    ("a guest's registered card", shop(),
     request(buyer=replace(request().buyer, member_id=None),
             payment=PaymentChoice(has_token=False, use_registered_card=True)),
     "registered_card_requires_member", "R10"),
    ("no lines", shop(card=card(min_amount=None)), request(lines=()), "cart_empty", "cart"),
    ("after the gateway contract ended", shop(card=card(contract_end=date(2025, 5, 31))),
     request(), "outside_contract_period", "contract"),
]


@pytest.mark.parametrize(("why", "the_shop", "the_request", "code", "rule"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_checkout_breaking_a_rule_is_refused_with_its_reason_first(why, the_shop, the_request, code, rule):
    rejections = validate_checkout(the_shop, the_request, TODAY)
    assert rejections, why
    assert (rejections[0].code, rejections[0].rule) == (code, rule)
    assert rejections[0].message


ACCEPTED = [
    ("a plain three_step checkout", shop(), request()),
    ("a member's registered card", shop(), request(payment=PaymentChoice(has_token=False, use_registered_card=True))),
    ("installments when the shop shows them", shop(card=card(show_installments=True)),
     request(payment=PaymentChoice(has_token=True, pay_type="10"))),
    ("a subscription asking installments (normalised, not refused)", shop(),
     subscription_request(payment=PaymentChoice(has_token=True, pay_type="05"))),
    ("exactly the minimum", shop(card=card(min_amount=3200)), request()),
    ("a zero_step cart", shop(), request(cart_type=CartType.ZERO_STEP)),
    ("a guest with a token", shop(), request(buyer=replace(request().buyer, member_id=None))),
    ("within the contract period", shop(card=card(contract_start=TODAY, contract_end=TODAY)), request()),
]


@pytest.mark.parametrize(("why", "the_shop", "the_request"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_a_checkout_within_the_rules_is_accepted(why, the_shop, the_request):
    assert validate_checkout(the_shop, the_request, TODAY) == [], why


def test_every_broken_rule_is_reported_not_only_the_first():
    the_request = request(shipping=shipping(carrier_id="cod", fee=None),
                          payment=PaymentChoice(has_token=True, pay_type="03"))
    codes = [r.code for r in validate_checkout(shop(), the_request, TODAY)]
    assert codes == ["carrier_excludes_card", "shipping_fee_unknown", "installments_not_offered"]


def test_subscriptions_are_always_lump_sum_whatever_was_requested():
    assert effective_pay_type(subscription_request(payment=PaymentChoice(has_token=True, pay_type="12"))) == LUMP_SUM
    assert effective_pay_type(request(payment=PaymentChoice(has_token=True, pay_type="12"))) == "12"


def test_installment_options_are_offered_only_when_switched_on_and_never_for_subscriptions():
    assert installment_options(card(show_installments=False), CartType.THREE_STEP) == (LUMP_SUM,)
    assert installment_options(card(show_installments=True), CartType.THREE_STEP) == tuple(PAY_TYPES)
    assert installment_options(card(show_installments=True), CartType.SUBSCRIPTION) == (LUMP_SUM,)
    assert {"01", "03", "24", "80", "88"} <= set(PAY_TYPES) and "04" not in PAY_TYPES


def cart(**changes: object) -> CartSummary:
    base = CartSummary(shop_id="tea-shop", cart_type=CartType.THREE_STEP, amount=12_000, carrier_id="yamato")
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("the_cart", "code"), [
    (cart(), None),
    (cart(carrier_id=None), None),  # carrier not chosen yet: offered, the checkout will check it
    (cart(amount=999), "amount_below_minimum"),
    (cart(carrier_id="cod"), "carrier_excludes_card"),
    (cart(shipping_fee_known=False), "shipping_fee_unknown"),
    (cart(unknown_fees=("代引手数料",)), "fee_unknown"),
    (cart(amount=0), "amount_zero"),
    (cart(cart_type=CartType.ZERO_STEP, has_subscription=True), "subscription_in_zero_step"),
    (cart(cart_type=CartType.SUBSCRIPTION, member_id=None), "subscription_requires_member"),
])  # fmt: skip
def test_availability_uses_the_same_rules_as_checkout(the_cart, code):
    found = check_availability(shop(), the_cart, TODAY)
    assert (found[0].code if found else None) == code


def test_an_unconfigured_method_is_not_offered_and_says_what_is_missing():
    [rejection] = check_availability(shop(credentials_set=False, card=card(sales_mode=None)), cart(), TODAY)
    assert rejection.code == "card_method_not_configured"
    assert "sales_mode, gateway_credentials" in rejection.message
