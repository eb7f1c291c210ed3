"""The pure card management rules (design §6.8, R16-R18): expiry months and their state, the brand shown, the
reason codes of refused member calls, and when the page is offered and a delete refused."""

from __future__ import annotations

from datetime import date

import pytest

from services.payment.domain.card_face import CardFace, brand_name, expiry_month, expiry_status
from services.payment.domain.card_rules import (
    availability_refusal,
    buyer_message,
    declined_reason,
    deletion_refusal,
)
from services.payment.domain.codes import BUYER_CARD_COMPANY, BUYER_SHOP, MEMBER_FUNCTION_OFF


@pytest.mark.parametrize(("card_exp", "month"), [("3012", "2030-12"), ("2501", "2025-01"), ("2513", None),
                                                 ("12", None), (None, None)])
def test_the_gateways_expiry_is_kept_as_a_month(card_exp: str | None, month: str | None) -> None:
    assert expiry_month(card_exp) == month


@pytest.mark.parametrize(("expiry", "expired", "this_month"), [
    ("2025-05", True, False), ("2025-06", False, True), ("2025-07", False, False), ("2024-12", True, False)])
def test_a_card_is_valid_through_the_end_of_its_month(expiry: str, expired: bool, this_month: bool) -> None:
    shown = expiry_status(expiry, date(2025, 6, 30))
    assert shown is not None and (shown.expired, shown.expires_this_month) == (expired, this_month)


def test_an_unknown_expiry_has_no_state() -> None:
    assert expiry_status(None, date(2025, 6, 1)) is None


@pytest.mark.parametrize(("company", "masked", "brand"), [
    ("VS", "4111********1111", "Visa"), ("JC", "3530********0000", "JCB"),
    (None, "378282*****0005", "American Express"), (None, "5555********4444", "Mastercard"),
    ("ZZ", "9999********9999", "ZZ"), (None, None, None)])
def test_the_brand_comes_from_the_company_code_else_the_first_digits(company: str | None, masked: str | None,
                                                                    brand: str | None) -> None:
    assert brand_name(company, masked) == brand


def test_a_masked_number_shows_its_first_and_last_four_digits() -> None:
    face = CardFace(masked="4111********1111", expiry="2030-12")
    assert (face.first4, face.last4, face.complete, CardFace(masked="4111").first4) == ("4111", "1111", True, None)


@pytest.mark.parametrize(("codes", "reason", "message"), [
    (("K68",), "member_function_unavailable", MEMBER_FUNCTION_OFF), (("KI2",), "token_spent", BUYER_SHOP),
    (("KI3",), "token_expired", BUYER_SHOP), (("KHZ",), "token_invalid", BUYER_SHOP),
    (("G12",), "card_declined", BUYER_CARD_COMPANY), (("C13",), "card_declined", BUYER_SHOP),
    (("K69",), "card_refused", BUYER_SHOP)])
def test_a_refused_member_call_has_a_stable_reason_and_a_buyer_message_without_codes(
        codes: tuple[str, ...], reason: str, message: str) -> None:
    assert (declined_reason(codes), buyer_message(codes)) == (reason, message)


def test_the_page_needs_a_configured_card_method_that_keeps_cards() -> None:
    refusals = [availability_refusal(configured=c, link_mode=m) for c, m in (
        (False, "always"), (True, "never"), (True, "buyer_choice"), (True, "always"))]
    assert [r.reason_code if r else None for r in refusals] == [
        "card_method_not_configured", "card_link_mode_never", None, None]


def test_a_delete_is_refused_naming_the_subscriptions_that_renew_with_the_card() -> None:
    refusal = deletion_refusal(["sub-2", "sub-1"])
    assert refusal is not None
    assert (refusal.reason_code, refusal.blocking) == ("active_subscription", ("sub-1", "sub-2"))
    assert deletion_refusal([]) is None
