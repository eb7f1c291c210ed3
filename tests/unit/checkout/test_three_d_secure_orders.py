"""3-D Secure on the order side (design §6.7): who waits, the gateway form kept, and how the wait ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.checkout.domain.authentication import AuthenticationAsked
from services.checkout.domain.order import (
    Authorized,
    Declined,
    Order,
    OrderStatus,
    decide_payment,
    place_order,
)
from services.checkout.domain.shop import SettingsError, ThreeDSecure, configure_card_method
from tests.unit.checkout.builders import NOW, card, request, shop

NUMBER = "20250601000000000007"
ASKED = AuthenticationAsked(action_url="https://gw/online/tds/OTDS010.do", sealed_form="sealed", deadline=NOW)


def placed(enabled: bool = True, **payment: object) -> Order:
    with_3ds = shop(card=card(three_d_secure=ThreeDSecure(enabled=enabled, accepted_results=("0", "2"))))
    req = request()
    if payment:
        req = replace(req, payment=replace(req.payment, **payment))  # type: ignore[arg-type]
    return place_order(replace(req, return_url="https://shop.example/done"), with_3ds, order_id="ord-1",
                       payment_number=NUMBER, now=NOW, authentication_window=timedelta(minutes=10))


def test_a_new_card_waits_for_authentication_with_a_deadline_and_the_shops_choice() -> None:
    order = placed()
    assert order.status is OrderStatus.AWAITING_AUTHENTICATION and order.authentication is not None
    assert order.authentication.deadline == NOW + timedelta(minutes=10)
    assert order.authentication.accepted_results == ("0", "2")
    assert order.authentication.return_url == "https://shop.example/done" and not order.authentication.ready


def test_3ds_off_or_a_registered_card_pays_at_once() -> None:
    assert placed(enabled=False).status is OrderStatus.PENDING_PAYMENT
    registered = placed(has_token=False, use_registered_card=True)
    assert registered.status is OrderStatus.PENDING_PAYMENT and registered.authentication is None


def test_the_form_is_kept_once_without_an_order_event() -> None:
    decision = decide_payment(placed(), ASKED)
    assert (decision.kind, decision.status_changed) == ("changed", False)
    assert decision.order.authentication is not None and decision.order.authentication.ready
    assert decide_payment(decision.order, ASKED).kind == "duplicate"


@pytest.mark.parametrize(("reason", "code"), [("authentication_failed", "authentication_failed"),
                                              ("authentication_abandoned", "authentication_abandoned"),
                                              (None, "payment_declined")])
def test_the_wait_ends_like_any_payment(reason: str | None, code: str) -> None:
    waiting = decide_payment(placed(), ASKED).order
    completed = decide_payment(waiting, Authorized(amount=3200, captured=False, transaction_id="T1"))
    assert completed.order.status is OrderStatus.COMPLETED and completed.status_changed
    declined = decide_payment(waiting, Declined(operation="3Secure", codes=("U04",), buyer_message="x", reason=reason))
    assert (declined.order.status, declined.order.reason_code) == (OrderStatus.REJECTED, code)


def test_accepted_results_must_hold_0_and_never_1_8_or_9() -> None:
    for bad in (("2",), ("0", "1"), ("0", "9")):
        with pytest.raises(SettingsError):
            configure_card_method(shop(), card(three_d_secure=ThreeDSecure(enabled=True, accepted_results=bad)))
