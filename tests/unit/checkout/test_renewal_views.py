"""What operators and storefronts see of renewal orders: the skip reason instead of a payment number and actions
(R21), the retry time of a pending renewal, the raw codes of a failed one for operators only (R16, R22)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.checkout.domain.order import Authorized, Declined, decide_payment, place_order
from services.checkout.domain.renewal import place_renewal_order
from services.checkout.entrypoints.http.views import order_summary, order_view, storefront_order_view
from tests.unit.checkout.builders import NOW, card, renewal, request, shop

NUMBER = "20250601000000000042"
DECLINED = Declined(operation="1Auth", codes=("G12",), descriptions=("カード使用不可",),
                    buyer_message="クレジットカード会社にお問い合わせください")


def generated(**card_changes: object):
    return place_renewal_order(renewal(), shop(card=card(**card_changes)), order_id="ord-r", payment_number=NUMBER,
                               now=NOW)


def test_a_skipped_renewal_shows_its_reason_and_no_payment_number_or_actions_to_operators_and_storefronts():
    skipped = generated(authorize_at_renewal=False)
    for view in (order_view(skipped), storefront_order_view(skipped)):
        payment = view["payment"]
        assert (payment["status"], payment["skipped_reason"], payment["payment_number"]) == (
            "skipped", "authorize_at_renewal_off", None)
        assert (view["origin"], view["renewal"]["cycle_no"], view["checkout_id"]) == ("renewal", 2, None)
    assert order_view(skipped)["payment"]["actions"] == []
    assert order_summary(skipped)["payment_number"] is None


def test_an_authorized_renewal_shows_its_number_and_the_auth_mode_actions():
    completed = decide_payment(generated(), Authorized(amount=3200, captured=False, transaction_id="T1")).order
    payment = order_view(completed)["payment"]
    assert (payment["payment_number"], payment["skipped_reason"]) == (NUMBER, None)
    assert payment["actions"] == ["capture", "cancel", "update_amount"]


def test_a_renewal_payment_will_retry_shows_the_retry_time():
    retry_at = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    waiting = decide_payment(generated(), replace(DECLINED, retry_at=retry_at)).order
    for view in (order_view(waiting), storefront_order_view(waiting)):
        assert (view["status"], view["payment"]["retry_at"]) == ("pending_payment", "2025-06-02T03:00:00+00:00")


def test_a_failed_renewal_shows_the_raw_codes_to_operators_only():
    failed = decide_payment(generated(), DECLINED).order
    operator = order_view(failed)
    assert operator["status"] == "payment_failed" and operator["payment"]["actions"] == []
    assert operator["payment"]["failed_operation"]["codes"] == [{"code": "G12", "description": "カード使用不可"}]
    storefront = storefront_order_view(failed)
    assert (storefront["reason_code"], storefront["buyer_message"]) == ("card_declined", DECLINED.buyer_message)
    assert "G12" not in repr(storefront)


def test_a_storefront_checkout_order_shows_no_renewal():
    order = place_order(request(), shop(), order_id="ord-c", payment_number=NUMBER, now=NOW)
    assert (order_view(order)["origin"], order_view(order)["renewal"]) == ("checkout", None)
